//! Provision, status, refresh; who may; and the steps the timer runs for leases.
//!
//! **Who may.** Provisioning a server, reading or refreshing its operation: controllers, the
//! delegates of the server's provider, and the lessee of an active lease on it (its execution
//! PREPARING or AVAILABLE; for reads, also the consumer of the lease the operation serves).
//! Auto-selection is for providers and controllers only. Every check is made before any
//! outcall.
//!
//! **Operations.** The operation id is the node UUID; the canister keeps the item's current
//! operation (`operations`), so a status query answers from the last state read. A deploy
//! sets the image and lessee, then asks for `active`; an undeploy asks for `deleted`, waits
//! for Ironic's cleaning to bring the node back to `available`, then clears the lessee.
//!
//! **Steps.** The queue's `ProvisionStep { item_id }` moves the item's operation on:
//!
//! ```text
//! Accepted ──ask Ironic──► InProgress ──poll every 10 s──► Completed
//!    │ ▲ transient error:          │ ▲ transient error:    └──► Failed (typed message)
//!    └─┘ retry with backoff        └─┘ retry with backoff
//! ```
//!
//! Before its first await a step queues a fallback step (5 min later) and takes a lock
//! (`operations`), so a trap after an await loses no work and no two steps of an item await at
//! once. After every await it reads the operation again: one replaced meanwhile (a lease
//! cancelled while its deploy was under way) is left to its successor, which gets the lock.
//! An operation not finished within the market's stuck timeout fails.
//!
//! **Leases.** A lease's start records a deploy (`market::operations::begin_deploy`); when it completes the lease
//! becomes AVAILABLE, when it fails the lease FAILS with Ironic's `last_error` and, if Ironic
//! was asked to deploy, an undeploy cleans the node. A lease's end (or cancel) records an
//! undeploy (`begin_undeploy`); when the node is clean the lease is COMPLETED (or CANCELLED) and
//! its item available; when cleaning fails the lease still ends and the item goes to
//! Maintenance.
//!
//! | module     | what it holds                                                              |
//! |------------|----------------------------------------------------------------------------|
//! | `api`      | provision_server, status, refresh, sim_set_failure                         |
//! | `steps`    | the queue's step: the Ironic calls and the readings of the node          |
//! | `outcomes` | settle, retry, complete, fail: the operation and its lease move on         |
//! | `schedule` | the lock a step holds while it awaits Ironic                               |
//! | `access`   | argument checks, server selection, who may                                 |
//! | `errors`   | responses, Ironic errors typed and described                               |

mod access;
mod api;
mod errors;
mod outcomes;
mod schedule;
mod steps;

pub use api::{provision_server, refresh, sim_set_failure, status};
pub use steps::step;

use crate::provision::Backend;
use crate::time::SECOND_NS;

/// How often an operation under way reads its node at first.
pub const POLL_NS: u64 = 10 * SECOND_NS;
/// The longest wait between two reads of a node on a real Ironic.
pub const MAX_POLL_NS: u64 = 120 * SECOND_NS;

/// The wait before the next read of an operation that began `age_ns` ago. On a real Ironic
/// each read is an outcall the provider's budget pays, so polls back off: every 10 s for the
/// first 100 s, then a tenth of the operation's age (the answer comes at most 10 % late), at
/// most 2 minutes. The simulated Ironic costs nothing and keeps 10 s.
pub fn poll_interval_ns(backend: Backend, age_ns: u64) -> u64 {
    match backend {
        Backend::Simulated => POLL_NS,
        Backend::Ironic => (age_ns / 10).clamp(POLL_NS, MAX_POLL_NS),
    }
}

/// How many reads an operation makes in its first `duration_ns` (for quotes).
pub fn polls_within(backend: Backend, duration_ns: u64) -> u64 {
    let (mut age, mut polls) = (POLL_NS, 0u64);
    while age <= duration_ns {
        polls += 1;
        age = age.saturating_add(poll_interval_ns(backend, age));
    }
    polls
}
/// When the fallback step of a step that awaits Ironic is due.
pub const FALLBACK_NS: u64 = 300 * SECOND_NS;
/// A step reuses the fallback already queued when it is at least this far away.
const MIN_LOCK_NS: u64 = 120 * SECOND_NS;
/// Longest config drive (cloud-init user data).
pub const MAX_CONFIG_DRIVE_BYTES: usize = 64 * 1024;
/// A node is read for `provision_refresh` at most once per poll interval unless a controller
/// asks: each read is an outcall the canister pays for, and lessees could otherwise spend its
/// cycles as fast as their rate limit lets them. Within the interval the last known state is
/// the answer.
pub const REFRESH_INTERVAL_NS: u64 = POLL_NS;
/// Longest image id, server id, resource class.
const MAX_TEXT_BYTES: usize = crate::market::MAX_TEXT_BYTES;
/// States Ironic undeploys from (`deleted`).
const DELETABLE: [&str; 6] = [
    "active",
    "deploy failed",
    "error",
    "rescue",
    "rescue failed",
    "unrescue failed",
];

#[cfg(test)]
mod tests;
