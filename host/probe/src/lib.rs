//! `probe`: a tiny canister that exists only so the ic0 host's tests can check each IC semantic
//! through real ic-cdk 0.20 code (not hand-written wasm). Its interface is `probe.did`, checked
//! against the code by the test at the bottom of this file.
//!
//! `init` and `post_upgrade` store their argument; the argument `"trap"` makes them trap.
//!
//! State:
//! - heap (lost on upgrade): `HEAP` (set_heap/get_heap), `COUNTER` (incr), `FIRED` (timer log);
//! - stable, in ic-stable-structures cells on a `MemoryManager` (8 MiB buckets, like the
//!   marketplace): memory 0 = init/upgrade argument, 1 = upgrade counter, 2 = pre-upgrade
//!   marker, 3 = stable value.
//!
//! Errors of `call` and `http` carry the IC reject code (1 fatal, 2 transient, 3 destination
//! invalid, 4 canister reject, 5 canister error, 6 timeout); code 0 means the call was never made
//! or its reply did not decode (insufficient liquid cycles, `call_perform` failed, bad Candid).

use candid::{CandidType, Deserialize, Nat, Principal};
use ic_cdk::api::{self, performance_counter};
use ic_cdk::call::{Call, CallFailed};
use ic_cdk::{init, inspect_message, post_upgrade, pre_upgrade, query, update};
use ic_cdk_management_canister::{
    transform_context_from_query, HttpRequest, HttpRequestResult, TransformArgs,
};
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{DefaultMemoryImpl, StableCell, Storable};
use serde_bytes::ByteBuf;
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::time::Duration;

type Mem = VirtualMemory<DefaultMemoryImpl>;
type Stable<T> = RefCell<StableCell<T, Mem>>;

thread_local! {
    static HEAP: Cell<u64> = const { Cell::new(0) };
    static COUNTER: Cell<u64> = const { Cell::new(0) };
    static CLEANUPS: Cell<u64> = const { Cell::new(0) };
    static FIRED: RefCell<Vec<(String, u64)>> = const { RefCell::new(Vec::new()) };
    static MM: MemoryManager<DefaultMemoryImpl> = MemoryManager::init(DefaultMemoryImpl::default());
    static INIT_ARG: Stable<Option<String>> = cell(0, None);
    static UPGRADES: Stable<u64> = cell(1, 0);
    static MARKER: Stable<Option<u64>> = cell(2, None);
    static STABLE: Stable<u64> = cell(3, 0);
}

fn cell<T: Storable>(id: u8, default: T) -> Stable<T> {
    let memory = MM.with(|mm| mm.get(MemoryId::new(id)));
    RefCell::new(StableCell::init(memory, default))
}

/// `record { code : nat32; message : text }`
#[derive(CandidType, Deserialize, Debug)]
pub struct CallError {
    code: u32,
    message: String,
}

impl From<ic_cdk::call::Error> for CallError {
    fn from(e: ic_cdk::call::Error) -> Self {
        match e {
            ic_cdk::call::Error::CallRejected(r) => CallError {
                code: r.raw_reject_code(),
                message: r.reject_message().to_string(),
            },
            other => CallError {
                code: 0,
                message: other.to_string(),
            },
        }
    }
}

impl From<CallFailed> for CallError {
    fn from(e: CallFailed) -> Self {
        ic_cdk::call::Error::from(e).into()
    }
}

/// `record { status : nat; headers : vec record { text; text }; body : blob }`
#[derive(CandidType, Deserialize, Debug)]
pub struct HttpReply {
    status: Nat,
    headers: Vec<(String, String)>,
    body: ByteBuf,
}

// ---- lifecycle ----

/// The argument `"trap"` makes `init`/`post_upgrade` trap after their writes (a failed install
/// or upgrade must leave nothing behind).
fn trap_if_asked(hook: &str, arg: &Option<String>) {
    if arg.as_deref() == Some("trap") {
        ic_cdk::trap(format!("{hook}: asked to trap"));
    }
}

#[init]
fn init(arg: Option<String>) {
    INIT_ARG.with_borrow_mut(|c| c.set(arg.clone()));
    trap_if_asked("init", &arg);
}

#[pre_upgrade]
fn pre_upgrade() {
    MARKER.with_borrow_mut(|c| c.set(Some(HEAP.get())));
}

#[post_upgrade]
fn post_upgrade(arg: Option<String>) {
    UPGRADES.with_borrow_mut(|c| c.set(c.get() + 1));
    INIT_ARG.with_borrow_mut(|c| c.set(arg.clone()));
    trap_if_asked("post_upgrade", &arg);
}

#[query]
fn init_arg() -> Option<String> {
    INIT_ARG.with_borrow(|c| c.get().clone())
}

#[query]
fn upgrades() -> u64 {
    UPGRADES.with_borrow(|c| *c.get())
}

#[query]
fn pre_upgrade_marker() -> Option<u64> {
    MARKER.with_borrow(|c| *c.get())
}

// ---- messages, identities, replies ----

#[query]
fn echo(b: ByteBuf) -> ByteBuf {
    b
}

#[update]
fn echo_update(b: ByteBuf) -> ByteBuf {
    b
}

#[query]
fn whoami() -> Principal {
    api::msg_caller()
}

#[query]
fn self_id() -> Principal {
    api::canister_self()
}

#[query]
fn is_controller(p: Principal) -> bool {
    api::is_controller(&p)
}

#[update(manual_reply = true)]
fn reject_with(message: String) {
    api::msg_reject(message);
}

#[update]
fn trap_with(message: String) {
    ic_cdk::trap(message);
}

#[update]
fn reply_of_size(n: u64) -> ByteBuf {
    ByteBuf::from(vec![0xA5; n as usize])
}

#[query]
fn reply_of_size_query(n: u64) -> ByteBuf {
    ByteBuf::from(vec![0xA5; n as usize])
}

#[update]
fn print(text: String) {
    api::debug_print(text);
}

// ---- heap, stable memory, rollback ----

fn set_both(v: u64) {
    HEAP.set(v);
    STABLE.with_borrow_mut(|c| c.set(v));
}

#[update]
fn set_heap(v: u64) {
    HEAP.set(v);
}

#[query]
fn get_heap() -> u64 {
    HEAP.get()
}

#[update]
fn set_stable(v: u64) {
    STABLE.with_borrow_mut(|c| c.set(v));
}

#[query]
fn get_stable() -> u64 {
    STABLE.with_borrow(|c| *c.get())
}

/// Sets both values, grows the wasm heap by 8 MiB and stable memory by 16 pages, then traps.
#[update]
fn set_then_trap(v: u64) {
    set_both(v);
    black_box(vec![0x5Au8; 8 << 20].leak());
    let old = api::stable_grow(16);
    if old != u64::MAX {
        api::stable_write((old + 15) * 65536, b"dirty");
    }
    ic_cdk::trap(format!("set_then_trap({v})"));
}

/// Sets both values inside a query and returns the stable value read back.
#[query]
fn query_mutate(v: u64) -> u64 {
    set_both(v);
    get_stable()
}

#[query]
fn stable_pages() -> u64 {
    api::stable_size()
}

/// Raw `ic0.stable64_grow`: the previous size in pages, or `u64::MAX` on failure.
#[update]
fn grow_stable(pages: u64) -> u64 {
    api::stable_grow(pages)
}

// ---- time, timers, cycles, instructions ----

#[query]
fn now() -> u64 {
    api::time()
}

#[update]
fn schedule(delay_seconds: u64, label: String) {
    ic_cdk_timers::set_timer(Duration::from_secs(delay_seconds), async move {
        FIRED.with_borrow_mut(|f| f.push((label, api::time())));
    });
}

#[query]
fn fired() -> Vec<(String, u64)> {
    FIRED.with_borrow(|f| f.clone())
}

#[query]
fn balance() -> Nat {
    Nat::from(api::canister_liquid_cycle_balance())
}

/// Accepts up to `max` of the cycles attached to the call; returns how many it accepted.
#[update]
fn accept_cycles(max: Nat) -> Nat {
    let max = u128::try_from(&max.0).unwrap_or(u128::MAX);
    Nat::from(api::msg_cycles_accept(max))
}

fn spin(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    black_box(acc);
    performance_counter(0)
}

#[update]
fn burn(n: u64) -> u64 {
    spin(n)
}

#[query]
fn burn_query(n: u64) -> u64 {
    spin(n)
}

// ---- inter-canister calls ----

#[update]
async fn call(
    callee: Principal,
    method: String,
    arg: ByteBuf,
    cycles: Nat,
    best_effort_timeout_seconds: Option<u32>,
) -> Result<ByteBuf, CallError> {
    let cycles = u128::try_from(&cycles.0).unwrap_or_else(|_| ic_cdk::trap("cycles > u128"));
    let call = match best_effort_timeout_seconds {
        Some(t) => Call::bounded_wait(callee, &method).change_timeout(t),
        None => Call::unbounded_wait(callee, &method),
    };
    let reply = call.with_raw_args(&arg).with_cycles(cycles).await?;
    Ok(ByteBuf::from(reply.into_bytes()))
}

#[update]
async fn call_self_echo(b: ByteBuf) -> ByteBuf {
    let reply = Call::unbounded_wait(api::canister_self(), "echo_update")
        .with_arg(b)
        .await
        .unwrap_or_else(|e| ic_cdk::trap(format!("self-call failed: {e}")));
    reply
        .candid()
        .unwrap_or_else(|e| ic_cdk::trap(format!("{e}")))
}

/// Ingress messages to `not_accepted` are refused here; inter-canister calls never come here.
#[inspect_message]
fn inspect() {
    if api::msg_method_name() != "not_accepted" {
        api::accept_message();
    }
}

/// Reachable only by inter-canister calls (see `inspect`).
#[update]
fn not_accepted() -> u64 {
    7
}

#[update]
fn incr() -> u64 {
    COUNTER.set(COUNTER.get() + 1);
    COUNTER.get()
}

/// Counts its drops: held across an await, it is dropped only when the future is, which after
/// a trap in the callback happens in ic-cdk's `call_on_cleanup` callback.
struct DropMarker;

impl Drop for DropMarker {
    fn drop(&mut self) {
        CLEANUPS.set(CLEANUPS.get() + 1);
    }
}

#[query]
fn cleanups() -> u64 {
    CLEANUPS.get()
}

/// Heap value 1 before the await (committed), 2 in the callback, then a trap (rolled back).
#[update]
async fn await_then_trap(callee: Principal) {
    HEAP.set(1);
    let _marker = DropMarker;
    let _ = Call::unbounded_wait(callee, "incr").await;
    HEAP.set(2);
    ic_cdk::trap("await_then_trap: trapping after the await");
}

// ---- HTTPS outcalls ----

#[update]
async fn http(
    url: String,
    max_response_bytes: Option<u64>,
    transform: bool,
    replicated: bool,
) -> Result<HttpReply, CallError> {
    let mut req = HttpRequest::new(url);
    if let Some(n) = max_response_bytes {
        req = req.with_max_response_bytes(n);
    }
    if transform {
        let ctx = transform_context_from_query("probe_transform".into(), b"T:".to_vec());
        req = req.with_transform(ctx);
    }
    if !replicated {
        req = req.non_replicated();
    }
    let r = req.send().await?;
    let headers = r.headers.into_iter().map(|h| (h.name, h.value)).collect();
    Ok(HttpReply {
        status: r.status,
        headers,
        body: ByteBuf::from(r.body),
    })
}

/// Drops all headers and prefixes the body with the transform context.
#[query(hidden = true)]
fn probe_transform(args: TransformArgs) -> HttpRequestResult {
    let mut body = args.context;
    body.extend_from_slice(&args.response.body);
    HttpRequestResult {
        status: args.response.status,
        headers: vec![],
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    ic_cdk::export_candid!();

    #[test]
    fn probe_did_matches_the_code() {
        use candid_parser::utils::{service_equal, CandidSource};
        let did =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/probe.did")).unwrap();
        let code = __export_service();
        if let Err(e) = service_equal(CandidSource::Text(&did), CandidSource::Text(&code)) {
            panic!("probe.did differs from the code: {e}\n--- code's interface:\n{code}");
        }
    }
}
