//! Hold deposits (`offerset::request_paying`): pulled per hold, returned when the hold ends
//! unaccepted, counted toward the price when accepted.

use super::*;
use crate::market::offerset::request_paying;

const DEPOSIT: u64 = 300;

/// `paid_market` with a deposit per hold.
fn deposit_market(deposit: u64) -> (FakeRuntime, Rc<NativeLedger>, Item) {
    let market = paid_market();
    policy::set(PoliciesUpdate {
        hold_deposit: Some(deposit),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    market
}

/// Alice asks for `offers` offers of two hours from `start_ns`.
fn request(rt: &FakeRuntime, start_ns: u64, offers: u32) -> Result<OffersetView, MarketError> {
    let request = ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(offers),
        ..ask(2 * 3600)
    };
    block_on(request_paying(rt, request))
}

#[test]
fn a_hold_costs_its_deposit_and_gets_it_back_when_it_expires() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    let view = request(&rt, t0 + HOUR, 1).unwrap();
    let id = view.offers[0].id;
    let held = payment(id);
    assert_eq!(held.state, PaymentState::Funded);
    assert_eq!(held.pulls.len(), 1);
    assert_eq!(held.pulls[0].purpose, Purpose::Deposit);
    assert_eq!(ledger.balance(&held.escrow), u128::from(DEPOSIT));
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - DEPOSIT - FEE)
    );
    assert_eq!(deposit_held(id), DEPOSIT);
    assert_conserved(&rt, &ledger);

    // The queue leaves an open hold's deposit where it is.
    run_at(&rt, t0 + MINUTE);
    assert_eq!(payment(id).state, PaymentState::Funded);
    assert!(payment(id).transfers.is_empty());

    // Not accepted in time (the TTL is 5 minutes): expired, the deposit back less the fee.
    run_at(&rt, t0 + 10 * MINUTE);
    assert_eq!(store::execution(id).unwrap().phase, Phase::Expired);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    assert_eq!(settled.transfers.len(), 1);
    assert_eq!(settled.transfers[0].purpose, Purpose::Refund);
    assert_eq!(ledger.balance(&settled.escrow), 0);
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * FEE)
    );
    assert_eq!(ledger.balance(&provider_account()), 0);
    assert_conserved(&rt, &ledger);
}

#[test]
fn an_accepted_hold_counts_its_deposit_toward_the_price_and_its_sibling_is_refunded() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    let second = plain_item(&rt, "n2");
    offer(&rt, second.id, t0, t0 + 24 * HOUR, PRICE);
    let view = request(&rt, t0 + HOUR, 2).unwrap();
    let [first, sibling] = [view.offers[0].id, view.offers[1].id];
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * (DEPOSIT + FEE))
    );
    block_on(accept_paying(&rt, accept_arg(first))).unwrap();
    let paid = payment(first);
    let pulled: Vec<_> = paid.pulls.iter().map(|p| (p.purpose, p.amount)).collect();
    assert_eq!(
        pulled,
        vec![
            (Purpose::Deposit, DEPOSIT),
            (Purpose::Price, 2 * PRICE - DEPOSIT)
        ]
    );
    assert_eq!(ledger.balance(&paid.escrow), u128::from(2 * PRICE));
    assert_conserved(&rt, &ledger);

    // The sibling was rejected by the accept: its deposit goes back.
    run_at(&rt, t0 + MINUTE);
    assert_eq!(store::execution(sibling).unwrap().phase, Phase::Rejected);
    assert_eq!(payment(sibling).state, PaymentState::Settled);
    run_at(&rt, t0 + HOUR);
    run_at(&rt, t0 + 3 * HOUR);
    assert_eq!(store::execution(first).unwrap().phase, Phase::Completed);
    assert_eq!(payment(first).state, PaymentState::Settled);
    // The price paid once: deposit and rest together.
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_eq!(ledger.balance(&account(treasury())), 100 - u128::from(FEE));
    // Alice: two deposits and the rest of the price each with a pull fee, the sibling's
    // deposit back less the refund's fee.
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * PRICE - 4 * FEE)
    );
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_deposit_above_the_price_pays_it_all_and_the_rest_goes_back() {
    let (rt, ledger, _) = deposit_market(5 * PRICE);
    let t0 = rt.time.get();
    let id = request(&rt, t0 + HOUR, 1).unwrap().offers[0].id;
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_eq!(payment(id).pulls.len(), 1, "nothing more to pull");
    run_at(&rt, t0 + HOUR);
    run_at(&rt, t0 + 3 * HOUR);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled);
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * PRICE - 2 * FEE)
    );
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_consumer_who_cannot_pay_the_deposits_is_refused_with_nothing_written() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    let before = snapshot();
    let refused = calling(&rt, bob(), || request(&rt, t0 + HOUR, 1));
    assert_eq!(
        refused.map(|v| v.offerset.id),
        Err(MarketError::InsufficientAllowance {
            allowance: 0,
            needed: DEPOSIT + FEE
        })
    );
    assert_eq!(snapshot(), before, "a refused deposit changes nothing");
    // Alice can pay one deposit: asking for three offers (with one item to offer) needs three,
    // and is refused before anything is matched; asking for one is held.
    let poorer = TransferArg {
        from_subaccount: None,
        to: account(bob()),
        fee: None,
        created_at_time: None,
        memo: None,
        amount: (ALICE - DEPOSIT - 2 * FEE).into(),
    };
    ledger.transfer(t0, alice(), poorer).unwrap();
    let before = snapshot();
    assert_eq!(
        request(&rt, t0 + HOUR, 3).map(|v| v.offerset.id),
        Err(MarketError::InsufficientFunds {
            balance: DEPOSIT + FEE,
            needed: 3 * (DEPOSIT + FEE)
        })
    );
    assert_eq!(snapshot(), before);
    let view = request(&rt, t0 + HOUR, 1).unwrap();
    assert_eq!(view.offers.len(), 1);
    assert_eq!(ledger.balance(&account(alice())), 0);
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_hold_whose_deposit_the_ledger_refuses_is_dropped_and_the_offerset_says_why() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    for fault in [Fault::Reject, Fault::Unreadable] {
        ledger.inject("icrc2_transfer_from", fault);
        let view = request(&rt, t0 + HOUR, 1).unwrap();
        let id = view.offerset.execution_ids[0];
        assert_eq!(store::execution(id).unwrap().phase, Phase::Rejected);
        assert!(
            view.offerset
                .messages
                .iter()
                .any(|m| m.level == Level::Warn && m.text.contains("deposit was refused")),
            "{:?}",
            view.offerset.messages
        );
        // The item is free again for the next request.
        assert!(store::item_bookings(view.offers[0].item_id).is_empty());
    }
    // The unreadable answer's deposit was taken: the backstop finds it and returns it.
    run_at(&rt, t0 + HOUR);
    store::for_each_execution(|e| {
        if let Some(p) = store::payment(e.id) {
            assert_eq!(p.state, PaymentState::Settled, "{p:?}");
        }
    });
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * FEE)
    );
    assert_conserved(&rt, &ledger);
}

#[test]
fn an_accept_while_the_deposit_is_on_its_way_is_refused_and_asks_no_price() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    let id = request(&rt, t0 + HOUR, 1).unwrap().offers[0].id;
    // As the stored record is while the deposit's answer is awaited.
    let funded = payment(id);
    let mut pulling = funded.clone();
    pulling.state = PaymentState::Pulling;
    pulling.pulls[0].done = false;
    store::put_payment(id, &pulling);
    let before = snapshot();
    assert_eq!(
        block_on(accept_paying(&rt, accept_arg(id))).map(|e| e.id),
        Err(MarketError::PaymentInProgress { execution_id: id })
    );
    assert_eq!(snapshot(), before);
    store::put_payment(id, &funded);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_eq!(payment(id).pulls[1].amount, 2 * PRICE - DEPOSIT);
    assert_conserved(&rt, &ledger);
}

#[test]
fn an_open_hold_keeps_its_deposit_with_whatever_a_refund_could_not_send() {
    let (rt, ledger, _) = deposit_market(DEPOSIT);
    let t0 = rt.time.get();
    let id = request(&rt, t0 + HOUR, 1).unwrap().offers[0].id;
    // A pull too small to send back (at most the fee) that its accept could not use.
    let hold = store::execution(id).unwrap();
    block_on(pull(&rt, ledger.id, &hold, Purpose::Price, FEE, FEE)).unwrap();
    refund_last_pull(&rt, id);
    run_at(&rt, t0 + MINUTE);
    let kept = payment(id);
    assert_eq!(kept.state, PaymentState::Funded, "{kept:?}");
    assert_eq!(ledger.balance(&kept.escrow), u128::from(DEPOSIT + FEE));
    assert_eq!(deposit_held(id), DEPOSIT);
    assert_conserved(&rt, &ledger);
    // When the hold ends, everything goes back at once.
    run_at(&rt, t0 + 10 * MINUTE);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled);
    assert_eq!(ledger.balance(&settled.escrow), 0);
    assert_conserved(&rt, &ledger);
}
