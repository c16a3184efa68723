use super::super::offerset::testing::*;
use super::super::types::{AcceptArg, Entity, Phase, PoliciesUpdate};
use super::super::MarketError;
use super::super::{lease, offerset, policy, store};
use super::*;
use crate::queue;
use crate::runtime::FakeRuntime;
use crate::time::{DAY_NS, HOUR_NS, MINUTE_NS};
use serde_bytes::ByteBuf;

fn retention(seconds: u64) {
    policy::set(PoliciesUpdate {
        closed_retention_seconds: Some(seconds),
        ..PoliciesUpdate::default()
    })
    .unwrap();
}

/// Runs the queue minute by minute up to `at`, as the timer would.
fn run_until(rt: &FakeRuntime, at: u64) {
    while rt.time.get() + MINUTE_NS < at {
        run_at(rt, rt.time.get() + MINUTE_NS);
    }
    run_at(rt, at);
}

/// Two items offered; a request holds both; the consumer lets it expire.
fn expired_offerset(rt: &FakeRuntime) -> (u64, Vec<u64>) {
    offered(rt, "n1", 100);
    offered(rt, "n2", 200);
    let view = calling(rt, alice(), || offerset::request(rt, ask(3600))).unwrap();
    let ids: Vec<u64> = view.offers.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 2);
    run_at(rt, view.offerset.expires_at_ns);
    for id in &ids {
        assert_eq!(store::execution(*id).unwrap().phase, Phase::Expired);
    }
    (view.offerset.id, ids)
}

#[test]
fn an_expired_offerset_and_its_executions_go_after_the_retention_and_the_audit_stays() {
    let rt = market();
    retention(3600);
    let (set, ids) = expired_offerset(&rt);
    let closed = store::execution(ids[0]).unwrap().phase_since_ns;
    let audit_before = phases(ids[0]);
    assert_eq!(audit_before, ["OFFERED", "EXPIRED"]);

    run_at(&rt, closed + HOUR_NS - 1);
    assert!(
        store::execution(ids[0]).is_some(),
        "kept until the retention ends"
    );
    run_at(&rt, closed + HOUR_NS);
    for id in &ids {
        assert!(store::execution(*id).is_none(), "execution {id} forgotten");
    }
    assert!(store::offerset(set).is_none());
    assert!(store::consumer_execution_ids(&alice(), 0, 10).is_empty());
    assert_eq!(phases(ids[0]), audit_before, "the audit trail stays");
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
}

#[test]
fn a_longer_retention_set_later_moves_the_forgetting_and_a_shorter_one_waits_for_its_task() {
    let rt = market();
    retention(3600);
    let (set, ids) = expired_offerset(&rt);
    let closed = store::execution(ids[0]).unwrap().phase_since_ns;
    retention(2 * 3600);
    run_at(&rt, closed + HOUR_NS);
    assert!(store::offerset(set).is_some(), "the longer retention holds");
    run_at(&rt, closed + 2 * HOUR_NS);
    assert!(store::offerset(set).is_none());
    assert!(ids.iter().all(|id| store::execution(*id).is_none()));
}

#[test]
fn an_offerset_with_a_running_lease_stays_whole_until_the_lease_closes_and_its_retention_ends() {
    let rt = market();
    retention(3600);
    let t0 = rt.time.get();
    offered(&rt, "n1", 100);
    offered(&rt, "n2", 200);
    let view = calling(&rt, alice(), || offerset::request(&rt, ask(2 * 3600))).unwrap();
    let (chosen, sibling) = (view.offers[0].id, view.offers[1].id);
    calling(&rt, alice(), || {
        lease::accept(
            &rt,
            AcceptArg {
                execution_id: chosen,
                lessee_key: Some(ByteBuf::from(vec![5; 32])),
                lessee_key_hex: None,
            },
        )
    })
    .unwrap();
    assert_eq!(store::execution(sibling).unwrap().phase, Phase::Rejected);
    // The rejected sibling's retention ends while the lease runs: nothing goes.
    run_until(&rt, t0 + HOUR_NS + 1);
    assert!(store::execution(sibling).is_some());
    assert!(store::offerset(view.offerset.id).is_some());
    // The lease completes; an hour later the whole offerset goes.
    run_until(&rt, t0 + 2 * HOUR_NS + 10 * MINUTE_NS);
    let done = store::execution(chosen).unwrap();
    assert_eq!(done.phase, Phase::Completed);
    run_at(&rt, done.phase_since_ns + HOUR_NS);
    assert!(store::execution(chosen).is_none());
    assert!(store::execution(sibling).is_none());
    assert!(store::offerset(view.offerset.id).is_none());
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
}

#[test]
fn the_default_retention_is_ninety_days_and_out_of_range_values_are_refused() {
    let _rt = market();
    assert_eq!(due(0), 90 * DAY_NS);
    let before = policy::get();
    for seconds in [0, 3599, 3661 * 24 * 3600] {
        let refused = policy::set(PoliciesUpdate {
            closed_retention_seconds: Some(seconds),
            ..PoliciesUpdate::default()
        });
        assert!(refused.is_err(), "{seconds} s");
        assert_eq!(policy::get(), before);
    }
}

#[test]
fn a_forget_task_for_a_record_already_gone_or_still_open_does_nothing() {
    let rt = market();
    retention(3600);
    let queued = queue::queue_len();
    assert_eq!(forget_execution(rt.time.get(), 999), vec![]);
    offered(&rt, "n1", 100);
    let view = calling(&rt, alice(), || offerset::request(&rt, ask(3600))).unwrap();
    let id = view.offers[0].id;
    assert_eq!(forget_execution(rt.time.get() + DAY_NS, id), vec![]);
    assert!(store::execution(id).is_some());
    assert!(queue::queue_len() > queued);
}

fn withdraw(rt: &FakeRuntime, offer_id: u64) {
    let arg = super::super::types::OfferWithdrawArg {
        provider: key_input(),
        offer_id,
    };
    calling(rt, provider(), || super::super::offers::withdraw(rt, arg)).unwrap();
}

#[test]
fn a_withdrawn_offer_goes_after_the_retention_and_leaves_its_items_list() {
    let rt = market();
    retention(3600);
    let (item, offer) = offered(&rt, "n1", 100);
    let t0 = rt.time.get();
    withdraw(&rt, offer.id);
    run_at(&rt, t0 + HOUR_NS - 1);
    assert!(store::offer(offer.id).is_some());
    run_at(&rt, t0 + HOUR_NS);
    assert!(store::offer(offer.id).is_none());
    assert_eq!(store::item_offer_ids(item.id), Vec::<u64>::new());
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
}

#[test]
fn an_offer_withdrawn_under_a_running_lease_stays_until_the_lease_is_over() {
    let rt = market();
    retention(3600);
    let t0 = rt.time.get();
    let (_, offer) = offered(&rt, "n1", 100);
    let view = calling(&rt, alice(), || offerset::request(&rt, ask(3 * 3600))).unwrap();
    let lease_id = view.offers[0].id;
    calling(&rt, alice(), || {
        lease::accept(
            &rt,
            AcceptArg {
                execution_id: lease_id,
                lessee_key: Some(ByteBuf::from(vec![5; 32])),
                lessee_key_hex: None,
            },
        )
    })
    .unwrap();
    withdraw(&rt, offer.id);
    run_until(&rt, t0 + HOUR_NS + MINUTE_NS);
    assert!(store::offer(offer.id).is_some(), "its lease still runs");
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
    // The lease ends at 3 h; the offer's task, asking again every retention, finds nothing
    // booked at 4 h and the offer goes.
    run_until(&rt, t0 + 3 * HOUR_NS + 10 * MINUTE_NS);
    let done = store::execution(lease_id).unwrap();
    assert_eq!(done.phase, Phase::Completed);
    run_until(&rt, t0 + 4 * HOUR_NS + 10 * MINUTE_NS);
    assert!(store::offer(offer.id).is_none());
    // The lease's own retention ended as well.
    assert!(store::execution(lease_id).is_none());
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
}

#[test]
fn the_sweep_queues_a_forget_for_every_closed_record_then_goes_on_to_the_offers() {
    let rt = market();
    retention(3600);
    let (_, ids) = expired_offerset(&rt);
    let (_, open_offer) = offered(&rt, "n3", 300);
    let withdrawn = store::item_offer_ids(store::execution(ids[0]).unwrap().item_id)[0];
    withdraw(&rt, withdrawn);
    let closed_at = store::execution(ids[0]).unwrap().phase_since_ns;

    let executions = sweep(false, 0);
    let mut expected: Vec<(u64, Task)> = ids
        .iter()
        .map(|&execution_id| (closed_at + HOUR_NS, Task::ForgetExecution { execution_id }))
        .collect();
    expected.push((
        0,
        Task::SweepClosed {
            offers: true,
            after: 0,
        },
    ));
    assert_eq!(executions, expected);

    let offers = sweep(true, 0);
    let offer = store::offer(withdrawn).unwrap();
    assert_eq!(
        offers,
        [(
            offer.updated_at_ns + HOUR_NS,
            Task::ForgetOffer {
                offer_id: withdrawn
            }
        )],
        "the open offer {} is not queued, and the sweep ends",
        open_offer.id
    );
}

#[test]
fn a_new_canister_has_nothing_to_sweep() {
    let rt = market();
    let queued = queue::queue_len();
    start_sweep(&rt);
    assert_eq!(queue::queue_len(), queued);
}

#[test]
fn an_offerset_whose_holds_were_rejected_early_waits_for_its_own_expiry() {
    let rt = market();
    retention(3600);
    policy::set(PoliciesUpdate {
        offer_ttl_seconds: Some(86_400),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let (_, first) = offered(&rt, "n1", 100);
    let (_, second) = offered(&rt, "n2", 200);
    let view = calling(&rt, alice(), || offerset::request(&rt, ask(3600))).unwrap();
    assert_eq!(store::usage(&alice()).open_offersets, 1);
    let t0 = rt.time.get();
    withdraw(&rt, first.id);
    withdraw(&rt, second.id);
    for e in &view.offers {
        assert_eq!(store::execution(e.id).unwrap().phase, Phase::Rejected);
    }
    run_until(&rt, t0 + 2 * HOUR_NS);
    assert!(
        store::offerset(view.offerset.id).is_some(),
        "still open: its expiry has not run"
    );
    run_until(&rt, view.offerset.expires_at_ns + 1);
    assert!(store::offerset(view.offerset.id).is_none());
    assert_eq!(
        store::usage(&alice()).open_offersets,
        0,
        "the slot came back"
    );
    assert_eq!(crate::market::invariants::self_check(), Ok(()));
}

#[test]
fn a_refused_offerset_is_forgotten_after_its_retention_and_its_trail_stays() {
    let rt = market();
    let t0 = rt.time.get();
    let view = offerset::request(&rt, ask(3600)).unwrap();
    let id = view.offerset.id;
    assert_eq!(view.offerset.result, OffersetResult::No);
    // Before its time the task does nothing; a held offerset is never forgotten.
    forget_offerset(rt.time.get(), id);
    run_at(&rt, t0 + REFUSED_RETENTION_NS - 1);
    assert!(store::offerset(id).is_some());
    run_at(&rt, t0 + REFUSED_RETENTION_NS);
    assert_eq!(store::offerset(id), None);
    assert!(matches!(
        offerset::get(&rt, id),
        Err(MarketError::UnknownOfferset { .. })
    ));
    let audit = crate::market::audit::len();
    let trail = (1..=audit).filter_map(crate::market::audit::entry);
    assert_eq!(
        trail.filter(|e| e.entity == Entity::Offerset(id)).count(),
        1,
        "the audit trail stays"
    );
    // A retried task changes nothing.
    forget_offerset(rt.time.get(), id);
    let (_, _) = offered(&rt, "n1", 100);
    let held = offerset::request(&rt, ask(3600)).unwrap().offerset;
    run_at(&rt, held.created_at_ns + REFUSED_RETENTION_NS);
    forget_offerset(rt.time.get(), held.id);
    assert!(store::offerset(held.id).is_some());
}
