//! The real Ironic over HTTPS outcalls: reads are replicated GETs whose transform keeps only
//! the fields in [`Node`] (so every replica agrees); PATCH and PUT go non-replicated, the only
//! way the IC allows them.
//!
//! | call                  | request                                             | replicated | max_response_bytes |
//! |-----------------------|-----------------------------------------------------|------------|--------------------|
//! | `list_available`      | `GET  {endpoint}/v1/nodes?provision_state=available&maintenance=false[&resource_class=..]&limit=1000&fields=..` | yes | 2,000,000 |
//! | `node`                | `GET  {endpoint}/v1/nodes/{id}?fields=..`            | yes        | 64 KiB             |
//! | `set_instance`        | `PATCH {endpoint}/v1/nodes/{id}` (JSON patch)        | no         | 128 KiB            |
//! | `clear_instance`      | `PATCH {endpoint}/v1/nodes/{id}` (JSON patch)        | no         | 128 KiB            |
//! | `set_provision_state` | `PUT  {endpoint}/v1/nodes/{id}/states/provision`     | no         | 16 KiB             |
//!
//! Every request carries `Accept: application/json`, `X-OpenStack-Ironic-API-Version` and, when
//! the provider set one, `X-Auth-Token`; every one names [`TRANSFORM_METHOD`], which drops the
//! headers and reduces the body (see [`transform`]). The token is sent only in its header: it
//! never appears in a URL, and every error returned is scrubbed of it.

use super::client::{ClientError, Ironic, Node, Target};
use super::endpoint;
use crate::counters::{self, Counter};
use crate::runtime::{OutcallError, Runtime};
use candid::Func;
use ic_cdk_management_canister::{
    HttpHeader, HttpMethod, HttpRequestArgs, HttpRequestResult, TransformContext, TransformFunc,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt::Write as _;

/// The hidden query in `lib.rs` that applies [`transform`].
pub const TRANSFORM_METHOD: &str = "transform_ironic_nodes";

/// The node fields asked for (`fields=`), which bounds the raw size of reads: what [`Node`]
/// keeps, `instance_info` for its `image_source`.
const FIELDS: &str = "uuid,name,resource_class,provision_state,target_provision_state,\
maintenance,last_error,lessee,instance_info";

/// Nodes listed per call: one page, Ironic's default `api.max_limit`. Asked for explicitly so
/// that an Ironic configured with a larger page still answers within [`LIST_MAX_RESPONSE_BYTES`].
const LIST_LIMIT: u32 = 1000;

/// A list page: with `fields=` a node takes a few hundred bytes (about 2 KB with a long
/// `last_error` or a busy `instance_info`), so 1000 of them fit the IC's maximum, 2,000,000
/// bytes, which is also the bound on the raw answer before the transform. What the transform
/// makes of a real answer is smaller still (each node loses `links` and `instance_info`).
const LIST_MAX_RESPONSE_BYTES: u64 = 2_000_000;
/// One node with `fields=`: typically under 2 KiB; the margin is for a traceback in
/// `last_error` and whatever the operator or Nova left in `instance_info`.
const NODE_MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// A PATCH answers with the whole node (no `fields=`): `driver_internal_info` with its cached
/// clean and deploy steps makes that 5 to 15 KiB. Too small a bound would turn a PATCH that
/// Ironic applied into a failure retried forever, hence ten times that.
const PATCH_MAX_RESPONSE_BYTES: u64 = 128 * 1024;
/// A provision-state change answers 202 with an empty body, errors with a short JSON document.
const PROVISION_MAX_RESPONSE_BYTES: u64 = 16 * 1024;

/// Longest node id (UUID or name) we put in a path; Ironic's names are at most 255 bytes.
const MAX_NODE_ID_BYTES: usize = 255;
/// Longest faultstring kept by the transform.
const MAX_FAULT_BYTES: usize = 1024;
/// Longest description kept of why an answer could not be read.
const MAX_INVALID_BYTES: usize = 256;
/// The reject code reported for requests refused before being sent (DESTINATION_INVALID): a
/// bad endpoint or header value, which retrying cannot fix.
const REFUSED_CODE: u32 = 3;

/// The body of a transformed answer, in canonical JSON: what every replica must agree on.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
enum Reduced {
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
fn truncated(mut text: String, max: usize) -> String {
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

/// The kinds of outcall, each with its own method, replication and size bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    List,
    Node,
    Patch,
    Provision,
}

impl Call {
    fn method(self) -> HttpMethod {
        match self {
            Self::List | Self::Node => HttpMethod::GET,
            Self::Patch => HttpMethod::PATCH,
            Self::Provision => HttpMethod::PUT,
        }
    }

    /// Reads go through consensus; the IC makes PATCH and PUT only from a single replica.
    fn is_replicated(self) -> bool {
        matches!(self, Self::List | Self::Node)
    }

    fn max_response_bytes(self) -> u64 {
        match self {
            Self::List => LIST_MAX_RESPONSE_BYTES,
            Self::Node => NODE_MAX_RESPONSE_BYTES,
            Self::Patch => PATCH_MAX_RESPONSE_BYTES,
            Self::Provision => PROVISION_MAX_RESPONSE_BYTES,
        }
    }
}

/// Whether `id` can go into a path as is: Ironic UUIDs and names are made of these, and refusing
/// the rest (and `.`/`..`) means no id can reach another resource.
fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_NODE_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id.bytes().any(|b| b != b'.')
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters.
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Whether `value` can be sent as a header value: visible ASCII, no spaces.
fn valid_header_value(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

fn refused(message: impl Into<String>) -> ClientError {
    ClientError::Unreachable {
        code: REFUSED_CODE,
        message: format!("request not sent: {}", message.into()),
    }
}

/// One provider's Ironic, as its settings name it.
pub struct HttpIronic<'a, R: Runtime> {
    pub rt: &'a R,
    /// Base URL, e.g. `https://ironic.example:6385`.
    pub endpoint: String,
    /// `X-OpenStack-Ironic-API-Version`.
    pub microversion: String,
    /// `X-Auth-Token`, if the provider set one.
    pub auth_token: Option<String>,
}

impl<R: Runtime> HttpIronic<'_, R> {
    /// The token to send, if any (an empty one is no token).
    fn token(&self) -> Option<&str> {
        self.auth_token.as_deref().filter(|token| !token.is_empty())
    }

    /// `v1/nodes/{id}{suffix}`, or why the id is refused.
    fn node_path(&self, uuid: &str, suffix: &str) -> Result<String, ClientError> {
        if !valid_node_id(uuid) {
            // No such id can name a node Ironic knows.
            return Err(self.scrub(ClientError::NotFound {
                uuid: truncated(uuid.into(), MAX_NODE_ID_BYTES),
            }));
        }
        Ok(format!("v1/nodes/{uuid}{suffix}"))
    }

    fn headers(&self, has_body: bool) -> Result<Vec<HttpHeader>, ClientError> {
        let header = |name: &str, value: &str| HttpHeader {
            name: name.into(),
            value: value.into(),
        };
        if !valid_header_value(&self.microversion) {
            return Err(refused("the microversion is not a valid header value"));
        }
        let mut headers = vec![
            header("Accept", "application/json"),
            header("X-OpenStack-Ironic-API-Version", &self.microversion),
        ];
        if has_body {
            headers.push(header("Content-Type", "application/json"));
        }
        if let Some(token) = self.token() {
            if !valid_header_value(token) {
                return Err(refused("the auth token is not a valid header value"));
            }
            headers.push(header("X-Auth-Token", token));
        }
        Ok(headers)
    }

    /// The request for `{endpoint}/{path}`, as [`Self::send`] makes it: the one place that
    /// builds URLs, headers and bodies, also used to price outcalls without making them.
    fn request(
        &self,
        call: Call,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let base = endpoint::root_url(&self.endpoint).map_err(refused)?;
        let headers = self.headers(body.is_some())?;
        Ok(HttpRequestArgs {
            url: format!("{base}{path}"),
            max_response_bytes: Some(call.max_response_bytes()),
            method: call.method(),
            headers,
            body: body.map(|body| body.to_string().into_bytes()),
            transform: Some(TransformContext {
                function: TransformFunc(Func {
                    principal: self.rt.canister_id(),
                    method: TRANSFORM_METHOD.into(),
                }),
                context: vec![],
            }),
            is_replicated: Some(call.is_replicated()),
            ..HttpRequestArgs::default()
        })
    }

    /// Makes the outcall `request` (built for `call`) and reads its transformed answer: the
    /// reduced body of a 2xx, or the error. `uuid` names the node a 404 is about.
    async fn send(
        &self,
        call: Call,
        request: Result<HttpRequestArgs, ClientError>,
        uuid: Option<&str>,
    ) -> Result<Reduced, ClientError> {
        let request = request?;
        counters::bump(Counter::Outcalls);
        let result = read(self.rt.http_request(request).await, call, uuid);
        result.map_err(|e| {
            counters::bump(Counter::OutcallFailures);
            self.scrub(e)
        })
    }

    /// `list_available`'s request.
    pub fn list_request(
        &self,
        resource_class: Option<&str>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let mut path = String::from("v1/nodes?provision_state=available&maintenance=false");
        if let Some(class) = resource_class {
            path.push_str("&resource_class=");
            path.push_str(&encode_query(class));
        }
        let _ = write!(path, "&limit={LIST_LIMIT}&fields={FIELDS}");
        self.request(Call::List, &path, None)
    }

    /// `node`'s request.
    pub fn node_request(&self, uuid: &str) -> Result<HttpRequestArgs, ClientError> {
        let path = self.node_path(uuid, &format!("?fields={FIELDS}"))?;
        self.request(Call::Node, &path, None)
    }

    /// `set_instance`'s request.
    pub fn set_instance_request(
        &self,
        uuid: &str,
        image: &str,
        lessee: &str,
    ) -> Result<HttpRequestArgs, ClientError> {
        let patch = json!([
            {"op": "add", "path": "/instance_info/image_source", "value": image},
            {"op": "add", "path": "/lessee", "value": lessee},
        ]);
        self.request(Call::Patch, &self.node_path(uuid, "")?, Some(patch))
    }

    /// `clear_instance`'s request: removes `lessee` and the whole `instance_info` (as Nova does
    /// at teardown), not just `instance_info/image_source`: JSON patch refuses to remove a
    /// missing key, so that form would fail with a 400 when retried after a PATCH whose answer
    /// was lost, whereas every node has these two fields and removing them resets them.
    pub fn clear_instance_request(&self, uuid: &str) -> Result<HttpRequestArgs, ClientError> {
        let patch = json!([
            {"op": "remove", "path": "/lessee"},
            {"op": "remove", "path": "/instance_info"},
        ]);
        self.request(Call::Patch, &self.node_path(uuid, "")?, Some(patch))
    }

    /// `set_provision_state`'s request.
    pub fn provision_request(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let path = self.node_path(uuid, "/states/provision")?;
        let body = match (target, config_drive) {
            // The config drive as a document (microversion 1.56): Ironic builds the ISO.
            (Target::Active, Some(user_data)) => json!({
                "target": target.as_str(),
                "configdrive": {"user_data": user_data},
            }),
            _ => json!({"target": target.as_str()}),
        };
        self.request(Call::Provision, &path, Some(body))
    }

    /// `e` without the auth token, should the IC or Ironic have echoed it.
    fn scrub(&self, e: ClientError) -> ClientError {
        let Some(token) = self.token() else {
            return e;
        };
        let clean = |text: String| text.replace(token, "[redacted]");
        match e {
            ClientError::Unreachable { code, message } => ClientError::Unreachable {
                code,
                message: clean(message),
            },
            ClientError::Http { status, message } => ClientError::Http {
                status,
                message: clean(message),
            },
            ClientError::NotFound { uuid } => ClientError::NotFound { uuid: clean(uuid) },
            ClientError::InvalidResponse { message } => ClientError::InvalidResponse {
                message: clean(message),
            },
        }
    }
}

/// Reads a transformed answer to `call`.
fn read(
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

fn unexpected(reduced: &Reduced, expected: &str) -> ClientError {
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

impl<R: Runtime> Ironic for HttpIronic<'_, R> {
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        let request = self.list_request(resource_class);
        match self.send(Call::List, request, None).await? {
            // The filters again, in case an Ironic ignored one of them.
            Reduced::Nodes(nodes) => Ok(nodes
                .into_iter()
                .filter(|node| {
                    node.provision_state == "available"
                        && !node.maintenance
                        && resource_class
                            .is_none_or(|class| node.resource_class.as_deref() == Some(class))
                })
                .collect()),
            other => Err(unexpected(&other, "a node list")),
        }
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        let request = self.node_request(uuid);
        match self.send(Call::Node, request, Some(uuid)).await? {
            Reduced::Node(node) => Ok(node),
            other => Err(unexpected(&other, "a node")),
        }
    }

    /// A 2xx means Ironic applied the patch; the node it answers with is not needed.
    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        let request = self.set_instance_request(uuid, image, lessee);
        self.send(Call::Patch, request, Some(uuid)).await.map(drop)
    }

    /// See [`HttpIronic::clear_instance_request`].
    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        let request = self.clear_instance_request(uuid);
        self.send(Call::Patch, request, Some(uuid)).await.map(drop)
    }

    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        let request = self.provision_request(uuid, target, config_drive);
        self.send(Call::Provision, request, Some(uuid))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{block_on, FakeRuntime};
    use candid::Nat;

    const ENDPOINT: &str = "https://ironic.example:6385/";
    const TOKEN: &str = "gAAAAABsecret-token-0123456789";
    const UUID: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
    const LIST_URL: &str = "https://ironic.example:6385/v1/nodes?provision_state=available\
&maintenance=false&resource_class=baremetal.gpu&limit=1000&fields=uuid,name,resource_class,\
provision_state,target_provision_state,maintenance,last_error,lessee,instance_info";

    const NODE: &str = r#"{
        "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
        "name": "rack1-node7",
        "resource_class": "baremetal.gpu",
        "provision_state": "active",
        "target_provision_state": null,
        "maintenance": false,
        "last_error": null,
        "lessee": "lessee-abc",
        "instance_info": {"image_source": "https://images.example/ubuntu.qcow2", "root_gb": "100"},
        "links": [{"href": "https://ironic.example:6385/v1/nodes/1be26c0b", "rel": "self"}]
    }"#;

    const LIST: &str = r#"{"nodes": [
        {"uuid": "b-node", "name": null, "resource_class": "baremetal.gpu",
         "provision_state": "available", "target_provision_state": null, "maintenance": false,
         "last_error": null, "lessee": null, "instance_info": {},
         "links": [{"href": "https://ironic.example:6385/v1/nodes/b-node", "rel": "self"}]},
        {"uuid": "a-node", "name": "first", "resource_class": "baremetal.gpu",
         "provision_state": "available", "target_provision_state": null, "maintenance": false,
         "last_error": null, "lessee": null, "instance_info": {}},
        {"uuid": "c-node", "resource_class": "baremetal.gpu", "provision_state": "available",
         "maintenance": true},
        {"uuid": "d-node", "resource_class": "baremetal.cpu", "provision_state": "available"},
        {"uuid": "e-node", "resource_class": "baremetal.gpu", "provision_state": "cleaning"}
    ], "next": "https://ironic.example:6385/v1/nodes?marker=e-node"}"#;

    fn locked_body() -> String {
        let inner = json!({
            "faultstring": format!("Node {UUID} is locked by host conductor-2, please retry \
                after the current operation is completed."),
            "faultcode": "Client",
            "debuginfo": null,
        });
        json!({"error_message": inner.to_string()}).to_string()
    }

    /// A raw answer, as Ironic sends it.
    fn raw(status: u16, body: &str) -> HttpRequestResult {
        HttpRequestResult {
            status: Nat::from(status),
            headers: vec![
                HttpHeader {
                    name: "x-openstack-request-id".into(),
                    value: "req-1234".into(),
                },
                HttpHeader {
                    name: "date".into(),
                    value: "Tue, 14 Nov 2023 22:13:20 GMT".into(),
                },
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The answer as the system delivers it: through the transform.
    fn answer(status: u16, body: &str) -> Result<HttpRequestResult, OutcallError> {
        Ok(transform(raw(status, body)))
    }

    fn reject(code: u32, message: &str) -> Result<HttpRequestResult, OutcallError> {
        Err(OutcallError {
            code,
            message: message.into(),
        })
    }

    fn ironic<'a>(rt: &'a FakeRuntime, token: Option<&str>) -> HttpIronic<'a, FakeRuntime> {
        HttpIronic {
            rt,
            endpoint: ENDPOINT.into(),
            microversion: "1.81".into(),
            auth_token: token.map(String::from),
        }
    }

    fn header(name: &str, value: &str) -> HttpHeader {
        HttpHeader {
            name: name.into(),
            value: value.into(),
        }
    }

    fn expected_headers(body: bool, token: bool) -> Vec<HttpHeader> {
        let mut headers = vec![
            header("Accept", "application/json"),
            header("X-OpenStack-Ironic-API-Version", "1.81"),
        ];
        if body {
            headers.push(header("Content-Type", "application/json"));
        }
        if token {
            headers.push(header("X-Auth-Token", TOKEN));
        }
        headers
    }

    /// The one request made, checked for what every request shares.
    fn only_request(rt: &FakeRuntime) -> HttpRequestArgs {
        let requests = rt.requests.borrow();
        assert_eq!(requests.len(), 1);
        let request = requests[0].clone();
        let transform = request.transform.as_ref().expect("a transform");
        assert_eq!(transform.function.0.principal, FakeRuntime::CANISTER_ID);
        assert_eq!(transform.function.0.method, TRANSFORM_METHOD);
        request
    }

    fn body_json(request: &HttpRequestArgs) -> serde_json::Value {
        serde_json::from_slice(request.body.as_ref().expect("a body")).unwrap()
    }

    fn gpu_node(uuid: &str, name: Option<&str>) -> Node {
        Node {
            uuid: uuid.into(),
            name: name.map(String::from),
            resource_class: Some("baremetal.gpu".into()),
            provision_state: "available".into(),
            ..Node::default()
        }
    }

    #[test]
    fn list_available_is_a_replicated_get_of_one_filtered_page() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, LIST));
        let nodes = block_on(ironic(&rt, Some(TOKEN)).list_available(Some("baremetal.gpu")));
        // Sorted by UUID; maintenance, other classes and other states left out.
        assert_eq!(
            nodes,
            Ok(vec![
                gpu_node("a-node", Some("first")),
                gpu_node("b-node", None)
            ])
        );
        let request = only_request(&rt);
        assert_eq!(request.method, HttpMethod::GET);
        assert_eq!(request.url, LIST_URL);
        assert_eq!(request.headers, expected_headers(false, true));
        assert_eq!(request.is_replicated, Some(true));
        assert_eq!(request.body, None);
        assert_eq!(request.max_response_bytes, Some(2_000_000));
        let counters = counters::get();
        assert_eq!((counters.outcalls, counters.outcall_failures), (1, 0));
    }

    #[test]
    fn list_available_encodes_the_class_and_sends_no_token_when_there_is_none() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, r#"{"nodes": []}"#));
        rt.reply(answer(200, r#"{"nodes": []}"#));
        let http = ironic(&rt, None);
        assert_eq!(
            block_on(http.list_available(Some("gpu large/&x=1"))),
            Ok(vec![])
        );
        assert_eq!(block_on(http.list_available(None)), Ok(vec![]));
        let requests = rt.requests.borrow();
        assert!(requests[0]
            .url
            .contains("&resource_class=gpu%20large%2F%26x%3D1&limit=1000&"));
        assert!(!requests[1].url.contains("resource_class="));
        assert!(requests[1]
            .url
            .starts_with("https://ironic.example:6385/v1/nodes?provision_state=available&"));
        assert_eq!(requests[0].headers, expected_headers(false, false));
    }

    #[test]
    fn node_is_a_replicated_get_with_fields() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, NODE));
        let node = block_on(ironic(&rt, Some(TOKEN)).node(UUID));
        assert_eq!(
            node,
            Ok(Node {
                uuid: UUID.into(),
                name: Some("rack1-node7".into()),
                resource_class: Some("baremetal.gpu".into()),
                provision_state: "active".into(),
                target_provision_state: None,
                maintenance: false,
                last_error: None,
                lessee: Some("lessee-abc".into()),
                image_source: Some("https://images.example/ubuntu.qcow2".into()),
            })
        );
        let request = only_request(&rt);
        assert_eq!(request.method, HttpMethod::GET);
        assert_eq!(
            request.url,
            format!("https://ironic.example:6385/v1/nodes/{UUID}?fields={FIELDS}")
        );
        assert_eq!(request.headers, expected_headers(false, true));
        assert_eq!(request.is_replicated, Some(true));
        assert_eq!(request.body, None);
        assert_eq!(request.max_response_bytes, Some(64 * 1024));
    }

    #[test]
    fn node_accepts_missing_optional_fields() {
        let rt = FakeRuntime::new();
        rt.reply(answer(
            200,
            r#"{"uuid": "n1", "provision_state": "deploying", "maintenance": null}"#,
        ));
        assert_eq!(
            block_on(ironic(&rt, None).node("n1")),
            Ok(Node {
                uuid: "n1".into(),
                provision_state: "deploying".into(),
                ..Node::default()
            })
        );
    }

    #[test]
    fn set_instance_is_a_non_replicated_json_patch() {
        let rt = FakeRuntime::new();
        // Ironic answers with the whole node.
        rt.reply(answer(200, NODE));
        let result = block_on(ironic(&rt, Some(TOKEN)).set_instance(
            UUID,
            "https://images.example/ubuntu.qcow2",
            "lessee-abc",
        ));
        assert_eq!(result, Ok(()));
        let request = only_request(&rt);
        assert_eq!(request.method, HttpMethod::PATCH);
        assert_eq!(
            request.url,
            format!("https://ironic.example:6385/v1/nodes/{UUID}")
        );
        assert_eq!(request.headers, expected_headers(true, true));
        assert_eq!(request.is_replicated, Some(false));
        assert_eq!(request.max_response_bytes, Some(128 * 1024));
        assert_eq!(
            body_json(&request),
            json!([
                {"op": "add", "path": "/instance_info/image_source",
                 "value": "https://images.example/ubuntu.qcow2"},
                {"op": "add", "path": "/lessee", "value": "lessee-abc"},
            ])
        );
    }

    #[test]
    fn clear_instance_removes_the_lessee_and_the_instance_info() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, NODE));
        assert_eq!(block_on(ironic(&rt, None).clear_instance(UUID)), Ok(()));
        let request = only_request(&rt);
        assert_eq!(request.method, HttpMethod::PATCH);
        assert_eq!(
            request.url,
            format!("https://ironic.example:6385/v1/nodes/{UUID}")
        );
        assert_eq!(request.headers, expected_headers(true, false));
        assert_eq!(request.is_replicated, Some(false));
        assert_eq!(request.max_response_bytes, Some(128 * 1024));
        assert_eq!(
            body_json(&request),
            json!([
                {"op": "remove", "path": "/lessee"},
                {"op": "remove", "path": "/instance_info"},
            ])
        );
    }

    #[test]
    fn a_patch_answer_that_is_not_a_node_still_means_it_was_applied() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, r#"{"something": "else"}"#));
        assert_eq!(block_on(ironic(&rt, None).clear_instance(UUID)), Ok(()));
    }

    #[test]
    fn set_provision_state_is_a_non_replicated_put() {
        let rt = FakeRuntime::new();
        for _ in 0..3 {
            rt.reply(answer(202, ""));
        }
        let http = ironic(&rt, Some(TOKEN));
        let user_data = "#cloud-config\nssh_authorized_keys: [\"ssh-ed25519 AAAA\"]\n";
        assert_eq!(
            block_on(http.set_provision_state(UUID, Target::Active, Some(user_data))),
            Ok(())
        );
        assert_eq!(
            block_on(http.set_provision_state(UUID, Target::Deleted, None)),
            Ok(())
        );
        assert_eq!(
            block_on(http.set_provision_state(UUID, Target::Active, None)),
            Ok(())
        );
        let requests = rt.requests.borrow();
        for request in requests.iter() {
            assert_eq!(request.method, HttpMethod::PUT);
            assert_eq!(
                request.url,
                format!("https://ironic.example:6385/v1/nodes/{UUID}/states/provision")
            );
            assert_eq!(request.headers, expected_headers(true, true));
            assert_eq!(request.is_replicated, Some(false));
            assert_eq!(request.max_response_bytes, Some(16 * 1024));
            assert_eq!(
                request.transform.as_ref().unwrap().function.0.method,
                TRANSFORM_METHOD
            );
        }
        assert_eq!(
            body_json(&requests[0]),
            json!({"target": "active", "configdrive": {"user_data": user_data}})
        );
        assert_eq!(body_json(&requests[1]), json!({"target": "deleted"}));
        assert_eq!(body_json(&requests[2]), json!({"target": "active"}));
    }

    /// Every call of the client, on node `UUID`, giving its error if any.
    fn every_call(http: &HttpIronic<'_, FakeRuntime>) -> Vec<Result<(), ClientError>> {
        vec![
            block_on(http.list_available(None)).map(drop),
            block_on(http.node(UUID)).map(drop),
            block_on(http.set_instance(UUID, "img", "lessee")),
            block_on(http.clear_instance(UUID)),
            block_on(http.set_provision_state(UUID, Target::Deleted, None)),
        ]
    }

    fn every_call_answered(
        reply: impl Fn() -> Result<HttpRequestResult, OutcallError>,
    ) -> Vec<Result<(), ClientError>> {
        let rt = FakeRuntime::new();
        for _ in 0..5 {
            rt.reply(reply());
        }
        let before = counters::get();
        let results = every_call(&ironic(&rt, Some(TOKEN)));
        let after = counters::get();
        let failures = results.iter().filter(|r| r.is_err()).count() as u64;
        assert_eq!(
            (
                after.outcalls - before.outcalls,
                after.outcall_failures - before.outcall_failures
            ),
            (5, failures)
        );
        results
    }

    #[test]
    fn not_found_names_the_node_except_for_the_list() {
        let body = json!({"error_message": json!({
            "faultstring": format!("Node {UUID} could not be found."),
            "faultcode": "Client", "debuginfo": null}).to_string()})
        .to_string();
        let results = every_call_answered(|| answer(404, &body));
        assert_eq!(
            results[0],
            Err(ClientError::Http {
                status: 404,
                message: format!("Node {UUID} could not be found.")
            })
        );
        for result in &results[1..] {
            assert_eq!(result, &Err(ClientError::NotFound { uuid: UUID.into() }));
            assert!(!result.as_ref().unwrap_err().is_transient());
        }
    }

    #[test]
    fn node_locked_is_a_transient_409_with_its_faultstring() {
        let body = locked_body();
        for result in every_call_answered(|| answer(409, &body)) {
            let e = result.unwrap_err();
            assert_eq!(
                e,
                ClientError::Http {
                    status: 409,
                    message: format!(
                        "Node {UUID} is locked by host conductor-2, please retry \
                         after the current operation is completed."
                    )
                }
            );
            assert!(e.is_transient());
        }
    }

    #[test]
    fn server_errors_are_transient_and_client_errors_are_not() {
        let internal =
            json!({"error_message": json!({"faultstring": "Internal Server Error"})}).to_string();
        for result in every_call_answered(|| answer(500, &internal)) {
            let e = result.unwrap_err();
            assert_eq!(
                e,
                ClientError::Http {
                    status: 500,
                    message: "Internal Server Error".into()
                }
            );
            assert!(e.is_transient());
        }
        // A proxy's page: no faultstring.
        for result in every_call_answered(|| answer(503, "<html>Service Unavailable</html>")) {
            let e = result.unwrap_err();
            assert_eq!(
                e,
                ClientError::Http {
                    status: 503,
                    message: String::new()
                }
            );
            assert!(e.is_transient());
        }
        let bad = json!({"error_message": json!({"faultstring":
            "The requested action \"deleted\" can not be performed on node in state available.",
            "faultcode": "Client"}).to_string()})
        .to_string();
        for result in every_call_answered(|| answer(400, &bad)) {
            let e = result.unwrap_err();
            assert!(matches!(&e, ClientError::Http { status: 400, message }
                if message.starts_with("The requested action")));
            assert!(!e.is_transient());
        }
    }

    #[test]
    fn rejects_are_unreachable_and_transient_only_for_codes_2_and_6() {
        for (code, message, transient) in [
            (2, "connection refused", true),
            (6, "timeout", true),
            (1, "Http body exceeds size limit of 65536 bytes.", false),
            (4, "invalid request", false),
        ] {
            for result in every_call_answered(|| reject(code, message)) {
                let e = result.unwrap_err();
                assert_eq!(
                    e,
                    ClientError::Unreachable {
                        code,
                        message: message.into()
                    }
                );
                assert_eq!(e.is_transient(), transient, "{code}");
            }
        }
    }

    #[test]
    fn malformed_answers_are_invalid_and_not_transient() {
        let reads = |body: &str| {
            let rt = FakeRuntime::new();
            rt.reply(answer(200, body));
            rt.reply(answer(200, body));
            let http = ironic(&rt, None);
            [
                block_on(http.list_available(None)).map(drop),
                block_on(http.node(UUID)).map(drop),
            ]
        };
        for body in [
            "not json",
            "{\"uuid\": ",
            "[]",
            "42",
            r#"{"uuid": 7, "provision_state": "active"}"#,
            r#"{"provision_state": "active"}"#,
            r#"{"uuid": "n1"}"#,
            r#"{"uuid": "n1", "provision_state": null}"#,
            r#"{"uuid": "", "provision_state": "active"}"#,
            r#"{"uuid": "n1", "uuid": "n2", "provision_state": "active"}"#,
            r#"{"nodes": [{"uuid": "n1", "provision_state": "available"}, {"uuid": "n2"}]}"#,
            r#"{"nodes": {"uuid": "n1"}}"#,
            "",
        ] {
            for result in reads(body) {
                let e = result.unwrap_err();
                assert!(
                    matches!(e, ClientError::InvalidResponse { .. }),
                    "{body}: {e:?}"
                );
                assert!(!e.is_transient());
            }
        }
        // A node where a list is expected, and the reverse.
        let [list, node] = reads(NODE);
        assert!(list.is_err() && node.is_ok());
        let [list, node] = reads(LIST);
        assert!(list.is_ok() && node.is_err());
        // Not through the transform at all, or a status no HTTP answer has.
        let rt = FakeRuntime::new();
        rt.reply(Ok(raw(200, NODE)));
        let mut huge = transform(raw(200, NODE));
        huge.status = Nat::from(70_000u32);
        rt.reply(Ok(huge));
        rt.reply(Ok(HttpRequestResult::default()));
        let http = ironic(&rt, None);
        for _ in 0..3 {
            assert!(matches!(
                block_on(http.node(UUID)),
                Err(ClientError::InvalidResponse { .. })
            ));
        }
    }

    #[test]
    fn the_token_never_appears_in_an_error_or_a_url() {
        let echo = json!({"error_message": json!({
            "faultstring": format!("Invalid token {TOKEN}")}).to_string()})
        .to_string();
        let rt = FakeRuntime::new();
        let replies = [
            reject(2, &format!("request with X-Auth-Token: {TOKEN} failed")),
            answer(401, &echo),
            answer(409, &echo),
            answer(200, &format!(r#"{{"uuid": 1, "token": "{TOKEN}"}}"#)),
            answer(200, &format!(r#"{{"uuid": "{TOKEN}"}}"#)),
        ];
        let mut errors = vec![];
        let http = ironic(&rt, Some(TOKEN));
        for reply in replies {
            for _ in 0..5 {
                rt.reply(reply.clone());
            }
            errors.extend(every_call(&http).into_iter().filter_map(Result::err));
        }
        // A refused node id that is the token, and a token that cannot be sent.
        errors.push(block_on(http.node(&format!("{TOKEN}/x"))).unwrap_err());
        let bad_token = format!("{TOKEN}\r\nX-Evil: 1");
        let bad = HttpIronic {
            auth_token: Some(bad_token.clone()),
            ..ironic(&rt, None)
        };
        errors.extend(every_call(&bad).into_iter().filter_map(Result::err));
        assert!(errors.len() >= 25, "{errors:?}");
        for e in &errors {
            let text = format!("{e:?}");
            assert!(!text.contains(TOKEN), "{text}");
            assert!(!text.contains(&bad_token), "{text}");
        }
        for request in rt.requests.borrow().iter() {
            assert!(!request.url.contains(TOKEN));
            assert!(!request.url.contains("gAAAA"));
        }
    }

    #[test]
    fn refused_requests_make_no_outcall() {
        let rt = FakeRuntime::new();
        for id in [
            "",
            ".",
            "..",
            "../../v1/ports",
            "a/b",
            "a b",
            "a%2Fb",
            "a?b",
            "a#b",
            "ünïcode",
            &"a".repeat(MAX_NODE_ID_BYTES + 1),
        ] {
            let http = ironic(&rt, Some(TOKEN));
            assert!(
                matches!(block_on(http.node(id)), Err(ClientError::NotFound { .. })),
                "{id}"
            );
            assert!(block_on(http.set_instance(id, "img", "l")).is_err());
            assert!(block_on(http.clear_instance(id)).is_err());
            assert!(block_on(http.set_provision_state(id, Target::Active, None)).is_err());
        }
        for endpoint in [
            "http://ironic.example",
            "https://user:pw@ironic.example",
            "https://ironic.example/?x",
            "",
        ] {
            let http = HttpIronic {
                endpoint: endpoint.into(),
                ..ironic(&rt, None)
            };
            for result in every_call(&http) {
                let e = result.unwrap_err();
                assert!(
                    matches!(&e, ClientError::Unreachable { code: 3, .. }),
                    "{e:?}"
                );
                assert!(!e.is_transient());
            }
        }
        let bad_microversion = HttpIronic {
            microversion: "1.81\r\n".into(),
            ..ironic(&rt, None)
        };
        assert!(every_call(&bad_microversion)
            .iter()
            .all(|r| matches!(r, Err(ClientError::Unreachable { code: 3, .. }))));
        assert!(rt.requests.borrow().is_empty());
        assert_eq!(counters::get().outcalls, 0);
    }

    #[test]
    fn names_made_of_the_allowed_characters_are_accepted() {
        let rt = FakeRuntime::new();
        rt.reply(answer(200, r#"{"uuid": "u", "provision_state": "active"}"#));
        assert!(block_on(ironic(&rt, None).node("Rack_1.node-7")).is_ok());
        assert!(rt.requests.borrow()[0]
            .url
            .contains("/v1/nodes/Rack_1.node-7?fields="));
    }

    #[test]
    fn transform_keeps_only_node_fields_in_canonical_json() {
        let out = transform(raw(200, NODE));
        assert!(out.headers.is_empty());
        assert_eq!(out.status, Nat::from(200u16));
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            format!(
                r#"{{"Node":{{"uuid":"{UUID}","name":"rack1-node7","resource_class":"baremetal.gpu","provision_state":"active","target_provision_state":null,"maintenance":false,"last_error":null,"lessee":"lessee-abc","image_source":"https://images.example/ubuntu.qcow2"}}}}"#
            )
        );
        let out = transform(raw(202, ""));
        assert_eq!(
            (out.status, out.body),
            (Nat::from(202u16), b"\"Empty\"".to_vec())
        );
    }

    #[test]
    fn transform_is_identical_for_answers_that_differ_in_unused_fields() {
        // Other unused fields, another key order, other links, whitespace and headers.
        let other_node = r#"{"links": [{"href": "https://api-2.example/v1/nodes/x", "rel": "self"}],
            "instance_info": {"root_gb": "200", "image_source": "https://images.example/ubuntu.qcow2",
              "configdrive": "******"},
            "lessee": "lessee-abc", "last_error": null, "maintenance": false,
            "target_provision_state": null, "provision_state": "active",
            "resource_class": "baremetal.gpu", "name": "rack1-node7", "extra": {"a": [1, 2]},
            "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"}"#;
        let mut b = raw(200, other_node);
        b.headers = vec![header("x-openstack-request-id", "req-5678")];
        assert_eq!(transform(raw(200, NODE)), transform(b));

        // A list in another order, from another API server.
        let other_list = LIST
            .replace(
                r#"{"uuid": "b-node""#,
                r#"{"uuid": "z-node", "provision_state": "available"},
                {"uuid": "b-node""#,
            )
            .replace("ironic.example:6385", "api-2.example");
        let a = transform(raw(200, &other_list));
        let reordered = other_list
            .replacen(
                r#"{"uuid": "z-node", "provision_state": "available"},"#,
                "",
                1,
            )
            .replace(
                r#"], "next""#,
                r#", {"uuid": "z-node", "provision_state": "available"}], "next""#,
            )
            .replace("marker=e-node", "marker=z-node");
        assert_ne!(other_list, reordered);
        assert_eq!(a, transform(raw(200, &reordered)));

        // Errors that differ in all but the faultstring.
        let fault = |debug: &str| {
            json!({"error_message": json!({"faultstring": "Node is locked",
                "faultcode": "Client", "debuginfo": debug}).to_string(), "request": debug})
            .to_string()
        };
        assert_eq!(
            transform(raw(409, &fault("trace 1"))),
            transform(raw(409, &fault("trace 2")))
        );
        // Garbage described without positions that would differ.
        assert_eq!(
            transform(raw(200, "{\"uuid\": 1}")),
            transform(raw(200, "{\n\n     \"uuid\":     1}"))
        );
    }

    #[test]
    fn transform_keeps_the_status_and_only_the_faultstring_of_errors() {
        let out = transform(raw(409, &locked_body()));
        assert_eq!(out.status, Nat::from(409u16));
        assert!(out.headers.is_empty());
        let text = String::from_utf8(out.body).unwrap();
        assert!(text.starts_with(r#"{"Fault":"Node "#), "{text}");
        assert!(!text.contains("faultcode") && !text.contains("debuginfo"));
        // An object instead of a string, and no faultstring at all.
        let object = json!({"error_message": {"faultstring": "gone"}}).to_string();
        assert_eq!(transform(raw(404, &object)).body, br#"{"Fault":"gone"}"#);
        assert_eq!(
            transform(raw(502, "<html>Bad Gateway</html>")).body,
            br#"{"Fault":""}"#
        );
        let long = json!({"error_message": json!({"faultstring": "é".repeat(2000)}).to_string()})
            .to_string();
        let out = transform(raw(500, &long));
        let reduced: Reduced = serde_json::from_slice(&out.body).unwrap();
        assert!(
            matches!(reduced, Reduced::Fault(f) if f.len() <= MAX_FAULT_BYTES && !f.is_empty())
        );
    }

    #[test]
    fn transform_never_traps_on_garbage() {
        let deep = "[".repeat(100_000);
        let deep_node = format!(r#"{{"nodes": [{}"#, r#"{"nodes": ["#.repeat(10_000));
        let bodies: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff, 0xfe, 0x00],
            b"\xef\xbb\xbf{}".to_vec(),
            deep.into_bytes(),
            deep_node.into_bytes(),
            br#"{"uuid": "a", "provision_state": "x", "maintenance": "yes"}"#.to_vec(),
            br#"{"uuid": "a", "provision_state": "x", "instance_info": []}"#.to_vec(),
            br#"{"error_message": "{\"faultstring\": 5}"}"#.to_vec(),
            br#"{"error_message": "not json"}"#.to_vec(),
        ];
        for body in &bodies {
            for status in [0u32, 200, 204, 302, 404, 409, 500, 70_000] {
                let response = HttpRequestResult {
                    status: Nat::from(status),
                    headers: vec![header("a", "b")],
                    body: body.clone(),
                };
                let out = transform(response);
                assert!(out.headers.is_empty());
                assert_eq!(out.status, Nat::from(status));
                let read = read(Ok(out), Call::Node, Some(UUID));
                if status == 200 && !body.is_empty() {
                    assert!(
                        matches!(read, Err(ClientError::InvalidResponse { .. })),
                        "{read:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn transient_classification() {
        let http = |status| ClientError::Http {
            status,
            message: String::new(),
        };
        let unreachable = |code| ClientError::Unreachable {
            code,
            message: String::new(),
        };
        for (e, transient) in [
            (unreachable(1), false),
            (unreachable(2), true),
            (unreachable(3), false),
            (unreachable(4), false),
            (unreachable(5), false),
            (unreachable(6), true),
            (http(400), false),
            (http(401), false),
            (http(403), false),
            (http(406), false),
            (http(409), true),
            (http(500), true),
            (http(503), true),
            (ClientError::NotFound { uuid: UUID.into() }, false),
            (
                ClientError::InvalidResponse {
                    message: String::new(),
                },
                false,
            ),
        ] {
            assert_eq!(e.is_transient(), transient, "{e:?}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(encode_query("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(encode_query("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(truncated("ééé".into(), 3), "é");
        assert_eq!(truncated("abc".into(), 5), "abc");
        assert!(valid_node_id(UUID));
        assert!(valid_node_id(".a"));
        assert!(!valid_node_id("..."));
    }
}
