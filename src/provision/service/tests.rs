use super::steps::step_with;
use super::*;
use crate::catalog::provider::ProviderKey;
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::signing;
use crate::ironic::client::{ClientError, Ironic, Node, Target};
use crate::ironic::nodes;
use crate::market::inventory::testing::{
    act_for, booked_execution, delegate, key_input, register_item, OTHER_SECRET, SECRET,
};
use crate::market::operations;
use crate::market::operations::begin_deploy;
use crate::market::{lease as market_lease, CancelArg};
use crate::market::{store, Execution, Item, ItemStatus, Phase};
use crate::provision::settings;
use crate::provision::sim::SimIronic;
use crate::provision::types::*;
use crate::provision::ProvisionError;
use crate::queue;
use crate::runtime::{block_on, FakeRuntime, OutcallError, Runtime};
use candid::Nat;
use candid::Principal;
use ic_cdk_management_canister::HttpRequestResult;
use std::cell::RefCell;
use OperationKind::{Deploy, Undeploy};
use OperationStatus::{Accepted, Completed, Failed, InProgress};

const ENDPOINT: &str = "https://ironic.example:6385";
const TOKEN: &str = "gAAAAAB-secret-token-42";
const HOUR: u64 = crate::time::HOUR_NS;

fn admin() -> Principal {
    Principal::from_slice(&[4; 29])
}

fn alice() -> Principal {
    Principal::from_slice(&[1; 29])
}

fn bob() -> Principal {
    Principal::from_slice(&[3; 29])
}

fn carol() -> Principal {
    Principal::from_slice(&[5; 29])
}

fn provider() -> Principal {
    delegate(&SECRET)
}

fn setup() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(admin());
    rt
}

/// An `ironic_node` item of the provider of `secret` (class "baremetal.large").
fn node_item(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str) -> Item {
    let item = register_item(rt, secret, uuid, "2C.small");
    rt.caller.set(Principal::anonymous());
    item
}

fn ask(server_id: Option<&str>) -> ProvisionRequest {
    ProvisionRequest {
        server_id: server_id.map(Into::into),
        image_id: "ubuntu-24.04".into(),
        ..ProvisionRequest::default()
    }
}

fn auto(resource_class: Option<&str>) -> ProvisionRequest {
    ProvisionRequest {
        resource_class: resource_class.map(Into::into),
        provider: Some(key_input(&SECRET)),
        ..ask(None)
    }
}

fn provision(
    rt: &FakeRuntime,
    who: Principal,
    request: ProvisionRequest,
) -> Result<ProvisionResponse, ProvisionError> {
    rt.caller.set(who);
    block_on(provision_server(rt, request))
}

fn status_as(
    rt: &FakeRuntime,
    who: Principal,
    id: &str,
) -> Result<ProvisionStatus, ProvisionError> {
    rt.caller.set(who);
    status(rt, id)
}

fn refresh_as(
    rt: &FakeRuntime,
    who: Principal,
    id: &str,
) -> Result<ProvisionStatus, ProvisionError> {
    rt.caller.set(who);
    block_on(refresh(rt, id))
}

/// A lease of `consumer` on the item in `phase`, holding the item as the market does.
fn lease_on(rt: &FakeRuntime, item: &Item, consumer: Principal, phase: Phase) -> Execution {
    let now = rt.time();
    let mut execution = booked_execution(item, 0, now, now + HOUR, phase);
    execution.consumer = consumer;
    store::put_execution(&execution);
    let mut item = store::item(item.id).unwrap();
    item.lease_id = Some(execution.id);
    item.status = match phase {
        Phase::Preparing => ItemStatus::Reserving,
        _ => ItemStatus::Leased,
    };
    store::put_item(&item);
    execution
}

fn sim_node(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str) -> Node {
    let sim = SimIronic {
        rt,
        provider: signing::provider_of(secret),
    };
    block_on(sim.node(uuid)).unwrap()
}

fn run_at(rt: &FakeRuntime, at: u64) {
    rt.time.set(at);
    crate::tasks::run_due(rt, || true);
}

fn configure_http(rt: &FakeRuntime) {
    // Budgets are `provision::budget`'s tests: here the provider can pay for every outcall.
    rt.caller.set(admin());
    let grant = IronicBudgetGrantArg {
        provider: key_input(&SECRET),
        cycles: crate::provision::budget::MAX_BUDGET_CYCLES,
    };
    crate::provision::budget::grant(rt, grant).unwrap();
    act_for(rt, &SECRET);
    let arg = IronicConfigureArg {
        provider: key_input(&SECRET),
        endpoint: Some(ENDPOINT.into()),
        microversion: None,
        auth_token: Some(TOKEN.into()),
        images: None,
    };
    settings::configure(rt, arg).unwrap();
}

/// What the system hands back after the transform.
fn answer(status: u16, body: &str) -> Result<HttpRequestResult, OutcallError> {
    Ok(nodes::transform(HttpRequestResult {
        status: Nat::from(status),
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }))
}

fn reject(code: u32) -> Result<HttpRequestResult, OutcallError> {
    Err(OutcallError {
        code,
        message: format!("connecting to {ENDPOINT} failed (token {TOKEN})"),
    })
}

fn node_json(uuid: &str, state: &str, maintenance: bool) -> String {
    format!(
        r#"{{"uuid": "{uuid}", "name": "rack1-{uuid}", "resource_class": "baremetal.large",
            "provision_state": "{state}", "target_provision_state": null,
            "maintenance": {maintenance}, "last_error": null, "lessee": null,
            "instance_info": {{}}}}"#
    )
}

fn node_answer(uuid: &str, state: &str) -> Result<HttpRequestResult, OutcallError> {
    answer(200, &node_json(uuid, state, false))
}

fn fault(status: u16, text: &str) -> Result<HttpRequestResult, OutcallError> {
    let inner = format!(r#"{{\"faultstring\": \"{text}\"}}"#);
    answer(status, &format!(r#"{{"error_message": "{inner}"}}"#))
}

fn requests(rt: &FakeRuntime) -> usize {
    rt.requests.borrow().len()
}

fn is(result: &Result<ProvisionResponse, ProvisionError>, expected: &str) -> bool {
    format!("{result:?}").starts_with(&format!("Err({expected}"))
}

#[test]
fn the_lessee_the_provider_and_controllers_may_provision_and_nobody_else() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let n2 = node_item(&rt, &SECRET, "n2");
    let n3 = node_item(&rt, &SECRET, "n3");
    let n4 = node_item(&rt, &SECRET, "n4");
    let other = node_item(&rt, &OTHER_SECRET, "o1");
    let alices = lease_on(&rt, &n1, alice(), Phase::Available);
    lease_on(&rt, &n2, bob(), Phase::Available);
    lease_on(&rt, &n4, carol(), Phase::Completed);

    // Refused: a stranger, anonymous, another lease's consumer, a lease no longer active,
    // another provider's delegate; nothing recorded.
    let refused = [
        (bob(), "n1"),
        (bob(), "n3"),
        (carol(), "n4"),
        (Principal::from_slice(&[9; 29]), "n3"),
        (Principal::anonymous(), "n3"),
        (delegate(&OTHER_SECRET), "n3"),
        (provider(), "o1"),
    ];
    for (who, server) in refused {
        let result = provision(&rt, who, ask(Some(server)));
        assert!(is(&result, "NotAuthorized"), "{who} {server}: {result:?}");
    }
    for item in [&n1, &n2, &n3, &n4, &other] {
        assert_eq!(operations::get(item.id), None);
    }

    // The lessee: the node's lessee is the lease's project.
    let response = provision(&rt, alice(), ask(Some("n1"))).unwrap();
    assert_eq!(response.status, InProgress);
    let node = sim_node(&rt, &SECRET, "n1");
    assert_eq!(node.lessee.as_deref(), Some(alices.project.as_str()));
    assert_eq!(node.provision_state, "deploying");
    // The provider's delegate, and a controller on any provider's server.
    provision(&rt, provider(), ask(Some("n3"))).unwrap();
    assert_eq!(
        sim_node(&rt, &SECRET, "n3").lessee,
        Some(provider().to_text())
    );
    provision(&rt, admin(), ask(Some("o1"))).unwrap();
    assert_eq!(operations::get(other.id).unwrap().status, InProgress);
}

#[test]
fn refusals_come_before_any_outcall() {
    let rt = setup();
    node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
        assert!(is(&provision(&rt, who, ask(Some("n1"))), "NotAuthorized"));
        assert!(is(&provision(&rt, who, auto(None)), "NotAuthorized"));
        rt.caller.set(who);
        assert!(block_on(refresh(&rt, "n1")).is_err());
    }
    assert_eq!(requests(&rt), 0);
}

#[test]
fn a_specific_server_or_any_available_one_of_a_class() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let n2 = node_item(&rt, &SECRET, "n2");
    let n3 = node_item(&rt, &SECRET, "n3");
    let t0 = rt.time();

    let response = provision(&rt, provider(), ask(Some("n1"))).unwrap();
    assert_eq!(
        response,
        ProvisionResponse {
            operation_id: "n1".into(),
            server_id: "n1".into(),
            server_name: format!("node-{}", n1.id),
            item_id: n1.id,
            status: InProgress,
            message: "Deploy requested.".into(),
            started_at_ns: t0,
        }
    );
    // n1 is deploying, n2 held by an offer in the market: n3 is chosen.
    booked_execution(&n2, 0, t0, t0 + HOUR, Phase::Offered);
    let chosen = provision(&rt, provider(), auto(Some("baremetal.large"))).unwrap();
    assert_eq!((chosen.server_id.as_str(), chosen.item_id), ("n3", n3.id));
    assert_eq!(sim_node(&rt, &SECRET, "n3").provision_state, "deploying");
    // None left.
    assert_eq!(
        provision(&rt, admin(), auto(None)),
        Err(ProvisionError::NoAvailableServers {
            resource_class: None
        })
    );
    let other = node_item(&rt, &SECRET, "n4");
    assert_eq!(
        provision(&rt, provider(), auto(Some("baremetal.gpu"))),
        Err(ProvisionError::NoAvailableServers {
            resource_class: Some("baremetal.gpu".into())
        })
    );
    // Auto-selection needs the provider, and is for its delegates and controllers only.
    let no_provider = ProvisionRequest {
        provider: None,
        ..auto(None)
    };
    assert!(is(
        &provision(&rt, provider(), no_provider),
        "InvalidArgument"
    ));
    lease_on(&rt, &n2, alice(), Phase::Available);
    assert!(is(&provision(&rt, alice(), auto(None)), "NotAuthorized"));
    let chosen = provision(&rt, admin(), auto(None)).unwrap();
    assert_eq!(chosen.item_id, other.id);
}

#[test]
fn unknown_and_ambiguous_servers() {
    let rt = setup();
    node_item(&rt, &SECRET, "shared");
    let theirs = node_item(&rt, &OTHER_SECRET, "shared");
    node_item(&rt, &OTHER_SECRET, "o1");
    assert_eq!(
        provision(&rt, admin(), ask(Some("nope"))),
        Err(ProvisionError::ServerNotFound {
            server_id: "nope".into()
        })
    );
    let Err(ProvisionError::InvalidArgument { message }) =
        provision(&rt, admin(), ask(Some("shared")))
    else {
        panic!("expected InvalidArgument");
    };
    assert!(message.contains("name the provider"), "{message}");
    let named = ProvisionRequest {
        provider: Some(key_input(&OTHER_SECRET)),
        ..ask(Some("shared"))
    };
    assert_eq!(provision(&rt, admin(), named).unwrap().item_id, theirs.id);
    // Named with the wrong provider.
    let wrong = ProvisionRequest {
        provider: Some(key_input(&SECRET)),
        ..ask(Some("o1"))
    };
    assert!(is(&provision(&rt, admin(), wrong), "ServerNotFound"));
}

#[test]
fn invalid_requests_are_refused() {
    let rt = setup();
    node_item(&rt, &SECRET, "n1");
    let bad = [
        ProvisionRequest {
            image_id: String::new(),
            ..ask(Some("n1"))
        },
        ProvisionRequest {
            image_id: "i".repeat(257),
            ..ask(Some("n1"))
        },
        ProvisionRequest {
            config_drive: Some("x".repeat(MAX_CONFIG_DRIVE_BYTES + 1)),
            ..ask(Some("n1"))
        },
        ask(Some("n1\n")),
        ask(Some("")),
        ProvisionRequest {
            resource_class: Some("c".repeat(257)),
            ..auto(None)
        },
        ProvisionRequest {
            provider: Some(ProviderKeyInput::Raw(vec![1; 5].into())),
            ..ask(Some("n1"))
        },
    ];
    for request in bad {
        let result = provision(&rt, admin(), request.clone());
        assert!(is(&result, "InvalidArgument"), "{request:?}: {result:?}");
    }
    let biggest = ProvisionRequest {
        config_drive: Some("#cloud-config\n".repeat(5000)[..MAX_CONFIG_DRIVE_BYTES].into()),
        ..ask(Some("n1"))
    };
    assert_eq!(provision(&rt, admin(), biggest).unwrap().status, InProgress);
}

#[test]
fn images_the_provider_does_not_deploy_are_not_found() {
    let rt = setup();
    node_item(&rt, &SECRET, "n1");
    act_for(&rt, &SECRET);
    let arg = IronicConfigureArg {
        provider: key_input(&SECRET),
        endpoint: None,
        microversion: None,
        auth_token: None,
        images: Some(vec!["debian-12".into()]),
    };
    settings::configure(&rt, arg).unwrap();
    let not_found = Err(ProvisionError::ImageNotFound {
        image_id: "ubuntu-24.04".into(),
    });
    assert_eq!(provision(&rt, provider(), ask(Some("n1"))), not_found);
    assert_eq!(provision(&rt, provider(), auto(None)), not_found);
    let debian = ProvisionRequest {
        image_id: "debian-12".into(),
        ..ask(Some("n1"))
    };
    provision(&rt, provider(), debian).unwrap();
}

#[test]
fn a_busy_deployed_or_booked_server_is_not_available() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let n2 = node_item(&rt, &SECRET, "n2");
    let t0 = rt.time();
    provision(&rt, provider(), ask(Some("n1"))).unwrap();
    assert_eq!(
        provision(&rt, provider(), ask(Some("n1"))),
        Err(ProvisionError::ServerNotAvailable {
            server_id: "n1".into(),
            provision_state: "available (deploy under way)".into()
        })
    );
    // The deploy completes (the simulated node moves every 10 s; the steps follow it).
    for s in 1..=6 {
        run_at(&rt, t0 + s * 10 * SECOND_NS);
    }
    assert_eq!(operations::get(n1.id).unwrap().status, Completed);
    assert_eq!(
        provision(&rt, provider(), ask(Some("n1"))),
        Err(ProvisionError::ServerNotAvailable {
            server_id: "n1".into(),
            provision_state: "active".into()
        })
    );
    let now = rt.time();
    booked_execution(&n2, 0, now, now + HOUR, Phase::Offered);
    assert_eq!(
        provision(&rt, provider(), ask(Some("n2"))),
        Err(ProvisionError::ServerNotAvailable {
            server_id: "n2".into(),
            provision_state: "booked".into()
        })
    );
}

#[test]
fn ironic_errors_through_the_http_backend_are_typed_and_scrubbed() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    let cases = [
        (answer(404, ""), "ServerNotFound"),
        (reject(1), "IronicUnreachable"),
        (reject(2), "IronicUnreachable"),
        (fault(500, "Internal Server Error"), "IronicFailed"),
        (answer(200, "<html>not json</html>"), "IronicFailed"),
        (
            answer(200, &node_json("n1", "available", true)),
            "ServerNotAvailable",
        ),
        (node_answer("n1", "manageable"), "ServerNotAvailable"),
    ];
    for (reply, expected) in cases {
        rt.reply(reply);
        let result = provision(&rt, provider(), ask(Some("n1")));
        assert!(is(&result, expected), "{expected}: {result:?}");
        let text = format!("{result:?}");
        assert!(
            !text.contains(TOKEN) && !text.contains("ironic.example"),
            "{text}"
        );
        assert_eq!(operations::get(n1.id), None);
    }
    rt.reply(answer(200, &node_json("n1", "available", true)));
    assert_eq!(
        provision(&rt, provider(), ask(Some("n1"))),
        Err(ProvisionError::ServerNotAvailable {
            server_id: "n1".into(),
            provision_state: "available (maintenance)".into()
        })
    );
    let request = rt.requests.borrow()[0].clone();
    assert!(request
        .url
        .starts_with("https://ironic.example:6385/v1/nodes/n1?"));
    assert!(request
        .headers
        .iter()
        .any(|h| h.name == "X-Auth-Token" && h.value == TOKEN));

    // A permanent error once the operation is recorded: it fails, typed.
    rt.reply(node_answer("n1", "available"));
    rt.reply(fault(400, "Invalid image_source"));
    assert_eq!(
        provision(&rt, provider(), ask(Some("n1"))),
        Err(ProvisionError::IronicFailed {
            status: Some(400),
            message: "Invalid image_source".into()
        })
    );
    let failed = status_as(&rt, provider(), "n1").unwrap();
    assert_eq!(failed.status, Failed);
    assert_eq!(
        failed.message,
        "Ironic answered HTTP 400: Invalid image_source"
    );
    assert!(failed.completed_at_ns.is_some());
}

#[test]
fn transient_errors_are_retried_with_backoff_until_the_deploy_completes() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    let t0 = rt.time();
    rt.reply(node_answer("n1", "available"));
    rt.reply(fault(503, "Service Unavailable"));
    let response = provision(&rt, provider(), ask(Some("n1"))).unwrap();
    assert_eq!(response.status, Accepted);
    assert!(
        response.message.ends_with("Retrying in 10 s (attempt 1)."),
        "{}",
        response.message
    );
    // Nothing before the backoff (an outcall here would find no scripted reply).
    run_at(&rt, t0 + 9 * SECOND_NS);
    // The step reads the node and asks again; Ironic's node lock (409) is transient too.
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, &node_json("n1", "available", false)));
    rt.reply(fault(409, "Node n1 is locked by host ironic-1"));
    run_at(&rt, t0 + 10 * SECOND_NS);
    let operation = operations::get(n1.id).unwrap();
    assert_eq!((operation.status, operation.attempts), (Accepted, 2));
    assert_eq!(operation.next_step_ns, t0 + 30 * SECOND_NS);
    run_at(&rt, t0 + 29 * SECOND_NS);
    // So is the IC's SYS_TRANSIENT.
    rt.reply(reject(2));
    run_at(&rt, t0 + 30 * SECOND_NS);
    let operation = operations::get(n1.id).unwrap();
    assert_eq!(
        (operation.attempts, operation.next_step_ns),
        (3, t0 + 70 * SECOND_NS)
    );
    assert!(!operation.message.contains(TOKEN) && !operation.message.contains("ironic.example"));

    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(answer(202, ""));
    run_at(&rt, t0 + 70 * SECOND_NS);
    let operation = operations::get(n1.id).unwrap();
    assert_eq!((operation.status, operation.attempts), (InProgress, 0));
    let put = rt.requests.borrow().last().unwrap().clone();
    assert!(put.url.ends_with("/v1/nodes/n1/states/provision"));

    let progress = [
        ("deploying", Some(25)),
        ("wait call-back", Some(50)),
        ("deploying", Some(75)),
    ];
    for (i, (state, percent)) in progress.into_iter().enumerate() {
        rt.reply(node_answer("n1", state));
        run_at(&rt, t0 + (80 + 10 * i as u64) * SECOND_NS);
        let seen = status_as(&rt, provider(), "n1").unwrap();
        assert_eq!((seen.status, seen.progress_percent), (InProgress, percent));
        assert_eq!(seen.provision_state, state);
    }
    rt.reply(node_answer("n1", "active"));
    run_at(&rt, t0 + 110 * SECOND_NS);
    let done = status_as(&rt, provider(), "n1").unwrap();
    assert_eq!((done.status, done.progress_percent), (Completed, Some(100)));
    assert_eq!(done.completed_at_ns, Some(t0 + 110 * SECOND_NS));
    assert_eq!(done.server_id, "n1");
    // The fallbacks still queued find nothing to do: no outcall, nothing left queued.
    let before = requests(&rt);
    run_at(&rt, t0 + HOUR);
    assert_eq!(requests(&rt), before);
    assert_eq!(queue::queue_len(), 0);
}

#[test]
fn an_operation_that_never_completes_fails_after_the_stuck_timeout() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    let t0 = rt.time();
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(answer(202, ""));
    provision(&rt, provider(), ask(Some("n1"))).unwrap();
    let mut at = t0;
    while at < t0 + 1800 * SECOND_NS {
        at += 10 * SECOND_NS;
        if at < t0 + 1800 * SECOND_NS {
            rt.reply(node_answer("n1", "wait call-back"));
        }
        run_at(&rt, at);
    }
    let failed = operations::get(n1.id).unwrap();
    assert_eq!(failed.status, Failed);
    assert!(failed
        .message
        .starts_with("The operation did not finish within 1800 s"));
}

#[test]
fn status_answers_from_the_last_state_and_refresh_reads_ironic_now() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    node_item(&rt, &SECRET, "n2");
    configure_http(&rt);
    let t0 = rt.time();
    assert!(matches!(
        status_as(&rt, admin(), "nope"),
        Err(ProvisionError::ServerNotFound { .. })
    ));
    // A server without an operation.
    assert!(matches!(
        status_as(&rt, admin(), "n2"),
        Err(ProvisionError::ServerNotFound { .. })
    ));
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(answer(202, ""));
    provision(&rt, provider(), ask(Some("n1"))).unwrap();
    for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
        assert!(matches!(
            status_as(&rt, who, "n1"),
            Err(ProvisionError::NotAuthorized { .. })
        ));
    }
    let seen = status_as(&rt, admin(), "n1").unwrap();
    assert_eq!(
        (seen.status, seen.provision_state.as_str()),
        (InProgress, "available")
    );
    assert_eq!(seen.kind, Deploy);
    assert_eq!(seen.execution_id, None);

    rt.time.set(t0 + 5 * SECOND_NS);
    rt.reply(node_answer("n1", "deploying"));
    let refreshed = refresh_as(&rt, provider(), "n1").unwrap();
    assert_eq!(refreshed.provision_state, "deploying");
    assert_eq!(refreshed.progress_percent, Some(25));
    assert_eq!(refreshed.checked_at_ns, t0 + 5 * SECOND_NS);
    assert_eq!(status_as(&rt, provider(), "n1").unwrap(), refreshed);
    // Ironic's errors are typed and change nothing.
    rt.reply(reject(6));
    assert!(matches!(
        refresh_as(&rt, admin(), "n1"),
        Err(ProvisionError::IronicUnreachable { .. })
    ));
    assert_eq!(status_as(&rt, admin(), "n1").unwrap(), refreshed);
    rt.reply(node_answer("n1", "active"));
    let done = refresh_as(&rt, admin(), "n1").unwrap();
    assert_eq!(
        (done.status, done.completed_at_ns),
        (Completed, Some(t0 + 5 * SECOND_NS))
    );
    assert_eq!(operations::get(n1.id).unwrap().status, Completed);
    // The step queued for later finds it done: no outcall.
    run_at(&rt, t0 + HOUR);
    // A finished operation's refresh records where the node is now.
    rt.reply(node_answer("n1", "deploying"));
    let later = refresh_as(&rt, admin(), "n1").unwrap();
    assert_eq!(
        (later.status, later.provision_state.as_str()),
        (Completed, "deploying")
    );
}

#[test]
fn refreshes_read_a_node_once_per_interval_unless_a_controller_asks() {
    let rt = setup();
    let t0 = rt.time();
    node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(answer(202, ""));
    provision(&rt, provider(), ask(Some("n1"))).unwrap();
    let outcalls = || rt.requests.borrow().len();

    rt.time.set(t0 + SECOND_NS);
    rt.reply(node_answer("n1", "deploying"));
    let first = refresh_as(&rt, provider(), "n1").unwrap();
    let after_first = outcalls();
    // Within the interval: the last known state, no outcall.
    rt.time.set(t0 + SECOND_NS + REFRESH_INTERVAL_NS - 1);
    assert_eq!(refresh_as(&rt, provider(), "n1").unwrap(), first);
    assert_eq!(outcalls(), after_first);
    // A controller reads now.
    rt.reply(node_answer("n1", "deploying"));
    refresh_as(&rt, admin(), "n1").unwrap();
    assert_eq!(outcalls(), after_first + 1);
    // Once the interval since the last read has passed, the provider reads again.
    rt.time.set(t0 + SECOND_NS + 2 * REFRESH_INTERVAL_NS);
    rt.reply(node_answer("n1", "active"));
    let later = refresh_as(&rt, provider(), "n1").unwrap();
    assert_eq!(outcalls(), after_first + 2);
    assert_eq!(later.status, Completed);
}

#[test]
fn the_lessee_reads_the_operation_of_its_lease() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
    begin_deploy(&rt, &lease);
    run_at(&rt, rt.time());
    let seen = status_as(&rt, alice(), "n1").unwrap();
    assert_eq!(
        (seen.execution_id, seen.status),
        (Some(lease.id), InProgress)
    );
    assert!(refresh_as(&rt, alice(), "n1").is_ok());
    assert!(matches!(
        status_as(&rt, bob(), "n1"),
        Err(ProvisionError::NotAuthorized { .. })
    ));
}

#[test]
fn sim_failures_are_set_by_the_provider_and_controllers() {
    let rt = setup();
    node_item(&rt, &SECRET, "n1");
    let arg = |server_id: &str| SimFailureArg {
        provider: key_input(&SECRET),
        server_id: server_id.into(),
        fail_deploy: true,
        fail_clean: false,
    };
    for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
        rt.caller.set(who);
        assert!(matches!(
            sim_set_failure(&rt, arg("n1")),
            Err(ProvisionError::NotAuthorized { .. })
        ));
    }
    rt.caller.set(provider());
    sim_set_failure(&rt, arg("n1")).unwrap();
    assert_eq!(
        sim_set_failure(&rt, arg("nope")),
        Err(ProvisionError::ServerNotFound {
            server_id: "nope".into()
        })
    );
    rt.caller.set(admin());
    sim_set_failure(&rt, arg("n1")).unwrap();
    // The next deploy fails with Ironic's error in the message.
    let t0 = rt.time();
    provision(&rt, provider(), ask(Some("n1"))).unwrap();
    for s in 1..=4 {
        run_at(&rt, t0 + s * 10 * SECOND_NS);
    }
    let failed = status_as(&rt, provider(), "n1").unwrap();
    assert_eq!(failed.status, Failed);
    assert!(
        failed.message.contains("simulated failure"),
        "{}",
        failed.message
    );
}

/// The simulated Ironic, running `during` (another message) while a call is awaited.
struct Interleaved<'a> {
    sim: SimIronic<'a, FakeRuntime>,
    during: RefCell<Option<Box<dyn FnOnce() + 'a>>>,
}

impl Interleaved<'_> {
    fn meddle(&self) {
        if let Some(during) = self.during.borrow_mut().take() {
            during();
        }
    }
}

impl Ironic for Interleaved<'_> {
    async fn list_available(&self, class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        self.sim.list_available(class).await
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        let node = self.sim.node(uuid).await;
        self.meddle();
        node
    }

    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        self.sim.set_instance(uuid, image, lessee).await
    }

    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        self.sim.clear_instance(uuid).await
    }

    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        self.sim
            .set_provision_state(uuid, target, config_drive)
            .await
    }
}

#[test]
fn a_lease_cancelled_while_its_deploy_awaits_ironic_is_never_available() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
    begin_deploy(&rt, &lease);
    let t0 = rt.time();
    // The first step reads the node; the lessee cancels while it waits for the answer.
    let cancel = || {
        rt.caller.set(alice());
        let arg = CancelArg {
            execution_id: lease.id,
            reason: "changed my mind".into(),
        };
        market_lease::cancel(&rt, arg).unwrap();
    };
    let client = |rt, provider: &ProviderKey| Interleaved {
        sim: SimIronic {
            rt,
            provider: *provider,
        },
        during: RefCell::new(Some(Box::new(cancel))),
    };
    block_on(step_with(&rt, n1.id, client));
    // The deploy step found its operation replaced and asked nothing of Ironic.
    let operation = operations::get(n1.id).unwrap();
    assert_eq!((operation.kind, operation.generation), (Undeploy, 2));
    assert_eq!(operation.locked_until_ns, 0);
    assert_eq!(sim_node(&rt, &SECRET, "n1").lessee, None);
    assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Releasing);
    // The undeploy finds the node untouched: cleared at once, the lease CANCELLED.
    run_at(&rt, t0);
    let cancelled = store::execution(lease.id).unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("cancelled: changed my mind")
    );
    assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Available);
    assert_eq!(operations::get(n1.id).unwrap().status, Completed);
}

#[test]
fn a_step_lost_after_an_await_is_run_again_by_its_fallback() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    /// An Ironic whose answer never comes: the message traps (or the upgrade drops the
    /// future) while it waits.
    struct Silent;
    impl Ironic for Silent {
        async fn list_available(&self, _: Option<&str>) -> Result<Vec<Node>, ClientError> {
            std::future::pending().await
        }
        async fn node(&self, _: &str) -> Result<Node, ClientError> {
            std::future::pending().await
        }
        async fn set_instance(&self, _: &str, _: &str, _: &str) -> Result<(), ClientError> {
            std::future::pending().await
        }
        async fn clear_instance(&self, _: &str) -> Result<(), ClientError> {
            std::future::pending().await
        }
        async fn set_provision_state(
            &self,
            _: &str,
            _: Target,
            _: Option<&str>,
        ) -> Result<(), ClientError> {
            std::future::pending().await
        }
    }

    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
    begin_deploy(&rt, &lease);
    let t0 = rt.time();
    {
        let mut future = pin!(step_with(&rt, n1.id, |_, _| Silent));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    // Locked until the fallback, which is queued: steps before it return at once.
    let locked = operations::get(n1.id).unwrap();
    assert_eq!(locked.locked_until_ns, t0 + FALLBACK_NS);
    run_at(&rt, t0 + FALLBACK_NS - SECOND_NS);
    assert_eq!(sim_node(&rt, &SECRET, "n1").provision_state, "available");
    // The fallback runs the step again.
    run_at(&rt, t0 + FALLBACK_NS);
    assert_eq!(sim_node(&rt, &SECRET, "n1").provision_state, "deploying");
    assert_eq!(operations::get(n1.id).unwrap().status, InProgress);
    for s in 1..=4 {
        run_at(&rt, t0 + FALLBACK_NS + s * 10 * SECOND_NS);
    }
    assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Available);
    assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Leased);
}

#[test]
fn a_deploy_failing_after_its_patch_clears_the_lessee_it_set() {
    let rt = setup();
    let n1 = node_item(&rt, &SECRET, "n1");
    configure_http(&rt);
    let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
    begin_deploy(&rt, &lease);
    let t0 = rt.time();
    // The image and the lessee are set; the deploy request then fails for good (the IC
    // rejects Ironic's answer as too large: SYS_FATAL).
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(reject(1));
    // The cleanup finds the node available and clears what the deploy set.
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    run_at(&rt, t0);
    run_at(&rt, t0 + SECOND_NS);
    let failed = store::execution(lease.id).unwrap();
    assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
    let sent = rt.requests.borrow().clone();
    assert_eq!(sent.len(), 5, "{sent:?}");
    let clear = String::from_utf8(sent[4].body.clone().unwrap()).unwrap();
    assert!(clear.contains(r#""path":"/lessee""#), "{clear}");
    assert!(clear.contains(r#""op":"remove""#), "{clear}");
    let cleanup = operations::get(n1.id).unwrap();
    assert_eq!(
        (cleanup.kind, cleanup.status, cleanup.execution_id),
        (Undeploy, Completed, Some(lease.id))
    );
    // Back on the market, not in Maintenance with the failed lease's lessee on the node.
    assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Available);
}

#[test]
fn the_view_derives_progress_from_the_state_and_the_status() {
    use super::api::view;
    use crate::market::operations::testing::deploy;
    let mut operation = deploy();
    let shown = view(&operation);
    assert_eq!(shown.operation_id, "node-1");
    assert_eq!(shown.server_id, "node-1");
    assert_eq!(
        (shown.status, shown.progress_percent),
        (OperationStatus::Accepted, Some(0))
    );
    assert_eq!(shown.execution_id, Some(3));
    operation.status = OperationStatus::InProgress;
    operation.provision_state = "wait call-back".into();
    assert_eq!(view(&operation).progress_percent, Some(50));
    operation.provision_state = "deploying".into();
    operation.seen_wait_callback = true;
    assert_eq!(view(&operation).progress_percent, Some(75));
    operation.status = OperationStatus::Completed;
    operation.provision_state = "active".into();
    operation.completed_at_ns = Some(99);
    let done = view(&operation);
    assert_eq!(
        (done.progress_percent, done.completed_at_ns),
        (Some(100), Some(99))
    );
    // Failed for a reason of the canister's (a timeout) while the node was deploying.
    operation.status = OperationStatus::Failed;
    operation.provision_state = "deploying".into();
    assert_eq!(view(&operation).progress_percent, None);
}
