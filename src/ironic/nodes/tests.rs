use super::answers::MAX_FAULT_BYTES;
use super::*;
use crate::runtime::{block_on, FakeRuntime, OutcallError};
use candid::Nat;
use ic_cdk_management_canister::HttpRequestResult;

const ENDPOINT: &str = "https://ironic.example:6385/";
const TOKEN: &str = "gAAAAABsecret-token-0123456789";
const UUID: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
const LIST_URL: &str = "https://ironic.example:6385/v1/nodes?provision_state=available\
&maintenance=false&resource_class=baremetal.gpu&sort_key=uuid&sort_dir=asc&limit=50\
&fields=uuid,name,resource_class,provision_state,maintenance";

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
        pay: None,
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
    // 50 nodes of 2 KiB and the `next` link: a twentieth of the 2 MB it used to reserve.
    assert_eq!(request.max_response_bytes, Some(50 * 2048 + 4096));
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
        .contains("&resource_class=gpu%20large%2F%26x%3D1&sort_key=uuid&"));
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
    let long =
        json!({"error_message": json!({"faultstring": "é".repeat(2000)}).to_string()}).to_string();
    let out = transform(raw(500, &long));
    let reduced: Reduced = serde_json::from_slice(&out.body).unwrap();
    assert!(matches!(reduced, Reduced::Fault(f) if f.len() <= MAX_FAULT_BYTES && !f.is_empty()));
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
