//! Issue 12, M3's rest, end to end through the wasm: closed executions and their offersets
//! leave the market's records after the retention controllers set, their audit trail stays,
//! and the rules still hold. A retention outside its range is refused and changes nothing.

mod common;

use common::market::*;
use common::*;

const HOUR_NS: u64 = 3600 * 1_000_000_000;

fn retention(m: &mut Market, seconds: u64) -> MarketResult<Policies> {
    let controller = m.controller();
    m.canister.policies_set(
        controller,
        PoliciesUpdate {
            closed_retention_seconds: Some(seconds),
            ..PoliciesUpdate::default()
        },
    )
}

#[test]
fn a_completed_lease_and_its_rejected_sibling_go_after_the_retention_and_their_audit_stays() {
    let mut m = Market::new();
    assert_eq!(
        m.canister.policies().closed_retention_seconds,
        Some(90 * 24 * 3600),
        "the default"
    );
    retention(&mut m, 3600).expect("an hour");
    m.offered_item("2C.small", "n1", 8, 100, 1);
    m.offered_item("2C.small", "n2", 8, 200, 1);
    let alice = consumer("alice");
    let view = m.request(alice, request(None, 3600));
    let (chosen, sibling) = (view.offers[0].id, view.offers[1].id);
    m.accept(alice, chosen, &lessee_key(1));
    for _ in 0..80 {
        m.advance(60_000_000_000);
    }
    let done = m.canister.execution_get(alice, chosen).expect("still kept");
    assert_eq!(done.phase, Phase::Completed);
    let trail = m.audit(AuditArg {
        entity: Some(Entity::Execution(chosen)),
        ..AuditArg::default()
    });
    assert!(trail.len() >= 4, "{trail:?}");

    m.advance_to(done.phase_since_ns + HOUR_NS);
    for id in [chosen, sibling] {
        assert_eq!(
            m.canister.execution_get(alice, id),
            Err(MarketError::UnknownExecution { id })
        );
    }
    let set = view.offerset.id;
    assert_eq!(
        m.canister.offerset_get(alice, set),
        Err(MarketError::UnknownOfferset { id: set })
    );
    let listed = m
        .canister
        .executions_list(
            alice,
            ExecutionsListArg {
                role: Role::Consumer,
                provider: None,
                phase: None,
                after: None,
                limit: None,
            },
        )
        .expect("executions_list");
    assert!(listed.executions.is_empty(), "{listed:?}");
    let after = m.audit(AuditArg {
        entity: Some(Entity::Execution(chosen)),
        ..AuditArg::default()
    });
    assert_eq!(after, trail, "the audit trail stays");
    let walk = m.canister.self_check_walk(None, |_, _| {});
    assert!(walk.violations.is_empty(), "{:?}", walk.violations);
}

#[test]
fn a_retention_out_of_range_is_refused_and_changes_nothing() {
    let mut m = Market::new();
    let before = m.canister.digest();
    for seconds in [0, 3599, 3661 * 24 * 3600] {
        assert!(
            matches!(
                retention(&mut m, seconds),
                Err(MarketError::InvalidArgument { .. })
            ),
            "{seconds}"
        );
    }
    assert_eq!(m.canister.digest(), before);
}
