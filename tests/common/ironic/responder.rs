//! The fake Ironic's HTTP responder: faults, the checks a real Ironic makes, and its replies.

use super::node::{apply_patch, FakeNode};
use super::record::{Fault, Recorded};
use super::{FakeIronic, DEFAULT_MICROVERSION, ENDPOINT, MAX_MINOR, MIN_USABLE_MINOR, NODE_A};
use ic0_host::{HttpHeader, HttpReply, HttpRequestArgs, HttpRequestResult, RejectCode};
use ic_management_canister_types::HttpMethod;
use serde_json::{json, Value};

impl FakeIronic {
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
