//! A scripted [`Runtime`] for native tests.

use super::{LocalFuture, OutcallError, Runtime};
use candid::Principal;
use ic_cdk_management_canister::{HttpRequestArgs, HttpRequestResult};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Every field is settable; `armed_timer`, `watchdog` and `requests` record what the code asked
/// for.
pub struct FakeRuntime {
    pub time: Cell<u64>,
    pub caller: Cell<Principal>,
    pub controllers: RefCell<Vec<Principal>>,
    /// False to run as a query.
    pub replicated: Cell<bool>,
    pub liquid_cycles: Cell<u128>,
    pub instructions: Cell<u64>,
    pub armed_timer: Cell<Option<u64>>,
    /// The watchdog's interval, once armed.
    pub watchdog: Cell<Option<u64>>,
    pub requests: RefCell<Vec<HttpRequestArgs>>,
    /// What the code last certified.
    pub certified_data: Cell<[u8; 32]>,
    /// What queries see as their data certificate (replicated messages never see one).
    pub data_certificate: RefCell<Option<Vec<u8>>>,
    replies: RefCell<VecDeque<Result<HttpRequestResult, OutcallError>>>,
    /// Answers inter-canister calls: `(callee, method, arg)` to the reply's bytes.
    callee: RefCell<Option<Rc<Callee>>>,
}

/// What answers a [`FakeRuntime`]'s inter-canister calls, given the calling runtime too (its
/// time and its own id as the caller). It may itself run calls of the runtime (another
/// message while this one waits).
pub type Callee = dyn Fn(&FakeRuntime, Principal, &str, &[u8]) -> Result<Vec<u8>, OutcallError>;

impl Default for FakeRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeRuntime {
    pub const CANISTER_ID: Principal = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);

    pub fn new() -> Self {
        Self {
            time: Cell::new(1_700_000_000_000_000_000),
            caller: Cell::new(Principal::anonymous()),
            controllers: RefCell::default(),
            replicated: Cell::new(true),
            liquid_cycles: Cell::new(0),
            instructions: Cell::new(0),
            armed_timer: Cell::new(None),
            watchdog: Cell::new(None),
            requests: RefCell::default(),
            certified_data: Cell::new([0; 32]),
            data_certificate: RefCell::default(),
            replies: RefCell::default(),
            callee: RefCell::default(),
        }
    }

    /// Sets what answers this runtime's inter-canister calls from now on.
    pub fn set_callee(
        &self,
        callee: impl Fn(&FakeRuntime, Principal, &str, &[u8]) -> Result<Vec<u8>, OutcallError> + 'static,
    ) {
        *self.callee.borrow_mut() = Some(Rc::new(callee));
    }

    /// Queues the answer to the next outcall, as the system would deliver it (after the
    /// transform, if the test wants one applied).
    pub fn reply(&self, reply: Result<HttpRequestResult, OutcallError>) {
        self.replies.borrow_mut().push_back(reply);
    }
}

impl Runtime for FakeRuntime {
    fn time(&self) -> u64 {
        self.time.get()
    }

    fn caller(&self) -> Principal {
        self.caller.get()
    }

    fn canister_id(&self) -> Principal {
        Self::CANISTER_ID
    }

    fn is_controller(&self, principal: &Principal) -> bool {
        self.controllers.borrow().contains(principal)
    }

    fn replicated(&self) -> bool {
        self.replicated.get()
    }

    fn liquid_cycles(&self) -> u128 {
        self.liquid_cycles.get()
    }

    fn instructions(&self) -> u64 {
        self.instructions.get()
    }

    fn set_certified_data(&self, data: &[u8; 32]) {
        assert!(self.replicated.get(), "a query cannot set certified data");
        self.certified_data.set(*data);
    }

    fn data_certificate(&self) -> Option<Vec<u8>> {
        let certificate = self.data_certificate.borrow();
        certificate.clone().filter(|_| !self.replicated.get())
    }

    fn arm_timer(&self, at_ns: Option<u64>) {
        self.armed_timer.set(at_ns);
    }

    fn arm_watchdog(&self, interval_ns: u64) {
        self.watchdog.set(Some(interval_ns));
    }

    /// At once: outcalls here answer from the scripted replies without waiting.
    fn spawn<F>(&self, work: F)
    where
        F: for<'a> FnOnce(&'a Self) -> LocalFuture<'a> + 'static,
    {
        block_on(work(self));
    }

    /// A fake price, deterministic and not the IC's: pricing version 1's formula for a
    /// 13-node subnet (1 node when non-replicated), with the request's bytes counted as
    /// `cost_http_request_v2` counts them (URL, headers, body, transform name and context), so
    /// it grows with every byte of the request and with `max_response_bytes` (2 MB if unset).
    fn outcall_cost(&self, request: &HttpRequestArgs) -> u128 {
        let nodes: u128 = if request.is_replicated == Some(false) {
            1
        } else {
            13
        };
        let request_bytes = super::request_bytes(request);
        let response_bytes = request.max_response_bytes.unwrap_or(2_000_000);
        (3_000_000 + 60_000 * nodes) * nodes
            + 400 * nodes * request_bytes as u128
            + 800 * nodes * u128::from(response_bytes)
    }

    async fn http_request(
        &self,
        request: HttpRequestArgs,
    ) -> Result<HttpRequestResult, OutcallError> {
        self.requests.borrow_mut().push(request);
        self.replies
            .borrow_mut()
            .pop_front()
            .expect("the test scripted no reply for this outcall")
    }

    async fn call(
        &self,
        callee: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, OutcallError> {
        let answer = self
            .callee
            .borrow()
            .clone()
            .expect("the test set no callee for this call");
        answer(self, callee, method, &arg)
    }
}

/// Runs a future that never waits, as every future over [`FakeRuntime`] is.
pub fn block_on<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a future over FakeRuntime waited"),
    }
}
