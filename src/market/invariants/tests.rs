use super::*;
use crate::market::offerset::testing::{alice, ask, calling, market, offered, run_at, HOUR};
use crate::market::types::{AcceptArg, OfferStatus, Phase};
use crate::market::{lease, offerset, MarketError};
use crate::runtime::FakeRuntime;

/// Two items offered; alice holds both through an offerset and accepts the first, and the
/// lease starts: execution 1 PREPARING (on the simulated Ironic) on item 1, execution 2
/// REJECTED; both offers stay open (a lease books only its window).
fn leased() -> FakeRuntime {
    let rt = market();
    offered(&rt, "node-a", 100);
    offered(&rt, "node-b", 200);
    let view = calling(&rt, alice(), || offerset::request(&rt, ask(3600))).unwrap();
    let first = view.offers[0].id;
    let accept = AcceptArg {
        execution_id: first,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    };
    calling(&rt, alice(), || lease::accept(&rt, accept)).unwrap();
    run_at(&rt, rt.time.get() + 5 * crate::time::SECOND_NS);
    assert_eq!(
        store::execution(first).map(|e| e.phase),
        Some(Phase::Preparing)
    );
    rt
}

fn rules_of(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.rule.as_str()).collect()
}

/// Every page from the start with `limit`, and the number of pages.
fn paged(limit: u32) -> (Vec<Violation>, usize) {
    let (mut violations, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let page = self_check_page(SelfCheckArg {
            cursor,
            limit: Some(limit),
        })
        .unwrap();
        pages += 1;
        assert!(page.checked >= 1 && page.violations.len() <= MAX_VIOLATIONS);
        violations.extend(page.violations);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (violations, pages),
        }
    }
}

#[test]
fn a_sound_market_breaks_no_rule_whatever_the_page_size() {
    let _rt = leased();
    let whole = check_all(&Stored, &[alice()]);
    assert_eq!(whole.violations, vec![]);
    assert!(whole.evaluated > 20, "{}", whole.evaluated);
    // One record per page: item ids 0..=3, offers 1..2, offerset 1, executions 1..2.
    let (violations, pages) = paged(1);
    assert_eq!(violations, vec![]);
    assert_eq!(pages, 9);
    let (violations, pages) = paged(MAX_PAGE);
    assert_eq!((violations, pages), (vec![], 1));
}

#[test]
fn a_lost_booking_is_found_on_the_page_of_its_execution() {
    let _rt = leased();
    let e = store::execution(1).unwrap();
    store::unbook(e.item_id, e.start_ns, e.id);
    let (violations, _) = paged(1);
    assert_eq!(rules_of(&violations), ["live_execution_has_its_booking"]);
    assert!(
        violations[0].detail.contains("execution 1"),
        "{violations:?}"
    );
    assert_eq!(check_all(&Stored, &[]).violations, violations);
}

#[test]
fn an_overlapping_booking_breaks_the_calendar() {
    let _rt = leased();
    let e = store::execution(1).unwrap();
    let stray = Booking {
        start_ns: e.start_ns + 1,
        end_ns: e.end_ns + 1,
        execution_id: 2,
    };
    store::book(e.item_id, stray);
    let rules = rules_of(&check_all(&Stored, &[]).violations)
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    assert!(
        rules.contains(&"calendar_no_overlap".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"booking_has_live_execution".to_string()),
        "{rules:?}"
    );
}

#[test]
fn a_second_contract_of_one_offer_is_counted_only_by_the_whole_check() {
    let _rt = leased();
    // Execution 2 (rejected) made a contract of offer 1 too.
    // Offer 1 as an older canister stored it: claimed whole by its lease.
    let mut offer = store::offer(1).unwrap();
    offer.status = OfferStatus::Claimed;
    store::put_offer(&offer);
    crate::market::index::remove(1);
    assert_eq!(check_all(&Stored, &[alice()]).violations, vec![]);
    let mut e = store::execution(2).unwrap();
    e.offer_id = 1;
    e.item_id = 1;
    e.phase = Phase::Completed;
    store::put_execution(&e);
    let whole = check_all(&Stored, &[]);
    assert!(
        rules_of(&whole.violations).contains(&"claimed_offer_has_one_contract"),
        "{whole:?}"
    );
    // Each contract's offer is claimed: a page alone cannot count them.
    let (violations, _) = paged(MAX_PAGE);
    assert!(!rules_of(&violations).contains(&"claimed_offer_has_one_contract"));
}

#[test]
fn usage_is_recounted_for_the_principals_named_and_those_with_records() {
    let _rt = leased();
    store::update_usage(&alice(), |u| u.active_leases += 1);
    let stranger = Principal::from_slice(&[9; 29]);
    store::update_usage(&stranger, |u| u.open_offersets = 2);
    let whole = check_all(&Stored, &[]);
    assert_eq!(rules_of(&whole.violations), ["usage_equals_recount"]);
    let named = check_all(&Stored, &[stranger]);
    assert_eq!(
        rules_of(&named.violations),
        ["usage_equals_recount", "usage_equals_recount"]
    );
}

#[test]
fn hold_counters_are_recounted_per_consumer_and_provider() {
    let _rt = leased();
    assert!(check_all(&Stored, &[alice()]).violations.is_empty());
    let e = store::execution(1).unwrap();
    let provider = store::provider_key(&e.provider_pem);
    store::update_provider_holds(&provider, |p| p.held += 1);
    let whole = check_all(&Stored, &[]);
    assert_eq!(rules_of(&whole.violations), ["hold_counts_equal_recount"]);
}

#[test]
fn an_offer_closed_behind_the_index_is_found_by_the_pages_and_the_self_check() {
    let _rt = leased();
    // Offer 1 withdrawn in the store only: the index still offers it.
    let mut offer = store::offer(1).unwrap();
    offer.status = OfferStatus::Withdrawn;
    store::put_offer(&offer);
    let (violations, _) = paged(1);
    let rules = rules_of(&violations);
    assert!(!rules.is_empty(), "{violations:?}");
    assert!(
        rules
            .iter()
            .all(|r| *r == "matching_index_agrees_with_store"),
        "{violations:?}"
    );
    assert!(self_check()
        .unwrap_err()
        .contains("matching_index_agrees_with_store"));
}

#[test]
fn a_reclaimed_lease_running_past_its_deadline_breaks_a_rule() {
    let rt = leased();
    let mut e = store::execution(1).unwrap();
    e.reclaim = Some(crate::market::types::Reclaim {
        noticed_at_ns: rt.time.get(),
        ends_at_ns: e.end_ns - 1,
        reason: "hardware swap".into(),
    });
    store::put_execution(&e);
    let (violations, _) = paged(MAX_PAGE);
    assert_eq!(
        rules_of(&violations),
        ["reclaimed_lease_ends_by_its_deadline"]
    );
}

#[test]
fn bad_limits_and_cursors_are_typed_errors() {
    let _rt = leased();
    let page = |cursor, limit| self_check_page(SelfCheckArg { cursor, limit });
    assert!(matches!(
        page(None, Some(0)),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        page(None, Some(MAX_PAGE + 1)),
        Err(MarketError::TooMany { max: MAX_PAGE, .. })
    ));
    assert!(matches!(
        page(Some(u64::MAX), None),
        Err(MarketError::InvalidArgument { .. })
    ));
    // A cursor past the end of a section continues with the next one.
    let beyond = page(Some(Section::Offers.cursor(ID_MASK)), None).unwrap();
    assert_eq!(beyond.next, None);
    // Offerset 1 with its two executions, then each execution with its booking, item, offer
    // and offerset.
    assert_eq!(beyond.checked, 3 + 5 + 5);
}

#[test]
fn stored_booking_at_finds_only_a_booking_starting_there() {
    let _rt = leased();
    let e = store::execution(1).unwrap();
    let found = Stored.booking_at(e.item_id, e.start_ns).unwrap();
    assert_eq!((found.execution_id, found.end_ns), (1, e.end_ns));
    assert_eq!(Stored.booking_at(e.item_id, e.start_ns + HOUR / 2), None);
    assert_eq!(Stored.booking_at(e.item_id, e.start_ns - 1), None);
}

#[test]
fn details_are_bounded() {
    let mut report = Report::default();
    report.check("rule", false, || "é".repeat(MAX_DETAIL_BYTES));
    let detail = &report.violations[0].detail;
    assert!(
        detail.len() <= MAX_DETAIL_BYTES + '…'.len_utf8(),
        "{}",
        detail.len()
    );
    assert_eq!(report.evaluated, 1);
}

#[test]
fn every_rule_checked_is_listed_once_and_every_listed_rule_is_checked() {
    let source = include_str!("rules.rs");
    let checked: std::collections::BTreeSet<&str> = source
        .split("report.check(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
        .collect();
    let listed: std::collections::BTreeSet<&str> = RULES.into_iter().collect();
    assert_eq!(listed.len(), RULES.len(), "a rule is listed twice");
    assert_eq!(checked, listed);
}
