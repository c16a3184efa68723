//! Payments through both wasms: the marketplace and the test ledger on one ic0 host. What a
//! paid `execution_accept` costs the marketplace (its message and the callbacks of the ledger's
//! allowance, balance and transfer-from answers) beside a free one, and what a lease's
//! settlement costs (the timer run that plans it and the callbacks of the fee and transfers),
//! and what an offerset's hold deposits add.
//! Each figure is every execution of the marketplace canister around the work
//! (`Host::instructions_executed`), so no await hides a part of it.

use crate::market::{delegate, provider, IMAGE, SECRET};
use crate::report::{human, Report};
use candid::{CandidType, Deserialize, Nat, Principal};
use ic0_host::Host;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use marketplace::api::*;
use marketplace::market::delegation;
use marketplace::time::{HOUR_NS, SECOND_NS};

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);
const LEDGER_WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/test-ledger.wasm"
);
/// Issue 17: what one consumer request may cost (the matching target).
const TARGET: f64 = 50e6;

fn consumer() -> Principal {
    Principal::self_authenticating(b"payments bench consumer")
}

fn account(owner: Principal) -> Account {
    Account {
        owner,
        subaccount: None,
    }
}

fn update<A: CandidType, R: for<'a> Deserialize<'a> + CandidType>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    arg: A,
) -> R {
    let bytes = host
        .update(caller, method, &candid::encode_one(arg).unwrap())
        .unwrap_or_else(|e| panic!("{method}: {e:?}"));
    candid::decode_one(&bytes).unwrap()
}

/// The host with the ledger (the consumer rich) and the marketplace paid through it, two
/// items offered for a day: one at a price, one free.
fn setup() -> (Host, Principal, [u64; 2]) {
    let ledger_wasm = std::fs::read(LEDGER_WASM)
        .unwrap_or_else(|e| panic!("{LEDGER_WASM}: {e}; run scripts/build.sh first"));
    let wasm = std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}"));
    let mut host = Host::new();
    let init = test_ledger::types::InitArg {
        token_name: "Bench USD".into(),
        token_symbol: "BUSD".into(),
        decimals: Some(6),
        transfer_fee: Nat::from(10_000u64),
        minting_account: account(Principal::self_authenticating(b"payments bench minter")),
        initial_balances: vec![(account(consumer()), Nat::from(1_000_000_000_000u64))],
        transaction_window_nanos: None,
        permitted_drift_nanos: None,
    };
    let ledger = host
        .install_canister(&ledger_wasm, &candid::encode_one(init).unwrap(), &[])
        .expect("the ledger installs");
    let arg = InitArg {
        ledger: Some(ledger),
        ..InitArg::default()
    };
    host.install(&wasm, &candid::encode_one(Some(arg)).unwrap())
        .expect("the marketplace installs");
    host.tick();
    let market = host.canister_id();
    let approve = ApproveArgs {
        from_subaccount: None,
        spender: account(market),
        amount: Nat::from(u64::MAX),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let bytes = host
        .update_on(
            ledger,
            consumer(),
            "icrc2_approve",
            &candid::encode_one(approve).unwrap(),
        )
        .expect("icrc2_approve");
    let approved: Result<Nat, ApproveError> = candid::decode_one(&bytes).unwrap();
    approved.expect("approved");

    let arg = delegation::signed(&SECRET, &market, delegate(), true, 1);
    let delegated: Result<Delegation, MarketError> =
        update(&mut host, delegate(), "market_delegate", arg);
    delegated.expect("market_delegate");
    let items: Vec<ItemInput> = (0..2)
        .map(|i| ItemInput {
            resource_type: "pez_item".into(),
            resource_uuid: format!("payments-bench-{i}"),
            sku: "2C.small".into(),
            attributes: Attributes {
                cores: 8,
                memory_mb: 32_768,
                ..Attributes::default()
            },
            offering_key: None,
        })
        .collect();
    let registered: Result<Vec<Item>, MarketError> = update(
        &mut host,
        delegate(),
        "inventory_register",
        InventoryRegisterArg {
            provider: provider(),
            items,
        },
    );
    let registered = registered.expect("inventory_register");
    let now = host.time();
    let mut ids = [0; 2];
    for (i, (item, price)) in registered.iter().zip([1_000_000u64, 0]).enumerate() {
        let offer: Result<Offer, MarketError> = update(
            &mut host,
            delegate(),
            "offer_create",
            OfferCreateArg {
                provider: provider(),
                item_id: item.id,
                start_ns: now,
                end_ns: now + 24 * HOUR_NS,
                price_per_hour: price,
                properties: vec![],
                terms: None,
            },
        );
        offer.expect("offer_create");
        ids[i] = item.id;
    }
    (host, ledger, ids)
}

/// Holds `item` for `hours` from now and accepts it: the marketplace's instructions for the
/// accept, all its executions.
fn accept(host: &mut Host, item: u64, hours: u64) -> (Execution, u64) {
    let request = ResourceRequest {
        duration_seconds: hours * 3600,
        image: IMAGE.into(),
        offers: Some(2),
        ..ResourceRequest::default()
    };
    let view: Result<OffersetView, MarketError> =
        update(host, consumer(), "offerset_request", request);
    let view = view.expect("offerset_request");
    let held = view
        .offers
        .iter()
        .find(|e| e.item_id == item)
        .expect("held");
    let market = host.canister_id();
    let before = host.instructions_executed(market);
    let arg = AcceptArg {
        execution_id: held.id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    };
    let accepted: Result<Execution, MarketError> =
        update(host, consumer(), "execution_accept", arg);
    let spent = host.instructions_executed(market) - before;
    (accepted.expect("execution_accept"), spent)
}

pub fn run(report: &mut Report) {
    let (mut host, _ledger, [paid, free]) = setup();
    let (lease, pulled) = accept(&mut host, paid, 2);
    report.at_most(
        "wasm instr., execution_accept paying (4 messages)",
        pulled as f64,
        TARGET,
        "",
    );
    // An hour, so it ends before the paid one.
    let (_, free_accept) = accept(&mut host, free, 1);
    report.at_most(
        "wasm instr., execution_accept of a free offer",
        free_accept as f64,
        TARGET,
        "",
    );

    // The leases run; the free one ends (its timer run is the baseline). Then the paid one's
    // end: the timer run that ends it queues the settlement, which plans (asking the fee) and
    // pays the provider (and the market).
    let market = host.canister_id();
    host.advance_time(std::time::Duration::from_nanos(SECOND_NS));
    host.tick();
    host.advance_time(std::time::Duration::from_nanos(HOUR_NS));
    let before = host.instructions_executed(market);
    host.tick();
    let free_end = host.instructions_executed(market) - before;
    host.advance_time(std::time::Duration::from_nanos(HOUR_NS));
    let before = host.instructions_executed(market);
    host.tick();
    let spent = host.instructions_executed(market) - before;
    let settled: Result<Option<Payment>, MarketError> = {
        let bytes = host
            .query(
                consumer(),
                "execution_payment",
                &candid::encode_one(lease.id).unwrap(),
            )
            .expect("execution_payment");
        candid::decode_one(&bytes).unwrap()
    };
    let payment = settled.expect("execution_payment").expect("a payment");
    assert_eq!(payment.state, PaymentState::Settled, "{payment:?}");
    report.info(
        "wasm instr., a free lease's end (its timer run)",
        human(free_end as f64),
    );
    report.info(
        format!(
            "wasm instr., a paid lease's end with its settlement ({} transfers)",
            payment.transfers.len()
        ),
        human(spent as f64),
    );
    report.at_most(
        "wasm instr., a settlement (the paid end less the free one)",
        spent.saturating_sub(free_end) as f64,
        TARGET,
        "",
    );
    deposits(&mut host, report);
    statement(&mut host, report);
}

/// The consumer's statement (`payments_list`): every paid execution of this bench, one page.
fn statement(host: &mut Host, report: &mut Report) {
    let market = host.canister_id();
    let arg = PaymentsListArg {
        role: Role::Consumer,
        provider: None,
        after: None,
        limit: None,
    };
    let before = host.instructions_executed(market);
    let bytes = host
        .query(
            consumer(),
            "payments_list",
            &candid::encode_one(arg).unwrap(),
        )
        .expect("payments_list");
    let spent = host.instructions_executed(market) - before;
    let page: Result<PaymentPage, MarketError> = candid::decode_one(&bytes).unwrap();
    let payments = page.expect("payments_list").payments.len();
    report.info(
        format!("wasm instr., payments_list page [{payments} payments]"),
        human(spent as f64),
    );
}

/// An offerset holding both items, free, then with a deposit per hold (its message and the
/// callbacks of the allowance, balance and both deposits' transfer-from answers).
fn deposits(host: &mut Host, report: &mut Report) {
    let market = host.canister_id();
    let request = || ResourceRequest {
        duration_seconds: 3600,
        image: IMAGE.into(),
        offers: Some(2),
        ..ResourceRequest::default()
    };
    let offerset = |host: &mut Host| {
        let before = host.instructions_executed(market);
        let view: Result<OffersetView, MarketError> =
            update(host, consumer(), "offerset_request", request());
        let spent = host.instructions_executed(market) - before;
        assert_eq!(view.expect("offerset_request").offers.len(), 2);
        // Past the holds' expiry, so the items are free for the next request.
        host.advance_time(std::time::Duration::from_nanos(HOUR_NS));
        host.tick();
        spent
    };
    let free = offerset(host);
    let update_policies = PoliciesUpdate {
        hold_deposit: Some(100_000),
        ..PoliciesUpdate::default()
    };
    let set: Result<Policies, MarketError> = update(
        host,
        Host::default_controller(),
        "policies_set",
        update_policies,
    );
    set.expect("policies_set");
    let paid = offerset(host);
    report.info(
        "wasm instr., offerset_request holding 2 offers, no deposit",
        human(free as f64),
    );
    report.at_most(
        "wasm instr., offerset_request holding 2 offers with deposits (5 messages)",
        paid as f64,
        TARGET,
        "",
    );
}
