//! One test driver for the canister's end-to-end tests: the embedded host by default, PocketIC
//! when the `pocket-ic` feature is on and `POCKET_IC_BIN` names a server binary.

use crate::types::{HttpReply, HttpRequestArgs, Reject};
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
