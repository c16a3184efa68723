//! Inventory items: registration by providers, the status transition table, listing and the
//! SKU portal view. TODO(helper)

use super::types::*;
use crate::runtime::Runtime;

/// Every allowed status change and who may make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The provider, through `inventory_set_status`.
    Provider,
    /// The market itself (a lease starting, running, ending; a rebuild finishing).
    Market,
}

pub fn register(rt: &impl Runtime, arg: InventoryRegisterArg) -> Result<Vec<Item>, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn set_status(rt: &impl Runtime, arg: InventorySetStatusArg) -> Result<Item, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn remove(rt: &impl Runtime, arg: InventoryRemoveArg) -> Result<(), MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn get(id: u64) -> Result<Item, MarketError> {
    super::store::item(id).ok_or(MarketError::UnknownItem { id })
}

pub fn list(arg: InventoryListArg) -> Result<ItemPage, MarketError> {
    let _ = arg;
    todo!()
}

pub fn products(now: u64) -> Vec<Product> {
    let _ = now;
    todo!()
}

/// Moves `item` to `to` if the table allows it for `by`; records, stores, re-indexes.
pub fn move_item(
    now: u64,
    actor: &Actor,
    by: By,
    item: &mut Item,
    to: ItemStatus,
    why: &str,
) -> Result<(), MarketError> {
    let _ = (now, actor, by, item, to, why);
    todo!()
}

/// The manager's task: a Rebuilding item whose rebuild time is over becomes Available.
pub fn finish_rebuild(rt: &impl Runtime, item_id: u64) {
    let _ = (rt.time(), item_id);
    todo!()
}
