//! Reading executions: one, a page of them, the contract and lease views, what each caller sees.

use super::{not_yours, wrong_phase};
use crate::market::store;
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{delegation, execution, page_limit, page_of};
use crate::runtime::Runtime;
use crate::time::DAY_NS;
use candid::Principal;

use Phase::*;

/// The execution, for its consumer, its provider's delegates and controllers.
pub fn get(rt: &impl Runtime, id: u64) -> Result<Execution, MarketError> {
    readable(rt, id)
}

/// Executions one `executions_list` call reads at most. A page filtered by phase may hold
/// fewer than `limit` (even none) with `next` set: the caller goes on from there.
pub const MAX_SCANNED: usize = 500;

/// The caller's executions as consumer, or a provider's as its delegate, in id order.
pub fn list(rt: &impl Runtime, arg: ExecutionsListArg) -> Result<ExecutionPage, MarketError> {
    // Never a consumer nor a delegate: refused, as its offerset requests and leases are.
    if rt.caller() == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal has no executions: call with an identity".into(),
        });
    }
    let limit = page_limit(arg.limit)?;
    let after = arg.after.unwrap_or(0);
    // The phase filter may pass over many executions: a call reads at most `MAX_SCANNED` of
    // them and says where to go on, so its cost does not grow with the caller's history.
    let want = if arg.phase.is_some() {
        MAX_SCANNED
    } else {
        limit
    };
    let ids = match arg.role {
        Role::Consumer => store::consumer_execution_ids(&rt.caller(), after, want),
        Role::Provider => {
            let input = arg.provider.as_ref().ok_or_else(|| {
                MarketError::invalid("provider is required to list a provider's executions")
            })?;
            let (provider, _) = delegation::acting_provider(rt, input)?;
            store::provider_execution_ids(&provider, after, want)
        }
    };
    let entries = ids
        .into_iter()
        .filter_map(|id| Some((id, store::execution(id)?)));
    let keep = |e: &Execution| arg.phase.is_none_or(|phase| phase == e.phase);
    let (executions, next) = page_of(entries, keep, limit, MAX_SCANNED);
    let executions = executions.into_iter().map(|e| as_seen(rt, e)).collect();
    Ok(ExecutionPage { executions, next })
}

/// The FLOCX contract view of an accepted execution.
pub fn contract(rt: &impl Runtime, id: u64) -> Result<Contract, MarketError> {
    let execution = readable(rt, id)?;
    let status = match execution.phase {
        Offered | Rejected | Expired => {
            return Err(wrong_phase(execution.phase, "view as a contract"))
        }
        Accepted | Waiting => ContractStatus::Open,
        Preparing | Available | Releasing => ContractStatus::Fulfilled,
        Completed | Cancelled | Failed => ContractStatus::Expired,
    };
    let properties = store::offer(execution.offer_id)
        .map(|offer| offer.properties)
        .unwrap_or_default();
    Ok(Contract {
        id: execution.id,
        offer_id: execution.offer_id,
        start_ns: execution.start_ns,
        end_ns: execution.end_ns,
        project: execution.project,
        status,
        properties,
        created_at_ns: execution.created_at_ns,
        updated_at_ns: execution.updated_at_ns,
    })
}

/// The pez lease view of an execution.
pub fn lease(rt: &impl Runtime, id: u64) -> Result<Lease, MarketError> {
    let execution = readable(rt, id)?;
    let status = match execution.phase {
        Offered | Accepted | Waiting => "pending",
        Preparing => "dispensing",
        Available => "dispensed",
        Releasing => "reclaiming",
        Completed => "reclaimed",
        Rejected | Expired | Cancelled => "cancelled",
        Failed => "failed",
    };
    Ok(Lease {
        id: execution.id,
        inventory_id: execution.item_id,
        username: execution.consumer,
        sku: execution.sku,
        lease_duration_days: (execution.end_ns - execution.start_ns).div_ceil(DAY_NS),
        lease_start_ns: execution.start_ns,
        lease_end_ns: execution.end_ns,
        consumer_meta: execution.consumer_meta,
        procurement_meta: execution.procurement_meta,
        task: LeaseTask {
            id: execution.id,
            status: status.into(),
        },
        reclaim: execution.reclaim,
    })
}

/// The execution as the caller may see it: `procurement_meta` only for its provider's delegates
/// and controllers. Every read of an execution goes through here.
pub fn as_seen(rt: &impl Runtime, mut execution: Execution) -> Execution {
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !delegation::caller_acts_for(rt, &execution.provider_pem) {
        execution.procurement_meta = None;
    }
    execution
}

/// The execution, if the caller is its consumer, its provider's delegate or a controller.
fn readable(rt: &impl Runtime, id: u64) -> Result<Execution, MarketError> {
    let execution = execution::get(id)?;
    let caller = rt.caller();
    if execution.consumer != caller
        && !rt.is_controller(&caller)
        && !delegation::caller_acts_for(rt, &execution.provider_pem)
    {
        return Err(not_yours(id));
    }
    Ok(as_seen(rt, execution))
}
