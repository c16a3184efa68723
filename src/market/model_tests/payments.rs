//! Payments in the model test: every case runs on a market paid through the test ledger's
//! own logic. Settlement faults are injected at random; after every step each escrow must
//! hold what its record says, and at the end of a case, with the ledger healthy again, every
//! final execution's payment must be settled.

use super::*;
use crate::market::payments;
use crate::market::payments::native_ledger::{Fault, NativeLedger};
use std::rc::Rc;

/// What each consumer holds at the start: more than any case spends.
const RICH: u64 = 1_000_000_000_000;

/// Every hold's deposit: less than most prices the cases draw, more than some.
const HOLD_DEPOSIT: u64 = 150;

fn treasury() -> Principal {
    Principal::from_slice(&[0x77; 10])
}

/// The ledger every case's market is paid through; consumers rich and the market approved,
/// a 5% fee to the treasury, a deposit per hold.
pub(super) fn install(rt: &FakeRuntime) -> Rc<NativeLedger> {
    let ledger = NativeLedger::install(rt, &consumers(), RICH);
    crate::config::apply(crate::config::InitArg {
        ledger: Some(ledger.id),
        ..Default::default()
    })
    .expect("the ledger configures");
    policy::set(PoliciesUpdate {
        market_fee_basis_points: Some(500),
        hold_deposit: Some(HOLD_DEPOSIT),
        treasury: Some(crate::market::payments::native_ledger::account(treasury())),
        ..PoliciesUpdate::default()
    })
    .expect("the fee's policies");
    for consumer in consumers() {
        ledger.approve(rt.time.get(), consumer, FakeRuntime::CANISTER_ID, u64::MAX);
    }
    // As after install: the currency known, so a pull asks the ledger only for the allowance
    // and the balance (the faults here are the settlement's).
    block_on(payments::refresh_currency(rt));
    ledger
}

/// A fault for the ledger's next answer to the settlement (its fee, or a transfer out).
pub(super) fn arm(ledger: &NativeLedger, fee: bool, trap: bool) {
    let method = if fee { "icrc1_fee" } else { "icrc1_transfer" };
    ledger.inject(method, if trap { Fault::Trap } else { Fault::Reject });
}

impl World {
    /// Conservation after a step: each escrow holds what its stored record says (read again:
    /// the snapshot keeps final records from earlier steps between sweeps). Only the queue's
    /// settlements (when time passes) and the calls that pull (`touched` executions) move
    /// money, so other steps check only those.
    pub(super) fn check_escrows(&mut self, snap: &Snap, touched: &BTreeSet<Entity>, all: bool) {
        let ids: Vec<u64> = if all {
            snap.execs.keys().copied().collect()
        } else {
            touched
                .iter()
                .filter_map(|e| match e {
                    Entity::Execution(id) => Some(*id),
                    _ => None,
                })
                .collect()
        };
        for id in &ids {
            let Some(payment) = store::payment(*id) else {
                continue;
            };
            let balance = self.ledger.balance(&payment.escrow);
            self.checks.check(
                "escrow_conserved",
                payments::conserved(&payment, balance),
                || format!("execution {id}: escrow holds {balance}, record {payment:?}"),
            );
        }
    }

    /// The end of a case: an hour passes with the ledger healthy (faults not met yet are
    /// dropped); every final execution's payment is then settled, and no other is on its way.
    pub(super) fn check_settled(&mut self) -> Result<(), String> {
        self.ledger.clear_faults();
        for _ in 0..12 {
            self.advance(300, true)?;
        }
        let mut unsettled = vec![];
        store::for_each_execution(|e| {
            let payment = store::payment(e.id);
            let open = payment.as_ref().is_some_and(|p| {
                p.state != PaymentState::Settled
                    && (e.phase.is_final() || p.state != PaymentState::Funded)
            });
            if open {
                unsettled.push(format!("{} {:?}: {payment:?}", e.id, e.phase));
            }
        });
        self.checks
            .check("final_payments_settle", unsettled.is_empty(), || {
                unsettled.join("\n")
            });
        if self.checks.violations.is_empty() {
            Ok(())
        } else {
            Err(self
                .checks
                .violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}
