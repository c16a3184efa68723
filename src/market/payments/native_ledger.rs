//! The test ledger's own logic (the `test-ledger` crate, the code its wasm runs) answering a
//! [`FakeRuntime`]'s calls natively, with faults to inject: payments' unit and model tests.

use crate::runtime::{FakeRuntime, OutcallError};
use candid::{Nat, Principal};
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::TransferArg;
use icrc_ledger_types::icrc2::allowance::AllowanceArgs;
use icrc_ledger_types::icrc2::approve::ApproveArgs;
use icrc_ledger_types::icrc2::transfer_from::TransferFromArgs;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use test_ledger::errors::Failure;
use test_ledger::state::Ledger;
use test_ledger::{lifecycle, ops, queries};

pub const FEE: u64 = 10;

/// What the next call to a method meets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call never reaches the ledger (its reject).
    Reject,
    /// The ledger runs it and traps: nothing changes, the caller gets `CANISTER_ERROR`.
    Trap,
    /// The ledger runs it, but its reply does not decode.
    Unreadable,
}

pub struct NativeLedger {
    pub id: Principal,
    state: RefCell<Ledger>,
    faults: RefCell<VecDeque<(String, Fault)>>,
    /// Every call made to it: `(method, its answer was Ok)`.
    pub calls: RefCell<Vec<String>>,
}

impl NativeLedger {
    /// A ledger with fee [`FEE`], `rich` holding `balance` each, answering `rt`'s calls.
    pub fn install(rt: &FakeRuntime, rich: &[Principal], balance: u64) -> Rc<Self> {
        let id = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 1, 1]);
        let mut state = Ledger::open(ic_stable_structures::DefaultMemoryImpl::default());
        let arg = test_ledger::types::InitArg {
            token_name: "Test USD".into(),
            token_symbol: "TUSD".into(),
            decimals: Some(6),
            transfer_fee: Nat::from(FEE),
            minting_account: account(Principal::from_slice(&[9; 10])),
            initial_balances: rich
                .iter()
                .map(|p| (account(*p), Nat::from(balance)))
                .collect(),
            transaction_window_nanos: None,
            permitted_drift_nanos: None,
        };
        lifecycle::init(&mut state, rt.time.get(), arg).expect("the test ledger installs");
        let ledger = Rc::new(Self {
            id,
            state: RefCell::new(state),
            faults: RefCell::default(),
            calls: RefCell::default(),
        });
        let answering = Rc::clone(&ledger);
        rt.set_callee(move |rt, callee, method, arg| {
            assert_eq!(callee, answering.id, "a call to another canister");
            answering.answer(rt, method, arg)
        });
        ledger
    }

    /// Faults not met yet are dropped.
    pub fn clear_faults(&self) {
        self.faults.borrow_mut().clear();
    }

    /// The next call to `method` meets `fault`.
    pub fn inject(&self, method: &str, fault: Fault) {
        self.faults.borrow_mut().push_back((method.into(), fault));
    }

    pub fn balance(&self, account: &Account) -> u128 {
        let balance = queries::balance_of(&self.state.borrow(), account);
        ops::tokens(&balance).expect("a balance fits 128 bits")
    }

    /// `owner` approves `spender` for `amount` (at `now`).
    pub fn approve(&self, now: u64, owner: Principal, spender: Principal, amount: u64) {
        let arg = ApproveArgs {
            from_subaccount: None,
            spender: account(spender),
            amount: Nat::from(amount),
            expected_allowance: None,
            expires_at: None,
            fee: None,
            memo: None,
            created_at_time: None,
        };
        let approved = ops::approve(&mut self.state.borrow_mut(), now, owner, arg);
        assert!(approved.is_ok(), "the approval goes through");
    }

    /// Moves `amount` as `caller` would with `icrc1_transfer` (a test's own transfers).
    pub fn transfer(&self, now: u64, caller: Principal, arg: TransferArg) -> Result<u64, String> {
        ops::transfer(&mut self.state.borrow_mut(), now, caller, arg).map_err(describe)
    }

    /// Answers `method` as the ledger canister would.
    pub fn answer(
        &self,
        rt: &FakeRuntime,
        method: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, OutcallError> {
        self.calls.borrow_mut().push(method.into());
        let fault = {
            let mut faults = self.faults.borrow_mut();
            let at = faults.iter().position(|(m, _)| m == method);
            at.and_then(|at| faults.remove(at)).map(|(_, fault)| fault)
        };
        match fault {
            Some(Fault::Reject) => return Err(reject(2, "injected: the call did not arrive")),
            // The ledger's logic would run and be rolled back: nothing changes.
            Some(Fault::Trap) => return Err(reject(5, "injected: the ledger trapped")),
            Some(Fault::Unreadable) => {
                let _ = self.run(rt, method, arg)?;
                return Ok(b"not Candid".to_vec());
            }
            None => {}
        }
        self.run(rt, method, arg)
    }

    fn run(&self, rt: &FakeRuntime, method: &str, arg: &[u8]) -> Result<Vec<u8>, OutcallError> {
        let now = rt.time.get();
        let caller = crate::runtime::Runtime::canister_id(rt);
        let mut state = self.state.borrow_mut();
        let reply = match method {
            "icrc2_transfer_from" => {
                let arg: TransferFromArgs = decode(arg)?;
                let result = ops::transfer_from(&mut state, now, caller, arg);
                candid::encode_one(settled(result)?)
            }
            "icrc1_transfer" => {
                let arg: TransferArg = decode(arg)?;
                let result = ops::transfer(&mut state, now, caller, arg);
                candid::encode_one(settled(result)?)
            }
            "icrc1_balance_of" => {
                let account: Account = decode(arg)?;
                candid::encode_one(queries::balance_of(&state, &account))
            }
            "icrc2_allowance" => {
                let arg: AllowanceArgs = decode(arg)?;
                candid::encode_one(queries::allowance(&state, now, &arg))
            }
            "icrc1_fee" => candid::encode_one(Nat::from(state.cfg().transfer_fee)),
            "icrc1_metadata" => candid::encode_one(queries::metadata(&state)),
            other => return Err(reject(3, &format!("no method {other}"))),
        };
        Ok(reply.expect("a reply encodes"))
    }
}

pub fn account(owner: Principal) -> Account {
    Account {
        owner,
        subaccount: None,
    }
}

fn decode<T: candid::CandidType + serde::de::DeserializeOwned>(
    arg: &[u8],
) -> Result<T, OutcallError> {
    candid::decode_one(arg).map_err(|e| reject(5, &e.to_string()))
}

/// The ledger's answer as its endpoint gives it: a trap of its logic is a `CANISTER_ERROR`.
fn settled<E>(result: Result<u64, Failure<E>>) -> Result<Result<Nat, E>, OutcallError> {
    match result {
        Ok(block) => Ok(Ok(Nat::from(block))),
        Err(Failure::Err(e)) => Ok(Err(e)),
        Err(Failure::Trap(message)) => Err(reject(5, &message)),
    }
}

fn describe<E: std::fmt::Debug>(failure: Failure<E>) -> String {
    match failure {
        Failure::Err(e) => format!("{e:?}"),
        Failure::Trap(message) => message,
    }
}

fn reject(code: u32, message: &str) -> OutcallError {
    OutcallError {
        code,
        message: message.into(),
    }
}
