//! Closed records leave the market: an execution in a final phase (and the offerset it came
//! from, once all of that offerset's executions are closed) and a withdrawn or expired offer
//! are removed from the stable maps `closed_retention_seconds` after they closed. Their audit
//! trail stays. Without this every offerset a stranger makes, and every offer ever made,
//! would be kept for good.
//!
//! The phase machine (`execution::transition`) queues a `ForgetExecution` at each final phase;
//! an offerset and its executions go together, so no rule ever sees an offerset with some of
//! its executions missing. A refused offerset, which holds no execution, goes on its own after
//! [`REFUSED_RETENTION_NS`].

use super::policy::{self, DEFAULT_CLOSED_RETENTION_SECONDS};
use super::store;
use super::types::{Execution, Offer, OfferStatus, OffersetResult, OffersetStatus};
use crate::queue::Task;
use crate::runtime::Runtime;
use crate::time::SECOND_NS;

/// When a record closed at `closed_at_ns` is due to go under the policy in force.
pub fn due(closed_at_ns: u64) -> u64 {
    closed_at_ns.saturating_add(retention_ns())
}

/// The retention in force. Loops read it once: the policies record it comes from may hold a
/// thousand image names.
fn retention_ns() -> u64 {
    policy::get()
        .closed_retention_seconds
        .unwrap_or(DEFAULT_CLOSED_RETENTION_SECONDS)
        .saturating_mul(SECOND_NS)
}

/// How long a refused offerset stays readable with `offerset_get`. Refusals cost the caller
/// nothing and count against no quota, so without this they would pile up for good.
pub const REFUSED_RETENTION_NS: u64 = crate::time::DAY_NS;

/// The queue's task at the end of a refused offerset's retention: its record goes (the audit
/// log keeps its trail). Anything else, or one already gone, is left alone.
pub fn forget_offerset(now: u64, offerset_id: u64) {
    let Some(offerset) = store::offerset(offerset_id) else {
        return;
    };
    let due = offerset.created_at_ns.saturating_add(REFUSED_RETENTION_NS);
    if offerset.result != OffersetResult::No || !offerset.execution_ids.is_empty() || now < due {
        return;
    }
    store::remove_offerset(&offerset);
}

/// The queue's task at the end of an execution's retention. Removes the execution (with its
/// offerset and the offerset's other executions) when all are closed and past their
/// retention; otherwise leaves them, and asks to run again when a longer retention set since
/// moved the due time. An execution still open leaves the work to its own final phase, which
/// queues a task of its own. Reads at most one offerset's executions (≤ 100).
pub fn forget_execution(now: u64, execution_id: u64) -> Vec<(u64, Task)> {
    let Some(execution) = store::execution(execution_id) else {
        return vec![];
    };
    let offerset = execution.offerset_id.and_then(store::offerset);
    let group: Vec<Execution> = match &offerset {
        Some(set) => set
            .execution_ids
            .iter()
            .filter_map(|id| store::execution(*id))
            .collect(),
        None => vec![execution],
    };
    if group.iter().any(|e| !e.phase.is_final()) {
        return vec![];
    }
    let retention = retention_ns();
    let mut due_at = group
        .iter()
        .map(|e| e.phase_since_ns.saturating_add(retention))
        .max()
        .unwrap_or(0);
    // Holds rejected early (an offer withdrawn, an item taken out of service) close before
    // their offerset does; it goes only after its own expiry has run, which gives the
    // consumer's open-offerset count back.
    if let Some(set) = offerset
        .as_ref()
        .filter(|s| s.status == OffersetStatus::Open)
    {
        due_at = due_at.max(set.expires_at_ns.saturating_add(1));
    }
    // Money still to move keeps its execution: its settlement reads it (an hour later, again).
    if group.iter().any(|e| super::payments::unsettled(e.id)) {
        due_at = due_at.max(now.saturating_add(crate::time::HOUR_NS));
    }
    if due_at > now {
        return vec![(due_at, Task::ForgetExecution { execution_id })];
    }
    for e in &group {
        store::remove_execution(e);
        store::remove_payment(e.id);
    }
    if let Some(set) = &offerset {
        store::remove_offerset(set);
    }
    vec![]
}

/// The queue's task at the end of a closed offer's retention. Removes it when nothing is
/// booked in its window any more (a lease on a withdrawn offer may still run): otherwise it
/// asks again one retention later. Executions closed on it may outlive it; they keep their
/// own copy of what they were offered (item, window, price).
pub fn forget_offer(now: u64, offer_id: u64) -> Vec<(u64, Task)> {
    let Some(offer) = store::offer(offer_id) else {
        return vec![];
    };
    if offer.status == OfferStatus::Open {
        return vec![];
    }
    let due_at = due(offer.updated_at_ns);
    if due_at > now {
        return vec![(due_at, Task::ForgetOffer { offer_id })];
    }
    if store::booked_between(offer.item_id, offer.start_ns, offer.end_ns) {
        return vec![(due(now), Task::ForgetOffer { offer_id })];
    }
    store::remove_offer(&offer);
    vec![]
}

/// Records one sweep task reads.
pub const SWEEP_PAGE: usize = 200;

/// After an upgrade from a version without retention: queues the sweep once (a stored flag;
/// no record is read here).
pub fn start_sweep(rt: &impl Runtime) {
    if !store::start_closed_sweep() {
        return;
    }
    let sweep = Task::SweepClosed {
        offers: false,
        after: 0,
    };
    crate::queue::schedule(rt, rt.time(), sweep);
}

/// The queue's task that queues a forget for each closed record of one page, and the next page.
pub fn sweep(offers: bool, after: u64) -> Vec<(u64, Task)> {
    let retention = retention_ns();
    let (mut tasks, next) = if offers {
        let closed = |o: &Offer| o.status != OfferStatus::Open;
        let (page, next) = store::offers_after(after, closed, SWEEP_PAGE, SWEEP_PAGE);
        let forgets = page.iter().map(|o| {
            let task = Task::ForgetOffer { offer_id: o.id };
            (o.updated_at_ns.saturating_add(retention), task)
        });
        (forgets.collect::<Vec<_>>(), next)
    } else {
        let closed = |e: &Execution| e.phase.is_final();
        let (page, next) = store::executions_after(after, closed, SWEEP_PAGE, SWEEP_PAGE);
        let forgets = page.iter().map(|e| {
            let task = Task::ForgetExecution { execution_id: e.id };
            (e.phase_since_ns.saturating_add(retention), task)
        });
        (forgets.collect::<Vec<_>>(), next)
    };
    let follow_up = match (next, offers) {
        (Some(after), _) => Some(Task::SweepClosed { offers, after }),
        (None, false) => Some(Task::SweepClosed {
            offers: true,
            after: 0,
        }),
        (None, true) => None,
    };
    // Due at once: the queue's batch budget spreads the pages over timer runs.
    tasks.extend(follow_up.map(|task| (0, task)));
    tasks
}

#[cfg(test)]
mod tests;
