//! A fake OpenStack Ironic for the provisioning tests, and the provisioning calls.
//!
//! [`FakeIronic`] is an HTTP responder for the ic0 host over shared state: nodes shaped like the
//! Ironic API reference (`GET /v1/nodes`, `GET /v1/nodes/{ident}`, `PATCH /v1/nodes/{ident}`,
//! `PUT /v1/nodes/{ident}/states/provision`), Ironic's provision-state machine, Ironic's error
//! bodies (`{"error_message": "{\"faultstring\": ...}"}`), and the checks a real Ironic makes
//! (microversion header, token, JSON content type, JSON patch rules, allowed transitions). It
//! records every request it is sent, and injects faults on the next matching requests.
//!
//! Nodes in a transitional state move one step each time the canister reads them (after the
//! answer), so the canister sees every state of the way once:
//!
//! ```text
//! available ─PUT active─► deploying ─► wait call-back ─► deploying ─► active
//!                                                              └─(fail_deploy)─► deploy failed
//! active / deploy failed ─PUT deleted─► deleting ─► cleaning ─► clean wait ─► cleaning ─► available
//!                                                                      └─(fail_clean)─► clean failed
//! ```
//!
//! [`FakeIronic::set_manual`] stops that: nodes then move only on [`FakeIronic::step`].

use super::market::*;
use super::*;
use ic0_host::{Host, HttpHeader, HttpReply, HttpRequestArgs, HttpRequestResult, RejectCode};
use ic_management_canister_types::HttpMethod;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// The provider's Ironic in these tests.
pub const ENDPOINT: &str = "https://ironic.test:6385";
/// The provider's Keystone token: must never come back in any reply.
pub const TOKEN: &str = "gAAAAABnX-secret-keystone-token-4e1f9d2c7a";
/// A microversion other than the default, to see it is the one sent.
pub const MICROVERSION: &str = "1.78";
/// The canister's default microversion.
pub const DEFAULT_MICROVERSION: &str = "1.81";
/// The oldest microversion with everything provisioning uses (`lessee` is 1.65).
const MIN_USABLE_MINOR: u32 = 65;
/// What the fake Ironic supports.
const MAX_MINOR: u32 = 87;
pub const LARGE_CLASS: &str = "baremetal.large";
pub const SMALL_CLASS: &str = "baremetal.small";
/// The name of the canister's transform of node reads.
pub const TRANSFORM_NODES: &str = "transform_ironic_nodes";

pub const NODE_A: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
pub const NODE_B: &str = "3d48e82d-25b4-4f40-80a9-e24f9155e345";
pub const NODE_C: &str = "6d85703a-565d-469a-96ce-30b6de53079d";
pub const NODE_D: &str = "2c37d71c-14a3-4e3f-bf98-d13e8044d234";
/// A node no Ironic knows.
pub const NODE_UNKNOWN: &str = "0f0f0f0f-dead-4bee-8f00-000000000000";

pub type ProvisionResult<T> = Result<T, ProvisionError>;

// --- the fake Ironic ---

/// A node as the fake Ironic stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeNode {
    pub uuid: String,
    pub name: String,
    pub resource_class: String,
    pub provision_state: String,
    pub target_provision_state: Option<String>,
    pub maintenance: bool,
    pub maintenance_reason: Option<String>,
    pub lessee: Option<String>,
    pub instance_uuid: Option<String>,
    pub instance_info: Map<String, Value>,
    pub last_error: Option<String>,
    pub power_state: String,
    /// The next deploy ends in `deploy failed` with this `last_error`.
    pub fail_deploy: Option<String>,
    /// The next clean ends in `clean failed` with this `last_error`.
    pub fail_clean: Option<String>,
    /// The `configdrive` of the last deploy request.
    pub configdrive: Option<Value>,
    /// Past the agent's call-back (the second `deploying`) or the clean wait.
    pub past_wait: bool,
    /// Every provision state the node went through, in order.
    pub history: Vec<String>,
}

impl FakeNode {
    pub fn new(uuid: &str, name: &str, resource_class: &str) -> Self {
        Self {
            uuid: uuid.into(),
            name: name.into(),
            resource_class: resource_class.into(),
            provision_state: "available".into(),
            target_provision_state: None,
            maintenance: false,
            maintenance_reason: None,
            lessee: None,
            instance_uuid: None,
            instance_info: Map::new(),
            last_error: None,
            power_state: "power off".into(),
            fail_deploy: None,
            fail_clean: None,
            configdrive: None,
            past_wait: false,
            history: vec!["available".into()],
        }
    }

    pub fn image_source(&self) -> Option<String> {
        self.instance_info
            .get("image_source")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn is_transitional(&self) -> bool {
        matches!(
            self.provision_state.as_str(),
            "deploying" | "wait call-back" | "deleting" | "cleaning" | "clean wait"
        )
    }

    fn enter(&mut self, state: &str, target: Option<&str>) {
        self.provision_state = state.into();
        self.target_provision_state = target.map(str::to_string);
        self.history.push(state.into());
    }

    /// One step along Ironic's state machine; false when the node is at rest.
    fn advance(&mut self) -> bool {
        match (self.provision_state.as_str(), self.past_wait) {
            ("deploying", false) => {
                self.enter("wait call-back", Some("active"));
                self.past_wait = true;
            }
            ("wait call-back", _) => self.enter("deploying", Some("active")),
            ("deploying", true) => match self.fail_deploy.take() {
                Some(error) => {
                    self.last_error = Some(error);
                    self.enter("deploy failed", Some("active"));
                }
                None => {
                    self.power_state = "power on".into();
                    self.enter("active", None);
                }
            },
            ("deleting", _) => {
                // Tearing the instance down forgets it; the lessee is the node's, not the instance's.
                self.instance_info = Map::new();
                self.instance_uuid = None;
                self.power_state = "power off".into();
                self.past_wait = false;
                self.enter("cleaning", Some("available"));
            }
            ("cleaning", false) => {
                self.past_wait = true;
                self.enter("clean wait", Some("available"));
            }
            ("clean wait", _) => self.enter("cleaning", Some("available")),
            ("cleaning", true) => match self.fail_clean.take() {
                Some(error) => {
                    self.last_error = Some(error.clone());
                    // Ironic puts a node whose cleaning failed in maintenance.
                    self.maintenance = true;
                    self.maintenance_reason = Some(error);
                    self.enter("clean failed", None);
                }
                None => self.enter("available", None),
            },
            _ => return false,
        }
        true
    }

    /// The node's full JSON (`GET /v1/nodes/{ident}`), as the API reference shows it.
    pub fn full_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "name": self.name,
            "driver": "ipmi",
            "driver_info": {"ipmi_address": "10.0.0.17", "ipmi_username": "admin", "ipmi_password": "******"},
            "resource_class": self.resource_class,
            "provision_state": self.provision_state,
            "target_provision_state": self.target_provision_state,
            "provision_updated_at": "2026-11-20T14:02:11+00:00",
            "power_state": self.power_state,
            "target_power_state": null,
            "maintenance": self.maintenance,
            "maintenance_reason": self.maintenance_reason,
            "fault": if self.provision_state == "clean failed" { json!("clean failure") } else { Value::Null },
            "last_error": self.last_error,
            "reservation": null,
            "conductor": "conductor-1",
            "conductor_group": "",
            "owner": "0809e9d1a6a94a22b1a6c0c2f2a7f3c1",
            "lessee": self.lessee,
            "instance_uuid": self.instance_uuid,
            "instance_info": Value::Object(self.instance_info.clone()),
            "driver_internal_info": {"agent_url": "http://10.0.0.17:9999"},
            "properties": {"cpus": 64, "memory_mb": 524288, "local_gb": 1920, "cpu_arch": "x86_64"},
            "extra": {},
            "automated_clean": null,
            "protected": false,
            "retired": false,
            "created_at": "2026-01-05T09:12:44+00:00",
            "updated_at": "2026-11-20T14:02:11+00:00",
            "links": [
                {"href": format!("{ENDPOINT}/v1/nodes/{}", self.uuid), "rel": "self"},
                {"href": format!("{ENDPOINT}/nodes/{}", self.uuid), "rel": "bookmark"}
            ]
        })
    }

    /// The node with only `fields` (Ironic keeps `links` only when asked), or the short form
    /// of a list without `detail`.
    fn json(&self, fields: Option<&[String]>, short: bool) -> Value {
        let full = self.full_json();
        let keep: Vec<String> = match fields {
            Some(fields) => fields.to_vec(),
            None if short => [
                "uuid",
                "name",
                "instance_uuid",
                "power_state",
                "provision_state",
                "maintenance",
                "links",
            ]
            .map(String::from)
            .to_vec(),
            None => return full,
        };
        let full = full.as_object().unwrap();
        Value::Object(
            keep.iter()
                .filter_map(|k| full.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
        )
    }
}

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
    fn matches(&self, method: HttpMethod, body: &Option<Value>) -> bool {
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

struct State {
    nodes: Vec<FakeNode>,
    requests: Vec<Recorded>,
    faults: VecDeque<(On, Fault)>,
    manual: bool,
    now_ns: u64,
    /// Requests must carry this `X-Auth-Token` (when set).
    token: Option<String>,
    /// Answers of deferred requests, oldest first: (url, method, body, reply).
    held: Vec<(String, HttpMethod, Option<Vec<u8>>, HttpReply)>,
}

/// The fake Ironic: clone it freely, every clone is the same Ironic.
#[derive(Clone)]
pub struct FakeIronic {
    state: Rc<RefCell<State>>,
}

impl Default for FakeIronic {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeIronic {
    pub fn new() -> Self {
        Self {
            state: Rc::new(RefCell::new(State {
                nodes: vec![],
                requests: vec![],
                faults: VecDeque::new(),
                manual: false,
                now_ns: 0,
                token: None,
                held: vec![],
            })),
        }
    }

    /// The responder to install on the host.
    pub fn responder(&self) -> Box<dyn FnMut(&HttpRequestArgs) -> HttpReply> {
        let fake = self.clone();
        Box::new(move |request| fake.answer(request))
    }

    pub fn add_node(&self, node: FakeNode) {
        self.state.borrow_mut().nodes.push(node);
    }

    pub fn node(&self, uuid: &str) -> FakeNode {
        self.state
            .borrow()
            .nodes
            .iter()
            .find(|n| n.uuid == uuid)
            .cloned()
            .unwrap_or_else(|| panic!("the fake Ironic has no node {uuid}"))
    }

    pub fn update_node(&self, uuid: &str, change: impl FnOnce(&mut FakeNode)) {
        let mut state = self.state.borrow_mut();
        let node = state
            .nodes
            .iter_mut()
            .find(|n| n.uuid == uuid)
            .unwrap_or_else(|| panic!("the fake Ironic has no node {uuid}"));
        change(node);
    }

    pub fn remove_node(&self, uuid: &str) {
        self.state.borrow_mut().nodes.retain(|n| n.uuid != uuid);
    }

    /// The node's next deploy ends in `deploy failed` with `last_error`.
    pub fn fail_deploy(&self, uuid: &str, last_error: &str) {
        self.update_node(uuid, |n| n.fail_deploy = Some(last_error.into()));
    }

    /// The node's next clean ends in `clean failed` with `last_error`.
    pub fn fail_clean(&self, uuid: &str, last_error: &str) {
        self.update_node(uuid, |n| n.fail_clean = Some(last_error.into()));
    }

    /// Requests must carry `X-Auth-Token: token`; others get 401.
    pub fn require_token(&self, token: &str) {
        self.state.borrow_mut().token = Some(token.into());
    }

    /// The next `n` requests matching `on` get `fault` instead of their answer.
    pub fn inject(&self, on: On, n: usize, fault: Fault) {
        let mut state = self.state.borrow_mut();
        for _ in 0..n {
            state.faults.push_back((on.clone(), fault.clone()));
        }
    }

    /// Every injected fault not consumed yet is dropped.
    pub fn clear_faults(&self) {
        self.state.borrow_mut().faults.clear();
    }

    pub fn pending_faults(&self) -> usize {
        self.state.borrow().faults.len()
    }

    /// Nodes move only on [`FakeIronic::step`] (true), or each time they are read (false).
    pub fn set_manual(&self, manual: bool) {
        self.state.borrow_mut().manual = manual;
    }

    /// Moves the node one step along its state machine; false when it is at rest.
    pub fn step(&self, uuid: &str) -> bool {
        let mut moved = false;
        self.update_node(uuid, |n| moved = n.advance());
        moved
    }

    /// Moves the node until it rests.
    pub fn settle(&self, uuid: &str) {
        for _ in 0..20 {
            if !self.step(uuid) {
                return;
            }
        }
        panic!("node {uuid} never rests");
    }

    pub fn set_now(&self, now_ns: u64) {
        self.state.borrow_mut().now_ns = now_ns;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.borrow().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.borrow_mut().requests.clear();
    }

    /// Answers held by [`Fault::Defer`], not yet taken.
    pub fn held(&self) -> usize {
        self.state.borrow().held.len()
    }

    /// The answer held for this deferred request (Ironic already did the work).
    pub fn answer_held(&self, request: &HttpRequestArgs) -> HttpReply {
        let mut state = self.state.borrow_mut();
        let position = state
            .held
            .iter()
            .position(|(url, method, body, _)| {
                *url == request.url && *method == request.method && *body == request.body
            })
            .unwrap_or_else(|| panic!("no held answer for {} {:?}", request.url, request.method));
        state.held.remove(position).3
    }

    /// Answers one outcall.
    pub fn answer(&self, request: &HttpRequestArgs) -> HttpReply {
        let (path, query) = split_url(&request.url);
        let body_json: Option<Value> = request
            .body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok());
        let mut recorded = Recorded {
            method: request.method,
            url: request.url.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            is_replicated: request.is_replicated,
            max_response_bytes: request.max_response_bytes,
            transform: request
                .transform
                .as_ref()
                .map(|t| t.function.0.method.clone()),
            at_ns: self.state.borrow().now_ns,
            fault: None,
            status: None,
            applied: false,
        };
        let fault = {
            let mut state = self.state.borrow_mut();
            let index = state
                .faults
                .iter()
                .position(|(on, _)| on.matches(request.method, &body_json));
            index.and_then(|i| state.faults.remove(i)).map(|(_, f)| f)
        };
        let reply = match &fault {
            None => self.serve(request, &path, &query, &body_json),
            Some(Fault::InternalError) => error(
                500,
                "Server",
                "An unexpected error prevented the server from fulfilling your request.",
            ),
            Some(Fault::Unavailable) => response(
                503,
                "text/html",
                b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n".to_vec(),
            ),
            Some(Fault::NodeLocked) => {
                let uuid = path
                    .strip_prefix("/v1/nodes/")
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or(NODE_A)
                    .to_string();
                error(
                    409,
                    "Client",
                    &format!("Node {uuid} is locked by host conductor-2, please retry after the current operation is completed."),
                )
            }
            Some(Fault::Refused) => HttpReply::Reject(
                RejectCode::SysTransient,
                "Connection refused (os error 111)".into(),
            ),
            Some(Fault::Timeout) => {
                HttpReply::Reject(RejectCode::SysUnknown, "Timeout expired".into())
            }
            Some(Fault::MalformedJson) => response(
                200,
                "application/json",
                format!("{{\"uuid\": \"{NODE_A}\", \"name\": \"rack1-node01\", \"provision_state\": \"deplo")
                    .into_bytes(),
            ),
            Some(Fault::Oversized) => {
                let max = request.max_response_bytes.unwrap_or(2_000_000) as usize;
                let node = self
                    .state
                    .borrow()
                    .nodes
                    .first()
                    .map(FakeNode::full_json)
                    .unwrap_or_else(|| json!({}));
                let mut node = node.as_object().unwrap().clone();
                node.insert("extra".into(), json!({ "padding": "x".repeat(max + 1024) }));
                response(
                    200,
                    "application/json",
                    serde_json::to_vec(&Value::Object(node)).unwrap(),
                )
            }
            Some(Fault::Answer(status, body)) => {
                response(*status, "application/json", body.clone().into_bytes())
            }
            Some(Fault::LostAnswer) => {
                let served = self.serve(request, &path, &query, &body_json);
                recorded.applied = is_success(&served);
                HttpReply::Reject(RejectCode::SysUnknown, "Timeout expired".into())
            }
            Some(Fault::Defer) => {
                let reply = self.serve(request, &path, &query, &body_json);
                recorded.applied = is_success(&reply);
                self.state.borrow_mut().held.push((
                    request.url.clone(),
                    request.method,
                    request.body.clone(),
                    reply,
                ));
                HttpReply::Defer
            }
        };
        if let HttpReply::Response(r) = &reply {
            recorded.status = u16::try_from(r.status.0.clone()).ok();
        }
        if fault.is_none() {
            recorded.applied = is_success(&reply);
        }
        recorded.fault = fault;
        self.state.borrow_mut().requests.push(recorded);
        reply
    }

    /// What Ironic answers, doing the work.
    fn serve(
        &self,
        request: &HttpRequestArgs,
        path: &str,
        query: &[(String, String)],
        body: &Option<Value>,
    ) -> HttpReply {
        let headers = &request.headers;
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value.clone())
        };
        if let Some(token) = self.state.borrow().token.clone() {
            if header("X-Auth-Token").as_deref() != Some(token.as_str()) {
                return response(
                    401,
                    "application/json",
                    br#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#.to_vec(),
                );
            }
        }
        // Without the header Ironic speaks 1.1, which has no lessee, no resource class filter.
        let minor = header("X-OpenStack-Ironic-API-Version")
            .and_then(|v| v.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok()));
        match minor {
            Some(minor) if (MIN_USABLE_MINOR..=MAX_MINOR).contains(&minor) => {}
            Some(minor) if minor > MAX_MINOR => {
                return error(
                    406,
                    "Client",
                    &format!("Version 1.{minor} was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.{MAX_MINOR}]."),
                )
            }
            _ => {
                return error(
                    406,
                    "Client",
                    "The requested version (1.1) does not support the fields or filters asked for; send X-OpenStack-Ironic-API-Version.",
                )
            }
        }
        let mutating = matches!(request.method, HttpMethod::PUT | HttpMethod::PATCH);
        if mutating {
            let json_content = header("Content-Type")
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
            if !json_content {
                return response(
                    415,
                    "application/json",
                    br#"{"error_message": "{\"faultstring\": \"Unsupported Media Type\", \"faultcode\": \"Client\", \"debuginfo\": null}"}"#.to_vec(),
                );
            }
            if body.is_none() {
                return error(400, "Client", "Invalid JSON in the request body.");
            }
        }
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let fields: Option<Vec<String>> =
            param("fields").map(|f| f.split(',').map(|s| s.trim().to_string()).collect());
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (request.method, segments.as_slice()) {
            (HttpMethod::GET, ["v1", "nodes"]) | (HttpMethod::GET, ["v1", "nodes", "detail"]) => {
                let detail =
                    segments.len() == 3 || param("detail").is_some_and(|d| d.eq_ignore_ascii_case("true"));
                if detail && fields.is_some() {
                    return error(400, "Client", "Can not specify ?detail=True and fields in the same request.");
                }
                let state = self.state.borrow();
                let nodes: Vec<Value> = state
                    .nodes
                    .iter()
                    .filter(|n| {
                        param("provision_state").is_none_or(|s| n.provision_state == s)
                            && param("resource_class").is_none_or(|c| n.resource_class == c)
                            && param("maintenance")
                                .is_none_or(|m| n.maintenance == m.eq_ignore_ascii_case("true"))
                            && param("associated").is_none_or(|a| {
                                n.instance_uuid.is_some() == a.eq_ignore_ascii_case("true")
                            })
                            && param("lessee").is_none_or(|l| n.lessee.as_deref() == Some(&l))
                    })
                    .map(|n| n.json(fields.as_deref(), !detail))
                    .collect();
                ok_json(200, &json!({ "nodes": nodes }))
            }
            (HttpMethod::GET, ["v1", "nodes", ident]) => {
                let uuid = match self.find(ident) {
                    Some(node) => node.uuid,
                    None => return not_found(ident),
                };
                let reply = ok_json(200, &self.node(&uuid).json(fields.as_deref(), false));
                self.after_read(&uuid);
                reply
            }
            (HttpMethod::GET, ["v1", "nodes", ident, "states"]) => {
                let Some(node) = self.find(ident) else {
                    return not_found(ident);
                };
                let reply = ok_json(
                    200,
                    &json!({
                        "power_state": node.power_state,
                        "target_power_state": null,
                        "provision_state": node.provision_state,
                        "target_provision_state": node.target_provision_state,
                        "provision_updated_at": "2026-11-20T14:02:11+00:00",
                        "last_error": node.last_error,
                        "console_enabled": false,
                        "raid_config": {},
                        "target_raid_config": {}
                    }),
                );
                self.after_read(&node.uuid);
                reply
            }
            (HttpMethod::PATCH, ["v1", "nodes", ident]) => {
                let Some(node) = self.find(ident) else {
                    return not_found(ident);
                };
                let Some(ops) = body.as_ref().and_then(Value::as_array) else {
                    return error(400, "Client", "Invalid patch: a JSON patch is a list of operations.");
                };
                let mut patched = node.clone();
                for op in ops {
                    if let Err(message) = apply_patch(&mut patched, op) {
                        return error(
                            400,
                            "Client",
                            &format!("Couldn't apply patch '{}'. Reason: {message}", Value::Array(ops.clone())),
                        );
                    }
                }
                let reply = ok_json(200, &patched.full_json());
                self.update_node(&node.uuid, |n| *n = patched);
                reply
            }
            (HttpMethod::PUT, ["v1", "nodes", ident, "states", "provision"]) => {
                let Some(node) = self.find(ident) else {
                    return not_found(ident);
                };
                let body = body.as_ref().unwrap();
                let Some(target) = body.get("target").and_then(Value::as_str) else {
                    return error(400, "Client", "Invalid input for field/attribute target.");
                };
                let state = node.provision_state.clone();
                let verb = match target {
                    "active" => "deploy",
                    "deleted" | "undeploy" => "deleted",
                    other => other,
                };
                let refuse = || {
                    error(
                        400,
                        "Client",
                        &format!("The requested action \"{verb}\" can not be performed on node \"{}\" while it is in state \"{state}\".", node.uuid),
                    )
                };
                match target {
                    "active" if matches!(state.as_str(), "available" | "deploy failed") => {
                        if node.maintenance {
                            return error(400, "Client", &format!("Node {} is in maintenance mode.", node.uuid));
                        }
                        if node.image_source().is_none() {
                            return error(
                                400,
                                "Client",
                                &format!("Cannot validate image information for node {} because one or more parameters are missing from its instance_info and insufficent information is present to boot from a remote volume. Missing are: ['image_source']", node.uuid),
                            );
                        }
                        let configdrive = body.get("configdrive").cloned();
                        let bad_drive = configdrive.as_ref().and_then(Value::as_str).is_some_and(|d| {
                            !d.starts_with("http") && !looks_like_base64(d)
                        });
                        self.update_node(&node.uuid, |n| {
                            n.configdrive = configdrive;
                            n.last_error = None;
                            n.past_wait = false;
                            if bad_drive {
                                // Ironic decodes a string config drive as a gzipped, base64 ISO.
                                n.fail_deploy = Some(format!(
                                    "Failed to prepare to deploy: Config drive for node {} is not a gzipped and base64 encoded ISO image or a URL: Incorrect padding",
                                    n.uuid
                                ));
                            }
                            n.enter("deploying", Some("active"));
                        });
                        accepted(&node.uuid)
                    }
                    "deleted" | "undeploy"
                        if matches!(
                            state.as_str(),
                            "active" | "deploy failed" | "wait call-back" | "error"
                        ) =>
                    {
                        self.update_node(&node.uuid, |n| {
                            n.past_wait = false;
                            n.enter("deleting", Some("available"));
                        });
                        accepted(&node.uuid)
                    }
                    "active" | "deleted" | "undeploy" | "manage" | "provide" | "clean"
                    | "inspect" | "rebuild" | "abort" => refuse(),
                    _ => error(400, "Client", &format!("\"{target}\" is not a valid target provision state.")),
                }
            }
            (HttpMethod::GET, ["v1"]) | (HttpMethod::GET, [""]) => ok_json(
                200,
                &json!({"name": "OpenStack Ironic API", "default_version": {"id": "v1", "min_version": "1.1", "version": format!("1.{MAX_MINOR}"), "status": "CURRENT"}}),
            ),
            (_, ["v1", "nodes", ..]) => response(
                405,
                "application/json",
                br#"{"error_message": "{\"faultstring\": \"The method specified is not allowed for this resource.\", \"faultcode\": \"Client\", \"debuginfo\": null}"}"#.to_vec(),
            ),
            _ => error(404, "Client", "The resource could not be found."),
        }
    }

    fn find(&self, ident: &str) -> Option<FakeNode> {
        self.state
            .borrow()
            .nodes
            .iter()
            .find(|n| n.uuid == ident || n.name == ident)
            .cloned()
    }

    /// A node read in a transitional state moves on (unless nodes move manually).
    fn after_read(&self, uuid: &str) {
        let manual = self.state.borrow().manual;
        if !manual && self.node(uuid).is_transitional() {
            self.step(uuid);
        }
    }
}

fn is_success(reply: &HttpReply) -> bool {
    matches!(reply, HttpReply::Response(r) if u16::try_from(r.status.0.clone()).is_ok_and(|s| (200..300).contains(&s)))
}

fn apply_patch(node: &mut FakeNode, op: &Value) -> Result<(), String> {
    let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
    let path = op.get("path").and_then(Value::as_str).unwrap_or("");
    let value = op.get("value").cloned();
    match (kind, path) {
        ("add" | "replace", "/lessee") => {
            let Some(Value::String(lessee)) = value else {
                return Err("lessee must be a string".into());
            };
            node.lessee = Some(lessee);
        }
        ("remove", "/lessee") => node.lessee = None,
        ("add" | "replace", "/instance_info") => match value {
            Some(Value::Object(map)) => node.instance_info = map,
            _ => return Err("instance_info must be an object".into()),
        },
        ("remove", "/instance_info") => node.instance_info = Map::new(),
        (kind, path) if path.starts_with("/instance_info/") => {
            let key = path["/instance_info/".len()..].to_string();
            match kind {
                "add" => {
                    node.instance_info.insert(key, value.unwrap_or(Value::Null));
                }
                "replace" if node.instance_info.contains_key(&key) => {
                    node.instance_info.insert(key, value.unwrap_or(Value::Null));
                }
                "replace" => return Err(format!("can't replace a non-existent object '{key}'")),
                "remove" if node.instance_info.remove(&key).is_some() => {}
                "remove" => return Err(format!("can't remove a non-existent object '{key}'")),
                other => return Err(format!("unknown operation '{other}'")),
            }
        }
        ("add" | "replace" | "remove", path) => {
            return Err(format!(
                "Adding a new attribute ({path}) to the root of the resource is not allowed."
            ))
        }
        (other, _) => return Err(format!("unknown operation '{other}'")),
    }
    Ok(())
}

fn looks_like_base64(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// `https://host:port/path?query` → (path, decoded query pairs).
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_and_query = rest.find('/').map_or("/", |i| &rest[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (path.to_string(), query)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ironic_headers(content_type: &str) -> Vec<HttpHeader> {
    let header = |name: &str, value: &str| HttpHeader {
        name: name.into(),
        value: value.into(),
    };
    vec![
        header("Content-Type", content_type),
        header("Date", "Sun, 22 Nov 2026 10:00:00 GMT"),
        header(
            "OpenStack-Request-Id",
            "req-7b3c1f0e-2d4a-4c5b-9e8f-1a2b3c4d5e6f",
        ),
        header("X-OpenStack-Ironic-API-Minimum-Version", "1.1"),
        header("X-OpenStack-Ironic-API-Maximum-Version", "1.87"),
        header("X-OpenStack-Ironic-API-Version", DEFAULT_MICROVERSION),
        header("Vary", "X-OpenStack-Ironic-API-Version"),
    ]
}

fn response(status: u16, content_type: &str, body: Vec<u8>) -> HttpReply {
    HttpReply::Response(HttpRequestResult {
        status: status.into(),
        headers: ironic_headers(content_type),
        body,
    })
}

fn ok_json(status: u16, value: &Value) -> HttpReply {
    response(
        status,
        "application/json",
        serde_json::to_vec(value).unwrap(),
    )
}

/// Ironic's error body: `error_message` is itself JSON, as a string.
fn error(status: u16, faultcode: &str, faultstring: &str) -> HttpReply {
    let inner = json!({"faultstring": faultstring, "faultcode": faultcode, "debuginfo": null});
    ok_json(
        status,
        &json!({ "error_message": serde_json::to_string(&inner).unwrap() }),
    )
}

fn not_found(ident: &str) -> HttpReply {
    error(404, "Client", &format!("Node {ident} could not be found."))
}

/// 202 Accepted with no body, as Ironic answers a provision-state change.
fn accepted(uuid: &str) -> HttpReply {
    let mut headers = ironic_headers("text/plain; charset=UTF-8");
    headers.push(HttpHeader {
        name: "Location".into(),
        value: format!("{ENDPOINT}/v1/nodes/{uuid}/states"),
    });
    HttpReply::Response(HttpRequestResult {
        status: 202u16.into(),
        headers,
        body: vec![],
    })
}

// --- the provisioning calls ---

impl Canister {
    fn provision_update<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> ProvisionResult<T> {
        self.update(caller, method, (arg,))
    }

    fn provision_query<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> ProvisionResult<T> {
        let bytes = self
            .driver
            .query(caller, method, candid::encode_one(arg).unwrap())
            .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn provision_server(
        &mut self,
        caller: Principal,
        request: ProvisionRequest,
    ) -> ProvisionResult<ProvisionResponse> {
        self.provision_update(caller, "provision_server", request)
    }

    pub fn provision_status(
        &mut self,
        caller: Principal,
        operation_id: &str,
    ) -> ProvisionResult<ProvisionStatus> {
        self.provision_query(caller, "provision_status", operation_id.to_string())
    }

    pub fn provision_refresh(
        &mut self,
        caller: Principal,
        operation_id: &str,
    ) -> ProvisionResult<ProvisionStatus> {
        self.provision_update(caller, "provision_refresh", operation_id.to_string())
    }

    pub fn ironic_configure(
        &mut self,
        caller: Principal,
        arg: IronicConfigureArg,
    ) -> ProvisionResult<IronicSettingsView> {
        self.provision_update(caller, "ironic_configure", arg)
    }

    pub fn ironic_settings(
        &mut self,
        caller: Principal,
        provider: ProviderKeyInput,
    ) -> ProvisionResult<IronicSettingsView> {
        self.provision_query(caller, "ironic_settings", provider)
    }

    pub fn ironic_sim_set_failure(
        &mut self,
        caller: Principal,
        arg: SimFailureArg,
    ) -> ProvisionResult<()> {
        self.provision_update(caller, "ironic_sim_set_failure", arg)
    }
}

/// A request to provision `server_id` with `image`.
pub fn provision_node(server_id: &str, image: &str) -> ProvisionRequest {
    ProvisionRequest {
        server_id: Some(server_id.into()),
        image_id: image.into(),
        ..ProvisionRequest::default()
    }
}

// --- the fixture ---

/// The market (provider seed 7 with its delegate) with the fake Ironic answering its outcalls.
pub struct Lab {
    pub m: Market,
    pub ironic: FakeIronic,
    /// The embedded host, when the test submits messages itself.
    pub host: Option<Rc<RefCell<Host>>>,
}

impl Lab {
    pub fn new() -> Self {
        Self::with(Market::new(), None)
    }

    /// On an embedded host the test also holds (deferred outcalls, interleaved messages).
    pub fn on_host() -> Self {
        let (m, host) = Market::on_host();
        Self::with(m, Some(host))
    }

    fn with(mut m: Market, host: Option<Rc<RefCell<Host>>>) -> Self {
        let ironic = FakeIronic::new();
        ironic.set_now(m.now());
        m.canister.driver.set_http_responder(ironic.responder());
        Self { m, ironic, host }
    }

    pub fn delegate(&self) -> Principal {
        self.m.delegate
    }

    pub fn controller(&self) -> Principal {
        self.m.controller()
    }

    pub fn now(&self) -> u64 {
        self.m.now()
    }

    pub fn configure_arg(&self) -> IronicConfigureArg {
        IronicConfigureArg {
            provider: self.m.provider.key(),
            endpoint: Some(ENDPOINT.into()),
            microversion: Some(MICROVERSION.into()),
            auth_token: Some(TOKEN.into()),
            images: None,
        }
    }

    /// The provider's delegate points it at the fake Ironic (which then wants the token).
    pub fn configure(&mut self) -> IronicSettingsView {
        let arg = self.configure_arg();
        let delegate = self.delegate();
        let view = self
            .m
            .canister
            .ironic_configure(delegate, arg)
            .expect("ironic_configure");
        self.ironic.require_token(TOKEN);
        view
    }

    /// A node in the fake Ironic (available) and the provider's item for it.
    pub fn node(&mut self, uuid: &str, name: &str, class: &str) -> Item {
        self.ironic.add_node(FakeNode::new(uuid, name, class));
        self.item(uuid, class)
    }

    /// The provider's item for node `uuid` (an `ironic_node` of `class`).
    pub fn item(&mut self, uuid: &str, class: &str) -> Item {
        let attributes = Attributes {
            resource_class: class.into(),
            ..attributes(32, 128, 1000, 0)
        };
        self.m.register_node(LARGE, uuid, attributes)
    }

    /// Moves the clock on (the fake Ironic's too) and runs what became due.
    pub fn advance(&mut self, by_ns: u64) {
        self.m
            .canister
            .driver
            .advance_time(Duration::from_nanos(by_ns));
        self.ironic.set_now(self.m.now());
        self.m.canister.driver.tick();
    }

    /// Advances 5 s at a time until `done`, at most `max_ns`; panics with `what` otherwise.
    /// Returns how long it took.
    pub fn wait_until(
        &mut self,
        what: &str,
        max_ns: u64,
        done: impl FnMut(&mut Lab) -> bool,
    ) -> u64 {
        self.wait_until_by(what, max_ns, 5 * SECOND_NS, done)
    }

    /// [`Lab::wait_until`] in steps of `step_ns`.
    pub fn wait_until_by(
        &mut self,
        what: &str,
        max_ns: u64,
        step_ns: u64,
        mut done: impl FnMut(&mut Lab) -> bool,
    ) -> u64 {
        let start = self.now();
        loop {
            if done(self) {
                return self.now() - start;
            }
            if self.now() - start >= max_ns {
                let requests: Vec<String> = self
                    .ironic
                    .requests()
                    .iter()
                    .rev()
                    .take(12)
                    .map(Recorded::describe)
                    .collect();
                panic!(
                    "{what}: not after {} s; last requests (newest first): {requests:#?}",
                    max_ns / SECOND_NS
                );
            }
            self.advance(step_ns);
        }
    }

    /// Advances 5 s at a time for `ns`, calling `each` after every step.
    pub fn run_for(&mut self, ns: u64, mut each: impl FnMut(&mut Lab)) {
        let end = self.now() + ns;
        while self.now() < end {
            self.advance(5 * SECOND_NS);
            each(self);
        }
    }

    pub fn status(&mut self, operation_id: &str) -> ProvisionStatus {
        let controller = self.controller();
        self.m
            .canister
            .provision_status(controller, operation_id)
            .expect("provision_status")
    }

    pub fn refresh(&mut self, operation_id: &str) -> ProvisionStatus {
        let controller = self.controller();
        self.m
            .canister
            .provision_refresh(controller, operation_id)
            .expect("provision_refresh")
    }

    /// Provisions as the provider's delegate.
    pub fn provision(&mut self, request: ProvisionRequest) -> ProvisionResult<ProvisionResponse> {
        let delegate = self.delegate();
        self.m.canister.provision_server(delegate, request)
    }

    /// Waits until the operation on `uuid` is Completed or Failed; returns its status.
    pub fn wait_operation(&mut self, uuid: &str, max_ns: u64) -> ProvisionStatus {
        let mut last = None;
        self.wait_until(&format!("operation on {uuid} ends"), max_ns, |lab| {
            let status = lab.status(uuid);
            let done = matches!(
                status.status,
                OperationStatus::Completed | OperationStatus::Failed
            );
            last = Some(status);
            done
        });
        last.unwrap()
    }

    /// Waits until the execution reaches `phase`.
    pub fn wait_phase(&mut self, execution_id: u64, phase: Phase, max_ns: u64) {
        self.wait_until(
            &format!("execution {execution_id} reaches {phase:?}"),
            max_ns,
            |lab| lab.m.phase(execution_id) == phase,
        );
    }

    /// Waits until the execution is in a final phase; returns it.
    pub fn wait_final(&mut self, execution_id: u64, max_ns: u64) -> Execution {
        self.wait_until(&format!("execution {execution_id} ends"), max_ns, |lab| {
            lab.m.phase(execution_id).is_final()
        });
        self.m.execution(execution_id)
    }

    /// A lease of one offered item, from now, for `hours`, with `project`.
    pub fn lease_now(&mut self, consumer: Principal, project: &str, hours: u64) -> Execution {
        let now = self.now();
        let view = self.m.request(
            consumer,
            ResourceRequest {
                project: Some(project.into()),
                ..one_offer(now, hours * 3600)
            },
        );
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
        self.m
            .accept(consumer, view.offerset.execution_ids[0], &lessee_key(1))
    }

    /// A new open offer of the item from now for a day (an offer makes one lease).
    pub fn offer_again(&mut self, item_id: u64) -> Offer {
        let now = self.now();
        self.m.offer(item_id, now, now + DAY_NS, 100)
    }

    /// Requests from the fake Ironic's log about node `uuid`.
    pub fn requests_on(&self, uuid: &str) -> Vec<Recorded> {
        self.ironic
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(&format!("/v1/nodes/{uuid}")))
            .collect()
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}
