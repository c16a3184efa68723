//! A lease's window, `[start_ns, end_ns)`: from the requested start (or now) and duration.

use crate::market::MarketError;
use crate::time::SECOND_NS;

/// The shortest lease anyone may ask for.
pub const MIN_LEASE_SECONDS: u64 = 60;
/// How far in the past a requested start may be (clock skew between client and IC).
const START_SKEW_NS: u64 = 60 * SECOND_NS;

/// A lease's window, `[start_ns, end_ns)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// The window `[start, start + duration)`, `start` defaulting to now; refuses short leases,
/// starts in the past and windows past the end of time. Shared with `lease::lease_by_sku`.
pub fn lease_window(
    now: u64,
    start_ns: Option<u64>,
    duration_seconds: u64,
) -> Result<Window, MarketError> {
    if duration_seconds < MIN_LEASE_SECONDS {
        return Err(MarketError::InvalidArgument {
            message: format!(
                "duration_seconds must be at least {MIN_LEASE_SECONDS}, got {duration_seconds}"
            ),
        });
    }
    let start_ns = start_ns.unwrap_or(now);
    if start_ns.saturating_add(START_SKEW_NS) < now {
        return Err(MarketError::InvalidWindow {
            message: format!(
                "the start is {} s in the past; at most {} s is allowed",
                (now - start_ns) / SECOND_NS,
                START_SKEW_NS / SECOND_NS
            ),
        });
    }
    let end_ns = duration_seconds
        .checked_mul(SECOND_NS)
        .and_then(|duration| start_ns.checked_add(duration))
        .ok_or_else(|| MarketError::InvalidWindow {
            message: "start + duration is past the end of representable time".into(),
        })?;
    Ok(Window { start_ns, end_ns })
}
