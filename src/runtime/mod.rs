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

    /// Arms the manager's one timer at `at_ns` (a time in the past fires at once), replacing
    /// any armed before; `None` disarms it.
    fn arm_manager_timer(&self, at_ns: Option<u64>);

    /// Arms the manager's watchdog: `manager::on_timer` every `interval_ns`, whatever happened
    /// to the one-shot timer (a trapping run loses it), replacing any watchdog armed before.
    fn arm_watchdog(&self, interval_ns: u64);

    /// Runs an asynchronous task (one that awaits outcalls) in its own future, so a timer run
    /// does not wait for it; see `manager::run_async`.
    fn spawn(&self, task: crate::manager::Task);

    /// The cycles [`Runtime::http_request`] attaches to `request`: its price with the response
    /// at `max_response_bytes` (the surplus comes back as a refund once it is answered).
    fn outcall_cost(&self, request: &HttpRequestArgs) -> u128;

    /// Makes an HTTPS outcall, paying its cycles from the canister's balance.
    async fn http_request(
        &self,
        request: HttpRequestArgs,
    ) -> Result<HttpRequestResult, OutcallError>;
}

/// Why an outcall produced no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcallError {
    /// The IC reject code: 1 SYS_FATAL, 2 SYS_TRANSIENT, 3 DESTINATION_INVALID,
    /// 4 CANISTER_REJECT, 5 CANISTER_ERROR, 6 SYS_UNKNOWN.
    pub code: u32,
    pub message: String,
}
