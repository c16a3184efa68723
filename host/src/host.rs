//! The host: its canisters, their messages, call contexts, timers, outgoing calls and outcalls.
//!
//! Every execution (a method, a callback, the timer) runs against a snapshot: on a trap, or
//! always for queries, the wasm memory, globals, stable memory and system state go back to it.
//! A message that awaits a call ends its execution; the call becomes queued work, and other
//! messages may run before its answer is delivered to the callback, as on the IC.
//!
//! The host holds a primary canister (the one `Host`'s own methods address) and any number of
//! others (`canisters.rs`). The canister being executed is always the one in `Host`'s own
//! fields: work for another canister swaps that canister's state in for its duration. Call
//! contexts, awaited calls, the queue, the clock and the ids are shared by all canisters.

use crate::context::{OutCall, Response, System};
use crate::instance::{Instance, Snapshot};
use crate::types::*;
use candid::Principal;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

mod calls;
mod canisters;
mod config;
mod contexts;
mod execute;
mod faults;
mod lifecycle;
mod messages;
mod outcalls;
mod scheduler;

/// 2026-01-01T00:00:00Z, the default start time, so runs are reproducible.
pub const DEFAULT_TIME_NANOS: u64 = 1_767_225_600_000_000_000;
pub const DEFAULT_CYCLES: u128 = 100_000_000_000_000;

type ContextId = u64;
type CallId = u64;

#[derive(Clone, Copy, Debug)]
enum Origin {
    Ingress(MessageId),
    /// A call from a canister (possibly this one) awaiting this context's answer.
    Call(CallId),
    /// Timer and lifecycle executions answer nobody.
    System,
}

#[derive(Debug)]
struct CallContext {
    /// The canister whose context this is.
    canister: Vec<u8>,
    origin: Origin,
    caller: Vec<u8>,
    responded: bool,
    outstanding: u32,
    instructions: u64,
    cycles: u128,
    cycles_accepted: u128,
    deadline: u64,
}

/// A performed call waiting for its answer.
struct Awaiting {
    /// The canister that made the call, whose callback gets the answer.
    caller: Vec<u8>,
    context: ContextId,
    call: OutCall,
    /// Best-effort calls time out at this time; 0 for unbounded waits.
    deadline: u64,
    /// The deadline passed: SYS_UNKNOWN is on its way, the request is dropped if not yet run.
    expired: bool,
    /// An injected timeout: the callee's answer is dropped; the caller learns SYS_UNKNOWN.
    lose_response: bool,
}

enum Work {
    Dispatch(CallId),
    Deliver {
        call: CallId,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    },
}

struct Deferred {
    call: CallId,
    args: HttpRequestArgs,
}

enum Entry<'a> {
    Export(&'a str),
    Callback(u32, u32),
}

struct Outcome {
    trap: Option<String>,
    response: Option<Response>,
    performed: Vec<OutCall>,
    instructions: u64,
    accepted: bool,
    /// Cycles the call context has accepted so far; `None` when the execution trapped.
    cycles_accepted: Option<u128>,
}

/// An ic0 host: a primary canister, which `Host`'s methods address, and any others installed
/// beside it ([`Host::install_canister`]). See the crate documentation for the semantics.
pub struct Host {
    pub(crate) sys: System,
    pub(crate) stable: Vec<u8>,
    pub(crate) instance: Option<Instance>,
    /// The committed state of the instance (heap and globals), what a trap or a query rolls back
    /// to. Kept in step after each committed execution by copying only the chunks that changed.
    snapshot: Snapshot,
    /// Whether `snapshot` is the current instance's committed state (false after any install,
    /// upgrade or load: the next execution takes a whole copy).
    snapshot_synced: bool,
    debug_log: Vec<String>,
    contexts: HashMap<ContextId, CallContext>,
    awaiting: HashMap<CallId, Awaiting>,
    queue: VecDeque<Work>,
    deferred: BTreeMap<OutcallId, Deferred>,
    results: HashMap<MessageId, Result<Vec<u8>, Reject>>,
    http_responder: Option<HttpResponder>,
    callees: HashMap<Principal, CallHandler>,
    next_id: u64,
    last_instructions: u64,
    /// Instructions of each execution of a call the canister made to itself, until taken.
    self_call_instructions: Vec<u64>,
    /// Instructions every execution of each canister used, by canister id (for benchmarks of
    /// work spread over several messages and callbacks).
    executed: BTreeMap<Vec<u8>, u64>,
    /// Stable writes of successful executions, kept while an upgrade must be able to roll back.
    group_undo: Option<Vec<(u64, Vec<u8>)>>,
    limits: InstructionLimits,
    /// Whether ingress updates pass through `canister_inspect_message` first.
    inspect_ingress: bool,
    /// What queries see through `ic0.data_certificate_*` (`set_data_certificate`).
    data_certificate: Option<Vec<u8>>,
    /// What the last save or load wrote or read, so the next save writes only what changed.
    pub(crate) saved: Option<crate::persist::Saved>,
    /// Bytes the last save wrote, every canister's together.
    pub(crate) last_save_bytes: u64,
    /// The stable-memory chunks written since the last save or load (`None`: unknown, e.g. after
    /// an install or upgrade), so a save writes those without comparing all of stable memory.
    pub(crate) stable_dirty: Option<std::collections::BTreeSet<u64>>,
    /// The canisters other than the one in the fields above, by id.
    others: BTreeMap<Vec<u8>, canisters::Canister>,
    /// How many canister ids have been handed out (the primary's is the first).
    canisters_created: u64,
    /// Canisters whose incoming calls are held (`pause`), and the calls held, in order.
    paused: BTreeSet<Vec<u8>>,
    held: Vec<CallId>,
    /// Canisters asked to stop: stopping while they have open call contexts, then stopped.
    stopping: BTreeSet<Vec<u8>>,
    faults: Vec<faults::Armed>,
    /// Makes the next execution trap at its end (an injected fault).
    force_trap: Option<String>,
    /// Where a save stops as if the process crashed (persistence tests).
    #[cfg(test)]
    pub(crate) crash_at: Option<&'static str>,
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// The principal that installs the canister and is its only controller unless changed.
    pub fn default_controller() -> Principal {
        Principal::self_authenticating(b"ic0-host default controller")
    }

    /// The id of the hosted canister (the first id a local replica assigns).
    pub fn default_canister_id() -> Principal {
        Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    }

    pub fn new() -> Self {
        Self {
            sys: System {
                canister_id: Self::default_canister_id().as_slice().to_vec(),
                controllers: vec![Self::default_controller().as_slice().to_vec()],
                time: DEFAULT_TIME_NANOS,
                timer: 0,
                cycles: DEFAULT_CYCLES,
                certified_data: vec![],
                version: 0,
            },
            stable: vec![],
            instance: None,
            snapshot: Snapshot::default(),
            snapshot_synced: false,
            debug_log: vec![],
            contexts: HashMap::new(),
            awaiting: HashMap::new(),
            queue: VecDeque::new(),
            deferred: BTreeMap::new(),
            results: HashMap::new(),
            http_responder: None,
            callees: HashMap::new(),
            next_id: 1,
            last_instructions: 0,
            self_call_instructions: vec![],
            executed: BTreeMap::new(),
            group_undo: None,
            limits: InstructionLimits::default(),
            inspect_ingress: true,
            data_certificate: None,
            saved: None,
            last_save_bytes: 0,
            stable_dirty: None,
            others: BTreeMap::new(),
            canisters_created: 1,
            paused: BTreeSet::new(),
            held: vec![],
            stopping: BTreeSet::new(),
            faults: vec![],
            force_trap: None,
            #[cfg(test)]
            crash_at: None,
        }
    }
}
