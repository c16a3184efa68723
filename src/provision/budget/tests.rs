use super::*;
use crate::ironic::nodes;
use crate::market::inventory::testing::{act_for, key_input, register_item, OTHER_SECRET, SECRET};
use crate::market::operations;
use crate::provision::service::{self, poll_interval_ns, polls_within, POLL_NS};
use crate::provision::types::*;
use crate::provision::Backend;
use crate::runtime::{block_on, FakeRuntime, OutcallError};
use crate::time::SECOND_NS;
use candid::{Nat, Principal};
use ic_cdk_management_canister::HttpRequestResult;

const ENDPOINT: &str = "https://attacker.example:6385";

fn admin() -> Principal {
    Principal::from_slice(&[4; 29])
}

fn setup() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(admin());
    rt
}

fn provider() -> ProviderKey {
    crate::catalog::signing::provider_of(&SECRET)
}

/// The stranger's script: a fresh key delegates to itself and points at its own endpoint.
fn configure_own_endpoint(rt: &FakeRuntime) {
    act_for(rt, &SECRET);
    let arg = IronicConfigureArg {
        provider: key_input(&SECRET),
        endpoint: Some(ENDPOINT.into()),
        microversion: None,
        auth_token: None,
        images: None,
    };
    settings::configure(rt, arg).unwrap();
}

fn grant_as(
    rt: &FakeRuntime,
    who: Principal,
    cycles: u128,
) -> Result<IronicSettingsView, ProvisionError> {
    rt.caller.set(who);
    grant(
        rt,
        IronicBudgetGrantArg {
            provider: key_input(&SECRET),
            cycles,
        },
    )
}

fn auto_select() -> ProvisionRequest {
    ProvisionRequest {
        image_id: "ubuntu-24.04".into(),
        provider: Some(key_input(&SECRET)),
        ..ProvisionRequest::default()
    }
}

fn answer(status: u16, body: &str) -> Result<HttpRequestResult, OutcallError> {
    Ok(nodes::transform(HttpRequestResult {
        status: Nat::from(status),
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }))
}

fn node_answer(uuid: &str, state: &str) -> Result<HttpRequestResult, OutcallError> {
    answer(
        200,
        &format!(r#"{{"uuid": "{uuid}", "provision_state": "{state}", "maintenance": false}}"#),
    )
}

/// What the outcalls made so far attached.
fn spent(rt: &FakeRuntime) -> u128 {
    rt.requests
        .borrow()
        .iter()
        .map(|r| rt.outcall_cost(r))
        .sum()
}

#[test]
fn only_controllers_grant_grants_add_up_and_refusals_change_nothing() {
    let rt = setup();
    configure_own_endpoint(&rt);
    let before = settings::get(&provider());
    let delegate = rt.caller.get();
    for who in [
        delegate,
        Principal::anonymous(),
        Principal::from_slice(&[9; 29]),
    ] {
        let refused = grant_as(&rt, who, 1_000);
        assert!(
            matches!(refused, Err(ProvisionError::NotAuthorized { .. })),
            "{refused:?}"
        );
    }
    for cycles in [0, MAX_BUDGET_CYCLES + 1] {
        let refused = grant_as(&rt, admin(), cycles);
        assert!(
            matches!(refused, Err(ProvisionError::InvalidArgument { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(settings::get(&provider()), before);
    assert_eq!(
        grant_as(&rt, admin(), 100).unwrap().outcall_budget_cycles,
        100
    );
    let view = grant_as(&rt, admin(), 50).unwrap();
    assert_eq!(
        (view.outcall_budget_cycles, view.backend),
        (150, Backend::Ironic)
    );
    // The sum may not pass the maximum either.
    assert!(grant_as(&rt, admin(), MAX_BUDGET_CYCLES).is_err());
    assert_eq!(
        settings::view(&key_input(&SECRET))
            .unwrap()
            .outcall_budget_cycles,
        150
    );
    // Reconfiguring the endpoint keeps the budget.
    configure_own_endpoint(&rt);
    assert_eq!(remaining(&provider()), 150);
    // A key the canister has never seen can be funded before it configures anything.
    rt.caller.set(admin());
    let other = grant(
        &rt,
        IronicBudgetGrantArg {
            provider: key_input(&OTHER_SECRET),
            cycles: 7,
        },
    )
    .unwrap();
    assert_eq!(
        (other.outcall_budget_cycles, other.backend),
        (7, Backend::Simulated)
    );
}

/// Issue 12, C2: before the budget, each of these calls sent a 2 MB list outcall.
#[test]
fn the_c2_script_without_a_budget_gets_a_typed_error_and_makes_no_outcall() {
    let rt = setup();
    register_item(&rt, &SECRET, "n1", "2C.small");
    configure_own_endpoint(&rt);
    let stranger = rt.caller.get();
    for _ in 0..590 {
        rt.caller.set(stranger);
        let refused = block_on(service::provision_server(&rt, auto_select()));
        match refused {
            Err(ProvisionError::OutcallBudgetExhausted {
                needed_cycles,
                remaining_cycles: 0,
            }) => assert!(needed_cycles > 0),
            other => panic!("{other:?}"),
        }
    }
    // Naming the server is refused the same way, before the node is read.
    rt.caller.set(stranger);
    let named = ProvisionRequest {
        server_id: Some("n1".into()),
        ..auto_select()
    };
    let refused = block_on(service::provision_server(&rt, named));
    assert!(
        matches!(refused, Err(ProvisionError::OutcallBudgetExhausted { .. })),
        "{refused:?}"
    );
    assert!(rt.requests.borrow().is_empty());
    assert_eq!(crate::counters::get().outcalls, 0);
}

#[test]
fn the_c2_script_with_a_budget_spends_at_most_its_budget() {
    let rt = setup();
    configure_own_endpoint(&rt);
    let stranger = rt.caller.get();
    let budget = 20_000_000_000;
    grant_as(&rt, admin(), budget).unwrap();
    let mut refused = 0;
    for _ in 0..590 {
        rt.reply(answer(200, r#"{"nodes": []}"#));
        rt.caller.set(stranger);
        match block_on(service::provision_server(&rt, auto_select())) {
            Err(ProvisionError::NoAvailableServers { .. }) => {}
            Err(ProvisionError::OutcallBudgetExhausted { .. }) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    let made = rt.requests.borrow().len();
    let list = rt.requests.borrow()[0].clone();
    // A page of 50 nodes with five fields each: far under the 2 MB the list used to reserve.
    assert!(list.max_response_bytes.unwrap() <= 128 * 1024);
    assert!(list.url.contains("&limit=50&"), "{}", list.url);
    assert!(made > 0 && refused > 0 && made + refused == 590);
    assert_eq!(spent(&rt) + remaining(&provider()), budget);
    assert!(spent(&rt) <= budget);
}

#[test]
fn a_budgeted_deploy_stops_polling_when_the_budget_runs_out() {
    let rt = setup();
    let item = register_item(&rt, &SECRET, "n1", "2C.small");
    configure_own_endpoint(&rt);
    let provider_principal = rt.caller.get();
    let t0 = rt.time();
    // Read, PATCH and PUT, then a few polls.
    rt.caller.set(admin());
    rt.reply(node_answer("n1", "available"));
    rt.reply(answer(200, "{}"));
    rt.reply(answer(202, ""));
    let price = {
        let ironic = settings::client(&rt, &provider());
        provision_price(
            &rt,
            &ironic,
            Some("n1"),
            None,
            "ubuntu-24.04",
            &provider_principal.to_text(),
            None,
        )
    };
    grant_as(&rt, admin(), price + 3 * price / 10).unwrap();
    rt.caller.set(provider_principal);
    let request = ProvisionRequest {
        server_id: Some("n1".into()),
        ..auto_select()
    };
    block_on(service::provision_server(&rt, request)).unwrap();
    let mut at = t0;
    while at < t0 + 3600 * SECOND_NS {
        at += 5 * SECOND_NS;
        rt.reply(node_answer("n1", "wait call-back"));
        rt.time.set(at);
        crate::tasks::run_due(&rt, || true);
    }
    let failed = operations::get(item.id).unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert!(
        failed
            .message
            .starts_with("The provider's outcall budget is exhausted"),
        "{}",
        failed.message
    );
    let made = rt.requests.borrow().len();
    assert!(made < 10, "{made} outcalls");
    assert!(spent(&rt) <= price + 3 * price / 10);
    // Nothing more is tried once it failed.
    let later = at + 3600 * SECOND_NS;
    rt.time.set(later);
    crate::tasks::run_due(&rt, || true);
    assert_eq!(rt.requests.borrow().len(), made);
}

#[test]
fn polls_on_a_real_ironic_back_off_and_the_simulation_keeps_ten_seconds() {
    assert_eq!(poll_interval_ns(Backend::Ironic, 0), POLL_NS);
    assert_eq!(
        poll_interval_ns(Backend::Ironic, 300 * SECOND_NS),
        30 * SECOND_NS
    );
    assert_eq!(
        poll_interval_ns(Backend::Ironic, 10 * 3600 * SECOND_NS),
        120 * SECOND_NS
    );
    assert_eq!(
        poll_interval_ns(Backend::Simulated, 3600 * SECOND_NS),
        POLL_NS
    );
    // Over the default stuck timeout (30 min): 180 reads before, about a quarter of that now.
    assert_eq!(polls_within(Backend::Simulated, 1800 * SECOND_NS), 180);
    let backed_off = polls_within(Backend::Ironic, 1800 * SECOND_NS);
    assert!((20..=50).contains(&backed_off), "{backed_off}");
}

#[test]
fn the_simulated_ironic_needs_no_budget() {
    let rt = setup();
    register_item(&rt, &SECRET, "n1", "2C.small");
    act_for(&rt, &SECRET);
    let done = block_on(service::provision_server(&rt, auto_select())).unwrap();
    assert_eq!(done.server_id, "n1");
    assert!(rt.requests.borrow().is_empty());
}
