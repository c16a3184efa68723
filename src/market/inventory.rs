//! Inventory items: registration by providers, the status transition table, listing and the
//! SKU portal view.
//!
//! ```text
//! provider:  available ⇄ maintenance ─► archiving ─► (removed)
//!            available ─► archiving ─► available      rebuilding ─► available | maintenance
//! market:    available ─► reserving ─► leased ─► rebuilding ─► available | maintenance
//!                             └──────────────────────► rebuilding
//! ```

mod listing;
mod registration;
mod status;

pub use listing::{list, products};
pub use registration::{register, remove, MAX_ITEMS_PER_CALL, MAX_LABELS};
pub(super) use status::reject_holds;
pub use status::{
    allowed, finish_rebuild, move_item, set_status, take_out_of_service, By, TRANSITIONS,
};

use super::audit::{self, Change};
use super::types::*;
use super::MarketError;
use crate::catalog::provider::ProviderKey;

pub fn get(id: u64) -> Result<Item, MarketError> {
    super::store::item(id).ok_or(MarketError::UnknownItem { id })
}

/// The provider's own item, or the typed error for an unknown or foreign one.
pub(super) fn owned_item(provider: &ProviderKey, id: u64) -> Result<Item, MarketError> {
    let item = get(id)?;
    if item.provider_pem != provider.to_pem() {
        return Err(MarketError::NotAuthorized {
            message: format!("item {id} belongs to another provider"),
        });
    }
    Ok(item)
}

fn record(now: u64, actor: &Actor, item: &Item, from: &str, to: &str, why: &str) {
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Item(item.id),
            from,
            to,
            why,
            consumer: None,
            provider_pem: &item.provider_pem,
        },
    );
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
