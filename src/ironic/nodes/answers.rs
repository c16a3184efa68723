//! Ironic's answers: the transform that reduces each one to what every replica must agree on,
//! and the reading of the reduced answer back into a node, a list or an error.

use super::Call;
use crate::ironic::client::{ClientError, Node};
use crate::runtime::OutcallError;
use ic_cdk_management_canister::HttpRequestResult;
use serde::{Deserialize, Serialize};

/// Longest faultstring kept by the transform.
pub(super) const MAX_FAULT_BYTES: usize = 1024;
/// Longest description kept of why an answer could not be read.
const MAX_INVALID_BYTES: usize = 256;

/// The body of a transformed answer, in canonical JSON: what every replica must agree on.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub(super) enum Reduced {
    /// A 2xx node list, sorted by UUID.
    Nodes(Vec<Node>),
    /// A 2xx node.
    Node(Node),
    /// A 2xx answer without a body (a provision-state change's 202).
    Empty,
    /// A 2xx answer that is none of the above: why it could not be read.
    Invalid(String),
    /// Any other status: Ironic's `faultstring`, empty when it sent none.
    Fault(String),
}

/// A node as Ironic sends it, reduced to what [`Node`] keeps. Unknown fields are skipped.
/// `nodes` is there so one pass reads either a node or a list (`{"nodes": [...]}`).
#[derive(Deserialize)]
struct RawNode {
    nodes: Option<Vec<RawNode>>,
    uuid: Option<String>,
    name: Option<String>,
    resource_class: Option<String>,
    provision_state: Option<String>,
    target_provision_state: Option<String>,
    maintenance: Option<bool>,
    last_error: Option<String>,
    lessee: Option<String>,
    instance_info: Option<RawInstanceInfo>,
}

#[derive(Deserialize)]
struct RawInstanceInfo {
    image_source: Option<String>,
}

impl RawNode {
    fn into_node(self) -> Result<Node, String> {
        let Some(uuid) = self.uuid.filter(|uuid| !uuid.is_empty()) else {
            return Err("node without uuid".into());
        };
        let Some(provision_state) = self.provision_state.filter(|state| !state.is_empty()) else {
            return Err(truncated(
                format!("node {uuid} without provision_state"),
                128,
            ));
        };
        Ok(Node {
            uuid,
            name: self.name,
            resource_class: self.resource_class,
            provision_state,
            target_provision_state: self.target_provision_state,
            maintenance: self.maintenance.unwrap_or(false),
            last_error: self.last_error,
            lessee: self.lessee,
            image_source: self.instance_info.and_then(|info| info.image_source),
        })
    }
}

/// What a 2xx body reduces to.
fn reduce_success(body: &[u8]) -> Reduced {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Reduced::Empty;
    }
    let raw: RawNode = match serde_json::from_slice(body) {
        Ok(raw) => raw,
        Err(e) => return Reduced::Invalid(json_error(&e)),
    };
    let reduced = match raw.nodes {
        Some(nodes) => nodes
            .into_iter()
            .map(RawNode::into_node)
            .collect::<Result<Vec<_>, _>>()
            .map(|mut nodes| {
                // Ironic sorts by its internal id; sorting again costs little and does not
                // depend on which API server answered.
                nodes.sort_by(|a, b| a.uuid.cmp(&b.uuid));
                Reduced::Nodes(nodes)
            }),
        None => raw.into_node().map(Reduced::Node),
    };
    reduced.unwrap_or_else(Reduced::Invalid)
}

/// A JSON error without its position, which would differ between answers that differ only in
/// unused fields.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    truncated(format!("malformed answer: {message}"), MAX_INVALID_BYTES)
}

/// Ironic's error document: `{"error_message": "{\"faultstring\": \"...\", ...}"}`, the inner
/// document a JSON string (or, from some proxies and versions, an object).
fn faultstring(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error_message: serde_json::Value,
    }
    #[derive(Deserialize)]
    struct Fault {
        faultstring: String,
    }
    let Ok(ErrorBody { error_message }) = serde_json::from_slice(body) else {
        return String::new();
    };
    let fault = match error_message {
        serde_json::Value::String(inner) => serde_json::from_str::<Fault>(&inner).ok(),
        object @ serde_json::Value::Object(_) => serde_json::from_value::<Fault>(object).ok(),
        _ => None,
    };
    fault
        .map(|fault| truncated(fault.faultstring, MAX_FAULT_BYTES))
        .unwrap_or_default()
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(super) fn truncated(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The HTTP status, if it is one.
fn status(response: &HttpRequestResult) -> Option<u16> {
    u16::try_from(&response.status.0).ok()
}

/// The transform of every Ironic node call: keeps the status and, of a node or a node list,
/// only the fields of [`Node`] in canonical JSON; of an error, only its faultstring; drops
/// headers. Deterministic, and never traps: garbage becomes an answer that reads as
/// [`ClientError::InvalidResponse`].
pub fn transform(response: HttpRequestResult) -> HttpRequestResult {
    let reduced = match status(&response) {
        Some(200..=299) => reduce_success(&response.body),
        _ => Reduced::Fault(faultstring(&response.body)),
    };
    HttpRequestResult {
        status: response.status,
        headers: vec![],
        // Serializing strings and booleans cannot fail; an empty body would read as invalid.
        body: serde_json::to_vec(&reduced).unwrap_or_default(),
    }
}

/// Reads a transformed answer to `call`.
pub(super) fn read(
    answer: Result<HttpRequestResult, OutcallError>,
    call: Call,
    uuid: Option<&str>,
) -> Result<Reduced, ClientError> {
    let response = answer.map_err(|OutcallError { code, message }| {
        // Includes an answer over max_response_bytes, which the IC rejects (SYS_FATAL).
        ClientError::Unreachable { code, message }
    })?;
    let status = match status(&response) {
        Some(status @ 100..=599) => status,
        _ => {
            return Err(ClientError::InvalidResponse {
                message: format!("HTTP status {} out of range", response.status),
            })
        }
    };
    let reduced: Reduced =
        serde_json::from_slice(&response.body).map_err(|e| ClientError::InvalidResponse {
            message: format!("unexpected transformed body: {e}"),
        })?;
    match (status, reduced, uuid) {
        // A 2xx to a PATCH or PUT means Ironic did it, whatever the body.
        (200..=299, _, _) if !call.is_replicated() => Ok(Reduced::Empty),
        (200..=299, Reduced::Invalid(message), _) => Err(ClientError::InvalidResponse { message }),
        (200..=299, Reduced::Fault(_), _) => Err(ClientError::InvalidResponse {
            message: "a fault in a successful answer".into(),
        }),
        (200..=299, reduced, _) => Ok(reduced),
        (404, _, Some(uuid)) => Err(ClientError::NotFound { uuid: uuid.into() }),
        (status, Reduced::Fault(message), _) => Err(ClientError::Http { status, message }),
        (status, _, _) => Err(ClientError::Http {
            status,
            message: String::new(),
        }),
    }
}

pub(super) fn unexpected(reduced: &Reduced, expected: &str) -> ClientError {
    let got = match reduced {
        Reduced::Nodes(_) => "a node list",
        Reduced::Node(_) => "a node",
        Reduced::Empty => "an empty body",
        Reduced::Invalid(_) | Reduced::Fault(_) => "an error",
    };
    ClientError::InvalidResponse {
        message: format!("expected {expected}, got {got}"),
    }
}
