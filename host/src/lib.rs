//! A small host for the Internet Computer system API (`ic0`), on the wasmi interpreter.
//!
//! It runs a canister's wasm the way the IC does, closely enough to test it end to end
//! without a replica: install and upgrade (fresh heap, same stable memory, timer switched off),
//! update and query calls with Candid bytes in and out, replies and rejects with the IC's codes,
//! rollback of every change on a trap (and always for queries), the global timer and ic-cdk-timers'
//! self-calls, inter-canister calls with callbacks run through the module's function table (other
//! messages may run while a call is awaited), the management canister's `http_request` answered by
//! a responder the test installs (after `max_response_bytes` checks and the canister's transform),
//! cycles, and the IC's instruction and size limits. Further canisters can run beside the first
//! (`Host::install_canister`), each with its own state, sharing the clock and the message queue:
//! calls between them are routed as on the IC, with fault drills for tests (`Host::pause`,
//! `Host::inject_fault`, `Host::stop_canister`). Instructions are counted with wasmi fuel priced
//! by the IC's cost model (`cost.rs`), so counts are deterministic and close to the IC's.
//!
//! Where the IC and the host could differ, the host follows the IC interface specification;
//! what it leaves out (certificates, other management canister methods, composite query calls)
//! fails loudly instead of pretending.

mod context;
mod cost;
pub mod driver;
mod host;
mod http;
mod ic0;
mod instance;
mod persist;
#[cfg(feature = "pocket-ic")]
mod pocket;
mod rewrite;
mod types;

pub use candid::Principal;
pub use driver::Driver;
pub use host::{Host, DEFAULT_CYCLES, DEFAULT_TIME_NANOS};
pub use instance::unpack as unpack_wasm;
pub use types::*;
