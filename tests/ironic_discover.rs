//! `ironic_discover` end to end: the outcall as the IC sees it, its transform, authorization,
//! and typed errors that leave the canister's state unchanged.

mod common;

use candid::Principal;
use common::{Canister, IronicApi, IronicError, Status};
use ic0_host::{HttpHeader, HttpReply, HttpRequestArgs, HttpRequestResult, RejectCode};
use std::cell::RefCell;
use std::rc::Rc;

/// The root document of a real Ironic API (shape of the Ironic API reference), with headers.
const IRONIC_ROOT: &str = r#"{"name": "OpenStack Ironic API", "description": "Ironic is an OpenStack project which enables the provision and management of baremetal machines.", "default_version": {"id": "v1", "links": [{"href": "https://ironic.example:6385/v1/", "rel": "self"}], "status": "CURRENT", "min_version": "1.1", "version": "1.87"}, "versions": [{"id": "v1", "links": [{"href": "https://ironic.example:6385/v1/", "rel": "self"}], "status": "CURRENT", "min_version": "1.1", "version": "1.87"}]}"#;

fn ironic_response(body: &str) -> HttpReply {
    HttpReply::Response(HttpRequestResult {
        status: 200u16.into(),
        headers: vec![
            HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            },
            HttpHeader {
                name: "Date".into(),
                value: "Sun, 22 Nov 2026 10:00:00 GMT".into(),
            },
            HttpHeader {
                name: "OpenStack-Request-Id".into(),
                value: "req-4d1c2a".into(),
            },
        ],
        body: body.as_bytes().to_vec(),
    })
}

/// Installs the canister with a responder that records every request it answers.
fn canister_with(
    responder: impl Fn(&HttpRequestArgs) -> HttpReply + 'static,
) -> (Canister, Rc<RefCell<Vec<HttpRequestArgs>>>) {
    let mut canister = Canister::install(None);
    canister.driver.tick();
    let seen = Rc::new(RefCell::new(vec![]));
    let log = seen.clone();
    canister.driver.set_http_responder(Box::new(move |req| {
        log.borrow_mut().push(req.clone());
        responder(req)
    }));
    (canister, seen)
}

#[test]
fn discovers_the_api_versions_through_a_replicated_get_and_the_transform() {
    let (mut canister, seen) = canister_with(|_| ironic_response(IRONIC_ROOT));
    let controller = canister.controller();
    let api = canister.discover(controller, "https://ironic.example:6385");
    assert_eq!(
        api,
        Ok(IronicApi {
            min_version: "1.1".into(),
            max_version: "1.87".into()
        })
    );

    let requests = seen.borrow();
    let request = &requests[0];
    assert_eq!(request.url, "https://ironic.example:6385/");
    assert_eq!(
        request.method,
        ic_management_canister_types::HttpMethod::GET
    );
    assert_ne!(request.is_replicated, Some(false), "reads are replicated");
    assert!(
        request
            .max_response_bytes
            .is_some_and(|max| max <= 16 * 1024),
        "a tight response bound"
    );
    assert!(request
        .headers
        .iter()
        .any(|h| h.name == "Accept" && h.value == "application/json"));
    let counters = canister.status().counters;
    assert_eq!(
        (
            counters.updates,
            counters.outcalls,
            counters.outcall_failures
        ),
        (1, 1, 0)
    );
    // Cycles are attached for the worst case and the rest refunded: the cost is accounted,
    // and it is less than the balance that paid for it.
    assert!(counters.outcall_cycles > 0, "{counters:?}");
    assert!(counters.outcall_cycles < canister.status().cycles_balance);
}

#[test]
fn outcall_failures_become_typed_errors() {
    let (mut canister, _) = canister_with(|req| match req.url.as_str() {
        "https://down.example/" => {
            HttpReply::Reject(RejectCode::SysTransient, "connection refused".into())
        }
        "https://missing.example/" => HttpReply::status(404, "Not Found"),
        "https://garbage.example/" => HttpReply::status(200, vec![0xde, 0xad, 0xbe, 0xef]),
        "https://huge.example/" => ironic_response(&"x".repeat(64 * 1024)),
        _ => ironic_response(r#"{"default_version": {"min_version": "1.99", "version": "1.1"}}"#),
    });
    let controller = canister.controller();
    assert_eq!(
        canister.discover(controller, "https://down.example"),
        Err(IronicError::Unreachable {
            code: 2,
            message: "connection refused".into()
        })
    );
    assert_eq!(
        canister.discover(controller, "https://missing.example"),
        Err(IronicError::HttpStatus { status: 404 })
    );
    assert!(matches!(
        canister.discover(controller, "https://garbage.example"),
        Err(IronicError::InvalidResponse { .. })
    ));
    assert!(
        matches!(
            canister.discover(controller, "https://huge.example"),
            Err(IronicError::Unreachable { code: 1, .. })
        ),
        "a response over max_response_bytes is refused by the system"
    );
    assert!(matches!(
        canister.discover(controller, "https://inverted.example"),
        Err(IronicError::InvalidResponse { .. })
    ));
    let counters = canister.status().counters;
    assert_eq!((counters.outcalls, counters.outcall_failures), (5, 5));
}

#[test]
fn only_controllers_may_discover_and_refusals_change_nothing() {
    let (canister, seen) = canister_with(|_| ironic_response(IRONIC_ROOT));
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    let mut canister = canister.without_inspect();
    let before = canister.status();
    for caller in [Principal::anonymous(), common::user()] {
        assert_eq!(
            canister.discover(caller, "https://ironic.example"),
            Err(IronicError::NotAuthorized)
        );
    }
    assert!(seen.borrow().is_empty(), "no outcall was paid for");
    assert_eq!(beyond_the_count(canister.status(), &before, 2), before);
    let controller = canister.controller();
    assert!(canister
        .discover(controller, "https://ironic.example")
        .is_ok());
}

#[test]
fn bad_arguments_get_typed_errors_and_change_nothing() {
    let (canister, seen) = canister_with(|_| ironic_response(IRONIC_ROOT));
    // The method's own answers: inspect_message would drop this ingress first (tests/malformed.rs).
    let mut canister = canister.without_inspect();
    let controller = canister.controller();
    let before = canister.status();
    for endpoint in [
        "http://ironic.example",
        "ironic.example",
        "https://",
        "https://a b.example",
        &format!("https://{}", "a".repeat(3000)),
    ] {
        let result = canister.discover(controller, endpoint);
        assert!(
            matches!(result, Err(IronicError::InvalidArgument { .. })),
            "{endpoint}: {result:?}"
        );
    }
    // Not Candid, the wrong type, and a vector claiming 2^31 elements: typed errors, not traps.
    let mut bomb = b"DIDL\x01\x6d\x7b\x01\x00".to_vec();
    bomb.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x08]);
    for arg in [
        b"garbage".to_vec(),
        candid::encode_one(42u64).unwrap(),
        bomb,
        vec![],
    ] {
        let bytes = canister
            .update_raw(controller, "ironic_discover", arg)
            .expect("a reply, not a trap");
        let result: Result<IronicApi, IronicError> = candid::decode_one(&bytes).unwrap();
        assert!(
            matches!(result, Err(IronicError::InvalidArgument { .. })),
            "{result:?}"
        );
    }
    assert!(seen.borrow().is_empty());
    assert_eq!(beyond_the_count(canister.status(), &before, 9), before);
}

/// `after` with its update count checked to be `calls` more than `before`'s, then set back:
/// refused calls are counted, and change nothing else.
fn beyond_the_count(mut after: Status, before: &Status, calls: u64) -> Status {
    assert_eq!(after.counters.updates, before.counters.updates + calls);
    after.counters.updates = before.counters.updates;
    after
}
