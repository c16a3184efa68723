//! The host: one canister, its messages, call contexts, timer, outgoing calls and outcalls.
//!
//! Every execution (a method, a callback, the timer) runs against a snapshot: on a trap, or
//! always for queries, the wasm memory, globals, stable memory and system state go back to it.
//! A message that awaits a call ends its execution; the call becomes queued work, and other
//! messages may run before its answer is delivered to the callback, as on the IC.

use crate::context::{OutCall, Response, System};
use crate::instance::{Instance, Snapshot};
use crate::types::*;
use candid::Principal;
use std::collections::{BTreeMap, HashMap, VecDeque};

mod calls;
mod config;
mod contexts;
mod execute;
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
    /// A call from the canister itself (self-call) awaiting this context's answer.
    Call(CallId),
    /// Timer and lifecycle executions answer nobody.
    System,
}

#[derive(Debug)]
struct CallContext {
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
    context: ContextId,
    call: OutCall,
    /// Best-effort calls time out at this time; 0 for unbounded waits.
    deadline: u64,
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

/// One canister on an ic0 host. See the crate documentation for the semantics it follows.
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
    /// Stable writes of successful executions, kept while an upgrade must be able to roll back.
    group_undo: Option<Vec<(u64, Vec<u8>)>>,
    limits: InstructionLimits,
    /// Whether ingress updates pass through `canister_inspect_message` first.
    inspect_ingress: bool,
    /// What queries see through `ic0.data_certificate_*` (`set_data_certificate`).
    data_certificate: Option<Vec<u8>>,
    /// What the last save or load wrote or read, so the next save writes only what changed.
    pub(crate) saved: Option<crate::persist::Saved>,
    pub(crate) last_save_bytes: u64,
    /// The stable-memory chunks written since the last save or load (`None`: unknown, e.g. after
    /// an install or upgrade), so a save writes those without comparing all of stable memory.
    pub(crate) stable_dirty: Option<std::collections::BTreeSet<u64>>,
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
            group_undo: None,
            limits: InstructionLimits::default(),
            inspect_ingress: true,
            data_certificate: None,
            saved: None,
            last_save_bytes: 0,
            stable_dirty: None,
        }
    }
}
