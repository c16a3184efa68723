//! Shared helpers for the ledger's end-to-end tests: the built wasm on the ic0 host, typed
//! calls with Candid in and Candid out.
#![allow(dead_code)] // each test binary uses its own part of this module

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Nat, Principal};
use ic0_host::{Host, Reject};
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
pub use test_ledger::types::*;

pub const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/test-ledger.wasm"
);
pub const DID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ledger.did");

pub const FEE: u64 = 10_000;
pub const MINUTE: u64 = 60_000_000_000;
pub const HOUR: u64 = 60 * MINUTE;

pub fn wasm() -> Vec<u8> {
    std::fs::read(WASM)
        .unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh --ledger-only first"))
}

pub fn principal(name: &str) -> Principal {
    Principal::self_authenticating(name.as_bytes())
}

pub fn acc(name: &str) -> Account {
    Account {
        owner: principal(name),
        subaccount: None,
    }
}

pub fn minter() -> Account {
    acc("minter")
}

/// The argument of [`Ledger::install`]: alice holds 1 000 000, bob 50 000, fee 10 000.
pub fn init_arg() -> InitArg {
    InitArg {
        token_name: "Test Token".into(),
        token_symbol: "TST".into(),
        decimals: Some(8),
        transfer_fee: FEE.into(),
        minting_account: minter(),
        initial_balances: vec![
            (acc("alice"), 1_000_000u64.into()),
            (acc("bob"), 50_000u64.into()),
        ],
        transaction_window_nanos: None,
        permitted_drift_nanos: None,
    }
}

pub fn transfer_arg(to: Account, amount: u64) -> TransferArg {
    TransferArg {
        from_subaccount: None,
        to,
        fee: None,
        created_at_time: None,
        memo: None,
        amount: amount.into(),
    }
}

pub fn approve_arg(spender: Account, amount: u64) -> ApproveArgs {
    ApproveArgs {
        from_subaccount: None,
        spender,
        amount: amount.into(),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    }
}

pub fn transfer_from_arg(from: Account, to: Account, amount: u64) -> TransferFromArgs {
    TransferFromArgs {
        spender_subaccount: None,
        from,
        to,
        amount: amount.into(),
        fee: None,
        memo: None,
        created_at_time: None,
    }
}

pub fn n(value: u64) -> Nat {
    Nat::from(value)
}

/// The test ledger installed on an ic0 host.
pub struct Ledger {
    pub host: Host,
}

impl Ledger {
    pub fn install() -> Self {
        Self::install_with(init_arg())
    }

    pub fn install_with(arg: InitArg) -> Self {
        let mut host = Host::new();
        host.install(&wasm(), &candid::encode_one(arg).unwrap())
            .expect("install");
        Self { host }
    }

    pub fn controller(&self) -> Principal {
        self.host.controllers()[0]
    }

    pub fn now(&self) -> u64 {
        self.host.time()
    }

    pub fn advance(&mut self, nanos: u64) {
        self.host
            .advance_time(std::time::Duration::from_nanos(nanos));
    }

    pub fn upgrade(&mut self) {
        self.host
            .upgrade(&wasm(), &candid::encode_args(()).unwrap())
            .expect("upgrade");
    }

    pub fn query<A: ArgumentEncoder, R: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        method: &str,
        args: A,
    ) -> R {
        let bytes = self
            .host
            .query(
                principal("anyone"),
                method,
                &candid::encode_args(args).unwrap(),
            )
            .unwrap_or_else(|r| panic!("{method} was rejected: {r:?}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn update<A: ArgumentEncoder, R: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        args: A,
    ) -> R {
        let bytes = self
            .update_raw(caller, method, candid::encode_args(args).unwrap())
            .unwrap_or_else(|r| panic!("{method} was rejected: {r:?}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn update_raw(
        &mut self,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        self.host.update(caller, method, &arg)
    }

    pub fn balance(&mut self, account: Account) -> Nat {
        self.query("icrc1_balance_of", (account,))
    }

    pub fn supply(&mut self) -> Nat {
        self.query("icrc1_total_supply", ())
    }

    pub fn transfer(&mut self, from: &str, arg: TransferArg) -> Result<Nat, TransferError> {
        self.update(principal(from), "icrc1_transfer", (arg,))
    }

    pub fn approve(&mut self, from: &str, arg: ApproveArgs) -> Result<Nat, ApproveError> {
        self.update(principal(from), "icrc2_approve", (arg,))
    }

    pub fn transfer_from(
        &mut self,
        spender: &str,
        arg: TransferFromArgs,
    ) -> Result<Nat, TransferFromError> {
        self.update(principal(spender), "icrc2_transfer_from", (arg,))
    }

    pub fn allowance(&mut self, account: Account, spender: Account) -> Allowance {
        self.query("icrc2_allowance", (AllowanceArgs { account, spender },))
    }

    pub fn blocks(&mut self, start: u64, length: u64) -> BlockPage {
        let page: Result<BlockPage, GetBlocksError> =
            self.query("get_blocks", (GetBlocksArg { start, length },));
        page.expect("get_blocks")
    }

    pub fn block(&mut self, index: u64) -> Block {
        self.blocks(index, 1)
            .blocks
            .pop()
            .expect("the block exists")
    }

    pub fn set_maintenance(&mut self, caller: Principal, on: bool) -> Result<(), AdminError> {
        self.update(caller, "set_maintenance", (on,))
    }

    /// The balances of `names` add up, with the fees burnt, to the total supply.
    pub fn assert_supply_is(&mut self, names: &[&str]) {
        let sum = names
            .iter()
            .map(|name| self.balance(acc(name)))
            .fold(n(0), |a, b| a + b);
        assert_eq!(
            sum,
            self.supply(),
            "balances of {names:?} add up to the supply"
        );
    }
}
