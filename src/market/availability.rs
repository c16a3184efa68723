//! Availability (esi-leap's available_start / available_end): the unbooked time of an item or
//! of a SKU's items in a range, read from the heap index (no stable-memory read), a page of
//! items at a time and a bounded number of windows per item.

use super::index;
use super::offers::Rules;
use super::types::{AvailabilityArg, AvailabilityPage, ItemAvailability};
use super::{page_limit, sku, MarketError};
use crate::runtime::Runtime;

/// Most windows one item lists (a fragmented calendar says `truncated`).
pub const MAX_WINDOWS_PER_ITEM: usize = 64;
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
    // A private offer shows only to those it names (and controllers).
    let visible = |rules: &Rules| controller || rules.visible(&caller);
    let (ids, more) = match (arg.item_id, &arg.sku) {
        (Some(item_id), None) => (vec![item_id], false),
        (None, Some(given)) => {
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
            let (windows, truncated) = index::free_windows(
                item_id,
                arg.from_ns,
                arg.to_ns,
                visible,
                MAX_WINDOWS_PER_ITEM,
            );
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

#[cfg(test)]
mod tests;
