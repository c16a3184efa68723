//! What the system API functions see: the canister's system state and the running execution.

use crate::types::{limits, InstructionLimits};
use wasmi::Memory;

/// The kinds of execution the IC distinguishes; each allows a different part of the system API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Kind {
    Init,
    PreUpgrade,
    PostUpgrade,
    #[default]
    Update,
    Query,
    ReplyCallback,
    RejectCallback,
    Cleanup,
    Timer,
    Inspect,
    Transform,
}

impl Kind {
    /// Executions whose changes are always discarded.
    pub fn discards_state(self) -> bool {
        matches!(self, Kind::Query | Kind::Inspect | Kind::Transform)
    }
    pub fn has_arg(self) -> bool {
        matches!(
            self,
            Kind::Init
                | Kind::PostUpgrade
                | Kind::Update
                | Kind::Query
                | Kind::ReplyCallback
                | Kind::Inspect
                | Kind::Transform
        )
    }
    pub fn may_respond(self) -> bool {
        matches!(
            self,
            Kind::Update
                | Kind::Query
                | Kind::Transform
                | Kind::ReplyCallback
                | Kind::RejectCallback
        )
    }
    pub fn may_call(self) -> bool {
        matches!(
            self,
            Kind::Update | Kind::ReplyCallback | Kind::RejectCallback | Kind::Timer
        )
    }
    pub fn may_set_timer(self) -> bool {
        !self.discards_state()
    }
    pub fn instruction_limit(self, limits: &InstructionLimits) -> u64 {
        match self {
            Kind::Query | Kind::Transform => limits.query,
            Kind::Inspect => limits.inspect_message,
            Kind::Init | Kind::PreUpgrade | Kind::PostUpgrade => limits.install,
            _ => limits.update,
        }
    }
    pub fn reply_limit(self) -> usize {
        if matches!(self, Kind::Query) {
            limits::REPLY_BYTES_QUERY
        } else {
            limits::REPLY_BYTES_UPDATE
        }
    }
}

/// State of the canister that is not in its wasm instance. Rolled back with the instance.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct System {
    pub canister_id: Vec<u8>,
    pub controllers: Vec<Vec<u8>>,
    /// Nanoseconds since the Unix epoch.
    pub time: u64,
    /// The global timer's deadline; 0 when off.
    pub timer: u64,
    pub cycles: u128,
    pub certified_data: Vec<u8>,
    pub version: u64,
}

/// A message's answer to its call context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    Reply(Vec<u8>),
    Reject(String),
}

/// A call the canister is assembling or has performed.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutCall {
    pub callee: Vec<u8>,
    pub method: String,
    pub payload: Vec<u8>,
    pub cycles: u128,
    pub reply: (u32, u32),
    pub reject: (u32, u32),
    pub cleanup: Option<(u32, u32)>,
    pub timeout_seconds: Option<u32>,
}

/// One execution's inputs and effects.
#[derive(Default)]
pub(crate) struct Exec {
    pub kind: Kind,
    pub arg: Vec<u8>,
    pub caller: Vec<u8>,
    pub method: String,
    /// In callbacks: the reject code (0 for a reply) and message.
    pub reject_code: u32,
    pub reject_message: String,
    pub deadline: u64,
    pub cycles_available: u128,
    pub cycles_accepted: u128,
    pub cycles_refunded: u128,
    /// The call context was answered by an earlier execution.
    pub already_responded: bool,
    pub reply_buf: Vec<u8>,
    pub response: Option<Response>,
    pub building: Option<OutCall>,
    pub performed: Vec<OutCall>,
    pub accepted: bool,
    /// Set by `ic0.trap` and by failed system API checks, to tell the trap's cause.
    pub trap: Option<String>,
    pub out_of_instructions: bool,
    /// Stable memory bytes overwritten by this execution, to roll them back.
    pub stable_undo: Vec<(u64, Vec<u8>)>,
    pub stable_len_before: usize,
    /// The 4 KiB stable-memory pages this execution has written, each charged once.
    pub dirty_stable_pages: std::collections::HashSet<u64>,
    /// Set by the host from its limits, unless a caller gives a smaller budget (upgrades).
    pub instruction_limit: u64,
    /// Instructions spent by earlier executions of the same call context.
    pub context_instructions: u64,
    /// The certificate `ic0.data_certificate_*` offer: only a non-replicated query gets one
    /// (on the IC, from the subnet's latest certified state), and only if the host was given one.
    pub data_certificate: Option<Vec<u8>>,
}

/// The store's data: everything the system API functions reach.
#[derive(Default)]
pub(crate) struct Ctx {
    pub sys: System,
    pub stable: Vec<u8>,
    pub exec: Exec,
    pub memory: Option<Memory>,
    pub debug_log: Vec<String>,
}
