use super::root::tests::{response, IRONIC_ROOT};
use super::*;
use crate::runtime::{block_on, FakeRuntime, OutcallError};

fn arg(endpoint: &str) -> IronicDiscoverArg {
    IronicDiscoverArg {
        endpoint: endpoint.into(),
    }
}

#[test]
fn discover_gets_the_root_through_the_transform() {
    let rt = FakeRuntime::new();
    rt.reply(Ok(root::transform(response(200, IRONIC_ROOT))));
    let api = block_on(discover(&rt, arg("https://ironic.example:6385/")));
    assert_eq!(
        api,
        Ok(IronicApi {
            min_version: "1.1".into(),
            max_version: "1.87".into()
        })
    );
    let requests = rt.requests.borrow();
    let request = &requests[0];
    assert_eq!(request.url, "https://ironic.example:6385/");
    assert_eq!(request.method, HttpMethod::GET);
    assert_eq!(request.max_response_bytes, Some(ROOT_MAX_RESPONSE_BYTES));
    assert_eq!(request.headers[0].value, "application/json");
    let transform = request.transform.as_ref().unwrap();
    assert_eq!(transform.function.0.principal, FakeRuntime::CANISTER_ID);
    assert_eq!(transform.function.0.method, TRANSFORM_ROOT_METHOD);
    let counters = counters::get();
    assert_eq!((counters.outcalls, counters.outcall_failures), (1, 0));
}

#[test]
fn discover_rejects_bad_endpoints_without_an_outcall() {
    let rt = FakeRuntime::new();
    let result = block_on(discover(&rt, arg("http://ironic.example")));
    assert!(matches!(result, Err(IronicError::InvalidArgument { .. })));
    assert!(rt.requests.borrow().is_empty());
    assert_eq!(counters::get().outcalls, 0);
}

#[test]
fn discover_reports_and_counts_failures() {
    let rt = FakeRuntime::new();
    rt.reply(Err(OutcallError {
        code: 2,
        message: "connection refused".into(),
    }));
    rt.reply(Ok(root::transform(response(500, "oops"))));
    rt.reply(Ok(root::transform(response(200, "[]"))));
    let endpoint = "https://ironic.example";
    assert_eq!(
        block_on(discover(&rt, arg(endpoint))),
        Err(IronicError::Unreachable {
            code: 2,
            message: "connection refused".into()
        })
    );
    assert_eq!(
        block_on(discover(&rt, arg(endpoint))),
        Err(IronicError::HttpStatus { status: 500 })
    );
    assert!(matches!(
        block_on(discover(&rt, arg(endpoint))),
        Err(IronicError::InvalidResponse { .. })
    ));
    let counters = counters::get();
    assert_eq!((counters.outcalls, counters.outcall_failures), (3, 3));
}

#[test]
fn transform_root_answers_garbage_without_trapping() {
    assert_eq!(
        transform_root(Err("bad".into())),
        HttpRequestResult::default()
    );
    let args = TransformArgs {
        response: response(200, IRONIC_ROOT),
        context: vec![],
    };
    assert!(transform_root(Ok(args)).headers.is_empty());
}
