//! The market's one small record (`Meta`): the id counters, the policies and the sweep flag.

use super::META;
use crate::market::types::{Currency, Policies};
use candid::{CandidType, Deserialize};

/// Id counters and policies: one small record.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub next_item: u64,
    pub next_offer: u64,
    pub next_offerset: u64,
    pub next_execution: u64,
    pub policies: Policies,
    /// Whether the records closed before retention existed were queued for it (see
    /// `retention::sweep`); `None` in what older versions stored, so a new canister has
    /// nothing to sweep and an upgraded one sweeps once.
    pub closed_swept: Option<bool>,
    /// What the market's ledger last said of itself (`market::payments::currency`).
    pub currency: Option<Currency>,
}

impl Default for Meta {
    fn default() -> Self {
        Self {
            next_item: 1,
            next_offer: 1,
            next_offerset: 1,
            next_execution: 1,
            policies: crate::market::policy::defaults(),
            closed_swept: Some(true),
            currency: None,
        }
    }
}

pub fn meta() -> Meta {
    META.with_borrow(|cell| cell.get().clone())
}

pub fn policies() -> Policies {
    META.with_borrow(|cell| cell.get().policies.clone())
}

/// What the market's ledger last said of itself.
pub fn stored_currency() -> Option<Currency> {
    META.with_borrow(|cell| cell.get().currency.clone())
}

pub fn set_currency(currency: Currency) {
    update_meta(|meta| meta.currency = Some(currency));
}

pub fn set_policies(policies: Policies) {
    update_meta(|meta| meta.policies = policies);
}

/// Whether the one sweep of records closed before retention is still to start; marks it
/// started. Writes only when it was.
pub fn start_closed_sweep() -> bool {
    if meta().closed_swept == Some(true) {
        return false;
    }
    update_meta(|meta| meta.closed_swept = Some(true));
    true
}

fn update_meta<R>(f: impl FnOnce(&mut Meta) -> R) -> R {
    META.with_borrow_mut(|cell| {
        let mut meta = cell.get().clone();
        let result = f(&mut meta);
        cell.set(meta);
        result
    })
}

pub fn next_item_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_item))
}

pub fn next_offer_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_offer))
}

pub fn next_offerset_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_offerset))
}

pub fn next_execution_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_execution))
}

fn bump(next: &mut u64) -> u64 {
    let id = *next;
    *next += 1;
    id
}
