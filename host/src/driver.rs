//! One test driver for the canister's end-to-end tests: the embedded host by default, PocketIC
//! when the `pocket-ic` feature is on and `POCKET_IC_BIN` names a server binary.

use crate::types::{HttpReply, HttpRequestArgs, Reject, RejectCode};
use crate::Host;
use candid::Principal;
use std::time::Duration;

/// What an end-to-end test needs from an IC: install, call, move time, run due work, answer outcalls.
pub trait Driver {
    fn canister_id(&self) -> Principal;
    /// A controller of the canister (the installer).
    fn controller(&self) -> Principal;
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject>;
    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject>;
    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject>;
    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject>;
    /// Nanoseconds since the Unix epoch.
    fn time(&self) -> u64;
    fn advance_time(&mut self, by: Duration);
    /// Runs due timers, queued calls and answered outcalls until nothing more is ready.
    fn tick(&mut self);
    fn set_http_responder(&mut self, responder: Box<dyn FnMut(&HttpRequestArgs) -> HttpReply>);
    /// Whether ingress updates pass through `canister_inspect_message` (on by default, as on
    /// the IC). Off, updates reach the method as a canister's call would.
    fn set_inspect_ingress(&mut self, on: bool);

    // Further canisters beside the first one, e.g. a ledger it calls. Drivers without them
    // answer these with a SYS_FATAL reject.

    /// Creates another canister (controlled by [`Driver::controller`]) and installs `wasm`.
    fn install_canister(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal, Reject> {
        let _ = (wasm, arg);
        Err(unsupported("install_canister"))
    }
    fn upgrade_canister(
        &mut self,
        canister: Principal,
        wasm: &[u8],
        arg: Vec<u8>,
    ) -> Result<(), Reject> {
        let _ = (canister, wasm, arg);
        Err(unsupported("upgrade_canister"))
    }
    fn update_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        let _ = (canister, caller, method, arg);
        Err(unsupported("update_on"))
    }
    fn query_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        let _ = (canister, caller, method, arg);
        Err(unsupported("query_on"))
    }
}

fn unsupported(what: &str) -> Reject {
    Reject::new(
        RejectCode::SysFatal,
        format!("this driver does not support {what} (several canisters)"),
    )
}

impl Driver for Host {
    fn canister_id(&self) -> Principal {
        Host::canister_id(self)
    }
    fn controller(&self) -> Principal {
        self.controllers()
            .first()
            .copied()
            .unwrap_or_else(Host::default_controller)
    }
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        Host::install(self, wasm, &arg)
    }
    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        Host::upgrade(self, wasm, &arg)
    }
    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        Host::update(self, caller, method, &arg)
    }
    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        Host::query(self, caller, method, &arg)
    }
    fn time(&self) -> u64 {
        Host::time(self)
    }
    fn advance_time(&mut self, by: Duration) {
        Host::advance_time(self, by)
    }
    fn tick(&mut self) {
        Host::tick(self);
    }
    fn set_http_responder(&mut self, responder: Box<dyn FnMut(&HttpRequestArgs) -> HttpReply>) {
        Host::set_http_responder(self, responder)
    }
    fn set_inspect_ingress(&mut self, on: bool) {
        Host::set_inspect_ingress(self, on)
    }
    fn install_canister(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal, Reject> {
        let controller = Driver::controller(self);
        Host::install_canister(self, wasm, &arg, &[controller])
    }
    fn upgrade_canister(
        &mut self,
        canister: Principal,
        wasm: &[u8],
        arg: Vec<u8>,
    ) -> Result<(), Reject> {
        Host::upgrade_canister(self, canister, wasm, &arg)
    }
    fn update_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        Host::update_on(self, canister, caller, method, &arg)
    }
    fn query_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        Host::query_on(self, canister, caller, method, &arg)
    }
}

/// The driver the environment asks for: PocketIC when built with `pocket-ic` and
/// `POCKET_IC_BIN` is set, the embedded host otherwise.
pub fn from_env() -> Box<dyn Driver> {
    #[cfg(feature = "pocket-ic")]
    if std::env::var_os("POCKET_IC_BIN").is_some() {
        return Box::new(crate::pocket::PocketDriver::new());
    }
    Box::new(Host::new())
}
