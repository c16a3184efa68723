use super::*;

const SECOND: u64 = crate::time::SECOND_NS;
const LIMITS: Limits = Limits {
    per_minute: 60,
    burst: 3,
};

fn who(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

#[test]
fn a_burst_then_the_rate() {
    let mut buckets = Buckets::default();
    for _ in 0..3 {
        assert_eq!(buckets.take(who(1), 0, LIMITS), Ok(()));
    }
    assert_eq!(buckets.take(who(1), 0, LIMITS), Err(1));
    assert_eq!(buckets.allows(who(1), 0, LIMITS), Err(1));
    // Someone else is not affected.
    assert_eq!(buckets.take(who(2), 0, LIMITS), Ok(()));
    // One call a second comes back; half a second is not enough.
    assert_eq!(buckets.take(who(1), SECOND / 2, LIMITS), Err(1));
    assert_eq!(buckets.take(who(1), SECOND, LIMITS), Ok(()));
    assert_eq!(buckets.take(who(1), SECOND, LIMITS), Err(1));
    // Idle long enough, the bucket is full again, never more than the burst.
    for _ in 0..3 {
        assert_eq!(buckets.take(who(1), 3600 * SECOND, LIMITS), Ok(()));
    }
    assert!(buckets.take(who(1), 3600 * SECOND, LIMITS).is_err());
}

#[test]
fn retry_after_reflects_a_slow_rate() {
    let slow = Limits {
        per_minute: 1,
        burst: 1,
    };
    let mut buckets = Buckets::default();
    assert_eq!(buckets.take(who(1), 0, slow), Ok(()));
    assert_eq!(buckets.take(who(1), 0, slow), Err(60));
    assert_eq!(buckets.take(who(1), 30 * SECOND, slow), Err(30));
    assert_eq!(buckets.take(who(1), 60 * SECOND, slow), Ok(()));
}

#[test]
fn a_clock_going_back_neither_refills_nor_panics() {
    let mut buckets = Buckets::default();
    assert_eq!(buckets.take(who(1), 10 * SECOND, LIMITS), Ok(()));
    assert_eq!(buckets.take(who(1), 0, LIMITS), Ok(()));
    assert_eq!(buckets.take(who(1), 0, LIMITS), Ok(()));
    assert!(buckets.take(who(1), 0, LIMITS).is_err());
}

#[test]
fn the_number_of_buckets_is_bounded_and_the_stalest_goes() {
    let mut buckets = Buckets::default();
    for n in 0..MAX_BUCKETS as u64 {
        let caller = Principal::from_slice(&n.to_be_bytes());
        assert_eq!(buckets.take(caller, n, LIMITS), Ok(()));
    }
    assert_eq!(buckets.by_caller.len(), MAX_BUCKETS);
    assert_eq!(buckets.take(who(9), MAX_BUCKETS as u64, LIMITS), Ok(()));
    assert_eq!(buckets.by_caller.len(), MAX_BUCKETS);
    let first = Principal::from_slice(&0u64.to_be_bytes());
    assert!(!buckets.by_caller.contains_key(&Subject::from(first)));
}

#[test]
fn provider_keys_and_failed_signatures_have_buckets_of_their_own() {
    let mut buckets = Buckets::default();
    let key = Subject::ProviderKey([1; 32]);
    for _ in 0..3 {
        assert_eq!(buckets.take(key, 0, LIMITS), Ok(()));
    }
    assert_eq!(buckets.take(key, 0, LIMITS), Err(1));
    // Another key, the failed-signature bucket and the anonymous principal are untouched.
    assert_eq!(
        buckets.allows(Subject::ProviderKey([2; 32]), 0, LIMITS),
        Ok(())
    );
    assert_eq!(buckets.allows(Subject::FailedSignatures, 0, LIMITS), Ok(()));
    assert_eq!(buckets.allows(Principal::anonymous(), 0, LIMITS), Ok(()));
}
