//! Hold deposits end to end (the policy `hold_deposit`): the marketplace's wasm and the test
//! ledger's on one ic0 host. Each offer an offerset holds costs its consumer a deposit into the
//! offer's escrow; an unaccepted hold gets it back, an accepted one counts it toward the price.

mod common;

use candid::Principal;
use common::market::*;
use common::payments::*;
use common::*;
use ic0_host::{Fault, Reject, RejectCode};

const PRICE: u64 = 1_000_000;
const DEPOSIT: u64 = PRICE / 4;

fn alice() -> Principal {
    consumer("alice")
}

/// A paid market with a deposit per hold, alice rich and approved, two items offered.
fn ready() -> PaidMarket {
    let mut paid = PaidMarket::new(&[alice()]);
    paid.approve(alice(), u64::MAX);
    paid.market.offered_item(SMALL, "dep-1", 8, PRICE, 30);
    paid.market.offered_item(SMALL, "dep-2", 8, PRICE, 30);
    let controller = paid.market.controller();
    let update = PoliciesUpdate {
        hold_deposit: Some(DEPOSIT),
        ..PoliciesUpdate::default()
    };
    let policies = paid
        .market
        .canister
        .policies_set(controller, update)
        .unwrap();
    assert_eq!(policies.hold_deposit, Some(DEPOSIT));
    paid
}

/// Alice asks for `offers` offers of two hours from an hour from now.
fn ask(paid: &mut PaidMarket, offers: u32) -> MarketResult<OffersetView> {
    let start = paid.market.now() + HOUR_NS;
    let request = ResourceRequest {
        offers: Some(offers),
        ..request(Some(start), 2 * 3600)
    };
    paid.market.canister.offerset_request(alice(), request)
}

#[test]
fn holds_cost_a_deposit_returned_when_unaccepted_and_counted_toward_the_price_when_accepted() {
    let mut paid = ready();
    let before = paid.of(alice());
    let view = ask(&mut paid, 2).expect("offered");
    let ids: Vec<u64> = view.offers.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let held = paid.payment(*id);
        assert_eq!(held.state, PaymentState::Funded);
        assert_eq!(held.pulls[0].purpose, Purpose::Deposit);
        assert_eq!(paid.balance(&held.escrow), DEPOSIT);
    }
    assert_eq!(paid.of(alice()), before - 2 * (DEPOSIT + FEE));
    paid.assert_conserved(&ids);

    // Accepting the first pulls only the rest of its price; its sibling is rejected and its
    // deposit comes back (less the refund's fee) on the queue's next run.
    let arg = accept_arg(ids[0], &lessee_key(1));
    paid.market
        .canister
        .execution_accept(alice(), arg)
        .expect("accepted");
    let accepted = paid.payment(ids[0]);
    assert_eq!(accepted.pulls[1].purpose, Purpose::Price);
    assert_eq!(accepted.pulls[1].amount, 2 * PRICE - DEPOSIT);
    assert_eq!(paid.balance(&accepted.escrow), 2 * PRICE);
    paid.market.advance(SECOND_NS);
    let sibling = paid.payment(ids[1]);
    assert_eq!(sibling.state, PaymentState::Settled, "{sibling:?}");
    assert_eq!(paid.balance(&sibling.escrow), 0);
    assert_eq!(
        paid.of(alice()),
        before - 2 * PRICE - 3 * FEE - FEE,
        "two deposits and the rest of the price, each with its fee; one deposit back less its fee"
    );
    paid.assert_conserved(&ids);

    // A hold left to expire: its deposit back, the lease still running paid in full.
    let left = paid.of(alice());
    let view = ask(&mut paid, 1).expect("the other item");
    let expiring = view.offers[0].id;
    assert_eq!(paid.of(alice()), left - DEPOSIT - FEE);
    let ttl = paid.market.canister.policies().offer_ttl_seconds;
    paid.market.advance((ttl + 1) * SECOND_NS);
    paid.market.advance(SECOND_NS);
    let expired = paid
        .market
        .canister
        .execution_get(alice(), expiring)
        .unwrap();
    assert_eq!(expired.phase, Phase::Expired);
    assert_eq!(paid.payment(expiring).state, PaymentState::Settled);
    assert_eq!(paid.of(alice()), left - 2 * FEE);
    paid.assert_conserved(&[ids[0], ids[1], expiring]);
}

#[test]
fn without_allowance_for_the_deposits_the_request_is_refused_and_nothing_changes() {
    let mut paid = ready();
    // Approved for one deposit only: two holds would need two.
    paid.approve(alice(), DEPOSIT + FEE);
    let digest = paid.market.canister.digest();
    assert_eq!(
        ask(&mut paid, 2).map(|v| v.offerset.id),
        Err(MarketError::InsufficientAllowance {
            allowance: DEPOSIT + FEE,
            needed: 2 * (DEPOSIT + FEE)
        })
    );
    assert_eq!(paid.market.canister.digest(), digest, "nothing written");
    // One offer fits the allowance.
    let view = ask(&mut paid, 1).expect("one hold");
    paid.assert_conserved(&[view.offers[0].id]);
}

#[test]
fn a_deposit_the_ledger_refuses_drops_its_hold_and_the_offerset_says_why() {
    let mut paid = ready();
    let before = paid.of(alice());
    let ledger = paid.ledger;
    paid.host.borrow_mut().inject_fault(
        ledger,
        Some("icrc2_transfer_from"),
        Fault::Reject(Reject::new(RejectCode::SysTransient, "injected")),
    );
    let view = ask(&mut paid, 2).expect("the offerset is made");
    let ids = view.offerset.execution_ids.clone();
    let phases: Vec<Phase> = view.offers.iter().map(|o| o.phase).collect();
    // The two pulls went out together; the first met the fault.
    assert_eq!(phases, vec![Phase::Rejected, Phase::Offered]);
    assert!(view
        .offerset
        .messages
        .iter()
        .any(|m| m.text.contains("deposit was refused")));
    assert_eq!(paid.payment_of(ids[0]), None, "nothing taken");
    assert_eq!(paid.of(alice()), before - DEPOSIT - FEE);
    paid.assert_conserved(&ids);
}

#[test]
fn a_held_deposit_survives_an_upgrade_and_still_counts_toward_the_price() {
    let mut paid = ready();
    let id = ask(&mut paid, 1).expect("held").offers[0].id;
    let before = paid.payment(id);
    let arg = candid::encode_one(None::<InitArg>).unwrap();
    paid.market
        .canister
        .driver
        .upgrade(&wasm(), arg)
        .expect("upgrade");
    assert_eq!(paid.payment(id), before, "the deposit's record as it was");
    let arg = accept_arg(id, &lessee_key(1));
    paid.market
        .canister
        .execution_accept(alice(), arg)
        .expect("accepted");
    let accepted = paid.payment(id);
    assert_eq!(accepted.pulls[1].amount, 2 * PRICE - DEPOSIT);
    assert_eq!(paid.balance(&accepted.escrow), 2 * PRICE);
    paid.assert_conserved(&[id]);
}
