//! Reclaim: a provider takes a leased item back with notice (Akash's reclamation window). The
//! lease's end moves to the deadline at once, so its consumer sees it; the queue ends it then
//! with the reason "reclaimed".

use super::metadata::provider_execution;
use super::views::as_seen;
use super::{record_same_phase, wrong_phase};
use crate::market::store::{self, Booking};
use crate::market::types::*;
use crate::market::{billed_hours, check_text, policy, MarketError};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use crate::time::{utc, SECOND_NS};

use Phase::*;

/// The provider's notice that the lease ends at now + notice (at least the policy's
/// `reclaim_notice_seconds`): a lease ending sooner anyway is refused (nothing to reclaim).
/// The consumer pays for the time it had (billed to the started hour).
pub fn reclaim(rt: &impl Runtime, arg: ReclaimArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor) = provider_execution(rt, &arg.provider, arg.execution_id)?;
    check_text("reason", &arg.reason, false)?;
    if !matches!(execution.phase, Accepted | Waiting | Preparing | Available) {
        return Err(wrong_phase(execution.phase, "reclaim"));
    }
    if let Some(reclaim) = &execution.reclaim {
        return Err(MarketError::InvalidArgument {
            message: format!(
                "lease {} is already reclaimed: it ends at {}",
                execution.id,
                utc(reclaim.ends_at_ns)
            ),
        });
    }
    let least = policy::get().reclaim_notice_seconds.unwrap_or_default();
    let notice = arg.notice_seconds.unwrap_or(least);
    if notice < least {
        return Err(MarketError::InvalidArgument {
            message: format!("the notice must be at least {least} s, got {notice}"),
        });
    }
    let ends_at_ns = notice
        .checked_mul(SECOND_NS)
        .and_then(|notice| now.checked_add(notice))
        .filter(|&end| end < execution.end_ns)
        .ok_or_else(|| MarketError::InvalidWindow {
            message: format!(
                "the lease ends at {} anyway, before the notice would",
                utc(execution.end_ns)
            ),
        })?;
    // The booking shrinks to the deadline; a lease starting after it keeps its booking until
    // the queue cancels it at the deadline.
    let start_ns = execution.start_ns;
    if start_ns < ends_at_ns {
        store::book(
            execution.item_id,
            Booking {
                start_ns,
                end_ns: ends_at_ns,
                execution_id: execution.id,
            },
        );
        execution.end_ns = ends_at_ns;
        execution.total_price = execution
            .price_per_hour
            .saturating_mul(billed_hours(start_ns, ends_at_ns));
    }
    execution.reclaim = Some(Reclaim {
        noticed_at_ns: now,
        ends_at_ns,
        reason: arg.reason,
    });
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    let why = format!("reclaimed by the provider: ends at {}", utc(ends_at_ns));
    record_same_phase(now, &actor, &execution, &why);
    let execution_id = execution.id;
    queue::schedule(rt, ends_at_ns, Task::EndLease { execution_id });
    Ok(as_seen(rt, execution))
}

/// When the lease ends: its end, or a reclaim's deadline before it.
pub(super) fn ends_at(execution: &Execution) -> u64 {
    execution
        .reclaim
        .as_ref()
        .map_or(execution.end_ns, |r| r.ends_at_ns.min(execution.end_ns))
}

/// Why a reclaimed lease ended, for its final phase.
pub(super) fn ended_why(reclaim: &Reclaim) -> String {
    format!("reclaimed by the provider: {}", reclaim.reason)
}

#[cfg(test)]
mod tests;
