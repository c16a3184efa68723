//! Items, and the maps that find them by resource, by provider and by Ironic node.

use super::holds::count_provider_items;
use super::{ids_under, provider_key, records_after, ITEMS, NODE_ITEMS, PROVIDER_ITEMS, RESOURCES};
use crate::catalog::provider::ProviderKey;
use crate::market::types::Item;

fn resource_key(resource_type: &str, resource_uuid: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("{resource_type}\n{resource_uuid}")).into()
}

pub fn item(id: u64) -> Option<Item> {
    ITEMS.with_borrow(|items| items.get(&id))
}

pub fn item_by_resource(
    provider: &ProviderKey,
    resource_type: &str,
    resource_uuid: &str,
) -> Option<u64> {
    let key = (*provider, resource_key(resource_type, resource_uuid));
    RESOURCES.with_borrow(|resources| resources.get(&key))
}

/// Inserts or replaces an item.
pub fn put_item(item: &Item) {
    let provider = &provider_key(&item.provider_pem);
    let key = (
        *provider,
        resource_key(&item.resource_type, &item.resource_uuid),
    );
    RESOURCES.with_borrow_mut(|resources| resources.insert(key, item.id));
    let added = PROVIDER_ITEMS.with_borrow_mut(|index| index.insert((*provider, item.id), ()));
    if added.is_none() {
        count_provider_items(provider, 1);
    }
    if item.resource_type == IRONIC_NODE {
        let key = (node_key(&item.resource_uuid), item.id);
        NODE_ITEMS.with_borrow_mut(|index| index.insert(key, ()));
    }
    ITEMS.with_borrow_mut(|items| items.insert(item.id, item.clone()));
}

pub fn remove_item(id: u64) {
    let Some(item) = ITEMS.with_borrow_mut(|items| items.remove(&id)) else {
        return;
    };
    let provider = &provider_key(&item.provider_pem);
    let key = (
        *provider,
        resource_key(&item.resource_type, &item.resource_uuid),
    );
    RESOURCES.with_borrow_mut(|resources| resources.remove(&key));
    if PROVIDER_ITEMS
        .with_borrow_mut(|index| index.remove(&(*provider, id)))
        .is_some()
    {
        count_provider_items(provider, -1);
    }
    NODE_ITEMS.with_borrow_mut(|index| index.remove(&(node_key(&item.resource_uuid), id)));
}

/// The resource type of Ironic nodes, which provisioning deploys.
pub const IRONIC_NODE: &str = "ironic_node";

fn node_key(uuid: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(uuid).into()
}

/// Ids of the `ironic_node` items whose resource uuid is `uuid` (one per provider that has it).
pub fn node_items(uuid: &str) -> Vec<u64> {
    NODE_ITEMS.with_borrow(|index| ids_under(index, node_key(uuid), 0, usize::MAX))
}

/// Items with ids above `after` that `keep` accepts, in id order, at most `limit`.
pub fn items_after(
    after: u64,
    keep: impl FnMut(&Item) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Item>, Option<u64>) {
    records_after(&ITEMS, after, keep, limit, scan)
}

/// Every item, for the SKU view and rebuilding heap state.
pub fn for_each_item(mut f: impl FnMut(Item)) {
    ITEMS.with_borrow(|items| items.iter().for_each(|entry| f(entry.value())));
}

pub fn item_count() -> u64 {
    ITEMS.with_borrow(|items| items.len())
}

/// Ids of the provider's items above `after`, in id order, at most `limit`.
pub fn provider_item_ids(provider: &ProviderKey, after: u64, limit: usize) -> Vec<u64> {
    PROVIDER_ITEMS.with_borrow(|index| ids_under(index, *provider, after.saturating_add(1), limit))
}

/// The provider's items with ids above `after` that `keep` accepts, in id order (see
/// [`crate::market::page_of`]).
pub fn provider_items_after(
    provider: &ProviderKey,
    after: u64,
    keep: impl FnMut(&Item) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Item>, Option<u64>) {
    PROVIDER_ITEMS.with_borrow(|index| {
        ITEMS.with_borrow(|items| {
            let ids = index
                .range((*provider, after.saturating_add(1))..)
                .take_while(|entry| entry.key().0 == *provider)
                .map(|entry| entry.key().1);
            let entries = ids.filter_map(|id| Some((id, items.get(&id)?)));
            crate::market::page_of(entries, keep, limit, scan)
        })
    })
}
