//! The marketplace paid through the test ledger: both wasms on one ic0 host.

use super::market::{Market, SharedHost};
use super::*;
use candid::Nat;
use ic0_host::Host;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use marketplace::market::payments;
use std::cell::RefCell;
use std::rc::Rc;

pub const LEDGER_WASM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/wasm/test-ledger.wasm");
pub const FEE: u64 = 10_000;
pub const RICH: u64 = 1_000_000_000;

pub fn account(owner: Principal) -> Account {
    Account {
        owner,
        subaccount: None,
    }
}

pub fn treasury() -> Principal {
    Principal::self_authenticating(b"the market's treasury")
}

pub struct PaidMarket {
    pub market: Market,
    pub host: Rc<RefCell<Host>>,
    pub ledger: Principal,
}

impl PaidMarket {
    /// The ledger (fee 10 000; `rich` hold [`RICH`] each), then the market paid through it with
    /// a 5% fee to [`treasury`]; the currency is asked on the first timer run.
    pub fn new(rich: &[Principal]) -> Self {
        let ledger_wasm = std::fs::read(LEDGER_WASM)
            .unwrap_or_else(|e| panic!("{LEDGER_WASM}: {e}; run scripts/build.sh first"));
        let mut host = Host::new();
        let init = test_ledger::types::InitArg {
            token_name: "Test USD".into(),
            token_symbol: "TUSD".into(),
            decimals: Some(6),
            transfer_fee: FEE.into(),
            minting_account: account(Principal::self_authenticating(b"the minter")),
            initial_balances: rich
                .iter()
                .map(|p| (account(*p), Nat::from(RICH)))
                .collect(),
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
        host.install(&wasm(), &candid::encode_one(Some(arg)).unwrap())
            .expect("the market installs");
        let host = Rc::new(RefCell::new(host));
        let driver: Box<dyn ic0_host::driver::Driver> = Box::new(SharedHost(host.clone()));
        let mut market = Market::on(Canister { driver });
        let controller = market.controller();
        market
            .canister
            .policies_set(
                controller,
                PoliciesUpdate {
                    market_fee_basis_points: Some(500),
                    treasury: Some(account(treasury())),
                    ..PoliciesUpdate::default()
                },
            )
            .expect("policies");
        Self {
            market,
            host,
            ledger,
        }
    }

    fn ledger_call<A: CandidType, R: for<'a> Deserialize<'a> + CandidType>(
        &self,
        caller: Principal,
        method: &str,
        arg: &A,
    ) -> R {
        let bytes = candid::encode_one(arg).unwrap();
        let reply = self
            .host
            .borrow_mut()
            .update_on(self.ledger, caller, method, &bytes)
            .unwrap_or_else(|e| panic!("{method}: {e:?}"));
        candid::decode_one(&reply).unwrap()
    }

    /// `owner` approves the market for `amount`.
    pub fn approve(&self, owner: Principal, amount: u64) {
        let arg = ApproveArgs {
            from_subaccount: None,
            spender: account(self.market.canister.driver.canister_id()),
            amount: amount.into(),
            expected_allowance: None,
            expires_at: None,
            fee: None,
            memo: None,
            created_at_time: None,
        };
        let approved: Result<Nat, ApproveError> = self.ledger_call(owner, "icrc2_approve", &arg);
        approved.expect("approved");
    }

    pub fn transfer(&self, from: Principal, to: Principal, amount: u64) {
        let arg = TransferArg {
            from_subaccount: None,
            to: account(to),
            fee: None,
            created_at_time: None,
            memo: None,
            amount: amount.into(),
        };
        let sent: Result<Nat, TransferError> = self.ledger_call(from, "icrc1_transfer", &arg);
        sent.expect("transferred");
    }

    pub fn balance(&self, account: &Account) -> u64 {
        let bytes = candid::encode_one(account).unwrap();
        let reply = self
            .host
            .borrow_mut()
            .query_on(self.ledger, user(), "icrc1_balance_of", &bytes)
            .expect("icrc1_balance_of");
        let balance: Nat = candid::decode_one(&reply).unwrap();
        u64::try_from(&balance.0).unwrap()
    }

    pub fn of(&self, owner: Principal) -> u64 {
        self.balance(&account(owner))
    }

    /// The provider's payouts go to the principal its key signs in as.
    pub fn provider_principal(&self) -> Principal {
        let pem = self.market.provider.pem();
        marketplace::catalog::provider::ProviderKey::from_pem(&pem)
            .unwrap()
            .principal()
    }

    /// The payment of execution `id` (`execution_payment`), as a controller reads it.
    pub fn payment_of(&mut self, id: u64) -> Option<Payment> {
        let controller = self.market.controller();
        self.market
            .canister
            .market_query(controller, "execution_payment", id)
            .expect("execution_payment")
    }

    pub fn payment(&mut self, id: u64) -> Payment {
        self.payment_of(id).expect("a payment")
    }

    /// Conservation, checked against the ledger: every escrow of executions `ids` holds what
    /// its record says (the ledger's balance of it), and its record is coherent.
    pub fn assert_conserved(&mut self, ids: &[u64]) {
        for &id in ids {
            let Some(payment) = self.payment_of(id) else {
                continue;
            };
            let balance = self.balance(&payment.escrow);
            assert!(
                payments::conserved(&payment, u128::from(balance)),
                "execution {id}: escrow holds {balance}, its record {payment:?}"
            );
            payments::check_record(id, &payment).unwrap();
        }
    }
}
