//! Executions, and each consumer's and provider's.

use super::holds::count_holds;
use super::{
    ids_under, provider_key, records_after, CONSUMER_EXECUTIONS, EXECUTIONS, PROVIDER_EXECUTIONS,
};
use crate::catalog::provider::ProviderKey;
use crate::market::types::{Execution, Phase};
use candid::Principal;

pub fn execution(id: u64) -> Option<Execution> {
    EXECUTIONS.with_borrow(|executions| executions.get(&id))
}

/// Removes a closed execution and its index entries (it holds no booking and no hold).
pub fn remove_execution(execution: &Execution) {
    let provider = &provider_key(&execution.provider_pem);
    CONSUMER_EXECUTIONS.with_borrow_mut(|index| index.remove(&(execution.consumer, execution.id)));
    PROVIDER_EXECUTIONS.with_borrow_mut(|index| index.remove(&(*provider, execution.id)));
    EXECUTIONS.with_borrow_mut(|executions| executions.remove(&execution.id));
}

/// Inserts or replaces an execution.
pub fn put_execution(execution: &Execution) {
    let provider = &provider_key(&execution.provider_pem);
    CONSUMER_EXECUTIONS
        .with_borrow_mut(|index| index.insert((execution.consumer, execution.id), ()));
    PROVIDER_EXECUTIONS.with_borrow_mut(|index| index.insert((*provider, execution.id), ()));
    let before =
        EXECUTIONS.with_borrow_mut(|executions| executions.insert(execution.id, execution.clone()));
    // Every phase change is stored here, so the hold counters follow every path a hold
    // starts or ends by (accept, reject, expiry, withdrawal, maintenance).
    let was_held = before.is_some_and(|before| before.phase == Phase::Offered);
    let held = execution.phase == Phase::Offered;
    if was_held != held {
        let delta = if held { 1 } else { -1 };
        count_holds(&execution.consumer, provider, delta);
    }
}

/// Ids of the consumer's executions above `after`, in id order, at most `limit`.
pub fn consumer_execution_ids(consumer: &Principal, after: u64, limit: usize) -> Vec<u64> {
    CONSUMER_EXECUTIONS
        .with_borrow(|index| ids_under(index, *consumer, after.saturating_add(1), limit))
}

/// Ids of the executions on the provider's items above `after`, in id order, at most `limit`.
pub fn provider_execution_ids(provider: &ProviderKey, after: u64, limit: usize) -> Vec<u64> {
    PROVIDER_EXECUTIONS
        .with_borrow(|index| ids_under(index, *provider, after.saturating_add(1), limit))
}

/// Executions with ids above `after`, in id order (see [`crate::market::page_of`]).
pub fn executions_after(
    after: u64,
    keep: impl FnMut(&Execution) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Execution>, Option<u64>) {
    records_after(&EXECUTIONS, after, keep, limit, scan)
}

/// Every execution, for invariant checks and rebuilding heap state.
pub fn for_each_execution(mut f: impl FnMut(Execution)) {
    EXECUTIONS.with_borrow(|executions| executions.iter().for_each(|entry| f(entry.value())));
}
