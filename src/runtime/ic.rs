//! [`Runtime`] on the Internet Computer.

use super::{EntryPoints, LocalFuture, OutcallError, Runtime};
use crate::counters::{self, Counter};
use candid::Principal;
use ic_cdk::api;
use ic_cdk::call::{Error as CallError, RejectCode};
use ic_cdk_management_canister::{HttpRequest, HttpRequestArgs, HttpRequestResult};
use ic_cdk_timers::TimerId;
use std::cell::Cell;
use std::time::Duration;

pub struct IcRuntime;

thread_local! {
    // Heap only: upgrades switch timers off and `post_upgrade` registers and re-arms.
    static ENTRY_POINTS: Cell<Option<EntryPoints<IcRuntime>>> = const { Cell::new(None) };
    static TIMER: Cell<Option<TimerId>> = const { Cell::new(None) };
    static WATCHDOG_TIMER: Cell<Option<TimerId>> = const { Cell::new(None) };
}

impl IcRuntime {
    /// Sets what the timers run; called by `init` and `post_upgrade` before anything is armed.
    pub fn register(entry_points: EntryPoints<IcRuntime>) {
        ENTRY_POINTS.set(Some(entry_points));
    }

    fn entry_points() -> EntryPoints<IcRuntime> {
        ENTRY_POINTS
            .get()
            .expect("init and post_upgrade register the timers' entry points")
    }
}

impl Runtime for IcRuntime {
    fn time(&self) -> u64 {
        api::time()
    }

    fn caller(&self) -> Principal {
        api::msg_caller()
    }

    fn canister_id(&self) -> Principal {
        api::canister_self()
    }

    fn is_controller(&self, principal: &Principal) -> bool {
        api::is_controller(principal)
    }

    fn replicated(&self) -> bool {
        api::in_replicated_execution()
    }

    fn liquid_cycles(&self) -> u128 {
        api::canister_liquid_cycle_balance()
    }

    fn instructions(&self) -> u64 {
        api::instruction_counter()
    }

    fn set_certified_data(&self, data: &[u8; 32]) {
        api::certified_data_set(data)
    }

    fn data_certificate(&self) -> Option<Vec<u8>> {
        api::data_certificate()
    }

    fn arm_timer(&self, at_ns: Option<u64>) {
        if let Some(armed) = TIMER.take() {
            ic_cdk_timers::clear_timer(armed);
        }
        if let Some(at_ns) = at_ns {
            let delay = Duration::from_nanos(at_ns.saturating_sub(api::time()));
            let id = ic_cdk_timers::set_timer(delay, async {
                (IcRuntime::entry_points().on_timer)(&IcRuntime)
            });
            TIMER.set(Some(id));
        }
    }

    fn arm_watchdog(&self, interval_ns: u64) {
        if let Some(armed) = WATCHDOG_TIMER.take() {
            ic_cdk_timers::clear_timer(armed);
        }
        // ic-cdk-timers reschedules an interval timer when it dispatches a run, before the run
        // executes, so a run that traps cannot lose it (unlike the one-shot timer).
        let id = ic_cdk_timers::set_timer_interval(Duration::from_nanos(interval_ns), || async {
            (IcRuntime::entry_points().on_watchdog)(&IcRuntime)
        });
        WATCHDOG_TIMER.set(Some(id));
    }

    fn spawn<F>(&self, work: F)
    where
        F: for<'a> FnOnce(&'a Self) -> LocalFuture<'a> + 'static,
    {
        ic_cdk::futures::spawn(work(&IcRuntime));
    }

    /// What `HttpRequest::send` attaches: `ic0.cost_http_request_v2` of the request's shape.
    fn outcall_cost(&self, request: &HttpRequestArgs) -> u128 {
        HttpRequest::from_args(request.clone()).get_cost()
    }

    async fn http_request(
        &self,
        request: HttpRequestArgs,
    ) -> Result<HttpRequestResult, OutcallError> {
        let request = HttpRequest::from_args(request);
        let attached = request.get_cost();
        let result = request.send().await;
        // What the outcall cost: the reservation `send` attached, less what came back.
        let spent = attached.saturating_sub(api::msg_cycles_refunded());
        counters::add(
            Counter::OutcallCycles,
            u64::try_from(spent).unwrap_or(u64::MAX),
        );
        result.map_err(OutcallError::from)
    }

    async fn call(
        &self,
        callee: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, OutcallError> {
        let reply = ic_cdk::call::Call::unbounded_wait(callee, method)
            .take_raw_args(arg)
            .await;
        reply
            .map(|response| response.into_bytes())
            .map_err(|error| OutcallError::from(CallError::from(error)))
    }
}

impl From<CallError> for OutcallError {
    fn from(error: CallError) -> Self {
        let code = match &error {
            CallError::CallRejected(rejected) => rejected.raw_reject_code(),
            // Not sent (too few liquid cycles, or the system refused to enqueue it): worth
            // retrying later, which is what the IC signals with SYS_TRANSIENT.
            CallError::InsufficientLiquidCycleBalance(_) | CallError::CallPerformFailed(_) => {
                RejectCode::SysTransient as u32
            }
            CallError::CandidDecodeFailed(_) => RejectCode::CanisterError as u32,
        };
        let message = match error {
            CallError::CallRejected(rejected) => rejected.reject_message().to_string(),
            other => other.to_string(),
        };
        Self { code, message }
    }
}
