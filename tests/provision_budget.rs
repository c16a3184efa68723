//! Issue 12, C2, through the wasm: a stranger's key delegates to itself, points its provider at
//! an endpoint of its own and calls `provision_server` as fast as its rate limit lets it. Before
//! outcall budgets each call sent a replicated 2 MB list outcall the canister paid for; now a
//! provider's outcalls are paid from the budget controllers grant it, and the script spends at
//! most that. A lease whose provider runs out of budget fails and stops polling.

mod common;

use common::ironic::*;
use common::market::*;
use common::*;

/// The calls of one principal's burst the finding measured.
const CALLS: usize = 590;

fn auto(lab: &Lab) -> ProvisionRequest {
    ProvisionRequest {
        resource_class: Some(LARGE_CLASS.into()),
        provider: Some(lab.m.provider.key()),
        image_id: "ubuntu-24.04".into(),
        ..ProvisionRequest::default()
    }
}

/// The stranger's provider points at its own endpoint; nobody granted it anything.
fn stranger_lab() -> Lab {
    let mut lab = Lab::new();
    // Typed answers rather than inspect_message's drops, so every call is seen.
    lab.m.canister.driver.set_inspect_ingress(false);
    lab.node(NODE_A, "rack1-node01", SMALL_CLASS);
    let (delegate, arg) = (lab.delegate(), lab.configure_arg());
    lab.m.canister.ironic_configure(delegate, arg).unwrap();
    lab
}

fn budget(lab: &mut Lab) -> u128 {
    let provider = lab.m.provider.key();
    lab.m
        .canister
        .ironic_settings(user(), provider)
        .unwrap()
        .outcall_budget_cycles
}

/// Runs the script: `CALLS` auto-selections. Returns (budget refusals, rate-limit refusals).
fn c2_script(lab: &mut Lab) -> (usize, usize) {
    let (mut over_budget, mut limited) = (0, 0);
    let delegate = lab.delegate();
    for _ in 0..CALLS {
        let request = auto(lab);
        match lab.m.canister.provision_server(delegate, request) {
            Err(ProvisionError::OutcallBudgetExhausted { .. }) => over_budget += 1,
            Err(ProvisionError::RateLimited { .. }) => limited += 1,
            Err(ProvisionError::NoAvailableServers { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    (over_budget, limited)
}

fn write_figure(line: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hardening");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("outcall_budget.txt"), format!("{line}\n")).unwrap();
}

#[test]
fn the_c2_script_without_a_budget_gets_typed_errors_and_makes_no_outcall() {
    let mut lab = stranger_lab();
    let before = lab.m.canister.status().counters.outcalls;
    let (over_budget, limited) = c2_script(&mut lab);
    assert!(
        over_budget >= 500,
        "{over_budget} refused, {limited} rate limited"
    );
    // Naming the server is refused too, before the node is read.
    let delegate = lab.delegate();
    let named = ProvisionRequest {
        server_id: Some(NODE_A.into()),
        ..auto(&lab)
    };
    let refused = lab.m.canister.provision_server(delegate, named);
    assert!(
        matches!(
            refused,
            Err(ProvisionError::OutcallBudgetExhausted {
                remaining_cycles: 0,
                ..
            })
        ),
        "{refused:?}"
    );
    assert!(lab.ironic.requests().is_empty());
    assert_eq!(lab.m.canister.status().counters.outcalls, before);
}

#[test]
fn the_c2_script_with_a_budget_spends_at_most_its_budget() {
    let mut lab = stranger_lab();
    let granted: u128 = 100_000_000_000;
    let grant = IronicBudgetGrantArg {
        provider: lab.m.provider.key(),
        cycles: granted,
    };
    let controller = lab.controller();
    let view = lab
        .m
        .canister
        .ironic_budget_grant(controller, grant)
        .unwrap();
    assert_eq!(view.outcall_budget_cycles, granted);
    // The budget is stable state: an upgrade keeps it.
    lab.m
        .canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    assert_eq!(budget(&mut lab), granted);
    let (over_budget, limited) = c2_script(&mut lab);
    let outcalls = lab.ironic.requests().len();
    let spent = granted - budget(&mut lab);
    assert!(
        outcalls > 0 && over_budget > 0,
        "{outcalls} outcalls, {over_budget} refused"
    );
    assert!(spent <= granted);
    let per_call = spent / outcalls as u128;
    // Every list is one small page now: the same price each time.
    assert_eq!(spent, per_call * outcalls as u128);
    for request in lab.ironic.requests() {
        assert!(request.url.contains("limit=50"), "{}", request.url);
    }
    write_figure(&format!(
        "outcall_budget: calls={CALLS} granted_cycles={granted} outcalls={outcalls} \
         spent_cycles={spent} cycles_per_list={per_call} refused_over_budget={over_budget} \
         rate_limited={limited} unbudgeted_outcalls=0"
    ));
}

#[test]
fn a_lease_whose_provider_runs_out_of_budget_fails_and_stops_polling() {
    let mut lab = Lab::new();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    // The node never finishes deploying: only the budget can end the polls before the
    // stuck timeout.
    lab.ironic.set_manual(true);
    let (delegate, arg) = (lab.delegate(), lab.configure_arg());
    lab.m.canister.ironic_configure(delegate, arg).unwrap();
    lab.ironic.require_token(TOKEN);
    let controller = lab.controller();
    // Enough for the deploy's read, PATCH and PUT and a few polls, not for half an hour.
    let grant = IronicBudgetGrantArg {
        provider: lab.m.provider.key(),
        cycles: 30_000_000_000,
    };
    lab.m
        .canister
        .ironic_budget_grant(controller, grant)
        .unwrap();
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let lease = lab.lease_now(consumer("a"), "proj-a", 2);
    let ended = lab.wait_final(lease.id, 20 * MINUTE_NS);
    assert_eq!(ended.phase, Phase::Failed, "{ended:?}");
    let status = lab.status(NODE_A);
    assert!(
        status.message.contains("outcall budget is exhausted"),
        "{}",
        status.message
    );
    let made = lab.ironic.requests().len();
    lab.advance(HOUR_NS);
    lab.advance(HOUR_NS);
    assert_eq!(
        lab.ironic.requests().len(),
        made,
        "polled after the budget ran out"
    );
    assert!(budget(&mut lab) < 30_000_000_000);
}
