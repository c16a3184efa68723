//! Availability (esi-leap's available_start / available_end): the unbooked time of an item or
//! of a SKU's items in a range, read from the heap index (no stable-memory read), a page of
//! items at a time and a bounded number of windows per item.

use super::offers::Rules;
use super::types::{AvailabilityArg, AvailabilityPage, ItemAvailability};
use super::{index, store};
use super::{page_limit, sku, MarketError};
use crate::runtime::Runtime;
use candid::Principal;
use std::cell::OnceCell;

/// Most windows one item lists (a fragmented calendar says `truncated`).
pub const MAX_WINDOWS_PER_ITEM: usize = 64;
/// Most items of a SKU one page lists: 200 fragmented calendars cost about 20 M instructions.
pub const MAX_ITEMS_PER_PAGE: u32 = 200;
/// Widest range one call may ask about.
const MAX_RANGE_NS: u64 = 366 * crate::time::DAY_NS;

pub fn query(rt: &impl Runtime, arg: AvailabilityArg) -> Result<AvailabilityPage, MarketError> {
    if arg.to_ns <= arg.from_ns || arg.to_ns - arg.from_ns > MAX_RANGE_NS {
        return Err(MarketError::InvalidWindow {
            message: "to_ns must be after from_ns, by at most 366 days".into(),
        });
    }
    let caller = rt.caller();
    let controller = rt.is_controller(&caller);
    // Time already past cannot be booked.
    let now = rt.time();
    let from_ns = arg.from_ns.max(now);
    let (ids, more) = match (arg.item_id, &arg.sku) {
        (Some(item_id), None) => (vec![item_id], false),
        (None, Some(given)) => {
            if arg.limit.is_some_and(|limit| limit > MAX_ITEMS_PER_PAGE) {
                return Err(MarketError::TooMany {
                    what: "limit".into(),
                    max: MAX_ITEMS_PER_PAGE,
                });
            }
            let limit = page_limit(arg.limit)?;
            let sku = sku::canonical(given)?;
            index::sku_items_after(&sku, arg.after.unwrap_or(0), limit)
        }
        _ => {
            return Err(MarketError::InvalidArgument {
                message: "name exactly one of item_id and sku".into(),
            })
        }
    };
    let next = more.then(|| ids.last().copied()).flatten();
    let items = ids
        .into_iter()
        .filter_map(|item_id| {
            // A private offer shows only to those it names, the controllers and its provider's
            // delegates (looked up only when such an offer is met).
            let delegate = OnceCell::new();
            let visible = |rules: &Rules| {
                controller
                    || rules.visible(&caller)
                    || *delegate.get_or_init(|| is_delegate(item_id, &caller, now))
            };
            let (windows, truncated) =
                index::free_windows(item_id, from_ns, arg.to_ns, visible, MAX_WINDOWS_PER_ITEM);
            (!windows.is_empty()).then(|| ItemAvailability {
                item_id,
                sku: index::item_sku(item_id).unwrap_or_default(),
                windows,
                truncated,
            })
        })
        .collect();
    Ok(AvailabilityPage { items, next })
}

/// Whether `caller` acts for the provider of `item_id`.
fn is_delegate(item_id: u64, caller: &Principal, now: u64) -> bool {
    store::item(item_id).is_some_and(|item| {
        store::is_delegate(&store::provider_key(&item.provider_pem), caller, now)
    })
}

#[cfg(test)]
mod tests;
