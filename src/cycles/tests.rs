use super::*;

use crate::time::HOUR_NS;

#[test]
fn record_keeps_the_newest_samples() {
    for i in 0..5 {
        record(i * HOUR_NS, 1_000 - u128::from(i), 3);
    }
    assert_eq!(len(), 3);
    // Oldest kept is hour 2 (998), newest hour 4 (996): 2 cycles per 2 hours.
    assert_eq!(burn_per_day(), Some(24));
}

#[test]
fn recording_twice_at_the_same_time_is_idempotent() {
    record(HOUR_NS, 10, 5);
    record(HOUR_NS, 10, 5);
    assert_eq!(len(), 1);
    assert_eq!(burn_per_day(), None);
}

#[test]
fn burn_rate_needs_two_samples_and_a_falling_balance() {
    assert_eq!(burn_per_day(), None);
    assert_eq!(burn_rate((0, 100), (HOUR_NS, 101)), None);
    assert_eq!(burn_rate((HOUR_NS, 100), (HOUR_NS, 90)), None);
    assert_eq!(burn_rate((0, 100), (HOUR_NS, 100)), Some(0));
    assert_eq!(burn_rate((0, 100), (HOUR_NS, 90)), Some(240));
    // 1 cycle over 3 days rounds down to 0 per day.
    assert_eq!(burn_rate((0, 1), (72 * HOUR_NS, 0)), Some(0));
}

#[test]
fn burn_rate_does_not_overflow() {
    assert_eq!(burn_rate((0, u128::MAX), (1, 0)), Some(u128::MAX));
    let huge = u128::MAX / 2;
    assert_eq!(burn_rate((0, huge), (DAY_NS as u64, 0)), Some(huge));
}
