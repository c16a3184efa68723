//! Providers register items (new ones, or updates to known ones) and remove archived ones.

use super::{owned_item, record};
use crate::catalog::provider::ProviderKey;
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{check_text, delegation, index, sku, store};
use crate::runtime::Runtime;
use std::collections::HashSet;

use ItemStatus::*;

/// Most items one `register` call may carry.
pub const MAX_ITEMS_PER_CALL: usize = 500;
/// Most labels one item may carry.
pub const MAX_LABELS: usize = 32;

/// Registers new items and updates known ones (same provider, resource type and uuid); returns
/// them in input order. Nothing is written unless every input is valid.
pub fn register(rt: &impl Runtime, arg: InventoryRegisterArg) -> Result<Vec<Item>, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    let catalog = crate::catalog::store::provider(&provider).map(|record| record.id);
    let skus = check_inputs(&arg.items, catalog)?;
    check_item_cap(&provider, &arg.items)?;
    let now = rt.time();
    let pem = provider.to_pem();
    let items = arg.items.into_iter().zip(skus);
    Ok(items
        .map(|(input, sku)| write_item(now, &actor, &provider, &pem, input, sku))
        .collect())
}

/// The canister's global item cap: the new items (re-registered ones are updates) must fit.
fn check_item_cap(provider: &ProviderKey, items: &[ItemInput]) -> Result<(), MarketError> {
    let max = crate::config::get().max_items;
    let new = items
        .iter()
        .filter(|i| store::item_by_resource(provider, &i.resource_type, &i.resource_uuid).is_none())
        .count() as u64;
    if new > 0 && store::item_count() + new > max {
        return Err(MarketError::CapacityReached {
            what: "items".into(),
            max,
        });
    }
    Ok(())
}

/// Checks the count, each input and that no resource appears twice; returns canonical SKUs.
fn check_inputs(items: &[ItemInput], catalog: Option<u32>) -> Result<Vec<String>, MarketError> {
    if items.is_empty() {
        return Err(MarketError::invalid("items must not be empty"));
    }
    if items.len() > MAX_ITEMS_PER_CALL {
        return Err(MarketError::TooMany {
            what: "items".into(),
            max: MAX_ITEMS_PER_CALL as u32,
        });
    }
    let mut seen = HashSet::new();
    let mut skus = Vec::with_capacity(items.len());
    for (at, input) in items.iter().enumerate() {
        skus.push(check_input(at, input, catalog)?);
        if !seen.insert((&input.resource_type, &input.resource_uuid)) {
            return Err(MarketError::invalid(format!(
                "items[{at}]: resource {} {} appears more than once",
                input.resource_type, input.resource_uuid
            )));
        }
    }
    Ok(skus)
}

/// Checks one input; returns its canonical SKU.
fn check_input(at: usize, input: &ItemInput, catalog: Option<u32>) -> Result<String, MarketError> {
    for (field, text) in [
        ("resource_type", &input.resource_type),
        ("resource_uuid", &input.resource_uuid),
    ] {
        check_text(&format!("items[{at}].{field}"), text, false)?;
        // The store keys resources by type and uuid joined with a line break.
        if text.contains('\n') {
            return Err(MarketError::invalid(format!(
                "items[{at}].{field} must not contain a line break"
            )));
        }
    }
    let attributes = &input.attributes;
    check_text(
        &format!("items[{at}].attributes.resource_class"),
        &attributes.resource_class,
        true,
    )?;
    if attributes.labels.len() > MAX_LABELS {
        return Err(MarketError::TooMany {
            what: format!("items[{at}].attributes.labels"),
            max: MAX_LABELS as u32,
        });
    }
    for (i, label) in attributes.labels.iter().enumerate() {
        check_text(&format!("items[{at}].attributes.labels[{i}]"), label, false)?;
    }
    if let Some(key) = &input.offering_key {
        check_offering_key(at, key, catalog)?;
    }
    sku::canonical(&input.sku)
}

/// `key` must name an offering in the provider's catalog (`catalog`: its catalog id, if any).
fn check_offering_key(at: usize, key: &str, catalog: Option<u32>) -> Result<(), MarketError> {
    check_text(&format!("items[{at}].offering_key"), key, false)?;
    if catalog.is_some_and(|id| crate::catalog::index::lookup(id, key).is_some()) {
        return Ok(());
    }
    Err(MarketError::invalid(format!(
        "items[{at}].offering_key {key:?} is not in the provider's catalog"
    )))
}

fn write_item(
    now: u64,
    actor: &Actor,
    provider: &ProviderKey,
    pem: &str,
    input: ItemInput,
    sku: String,
) -> Item {
    let known = store::item_by_resource(provider, &input.resource_type, &input.resource_uuid)
        .and_then(store::item);
    match known {
        Some(item) => update_item(now, actor, item, input, sku),
        None => new_item(now, actor, pem, input, sku),
    }
}

/// A re-registered item keeps its id, status and history; an unchanged one is not rewritten,
/// so a provider may push its whole inventory again without filling the audit log.
fn update_item(now: u64, actor: &Actor, mut item: Item, input: ItemInput, sku: String) -> Item {
    if item.sku == sku
        && item.attributes == input.attributes
        && item.offering_key == input.offering_key
    {
        return item;
    }
    item.sku = sku;
    item.attributes = input.attributes;
    item.offering_key = input.offering_key;
    item.updated_at_ns = now;
    store::put_item(&item);
    index::sync_item(&item);
    let status = item.status.name();
    record(now, actor, &item, status, status, "updated");
    item
}

fn new_item(now: u64, actor: &Actor, pem: &str, input: ItemInput, sku: String) -> Item {
    let item = Item {
        id: store::next_item_id(),
        provider_pem: pem.into(),
        resource_type: input.resource_type,
        resource_uuid: input.resource_uuid,
        sku,
        attributes: input.attributes,
        offering_key: input.offering_key,
        status: Available,
        lease_id: None,
        created_at_ns: now,
        updated_at_ns: now,
    };
    store::put_item(&item);
    index::sync_item(&item);
    record(now, actor, &item, "", Available.name(), "registered");
    item
}

/// Deletes an Archiving item with nothing booked on it; its offers and audit entries remain.
pub fn remove(rt: &impl Runtime, arg: InventoryRemoveArg) -> Result<(), MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    let item = owned_item(&provider, arg.item_id)?;
    if item.status != Archiving {
        return Err(MarketError::InvalidTransition {
            from: item.status,
            to: Archiving,
        });
    }
    // Any booking left is a lease not yet finished (final phases unbook), even one whose end
    // has passed: its finish still needs the item.
    if let Some(booking) = store::item_bookings(item.id).first() {
        return Err(MarketError::ItemBusy {
            item_id: item.id,
            execution_id: booking.execution_id,
        });
    }
    store::remove_item(item.id);
    index::forget_item(item.id);
    record(
        rt.time(),
        &actor,
        &item,
        Archiving.name(),
        "removed",
        "removed by its provider",
    );
    Ok(())
}
