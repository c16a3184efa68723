use super::*;
use crate::market::lease::{accept, extend};
use crate::market::offerset::testing::*;
use crate::market::offerset::{self};
use crate::market::policy;
use crate::runtime::FakeRuntime;

fn leased(rt: &FakeRuntime, start_ns: u64, hours: u64) -> Execution {
    let ask = ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(1),
        ..ask(hours * 3600)
    };
    let view = offerset::request(rt, ask).unwrap();
    let arg = AcceptArg {
        execution_id: view.offers[0].id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    };
    accept(rt, arg).unwrap()
}

fn reclaim_arg(execution_id: u64, notice_seconds: Option<u64>) -> ReclaimArg {
    ReclaimArg {
        provider: key_input(),
        execution_id,
        notice_seconds,
        reason: "hardware swap".into(),
    }
}

fn by_provider(rt: &FakeRuntime, arg: ReclaimArg) -> Result<Execution, MarketError> {
    calling(rt, provider(), || reclaim(rt, arg))
}

#[test]
fn a_reclaimed_lease_ends_at_the_deadline_and_says_why() {
    let rt = market();
    let t0 = rt.time.get();
    // Provisioning never answers in these tests: keep the lease PREPARING past the deadline.
    calling(&rt, admin(), || {
        policy::set(PoliciesUpdate {
            stuck_timeout_seconds: Some(86_400),
            ..PoliciesUpdate::default()
        })
    })
    .unwrap();
    let (node, _) = offered(&rt, "n1", 100);
    let lease = leased(&rt, t0, 10);
    run_at(&rt, t0 + HOUR);

    let noticed = by_provider(&rt, reclaim_arg(lease.id, None)).unwrap();
    // The policy's default notice: an hour from now. The consumer sees it at once.
    let deadline = t0 + 2 * HOUR;
    assert_eq!(noticed.end_ns, deadline);
    assert_eq!(noticed.total_price, 200);
    assert_eq!(
        noticed.reclaim,
        Some(Reclaim {
            noticed_at_ns: t0 + HOUR,
            ends_at_ns: deadline,
            reason: "hardware swap".into()
        })
    );
    let seen = calling(&rt, alice(), || crate::market::lease::get(&rt, lease.id)).unwrap();
    assert_eq!(seen.reclaim, noticed.reclaim);
    // The booking shrinks: the item is offered again from the deadline.
    assert_eq!(
        store::item_bookings(node.id)
            .iter()
            .map(|b| (b.start_ns, b.end_ns))
            .collect::<Vec<_>>(),
        [(t0, deadline)]
    );
    // It cannot be extended, nor reclaimed twice.
    let longer = ExtendArg {
        execution_id: lease.id,
        new_end_ns: t0 + 12 * HOUR,
    };
    assert!(matches!(
        extend(&rt, longer),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        by_provider(&rt, reclaim_arg(lease.id, None)),
        Err(MarketError::InvalidArgument { .. })
    ));

    run_at(&rt, deadline);
    let ended = store::execution(lease.id).unwrap();
    assert!(matches!(ended.phase, Phase::Releasing | Phase::Completed));
    assert_eq!(
        ended.reason.as_deref(),
        Some("reclaimed by the provider: hardware swap")
    );
}

#[test]
fn a_lease_starting_after_the_deadline_is_cancelled_then() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 100);
    let lease = leased(&rt, t0 + 5 * HOUR, 2);
    let noticed = by_provider(&rt, reclaim_arg(lease.id, Some(2 * 3600))).unwrap();
    assert_eq!(
        (noticed.start_ns, noticed.end_ns),
        (t0 + 5 * HOUR, t0 + 7 * HOUR)
    );
    run_at(&rt, t0 + 2 * HOUR);
    let cancelled = store::execution(lease.id).unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("reclaimed by the provider: hardware swap")
    );
    assert_eq!(store::item_bookings(lease.item_id), []);
}

#[test]
fn reclaim_refuses_short_notice_strangers_and_leases_ending_sooner() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 100);
    let lease = leased(&rt, t0, 3);
    let before = snapshot();
    assert!(matches!(
        by_provider(&rt, reclaim_arg(lease.id, Some(60))),
        Err(MarketError::InvalidArgument { .. })
    ));
    // Five hours of notice on a three-hour lease: it ends sooner anyway.
    assert!(matches!(
        by_provider(&rt, reclaim_arg(lease.id, Some(5 * 3600))),
        Err(MarketError::InvalidWindow { .. })
    ));
    for who in [alice(), bob(), admin()] {
        assert!(matches!(
            calling(&rt, who, || reclaim(&rt, reclaim_arg(lease.id, None))),
            Err(MarketError::NotAuthorized { .. })
        ));
    }
    let mut no_reason = reclaim_arg(lease.id, None);
    no_reason.reason = String::new();
    assert!(matches!(
        by_provider(&rt, no_reason),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(
        by_provider(&rt, reclaim_arg(99, None)),
        Err(MarketError::UnknownExecution { id: 99 })
    );
    assert_eq!(snapshot(), before);

    // A controller may shorten the notice for everyone; an OFFERED hold is not a lease.
    calling(&rt, admin(), || {
        policy::set(PoliciesUpdate {
            reclaim_notice_seconds: Some(0),
            ..PoliciesUpdate::default()
        })
    })
    .unwrap();
    let (_, _) = offered(&rt, "n2", 100);
    let view = calling(&rt, bob(), || offerset::request(&rt, ask(3600))).unwrap();
    assert!(matches!(
        by_provider(&rt, reclaim_arg(view.offers[0].id, None)),
        Err(MarketError::WrongPhase { .. })
    ));
    // Not started by the deadline (now): the queue cancels it at once.
    let now = by_provider(&rt, reclaim_arg(lease.id, Some(0))).unwrap();
    assert_eq!(now.reclaim.map(|r| r.ends_at_ns), Some(t0));
    run_at(&rt, t0);
    assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Cancelled);
}
