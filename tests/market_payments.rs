//! Payments end to end: the marketplace's wasm and the test ledger's wasm on one ic0 host,
//! Candid in and out. Every test checks after each step that every escrow holds what its
//! record says (the ledger's balance), whatever the ledger did meanwhile.

mod common;

use candid::Principal;
use common::market::*;
use common::payments::*;
use common::*;
use ic0_host::{Fault, Reject, RejectCode};

const PRICE: u64 = 1_000_000;
/// The market's 5% of one hour.
const MARKET_FEE: u64 = PRICE / 20;

fn alice() -> Principal {
    consumer("alice")
}

/// A market with alice rich and the market approved for her, one item offered for 30 days.
fn ready() -> (PaidMarket, Item) {
    let mut paid = PaidMarket::new(&[alice()]);
    paid.approve(alice(), u64::MAX);
    let (item, _) = paid.market.offered_item(SMALL, "pay-1", 8, PRICE, 30);
    (paid, item)
}

/// Holds the item for `hours` from `start_ns` as alice: the execution's id.
fn hold(paid: &mut PaidMarket, start_ns: u64, hours: u64) -> u64 {
    paid.market
        .request(alice(), one_offer(start_ns, hours * 3600))
        .offers[0]
        .id
}

fn accept(paid: &mut PaidMarket, id: u64) -> Result<Execution, MarketError> {
    let arg = accept_arg(id, &lessee_key(1));
    paid.market.canister.execution_accept(alice(), arg)
}

/// What a refused accept must leave as it was: the execution and its payment as a controller
/// reads them, the task queue's length and next due time.
fn observed(paid: &mut PaidMarket, id: u64) -> (Execution, Option<Payment>, u64, Option<u64>) {
    let controller = paid.market.controller();
    let execution = paid.market.canister.execution_get(controller, id).unwrap();
    let status = paid.market.canister.status();
    let payment = paid.payment_of(id);
    (
        execution,
        payment,
        status.task_queue_len,
        status.next_task_due,
    )
}

#[test]
fn a_two_hour_lease_of_a_30_day_offer_is_paid_settled_and_the_rest_stays_offered() {
    let (mut paid, item) = ready();
    let policies = paid.market.canister.policies();
    let currency = policies.currency.expect("a currency");
    assert_eq!(currency.ledger, paid.ledger);
    assert_eq!(
        (currency.symbol.as_deref(), currency.decimals, currency.fee),
        (Some("TUSD"), Some(6), Some(FEE))
    );
    let start = paid.market.now() + HOUR_NS;
    let id = hold(&mut paid, start, 2);
    let before = paid.of(alice());
    let accepted = accept(&mut paid, id).expect("accepted");
    assert_eq!(accepted.phase, Phase::Waiting);
    let payment = paid.payment(id);
    assert_eq!(payment.state, PaymentState::Funded);
    assert_eq!(paid.balance(&payment.escrow), 2 * PRICE);
    assert_eq!(paid.of(alice()), before - 2 * PRICE - FEE);
    paid.assert_conserved(&[id]);

    paid.market.advance_to(start);
    paid.market.advance_to(start + 2 * HOUR_NS);
    paid.market.advance(1);
    let done = paid.market.canister.execution_get(alice(), id).unwrap();
    assert_eq!(done.phase, Phase::Completed);
    let settled = paid.payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    // 5% to the market, the rest to the provider; each transfer pays its fee.
    assert_eq!(
        paid.of(paid.provider_principal()),
        2 * (PRICE - MARKET_FEE) - FEE
    );
    assert_eq!(paid.of(treasury()), 2 * MARKET_FEE - FEE);
    assert_eq!(paid.balance(&settled.escrow), 0);
    assert!(settled.transfers.iter().all(|t| t.block.is_some()));
    paid.assert_conserved(&[id]);
    // The rest of the 30 days is offered: another two hours after this lease can be held.
    let later = paid.market.now() + HOUR_NS;
    let again = paid.market.request(alice(), one_offer(later, 2 * 3600));
    assert_eq!(again.offers[0].item_id, item.id);
}

#[test]
fn without_allowance_or_balance_accept_is_refused_and_nothing_changes() {
    let mut paid = PaidMarket::new(&[alice()]);
    paid.market.offered_item(SMALL, "pay-1", 8, PRICE, 30);
    let start = paid.market.now();
    let id = hold(&mut paid, start, 2);
    let digest = paid.market.canister.digest();
    assert_eq!(
        accept(&mut paid, id),
        Err(MarketError::InsufficientAllowance {
            allowance: 0,
            needed: 2 * PRICE + FEE
        })
    );
    assert_eq!(
        paid.market.canister.digest(),
        digest,
        "a refused payment changes nothing"
    );
    // Approved, but all but the approval's fee given away.
    paid.approve(alice(), u64::MAX);
    let left = paid.of(alice());
    paid.transfer(alice(), consumer("bob"), left - FEE - 5);
    let digest = paid.market.canister.digest();
    assert_eq!(
        accept(&mut paid, id),
        Err(MarketError::InsufficientFunds {
            balance: 5,
            needed: 2 * PRICE + FEE
        })
    );
    assert_eq!(paid.market.canister.digest(), digest);
    let held = paid.market.canister.execution_get(alice(), id).unwrap();
    assert_eq!((held.phase, paid.payment_of(id)), (Phase::Offered, None));
}

#[test]
fn a_ledger_that_rejects_or_traps_at_the_pull_moves_nothing() {
    let (mut paid, _) = ready();
    let now = paid.market.now();
    let id = hold(&mut paid, now, 2);
    let before = paid.of(alice());
    for fault in [
        Fault::Reject(Reject::new(RejectCode::SysTransient, "injected")),
        Fault::Trap,
    ] {
        let ledger = paid.ledger;
        paid.host
            .borrow_mut()
            .inject_fault(ledger, Some("icrc2_transfer_from"), fault);
        // The pull was written down before the await (so a second accept waits for it): what
        // every view shows is as it was, but not every byte of stable memory.
        let seen = observed(&mut paid, id);
        let refused = accept(&mut paid, id);
        assert!(
            matches!(refused, Err(MarketError::PaymentFailed { .. })),
            "{refused:?}"
        );
        assert_eq!(observed(&mut paid, id), seen);
        assert_eq!(paid.of(alice()), before);
    }
    accept(&mut paid, id).expect("the ledger is back");
    paid.assert_conserved(&[id]);
}

#[test]
fn two_accepts_while_the_ledger_answers_pay_once_and_a_ledger_upgrade_mid_call_loses_nothing() {
    let (mut paid, _) = ready();
    let now = paid.market.now();
    let id = hold(&mut paid, now, 2);
    let ledger = paid.ledger;
    paid.host.borrow_mut().pause(ledger);
    let arg = candid::encode_one(accept_arg(id, &lessee_key(1))).unwrap();
    let submitted: Vec<_> = (0..2)
        .map(|_| {
            let mut host = paid.host.borrow_mut();
            let message = host.submit_update(alice(), "execution_accept", &arg);
            host.tick();
            message
        })
        .collect();
    assert_eq!(
        paid.host.borrow().held_calls(ledger),
        2,
        "both ask the ledger first"
    );
    // The ledger is upgraded while the calls wait for it; then they arrive.
    let ledger_wasm = std::fs::read(LEDGER_WASM).unwrap();
    let no_arg = candid::encode_args(()).unwrap();
    paid.host
        .borrow_mut()
        .upgrade_canister(ledger, &ledger_wasm, &no_arg)
        .expect("the ledger upgrades");
    paid.host.borrow_mut().resume(ledger);
    for _ in 0..10 {
        paid.host.borrow_mut().tick();
    }
    let answers: Vec<Result<Execution, MarketError>> = submitted
        .into_iter()
        .map(|message| {
            let answer = paid
                .host
                .borrow_mut()
                .take_result(message)
                .expect("answered");
            candid::decode_one(&answer.unwrap()).unwrap()
        })
        .collect();
    let accepted = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(accepted, 1, "{answers:?}");
    assert!(
        answers.iter().any(|a| matches!(
            a,
            Err(MarketError::PaymentInProgress { .. } | MarketError::WrongPhase { .. })
        )),
        "{answers:?}"
    );
    let payment = paid.payment(id);
    assert_eq!(payment.pulls.len(), 1, "one accept, one payment");
    assert_eq!(paid.balance(&payment.escrow), 2 * PRICE);
    paid.assert_conserved(&[id]);
}

#[test]
fn ending_early_refunds_the_unused_hours_and_a_controller_cancel_refunds_everything() {
    let (mut paid, _) = ready();
    let (_, _) = paid.market.offered_item(SMALL, "pay-2", 8, PRICE, 30);
    let start = paid.market.now();
    let early = hold(&mut paid, start, 3);
    accept(&mut paid, early).unwrap();
    paid.market.advance(90 * 60 * SECOND_NS);
    let before = paid.of(alice());
    paid.market.canister.lease_end(alice(), early).unwrap();
    paid.market.advance(SECOND_NS);
    let settled = paid.payment(early);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    // Two started hours of three: one hour back, less the refund's fee.
    assert_eq!(paid.of(alice()), before + PRICE - FEE);
    assert_eq!(
        paid.of(paid.provider_principal()),
        2 * (PRICE - MARKET_FEE) - FEE
    );
    paid.assert_conserved(&[early]);

    let now = paid.market.now();
    let stopped = hold(&mut paid, now, 2);
    accept(&mut paid, stopped).unwrap();
    paid.market.advance(SECOND_NS);
    let before = paid.of(alice());
    let controller = paid.market.controller();
    let arg = CancelArg {
        execution_id: stopped,
        reason: "hardware fault".into(),
    };
    paid.market
        .canister
        .execution_cancel(controller, arg)
        .unwrap();
    paid.market.advance(SECOND_NS);
    assert_eq!(paid.payment(stopped).state, PaymentState::Settled);
    assert_eq!(paid.of(alice()), before + 2 * PRICE - FEE);
    paid.assert_conserved(&[early, stopped]);
}

#[test]
fn a_payout_the_ledger_refuses_is_retried_across_an_upgrade_and_paid_once() {
    let (mut paid, _) = ready();
    let start = paid.market.now();
    let id = hold(&mut paid, start, 1);
    accept(&mut paid, id).unwrap();
    paid.market.advance(1);
    let ledger = paid.ledger;
    for _ in 0..2 {
        paid.host
            .borrow_mut()
            .inject_fault(ledger, Some("icrc1_transfer"), Fault::Trap);
    }
    paid.market.advance_to(start + HOUR_NS);
    paid.market.advance(1);
    assert_eq!(paid.payment(id).state, PaymentState::Settling);
    paid.assert_conserved(&[id]);
    // The market is upgraded with its settlement unfinished.
    let arg = candid::encode_one(None::<InitArg>).unwrap();
    paid.market
        .canister
        .driver
        .upgrade(&wasm(), arg)
        .expect("upgrade");
    for _ in 0..3 {
        paid.market.advance(5 * 60 * SECOND_NS);
    }
    let settled = paid.payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    assert_eq!(paid.of(paid.provider_principal()), PRICE - MARKET_FEE - FEE);
    assert_eq!(paid.of(treasury()), MARKET_FEE - FEE);
    assert_eq!(paid.balance(&settled.escrow), 0);
    paid.assert_conserved(&[id]);
}

#[test]
fn lease_by_sku_and_lease_extend_pay_before_they_book() {
    let (mut paid, _) = ready();
    let (spare, _) = paid.market.offered_item(SMALL, "pay-2", 8, PRICE, 30);
    let leased = paid
        .market
        .canister
        .lease_by_sku(alice(), by_sku(SMALL, 3600, &lessee_key(2)))
        .expect("leased");
    assert_eq!(leased.phase, Phase::Accepted);
    let escrow = paid.payment(leased.id).escrow;
    assert_eq!(paid.balance(&escrow), PRICE);
    let arg = ExtendArg {
        execution_id: leased.id,
        new_end_ns: leased.end_ns + HOUR_NS,
    };
    let extended = paid
        .market
        .canister
        .lease_extend(alice(), arg)
        .expect("extended");
    assert_eq!(extended.total_price, 2 * PRICE);
    assert_eq!(paid.balance(&escrow), 2 * PRICE);
    paid.assert_conserved(&[leased.id]);
    // Bob has no allowance: his lease by SKU is refused and holds nothing.
    let bob = consumer("bob");
    let refused = paid
        .market
        .canister
        .lease_by_sku(bob, by_sku(SMALL, 3600, &lessee_key(3)));
    assert!(
        matches!(refused, Err(MarketError::InsufficientAllowance { .. })),
        "{refused:?}"
    );
    let spare = paid.market.item(spare.id);
    assert_eq!(
        (spare.status, spare.lease_id),
        (ItemStatus::Available, None)
    );
    let offers = paid.market.canister.offers_list(all_offers()).unwrap();
    assert!(offers.offers.iter().all(|o| o.status == OfferStatus::Open));
}

#[test]
fn the_account_the_providers_key_names_gets_the_payout_and_both_statements_list_it() {
    let (mut paid, _) = ready();
    let key = paid.market.provider.key();
    let payee = Account {
        owner: consumer("the provider's treasury"),
        subaccount: Some([3; 32]),
    };
    let arg = PayoutSetArg {
        provider: key.clone(),
        account: Some(payee),
    };
    // Its delegate may not redirect the provider's money; the key's own principal may.
    let delegate = paid.market.delegate;
    let refused: MarketResult<ProviderPayout> =
        paid.market
            .canister
            .market_update(delegate, "provider_payout_set", arg.clone());
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    let owner = paid.provider_principal();
    let named: ProviderPayout = paid
        .market
        .canister
        .market_update(owner, "provider_payout_set", arg)
        .expect("named");
    assert_eq!((named.account, named.named), (payee, true));
    let read: MarketResult<ProviderPayout> =
        paid.market
            .canister
            .market_query(Principal::anonymous(), "provider_payout", key);
    assert_eq!(read, Ok(named));

    let start = paid.market.now() + HOUR_NS;
    let id = hold(&mut paid, start, 1);
    accept(&mut paid, id).expect("accepted");
    paid.market.advance_to(start);
    paid.market.advance_to(start + HOUR_NS);
    paid.market.advance(SECOND_NS);
    let settled = paid.payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    let payout = settled
        .transfers
        .iter()
        .find(|t| t.purpose == Purpose::Payout)
        .unwrap_or_else(|| panic!("a payout: {settled:?}"));
    assert_eq!(payout.account, payee);
    assert_eq!(paid.balance(&payee), PRICE - MARKET_FEE - FEE);
    assert_eq!(paid.of(owner), 0);
    paid.assert_conserved(&[id]);

    // Both sides' statements list it, with its blocks; a stranger's lists nothing.
    let consumer_side = PaymentsListArg {
        role: Role::Consumer,
        provider: None,
        after: None,
        limit: None,
    };
    let provider_side = PaymentsListArg {
        role: Role::Provider,
        provider: Some(paid.market.provider.key()),
        ..consumer_side.clone()
    };
    let expected = PaymentPage {
        payments: vec![ExecutionPayment {
            execution_id: id,
            payment: settled,
        }],
        next: None,
    };
    for (who, arg) in [(alice(), consumer_side.clone()), (delegate, provider_side)] {
        let page: MarketResult<PaymentPage> =
            paid.market.canister.market_query(who, "payments_list", arg);
        assert_eq!(page, Ok(expected.clone()));
    }
    let stranger: MarketResult<PaymentPage> =
        paid.market
            .canister
            .market_query(consumer("bob"), "payments_list", consumer_side);
    assert_eq!(stranger.map(|p| p.payments.len()), Ok(0));
}
