//! Public types of the host: reject codes, rejects, HTTP replies, limits.

use std::fmt;

pub use ic_management_canister_types::{HttpHeader, HttpRequestArgs, HttpRequestResult};

/// Reject codes of the IC interface specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RejectCode {
    SysFatal = 1,
    SysTransient = 2,
    DestinationInvalid = 3,
    CanisterReject = 4,
    CanisterError = 5,
    SysUnknown = 6,
}

impl RejectCode {
    pub fn from_u32(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::SysFatal,
            2 => Self::SysTransient,
            3 => Self::DestinationInvalid,
            4 => Self::CanisterReject,
            5 => Self::CanisterError,
            6 => Self::SysUnknown,
            _ => return None,
        })
    }
}

/// A call that did not produce a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub code: RejectCode,
    pub message: String,
}

impl Reject {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rejected ({:?}, code {}): {}",
            self.code, self.code as u32, self.message
        )
    }
}

impl std::error::Error for Reject {}

/// What an HTTP responder answers for one outcall.
#[derive(Clone, Debug)]
pub enum HttpReply {
    /// The remote server's raw response; the host enforces `max_response_bytes` and runs the
    /// canister's transform on it, as the IC does.
    Response(HttpRequestResult),
    /// The outcall fails before any response (connection refused, DNS, TLS, timeout...).
    Reject(RejectCode, String),
    /// No answer yet: the outcall stays pending until the test answers it with
    /// [`crate::Host::answer_http`], so other messages can run in between.
    Defer,
}

impl HttpReply {
    /// A response with the given status and body and no headers.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Response(HttpRequestResult {
            status: status.into(),
            headers: vec![],
            body: body.into(),
        })
    }
}

/// Answers outcalls made by the canister.
pub type HttpResponder = Box<dyn FnMut(&HttpRequestArgs) -> HttpReply>;

/// Answers calls to canisters other than the one installed and the management canister:
/// `(method, argument, attached cycles) -> reply bytes or reject`.
pub type CallHandler = Box<dyn FnMut(&str, &[u8], u128) -> Result<Vec<u8>, Reject>>;

/// Identifies an ingress message submitted with [`crate::Host::submit_update`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

/// Identifies a pending HTTP outcall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutcallId(pub u64);

/// The IC's limits, enforced by the host.
pub mod limits {
    pub const INSTRUCTIONS_QUERY: u64 = 5_000_000_000;
    pub const INSTRUCTIONS_UPDATE: u64 = 40_000_000_000;
    pub const INSTRUCTIONS_INSTALL: u64 = 300_000_000_000;
    pub const INSTRUCTIONS_INSPECT: u64 = 200_000_000;
    pub const INGRESS_BYTES: usize = 2 * 1024 * 1024;
    pub const REPLY_BYTES_UPDATE: usize = 2 * 1024 * 1024;
    pub const REPLY_BYTES_QUERY: usize = 3 * 1024 * 1024;
    pub const INTER_CANISTER_BYTES: usize = 2 * 1024 * 1024;
    pub const HTTP_MAX_RESPONSE_BYTES: u64 = 2_000_000;
    pub const HTTP_MAX_REQUEST_BYTES: usize = 2_000_000;
    pub const HTTP_MAX_URL_BYTES: usize = 8192;
    pub const STABLE_PAGES_MAX: u64 = 500 * 1024 * 1024 * 1024 / super::WASM_PAGE;
}

/// Instructions one execution may use, by kind of execution. Defaults to the IC's limits; tests
/// may lower them to check enforcement without burning billions of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstructionLimits {
    /// Queries and HTTP transforms.
    pub query: u64,
    /// Updates, callbacks and timers.
    pub update: u64,
    /// `canister_init`, and `pre_upgrade` plus `post_upgrade` together.
    pub install: u64,
    pub inspect_message: u64,
}

impl Default for InstructionLimits {
    fn default() -> Self {
        Self {
            query: limits::INSTRUCTIONS_QUERY,
            update: limits::INSTRUCTIONS_UPDATE,
            install: limits::INSTRUCTIONS_INSTALL,
            inspect_message: limits::INSTRUCTIONS_INSPECT,
        }
    }
}

pub(crate) const WASM_PAGE: u64 = 65536;

/// A canister's run status, as the management canister's `canister_status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanisterStatus {
    Running,
    /// Asked to stop, with call contexts still open: calls to it are rejected.
    Stopping,
    Stopped,
}

/// A fault a test injects into the next matching call to a canister ([`crate::Host::inject_fault`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call never reaches the callee; the caller gets this reject and all cycles back.
    Reject(Reject),
    /// The callee's method runs to its end and then traps there: every change of that
    /// execution (and its calls, replies) is rolled back and the caller gets the IC's
    /// `CANISTER_ERROR` reject for a trap.
    Trap,
    /// Bounded-wait calls only: the callee runs the call as usual and keeps its effects, but
    /// its answer is lost; at the call's deadline the caller gets `SYS_UNKNOWN` and no refund.
    Timeout,
}
