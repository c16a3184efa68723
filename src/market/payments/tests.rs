//! Payments against the test ledger's own logic (natively): every test ends with the escrows
//! conserved against the ledger and the market's rules holding.

use super::native_ledger::{account, Fault, NativeLedger, FEE};
use super::*;
use crate::market::lease::{accept_paying, cancel, end_now, extend_paying, lease_by_sku_paying};
use crate::market::offerset::testing::*;
use crate::market::{invariants, inventory, offerset, policy, MarketError};
use crate::runtime::{block_on, FakeRuntime, Runtime};
use crate::time::SECOND_NS;
use icrc_ledger_types::icrc1::transfer::TransferArg;
use std::rc::Rc;

const PRICE: u64 = 1_000;
const RICH: u64 = 1_000_000;
/// What alice holds once she approved the market (an approval costs the fee).
const ALICE: u64 = RICH - FEE;

fn treasury() -> Principal {
    Principal::from_slice(&[0x77; 10])
}

/// A market paid through a native test ledger, a 5% fee to `treasury()`, `alice()` rich and
/// the market approved for her; one item offered for a day at `PRICE` an hour.
fn paid_market() -> (FakeRuntime, Rc<NativeLedger>, Item) {
    let rt = market();
    let ledger = NativeLedger::install(&rt, &[alice()], RICH);
    crate::config::apply(crate::config::InitArg {
        ledger: Some(ledger.id),
        ..Default::default()
    })
    .unwrap();
    policy::set(PoliciesUpdate {
        market_fee_basis_points: Some(500),
        treasury: Some(account(treasury())),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    ledger.approve(rt.time.get(), alice(), FakeRuntime::CANISTER_ID, u64::MAX);
    block_on(refresh_currency(&rt));
    let item = plain_item(&rt, "n1");
    let now = rt.time.get();
    offer(&rt, item.id, now, now + 24 * HOUR, PRICE);
    (rt, ledger, item)
}

/// An item with no provisioning backend: its leases start and end within a message.
fn plain_item(rt: &FakeRuntime, uuid: &str) -> Item {
    let input = ItemInput {
        resource_type: "vcloud_org".into(),
        resource_uuid: uuid.into(),
        sku: "2C.small".into(),
        attributes: Attributes {
            cores: 8,
            memory_mb: 8192,
            resource_class: "baremetal".into(),
            ..Attributes::default()
        },
        offering_key: None,
    };
    let arg = InventoryRegisterArg {
        provider: key_input(),
        items: vec![input],
    };
    calling(rt, provider(), || inventory::register(rt, arg)).unwrap()[0].clone()
}

fn accept_arg(execution_id: u64) -> AcceptArg {
    AcceptArg {
        execution_id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    }
}

/// Holds the item for `hours` from `start_ns` (as alice): the execution's id.
fn hold(rt: &FakeRuntime, start_ns: u64, hours: u64) -> u64 {
    let request = ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(1),
        ..ask(hours * 3600)
    };
    offerset::request(rt, request).unwrap().offers[0].id
}

fn provider_account() -> Account {
    let key = crate::catalog::provider::ProviderKey::parse(&key_input()).unwrap();
    account(key.principal())
}

fn payment(id: u64) -> Payment {
    store::payment(id).expect("a payment")
}

/// Every escrow holds what its record says, every record is coherent, every rule holds.
fn assert_conserved(rt: &FakeRuntime, ledger: &NativeLedger) {
    store::for_each_execution(|e| {
        if let Some(p) = store::payment(e.id) {
            let balance = ledger.balance(&p.escrow);
            assert!(
                conserved(&p, balance),
                "execution {}: escrow {balance}, record {p:?}",
                e.id
            );
            assert_eq!(p.escrow, escrow(rt.canister_id(), e.id));
            check_record(e.id, &p).unwrap();
        }
    });
    invariants::self_check().unwrap();
}

#[test]
fn a_completed_lease_pays_the_provider_and_the_market_from_its_escrow() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0 + HOUR, 2);
    let accepted = block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_eq!(accepted.phase, Phase::Waiting);
    let paid = payment(id);
    assert_eq!(paid.state, PaymentState::Funded);
    assert_eq!(paid.pulls.len(), 1);
    assert!(paid.pulls[0].done && paid.pulls[0].block.is_some());
    assert_eq!(ledger.balance(&paid.escrow), 2 * u128::from(PRICE));
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * PRICE - FEE)
    );
    assert_conserved(&rt, &ledger);

    run_at(&rt, t0 + HOUR);
    run_at(&rt, t0 + 3 * HOUR);
    assert_eq!(store::execution(id).unwrap().phase, Phase::Completed);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    // 2 000 charged: 5% (100) to the market, 1 900 to the provider, each less the fee; the
    // refund of nothing is not sent.
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_eq!(ledger.balance(&account(treasury())), 100 - u128::from(FEE));
    assert_eq!(ledger.balance(&settled.escrow), 0);
    let purposes: Vec<_> = settled.transfers.iter().map(|t| t.purpose).collect();
    assert_eq!(purposes, [Purpose::Payout, Purpose::MarketFee]);
    assert!(settled
        .transfers
        .iter()
        .all(|t| t.done && t.block.is_some()));
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_lease_provisioning_releases_is_settled_at_once_not_at_the_next_timer() {
    let (rt, ledger, item) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    run_at(&rt, t0);
    // As a provisioning backend leaves a lease at its end: RELEASING, its item rebuilding.
    rt.time.set(t0 + 2 * HOUR);
    let actor = Actor::Canister;
    let mut releasing = store::execution(id).unwrap();
    crate::market::execution::transition(
        rt.time.get(),
        &actor,
        &mut releasing,
        Phase::Releasing,
        "",
    )
    .unwrap();
    let mut node = store::item(item.id).unwrap();
    inventory::move_item(
        rt.time.get(),
        &actor,
        inventory::By::Market,
        &mut node,
        ItemStatus::Rebuilding,
        "",
    )
    .unwrap();
    rt.armed_timer.set(None);

    // Its report comes back after an await, outside any queue batch.
    crate::market::lease::released(
        &rt,
        item.id,
        Some(id),
        Some(Phase::Completed),
        "ended",
        Ok(()),
    );
    assert_eq!(store::execution(id).unwrap().phase, Phase::Completed);
    let armed = rt.armed_timer.get();
    assert!(
        armed.is_some_and(|at| at <= rt.time.get()),
        "the settlement is due now: {armed:?}"
    );
    run_at(&rt, rt.time.get());
    assert_eq!(payment(id).state, PaymentState::Settled);
    assert_conserved(&rt, &ledger);
}

#[test]
fn no_allowance_or_no_balance_is_a_typed_error_and_the_hold_stays() {
    let (rt, ledger, _) = paid_market();
    let id = hold(&rt, rt.time.get(), 2);
    // Bob has neither an allowance nor money (but the fee an approval costs); his hold is
    // his own.
    let fee_only = TransferArg {
        from_subaccount: None,
        to: account(bob()),
        fee: None,
        created_at_time: None,
        memo: None,
        amount: FEE.into(),
    };
    ledger.transfer(rt.time.get(), alice(), fee_only).unwrap();
    let bobs = calling(&rt, bob(), || hold_second(&rt));
    let before = snapshot();
    let refused = calling(&rt, bob(), || {
        block_on(accept_paying(&rt, accept_arg(bobs)))
    });
    assert_eq!(
        refused,
        Err(MarketError::InsufficientAllowance {
            allowance: 0,
            needed: 2 * PRICE + FEE
        })
    );
    assert_eq!(snapshot(), before, "a refused payment changes nothing");
    ledger.approve(rt.time.get(), bob(), FakeRuntime::CANISTER_ID, u64::MAX);
    let refused = calling(&rt, bob(), || {
        block_on(accept_paying(&rt, accept_arg(bobs)))
    });
    assert_eq!(
        refused,
        Err(MarketError::InsufficientFunds {
            balance: 0,
            needed: 2 * PRICE + FEE
        })
    );
    assert_eq!(store::execution(bobs).unwrap().phase, Phase::Offered);
    assert_eq!(store::payment(bobs), None);
    // Alice's accept still works.
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * FEE)
    );
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_conserved(&rt, &ledger);
}

/// A second item held by the current caller, for two hours from now.
fn hold_second(rt: &FakeRuntime) -> u64 {
    let item = plain_item(rt, "n2");
    let now = rt.time.get();
    offer(rt, item.id, now, now + 24 * HOUR, PRICE);
    let request = ResourceRequest {
        offers: Some(1),
        sku: Some("2c.small".into()),
        ..ask(2 * 3600)
    };
    let view = offerset::request(rt, request).unwrap();
    view.offers[0].id
}

#[test]
fn a_ledger_that_does_not_take_the_pull_leaves_everything_as_it_was() {
    let (rt, ledger, _) = paid_market();
    let id = hold(&rt, rt.time.get(), 2);
    for fault in [Fault::Reject, Fault::Trap] {
        ledger.inject("icrc2_transfer_from", fault);
        let before = snapshot();
        let refused = block_on(accept_paying(&rt, accept_arg(id)));
        assert!(
            matches!(refused, Err(MarketError::PaymentFailed { .. })),
            "{refused:?}"
        );
        assert_eq!(snapshot(), before);
        assert_eq!(ledger.balance(&account(alice())), u128::from(ALICE));
    }
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_second_accept_while_the_ledger_answers_is_refused() {
    let rt = market();
    let ledger = NativeLedger::install(&rt, &[alice()], RICH);
    crate::config::apply(crate::config::InitArg {
        ledger: Some(ledger.id),
        ..Default::default()
    })
    .unwrap();
    ledger.approve(rt.time.get(), alice(), FakeRuntime::CANISTER_ID, u64::MAX);
    let item = plain_item(&rt, "n1");
    let now = rt.time.get();
    offer(&rt, item.id, now, now + 24 * HOUR, PRICE);
    let id = hold(&rt, now, 2);
    // The ledger, while it works on the first pull, lets another message in: a second accept
    // of the same execution.
    let inner = Rc::new(std::cell::RefCell::new(None));
    let seen = Rc::clone(&inner);
    let answering = Rc::clone(&ledger);
    rt.set_callee(move |rt, _, method, arg| {
        if method == "icrc2_transfer_from" && seen.borrow().is_none() {
            let second = block_on(accept_paying(rt, accept_arg(id)));
            *seen.borrow_mut() = Some(second);
        }
        answering.answer(rt, method, arg)
    });
    let first = block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_eq!(first.phase, Phase::Accepted);
    assert_eq!(
        inner.borrow_mut().take().unwrap(),
        Err(MarketError::PaymentInProgress { execution_id: id })
    );
    assert_eq!(payment(id).pulls.len(), 1, "one pull, one payment");
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * PRICE - FEE)
    );
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_lease_that_never_ran_or_a_controller_cancelled_is_refunded_in_full() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let later = hold(&rt, t0 + 2 * HOUR, 2);
    block_on(accept_paying(&rt, accept_arg(later))).unwrap();
    cancel(
        &rt,
        CancelArg {
            execution_id: later,
            reason: String::new(),
        },
    )
    .unwrap();
    run_at(&rt, t0 + SECOND_NS);
    let refunded = payment(later);
    assert_eq!(refunded.state, PaymentState::Settled);
    assert_eq!(refunded.transfers.len(), 1);
    assert_eq!(refunded.transfers[0].purpose, Purpose::Refund);
    // Out by the price and its fee, back by the price less the refund's fee.
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * FEE)
    );

    let running = hold(&rt, rt.time.get(), 2);
    block_on(accept_paying(&rt, accept_arg(running))).unwrap();
    run_at(&rt, t0 + 2 * SECOND_NS);
    assert_eq!(store::execution(running).unwrap().phase, Phase::Available);
    calling(&rt, admin(), || {
        cancel(
            &rt,
            CancelArg {
                execution_id: running,
                reason: "hardware fault".into(),
            },
        )
    })
    .unwrap();
    run_at(&rt, t0 + 3 * SECOND_NS);
    assert_eq!(payment(running).state, PaymentState::Settled);
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 4 * FEE)
    );
    assert_eq!(ledger.balance(&provider_account()), 0);
    assert_conserved(&rt, &ledger);
}

#[test]
fn ending_early_pays_the_started_hours_and_refunds_the_rest() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 3);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    run_at(&rt, t0 + 90 * 60 * SECOND_NS);
    end_now(&rt, id).unwrap();
    run_at(&rt, t0 + 91 * 60 * SECOND_NS);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    // 2 started hours of 3 are charged: 1 000 back, 1 900 to the provider, 100 to the market.
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 3 * PRICE - FEE + PRICE - FEE)
    );
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_conserved(&rt, &ledger);
}

#[test]
fn settlement_retries_until_the_ledger_answers_and_never_pays_twice() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    run_at(&rt, t0);
    ledger.inject("icrc1_transfer", Fault::Reject);
    ledger.inject("icrc1_transfer", Fault::Trap);
    run_at(&rt, t0 + 2 * HOUR);
    let waiting = payment(id);
    assert_eq!(waiting.state, PaymentState::Settling);
    assert!(waiting.transfers.iter().all(|t| !t.done));
    assert_conserved(&rt, &ledger);
    // The payout reaches the ledger but its answer is lost to the market (as when the message
    // that awaited it trapped): the ledger has it, the record does not.
    let payout = waiting.transfers[0].clone();
    let arg = TransferArg {
        from_subaccount: waiting.escrow.subaccount,
        to: payout.account,
        fee: Some(payout.fee.into()),
        created_at_time: Some(payout.created_at_time),
        memo: Some(memo(id, payout.purpose, 0)),
        amount: payout.amount.into(),
    };
    let block = ledger
        .transfer(rt.time.get(), rt.canister_id(), arg)
        .unwrap();
    // The follow-ups run: the payout is a duplicate (not paid twice), the fee goes.
    run_at(&rt, t0 + 2 * HOUR + 5 * MINUTE);
    run_at(&rt, t0 + 2 * HOUR + 10 * MINUTE);
    let settled = payment(id);
    assert_eq!(
        settled.state,
        PaymentState::Settled,
        "{settled:?}\n{:?}",
        ledger.calls.borrow()
    );
    assert_eq!(settled.transfers[0].block, Some(block));
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_eq!(ledger.balance(&account(treasury())), 100 - u128::from(FEE));
    assert_conserved(&rt, &ledger);
}

#[test]
fn past_the_ledgers_window_the_escrow_balance_says_what_happened() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    run_at(&rt, t0);
    ledger.inject("icrc1_transfer", Fault::Reject);
    run_at(&rt, t0 + 2 * HOUR);
    let waiting = payment(id);
    let payout = waiting.transfers[0].clone();
    let arg = TransferArg {
        from_subaccount: waiting.escrow.subaccount,
        to: payout.account,
        fee: Some(payout.fee.into()),
        created_at_time: Some(payout.created_at_time),
        memo: Some(memo(id, payout.purpose, 0)),
        amount: payout.amount.into(),
    };
    ledger
        .transfer(rt.time.get(), rt.canister_id(), arg)
        .unwrap();
    // A day and more later the ledger no longer knows the transfer: `TooOld`.
    run_at(&rt, t0 + 27 * HOUR);
    let settled = payment(id);
    assert_eq!(settled.state, PaymentState::Settled, "{settled:?}");
    assert!(settled.transfers[0].done);
    assert_eq!(
        settled.transfers[0].block, None,
        "found by the balance, not by a block"
    );
    assert_eq!(ledger.balance(&provider_account()), 1_900 - u128::from(FEE));
    assert_conserved(&rt, &ledger);
}

#[test]
fn a_pull_whose_message_trapped_is_found_by_the_escrow_balance_and_refunded() {
    let (rt, ledger, _) = paid_market();
    // The hold outlives the wait for the queue's look.
    policy::set(PoliciesUpdate {
        offer_ttl_seconds: Some(3600),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    // What stable memory holds when the accept's message trapped after the ledger took the
    // pull: the pull written down, unanswered; the ledger has it.
    let escrow_account = escrow(rt.canister_id(), id);
    let pulling = Payment {
        ledger: ledger.id,
        escrow: escrow_account,
        state: PaymentState::Pulling,
        pulls: vec![LedgerTransfer {
            purpose: Purpose::Price,
            account: account(alice()),
            amount: 2 * PRICE,
            fee: FEE,
            created_at_time: t0,
            block: None,
            done: false,
        }],
        transfers: vec![],
        waived: false,
        market_fee_basis_points: 500,
        treasury: Some(account(treasury())),
    };
    store::put_payment(id, &pulling);
    let arg = TransferArg {
        from_subaccount: None,
        to: escrow_account,
        fee: None,
        created_at_time: None,
        memo: None,
        amount: (2 * PRICE).into(),
    };
    ledger.transfer(t0, alice(), arg).unwrap();
    queue::schedule(
        &rt,
        t0 + RECONCILE_AFTER_NS,
        Task::Settle { execution_id: id },
    );
    run_at(&rt, t0 + RECONCILE_AFTER_NS);
    let refunded = payment(id);
    assert_eq!(refunded.state, PaymentState::Settled, "{refunded:?}");
    assert_eq!(store::execution(id).unwrap().phase, Phase::Offered);
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - FEE - FEE)
    );
    assert_eq!(ledger.balance(&escrow_account), 0);
    // The consumer may accept again: a new pull.
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    assert_eq!(payment(id).pulls.len(), 2);
    assert_conserved(&rt, &ledger);
}

#[test]
fn an_extension_pulls_its_extra_first() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    block_on(accept_paying(&rt, accept_arg(id))).unwrap();
    let arg = ExtendArg {
        execution_id: id,
        new_end_ns: t0 + 3 * HOUR,
    };
    let extended = block_on(extend_paying(&rt, arg.clone())).unwrap();
    assert_eq!(extended.total_price, 3 * PRICE);
    let paid = payment(id);
    assert_eq!(paid.pulls.len(), 2);
    assert_eq!(paid.pulls[1].purpose, Purpose::Extension);
    assert_eq!(ledger.balance(&paid.escrow), 3 * u128::from(PRICE));
    // No money, no extension.
    let mut poor = ledger.balance(&account(alice()));
    poor -= u128::from(FEE);
    let drain = TransferArg {
        from_subaccount: None,
        to: account(bob()),
        fee: None,
        created_at_time: None,
        memo: None,
        amount: poor.into(),
    };
    ledger.transfer(rt.time.get(), alice(), drain).unwrap();
    let further = ExtendArg {
        execution_id: id,
        new_end_ns: t0 + 4 * HOUR,
    };
    let refused = block_on(extend_paying(&rt, further));
    assert!(
        matches!(refused, Err(MarketError::InsufficientFunds { .. })),
        "{refused:?}"
    );
    assert_eq!(store::execution(id).unwrap().end_ns, t0 + 3 * HOUR);
    assert_conserved(&rt, &ledger);
}

#[test]
fn lease_by_sku_pays_first_and_a_refused_payment_lets_the_hold_go() {
    let (rt, ledger, item) = paid_market();
    let arg = LeaseBySkuArg {
        sku: "2c.small".into(),
        duration_seconds: 3600,
        image: "ubuntu-24.04".into(),
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    };
    let refused = calling(&rt, bob(), || {
        block_on(lease_by_sku_paying(&rt, arg.clone()))
    });
    assert!(
        matches!(refused, Err(MarketError::InsufficientAllowance { .. })),
        "{refused:?}"
    );
    assert_eq!(store::item_bookings(item.id), [], "the hold went");
    let leased = block_on(lease_by_sku_paying(&rt, arg)).unwrap();
    assert_eq!(leased.phase, Phase::Accepted);
    assert_eq!(
        ledger.balance(&payment(leased.id).escrow),
        u128::from(PRICE)
    );
    assert_conserved(&rt, &ledger);
}

#[test]
fn the_market_fee_is_bounded_and_the_currency_shows_in_policies() {
    let (rt, _ledger, _) = paid_market();
    let refused = policy::set(PoliciesUpdate {
        market_fee_basis_points: Some(5_001),
        ..PoliciesUpdate::default()
    });
    assert!(matches!(refused, Err(MarketError::InvalidArgument { .. })));
    run_at(&rt, rt.time.get());
    let currency = block_on(async {
        refresh_currency(&rt).await;
        policy::get().currency.unwrap()
    });
    assert_eq!(currency.symbol.as_deref(), Some("TUSD"));
    assert_eq!(currency.decimals, Some(6));
    assert_eq!(currency.fee, Some(FEE));
}

#[test]
fn a_pull_whose_answer_cannot_be_read_stays_open_until_the_escrow_says_what_happened() {
    let (rt, ledger, _) = paid_market();
    let t0 = rt.time.get();
    let id = hold(&rt, t0, 2);
    ledger.inject("icrc2_transfer_from", Fault::Unreadable);
    let refused = block_on(accept_paying(&rt, accept_arg(id)));
    assert!(
        matches!(refused, Err(MarketError::PaymentFailed { .. })),
        "{refused:?}"
    );
    // The ledger took it; the market does not know yet, and no second accept may pay again.
    assert_eq!(payment(id).state, PaymentState::Pulling);
    assert_eq!(
        block_on(accept_paying(&rt, accept_arg(id))),
        Err(MarketError::PaymentInProgress { execution_id: id })
    );
    run_at(&rt, t0 + RECONCILE_AFTER_NS);
    let refunded = payment(id);
    assert_eq!(refunded.state, PaymentState::Settled, "{refunded:?}");
    assert_eq!(
        ledger.balance(&account(alice())),
        u128::from(ALICE - 2 * FEE)
    );
    assert_conserved(&rt, &ledger);
}

mod deposits;
mod statement;
