//! The faults the fake Ironic injects, which requests they hit, and the requests it records.

use ic0_host::HttpHeader;
use ic_management_canister_types::HttpMethod;
use serde_json::Value;

/// A fault the fake Ironic answers instead of doing its work.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 500 with Ironic's error body.
    InternalError,
    /// 503 from the load balancer in front of Ironic (an HTML body).
    Unavailable,
    /// 409 NodeLocked with Ironic's error body.
    NodeLocked,
    /// The outcall gets no answer: IC reject code 2 (SYS_TRANSIENT: connection refused).
    Refused,
    /// The outcall gets no answer: IC reject code 6 (SYS_UNKNOWN: timeout).
    Timeout,
    /// 200 with truncated JSON.
    MalformedJson,
    /// 200 with a body larger than the request's `max_response_bytes`.
    Oversized,
    /// Ironic does the work but the answer is lost: a timeout (reject code 6).
    LostAnswer,
    /// This status with this body (`application/json`).
    Answer(u16, String),
    /// Ironic does the work but the answer is held: `HttpReply::Defer`; the test answers it
    /// with [`FakeIronic::answer_held`].
    Defer,
}

/// Which requests a fault applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum On {
    Any,
    Get,
    Patch,
    Put,
    /// `PUT .../states/provision` with this target.
    Target(&'static str),
}

impl On {
    pub(super) fn matches(&self, method: HttpMethod, body: &Option<Value>) -> bool {
        match self {
            On::Any => true,
            On::Get => method == HttpMethod::GET,
            On::Patch => method == HttpMethod::PATCH,
            On::Put => method == HttpMethod::PUT,
            On::Target(target) => {
                method == HttpMethod::PUT
                    && body
                        .as_ref()
                        .and_then(|b| b.get("target"))
                        .and_then(Value::as_str)
                        == Some(target)
            }
        }
    }
}

/// A request the canister sent, as the fake Ironic received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: HttpMethod,
    pub url: String,
    /// The path, e.g. `/v1/nodes/{uuid}`.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    pub headers: Vec<HttpHeader>,
    pub body: Option<Vec<u8>>,
    pub is_replicated: Option<bool>,
    pub max_response_bytes: Option<u64>,
    /// The transform's method name, if any.
    pub transform: Option<String>,
    /// The fake's clock when it was received (see [`FakeIronic::set_now`]).
    pub at_ns: u64,
    /// The fault answered instead, if any.
    pub fault: Option<Fault>,
    /// The HTTP status answered (none for a reject or a deferral).
    pub status: Option<u16>,
    /// Ironic did the work (a 2xx), whether or not its answer reached the canister.
    pub applied: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }

    /// `PUT .../states/provision` with this target.
    pub fn is_target(&self, target: &str) -> bool {
        self.method == HttpMethod::PUT
            && self.path.ends_with("/states/provision")
            && self
                .json()
                .and_then(|b| b.get("target").and_then(Value::as_str).map(String::from))
                .as_deref()
                == Some(target)
    }

    /// Answered without a fault, with a 2xx status.
    pub fn succeeded(&self) -> bool {
        self.fault.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// `GET /v1/nodes/{uuid}` (or its states).
    pub fn is_node_read(&self, uuid: &str) -> bool {
        self.method == HttpMethod::GET && self.path.starts_with(&format!("/v1/nodes/{uuid}"))
    }

    /// `GET /v1/nodes` (a list).
    pub fn is_list(&self) -> bool {
        self.method == HttpMethod::GET
            && (self.path == "/v1/nodes" || self.path == "/v1/nodes/detail")
    }

    pub fn describe(&self) -> String {
        format!(
            "{:?} {} {} -> {:?} {:?}",
            self.method,
            self.url,
            self.body
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            self.status,
            self.fault
        )
    }
}
