//! The market: inventory, offers, offersets, executions (contracts, leases), policies and the
//! audit log. One model unites the seeds (see `docs/market.md` for each seed's flow):
//!
//! - an **item** is one leasable unit (pez inventory item, FLOCX resource, Ironic node);
//! - an **offer** makes an item available for a window at a price (FLOCX);
//! - an **offerset** answers a consumer's request with executions in OFFERED, each holding its
//!   item for the window until it expires (ExecutionBroker);
//! - an **execution**, once accepted, is the contract (FLOCX) and the lease (pez); the task queue
//!   moves it through its phases on the canister's timer.
//!
//! An offer is an availability window: a hold or lease books only its own window, so the
//! rest of the offer stays offered, and a lease that ends early gives its time back.
//!
//! No double booking: every hold and lease is a booking in the item's calendar
//! (`store::overlapping_booking`), checked and written within one message with no await in
//! between, so interleaved messages cannot both book one window.
//!
//! | module       | what it holds                                                          |
//! |--------------|------------------------------------------------------------------------|
//! | `types`      | the Candid types: records, arguments, views, `MarketError`              |
//! | `store`      | records and secondary maps in stable memory; the calendar              |
//! | `sku`        | `[tier][type].[size]` names                                             |
//! | `delegation` | providers authorize principals by signature                            |
//! | `inventory`  | items: register, status transitions, listing, the SKU portal view      |
//! | `offers`     | offers (availability windows): create, withdraw, expire, list; terms    |
//! | `availability` | the free windows of an item or a SKU                                 |
//! | `index`      | open offers on the heap, cheapest first, for matching                  |
//! | `offerset`   | requests: validation, policies, matching, holds (and their deposits), expiry |
//! | `execution`  | the phase machine                                                      |
//! | `lease`      | accept, cancel, extend, end; start and end on the timer; views         |
//! | `payments`   | escrow per execution: pulls, settlement, conservation (with a ledger)  |
//! | `payouts`    | where providers are paid: the account their key names                  |
//! | `policy`     | rules controllers set                                                  |
//! | `projects`   | groups of principals private offers are shown to                       |
//! | `retention`  | closed records (executions, offersets, offers) leave in time            |
//! | `audit`      | the append-only log of every change                                    |

pub mod audit;
pub mod availability;
pub mod delegation;
mod error;
pub mod execution;
pub mod index;
pub mod invariants;
pub mod inventory;
pub mod lease;
pub mod offers;
pub mod offerset;
pub mod operations;
pub mod payments;
pub mod payouts;
pub mod policy;
pub mod projects;
pub mod retention;
pub mod sku;
pub mod store;
pub mod types;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod paging_tests;

pub use error::MarketError;
pub use types::*;

/// Longest free-form text a caller may send (names, uuids, reasons, property values).
pub const MAX_TEXT_BYTES: usize = 256;
/// Most entries one page returns.
pub const MAX_PAGE: u32 = 500;
/// Entries a page returns when the caller names no limit.
pub const DEFAULT_PAGE: u32 = 100;

/// Most records a filtered listing (`inventory_list`, `offers_list`) examines in one call: a
/// filter that matches little gives a short page and a `next`, rather than one query walking
/// every record (about 0.8 M instructions each on the wasm).
pub const MAX_SCANNED: usize = 1_000;

/// A page of what `keep` accepts among `entries` (id order): at most `limit` of them, after
/// examining at most `scan` entries. Also, when the page is full or the budget spent, the
/// last id examined: the next page starts after it.
pub fn page_of<T>(
    entries: impl Iterator<Item = (u64, T)>,
    mut keep: impl FnMut(&T) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<T>, Option<u64>) {
    let mut page = Vec::new();
    for (scanned, (id, value)) in entries.enumerate() {
        if keep(&value) {
            page.push(value);
        }
        // A full page, or the budget spent: stop before reading (decoding) another entry.
        if page.len() == limit || scanned + 1 >= scan {
            return (page, Some(id));
        }
    }
    (page, None)
}

/// `limit` bounded to `1..=MAX_PAGE`, or the typed error for 0 and too many.
pub fn page_limit(limit: Option<u32>) -> Result<usize, MarketError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        0 => Err(MarketError::InvalidArgument {
            message: "limit must be at least 1".into(),
        }),
        n if n > MAX_PAGE => Err(MarketError::TooMany {
            what: "limit".into(),
            max: MAX_PAGE,
        }),
        n => Ok(n as usize),
    }
}

/// Refuses empty or overlong free text.
pub fn check_text(what: &str, text: &str, allow_empty: bool) -> Result<(), MarketError> {
    let bounds = crate::text::TextBounds {
        max_bytes: MAX_TEXT_BYTES,
        allow_empty,
        allow_control: true,
    };
    crate::text::check(what, text, bounds).map_err(MarketError::invalid)
}

/// Whole hours in `[start, end)`, rounded up: leases are priced by the started hour.
pub fn billed_hours(start_ns: u64, end_ns: u64) -> u64 {
    end_ns
        .saturating_sub(start_ns)
        .div_ceil(crate::time::HOUR_NS)
}
