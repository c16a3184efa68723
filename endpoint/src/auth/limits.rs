//! The IC's limits on requests (rs/limits and rs/validator in dfinity/ic) and its time format
//! in error messages.

/// How far ahead a request may expire: the IC's `MAX_INGRESS_TTL` (5 minutes)...
pub(super) const MAX_INGRESS_TTL_NANOS: u64 = 5 * 60 * 1_000_000_000;
/// ...plus `PERMITTED_DRIFT_AT_VALIDATOR` (30 s), so clients with a slightly fast clock that
/// ask for the full 5 minutes are not refused.
pub(super) const PERMITTED_DRIFT_NANOS: u64 = 30 * 1_000_000_000;
/// `MAXIMUM_NUMBER_OF_DELEGATIONS`.
pub(super) const MAX_DELEGATIONS: usize = 20;
/// `MAXIMUM_NUMBER_OF_TARGETS_PER_DELEGATION`.
pub(super) const MAX_TARGETS_PER_DELEGATION: usize = 1_000;
/// `MAXIMUM_NUMBER_OF_BYTES_IN_NONCE`.
pub(super) const MAX_NONCE_BYTES: usize = 32;
/// `MAXIMUM_NUMBER_OF_PATHS` in a read_state request.
pub(super) const MAX_PATHS: usize = 1_000;
/// `MAXIMUM_NUMBER_OF_LABELS_PER_PATH` in a read_state request.
pub(super) const MAX_LABELS_PER_PATH: usize = 127;

/// Nanoseconds since the Unix epoch as RFC 3339 UTC with nanoseconds, the way the IC prints a
/// `Time` in expiry errors (people read these to spot clock skew).
pub(super) fn rfc3339(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        nanos % 1_000_000_000
    )
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            super::rfc3339(1_709_251_199_123_456_789),
            "2024-02-29T23:59:59.123456789Z"
        );
        assert_eq!(super::rfc3339(u64::MAX), "2554-07-21T23:34:33.709551615Z");
    }
}
