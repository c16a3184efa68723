//! The history of the canister's liquid cycle balance, and the burn rate it implies.

use crate::memory::{self, Memory};
use ic_stable_structures::StableBTreeMap;
use std::cell::RefCell;

const DAY_NS: u128 = crate::time::DAY_NS as u128;

thread_local! {
    /// time_ns → liquid balance, oldest first.
    static HISTORY: RefCell<StableBTreeMap<u64, u128, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::CYCLES_HISTORY)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    HISTORY.with(|_| ());
}

/// Records `balance` at `now`, keeping the newest `max_len` samples. Recording again at the same
/// time replaces the sample, so repeating a run changes nothing.
pub fn record(now: u64, balance: u128, max_len: u32) {
    HISTORY.with_borrow_mut(|history| {
        history.insert(now, balance);
        while history.len() > u64::from(max_len) {
            history.pop_first();
        }
    });
}

#[cfg(test)]
pub fn len() -> u64 {
    HISTORY.with_borrow(|history| history.len())
}

/// Cycles burned per day between the oldest and the newest sample. `None` with fewer than two
/// samples, or when the balance grew (a top-up in the window hides the burn).
pub fn burn_per_day() -> Option<u128> {
    HISTORY.with_borrow(|history| burn_rate(history.first_key_value()?, history.last_key_value()?))
}

fn burn_rate((t0, oldest): (u64, u128), (t1, newest): (u64, u128)) -> Option<u128> {
    let elapsed = u128::from(t1.checked_sub(t0).filter(|&ns| ns > 0)?);
    let burned = oldest.checked_sub(newest)?;
    // burned * DAY_NS / elapsed, split so the product cannot overflow: the remainder is below
    // elapsed < 2^64 and DAY_NS < 2^47.
    Some(
        (burned / elapsed)
            .saturating_mul(DAY_NS)
            .saturating_add(burned % elapsed * DAY_NS / elapsed),
    )
}

#[cfg(test)]
mod tests;
