//! The execution's phase machine: the one place a phase changes, so the audit log, the
//! consumer's quota and the item's calendar always follow.
//!
//! ```text
//! OFFERED ─► ACCEPTED ─► WAITING ─► PREPARING ─► AVAILABLE ─► RELEASING ─► COMPLETED
//!    │           │  └────────────────►  │  │          │            ├──────► CANCELLED
//!    ├► REJECTED ├► CANCELLED ◄─ WAITING │  └► FAILED ◄┘            └──────► FAILED
//!    └► EXPIRED                          └► RELEASING (cancelled while preparing)
//! ```

use super::audit::{self, Change};
use super::retention;
use super::store;
use super::types::{Actor, Entity, Execution, Phase};
use super::MarketError;
use crate::queue::Task;

use Phase::*;

/// Every allowed `(from, to)`; anything else is refused.
pub const TRANSITIONS: &[(Phase, Phase)] = &[
    (Offered, Accepted),
    (Offered, Rejected),
    (Offered, Expired),
    (Accepted, Waiting),
    (Accepted, Preparing),
    (Accepted, Cancelled),
    (Waiting, Preparing),
    (Waiting, Cancelled),
    (Preparing, Available),
    (Preparing, Releasing),
    (Preparing, Failed),
    (Available, Releasing),
    (Available, Failed),
    (Releasing, Completed),
    (Releasing, Cancelled),
    (Releasing, Failed),
];

pub fn allowed(from: Phase, to: Phase) -> bool {
    TRANSITIONS.contains(&(from, to))
}

/// Moves `execution` to `to` and stores it: records the change, keeps the consumer's count of
/// active leases, and frees the calendar when the phase is final.
pub fn transition(
    now: u64,
    actor: &Actor,
    execution: &mut Execution,
    to: Phase,
    why: &str,
) -> Result<(), MarketError> {
    let from = execution.phase;
    if !allowed(from, to) {
        return Err(MarketError::WrongPhase {
            phase: from,
            action: format!("move to {}", to.name()),
        });
    }
    if from.is_active_lease() != to.is_active_lease() {
        store::update_usage(&execution.consumer, |usage| {
            if to.is_active_lease() {
                usage.active_leases += 1;
            } else {
                usage.active_leases = usage.active_leases.saturating_sub(1);
            }
        });
    }
    if to.is_final() {
        store::unbook(execution.item_id, execution.start_ns, execution.id);
        crate::queue::schedule_later(
            retention::due(now),
            Task::ForgetExecution {
                execution_id: execution.id,
            },
        );
    }
    if matches!(to, Rejected | Expired | Cancelled | Failed) {
        execution.reason = Some(why.to_string());
    }
    super::payments::on_transition(now, execution, from, to);
    execution.phase = to;
    execution.phase_since_ns = now;
    execution.updated_at_ns = now;
    store::put_execution(execution);
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Execution(execution.id),
            from: from.name(),
            to: to.name(),
            why,
            consumer: Some(execution.consumer),
            provider_pem: &execution.provider_pem,
        },
    );
    Ok(())
}

/// The execution with `id`, or the typed error for an unknown one.
pub fn get(id: u64) -> Result<Execution, MarketError> {
    store::execution(id).ok_or(MarketError::UnknownExecution { id })
}

#[cfg(test)]
mod tests;
