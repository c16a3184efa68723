//! The one seam between the canister's logic and the IC system API.
//!
//! Domain code takes a `&impl Runtime` (or plain values read from one) and never calls `ic_cdk`
//! itself, so it runs natively in tests against [`FakeRuntime`]; [`IcRuntime`] is the real thing.

// Native builds (tests, benchmarks) get the scripted runtime; the wasm never carries it.
#[cfg(not(target_arch = "wasm32"))]
mod fake;
mod ic;

#[cfg(not(target_arch = "wasm32"))]
pub use fake::{block_on, FakeRuntime};
pub use ic::IcRuntime;

use candid::Principal;
use ic_cdk_management_canister::{HttpRequestArgs, HttpRequestResult};
use std::future::Future;
use std::pin::Pin;

/// Work that [`Runtime::spawn`] runs in its own future, borrowing the runtime.
pub type LocalFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// What the canister's timers run. The runtime knows nothing of it: the canister registers
/// its entry points at install and upgrade ([`IcRuntime::register`]).
pub struct EntryPoints<R> {
    /// The one-shot timer's run.
    pub on_timer: fn(&R),
    /// The watchdog's run.
    pub on_watchdog: fn(&R),
}

// By hand: derived ones would ask `R: Copy`, and fn pointers are `Copy` whatever `R` is.
impl<R> Clone for EntryPoints<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for EntryPoints<R> {}

// Canisters are single-threaded: no caller needs the future to be `Send`.
#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// IC time in nanoseconds since the Unix epoch; constant within one message.
    fn time(&self) -> u64;

    /// Who sent the current message; the canister itself in a timer run.
    fn caller(&self) -> Principal;

    /// This canister's own principal.
    fn canister_id(&self) -> Principal;

    fn is_controller(&self, principal: &Principal) -> bool;

    /// Whether this message runs replicated (an update, a timer), so its changes count; false
    /// in a query.
    fn replicated(&self) -> bool;

    /// Cycles the canister can spend now: its balance less what is frozen or reserved.
    fn liquid_cycles(&self) -> u128;

    /// Instructions this message has executed so far, to bound the work done per message.
    fn instructions(&self) -> u64;

    /// Sets the 32 bytes the subnet certifies for this canister (`ic0.certified_data_set`):
    /// only in an update, a timer, install or upgrade, never in a query.
    fn set_certified_data(&self, data: &[u8; 32]);

    /// The subnet's certificate of the certified data (`ic0.data_certificate_copy`): present
    /// only in a query called as one (non-replicated), `None` everywhere else.
    fn data_certificate(&self) -> Option<Vec<u8>>;

    /// Arms the canister's one timer at `at_ns` (a time in the past fires at once), replacing
    /// any armed before; `None` disarms it. When it fires it runs the registered
    /// [`EntryPoints::on_timer`].
    fn arm_timer(&self, at_ns: Option<u64>);

    /// Arms the watchdog: [`EntryPoints::on_watchdog`] every `interval_ns`, whatever happened
    /// to the one-shot timer (a trapping run loses it), replacing any watchdog armed before.
    fn arm_watchdog(&self, interval_ns: u64);

    /// Runs `work` in its own future, so the message that spawns it does not wait for it (a
    /// timer run starting tasks that await outcalls).
    fn spawn<F>(&self, work: F)
    where
        F: for<'a> FnOnce(&'a Self) -> LocalFuture<'a> + 'static;

    /// The cycles [`Runtime::http_request`] attaches to `request`: its price with the response
    /// at `max_response_bytes` (the surplus comes back as a refund once it is answered).
    fn outcall_cost(&self, request: &HttpRequestArgs) -> u128;

    /// Makes an HTTPS outcall, paying its cycles from the canister's balance.
    async fn http_request(
        &self,
        request: HttpRequestArgs,
    ) -> Result<HttpRequestResult, OutcallError>;

    /// Calls `method` of canister `callee` with the Candid bytes `arg` and returns the reply's
    /// bytes. The call waits as long as the callee takes (an unbounded-wait call), so its
    /// outcome is always known: only for a trusted callee (the market's ledger).
    async fn call(
        &self,
        callee: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, OutcallError>;
}

/// Why an outcall produced no HTTP response, or a call no reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcallError {
    /// The IC reject code: 1 SYS_FATAL, 2 SYS_TRANSIENT, 3 DESTINATION_INVALID,
    /// 4 CANISTER_REJECT, 5 CANISTER_ERROR, 6 SYS_UNKNOWN.
    pub code: u32,
    pub message: String,
}

/// The bytes `cost_http_request_v2` prices as the request: URL, header names and values, body,
/// transform method and context.
pub fn request_bytes(request: &HttpRequestArgs) -> u64 {
    let headers: usize = request
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    let transform = request
        .transform
        .as_ref()
        .map_or(0, |t| t.function.0.method.len() + t.context.len());
    let bytes = request.url.len() + headers + request.body.as_ref().map_or(0, Vec::len) + transform;
    bytes as u64
}
