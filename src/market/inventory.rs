//! Inventory items: registration by providers, the status transition table, listing and the
//! SKU portal view.
//!
//! ```text
//! provider:  available ⇄ maintenance ─► archiving ─► (removed)
//!            available ─► archiving ─► available      rebuilding ─► available | maintenance
//! market:    available ─► reserving ─► leased ─► rebuilding ─► available | maintenance
//!                             └──────────────────────► rebuilding
//! ```

use super::audit::{self, Change};
use super::types::*;
use super::MarketError;
use super::{check_text, delegation, execution, index, lease, offers, page_limit, sku, store};
use crate::catalog::provider::ProviderKey;
use crate::provision;
use crate::runtime::Runtime;
use std::collections::HashSet;

use ItemStatus::*;

/// Most items one `register` call may carry.
pub const MAX_ITEMS_PER_CALL: usize = 500;
/// Most labels one item may carry.
pub const MAX_LABELS: usize = 32;

/// Every allowed status change and who may make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The provider, through `inventory_set_status`.
    Provider,
    /// The market itself (a lease starting, running, ending; a rebuild finishing).
    Market,
}

pub const TRANSITIONS: &[(ItemStatus, ItemStatus, By)] = &[
    (Available, Maintenance, By::Provider),
    (Available, Archiving, By::Provider),
    (Maintenance, Available, By::Provider),
    (Maintenance, Archiving, By::Provider),
    (Archiving, Available, By::Provider),
    (Rebuilding, Available, By::Provider),
    (Rebuilding, Maintenance, By::Provider),
    (Available, Reserving, By::Market),
    (Reserving, Leased, By::Market),
    (Reserving, Rebuilding, By::Market),
    (Leased, Rebuilding, By::Market),
    (Rebuilding, Available, By::Market),
    (Rebuilding, Maintenance, By::Market),
    // A node its provider deployed outside the market is undeployed before it is back.
    (Maintenance, Rebuilding, By::Market),
];

pub fn allowed(from: ItemStatus, to: ItemStatus, by: By) -> bool {
    TRANSITIONS.contains(&(from, to, by))
}

/// Registers new items and updates known ones (same provider, resource type and uuid); returns
/// them in input order. Nothing is written unless every input is valid.
pub fn register(rt: &impl Runtime, arg: InventoryRegisterArg) -> Result<Vec<Item>, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    let catalog = crate::catalog::store::provider(&provider).map(|record| record.id);
    let skus = check_inputs(&arg.items, catalog)?;
    let now = rt.time();
    let pem = provider.to_pem();
    let items = arg.items.into_iter().zip(skus);
    Ok(items
        .map(|(input, sku)| write_item(now, &actor, &provider, &pem, input, sku))
        .collect())
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

/// The provider moves its item (see `TRANSITIONS`). Taking it out of service rejects the
/// OFFERED executions holding it; archiving also withdraws its open offers, and is refused
/// while an accepted lease on it has not ended.
pub fn set_status(rt: &impl Runtime, arg: InventorySetStatusArg) -> Result<Item, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    check_text("reason", &arg.reason, true)?;
    let mut item = owned_item(&provider, arg.item_id)?;
    let (from, to) = (item.status, arg.status);
    if !allowed(from, to, By::Provider) {
        return Err(MarketError::InvalidTransition { from, to });
    }
    let now = rt.time();
    if to == Archiving {
        if let Some(busy) = accepted_booking(item.id, now) {
            return Err(busy);
        }
    }
    let why = if arg.reason.is_empty() {
        "set by its provider"
    } else {
        &arg.reason
    };
    if from == Maintenance && to == Available && provision::service::direct_deploy_on(item.id) {
        // The node still carries what its provider deployed outside the market: clean first.
        let why = "back to the market: undeploying what its provider deployed";
        move_item(now, &actor, By::Market, &mut item, Rebuilding, why)?;
        provision::service::begin_direct_undeploy(rt, &item);
        return Ok(item);
    }
    move_item(now, &actor, By::Provider, &mut item, to, why)?;
    if matches!(to, Maintenance | Archiving) {
        reject_holds(now, &actor, item.id, |_| true, "item taken out of service")?;
    }
    if to == Archiving {
        offers::withdraw_item_offers(now, &actor, item.id, "item archived");
    }
    if to == Available {
        if from == Maintenance {
            crate::ironic::sim::repaired(item.id);
        }
        lease::wake_waiting(rt, item.id);
    }
    Ok(item)
}

/// `ItemBusy` for a booking of an accepted lease (past OFFERED) that ends after `now`.
fn accepted_booking(item_id: u64, now: u64) -> Option<MarketError> {
    store::item_bookings(item_id)
        .into_iter()
        .find(|booking| {
            booking.end_ns > now
                && store::execution(booking.execution_id)
                    .is_none_or(|execution| execution.phase != Phase::Offered)
        })
        .map(|booking| MarketError::ItemBusy {
            item_id,
            execution_id: booking.execution_id,
        })
}

/// Rejects the OFFERED executions holding `item_id` that `which` picks: their holds are on a
/// resource (or offer) that can no longer be given.
/// Takes an available item out of the market (its provider uses it outside, e.g. a direct
/// `provision_server`): Maintenance, and the holds on it end. Refused unless it is Available.
pub fn take_out_of_service(
    now: u64,
    actor: &Actor,
    item: &mut Item,
    why: &str,
) -> Result<(), MarketError> {
    move_item(now, actor, By::Provider, item, Maintenance, why)?;
    reject_holds(now, actor, item.id, |_| true, "item taken out of service")
}

pub(super) fn reject_holds(
    now: u64,
    actor: &Actor,
    item_id: u64,
    mut which: impl FnMut(&Execution) -> bool,
    why: &str,
) -> Result<(), MarketError> {
    for booking in store::item_bookings(item_id) {
        let Some(mut execution) = store::execution(booking.execution_id) else {
            continue;
        };
        if execution.phase == Phase::Offered && which(&execution) {
            execution::transition(now, actor, &mut execution, Phase::Rejected, why)?;
        }
    }
    Ok(())
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

pub fn list(arg: InventoryListArg) -> Result<ItemPage, MarketError> {
    let provider = arg
        .provider
        .as_ref()
        .map(ProviderKey::parse_for_lookup)
        .transpose()
        .map_err(|message| MarketError::InvalidKey { message })?;
    let sku = arg.sku.as_deref().map(sku::canonical).transpose()?;
    let limit = page_limit(arg.limit)?;
    let after = arg.after.unwrap_or(0);
    let keep = |item: &Item| {
        sku.as_ref().is_none_or(|sku| *sku == item.sku)
            && arg.status.is_none_or(|status| status == item.status)
    };
    let items = match provider {
        Some(provider) => store::provider_items_after(&provider, after, keep, limit),
        None => store::items_after(after, keep, limit),
    };
    let next = match items.last() {
        Some(last) if items.len() == limit => Some(last.id),
        _ => None,
    };
    Ok(ItemPage { items, next })
}

/// One entry per SKU present, sorted by SKU (pez `GET /products`).
pub fn products(now: u64) -> Vec<Product> {
    // From the heap summaries: decoding every item from stable memory would outgrow a query
    // at ten thousand items.
    let mut products = Vec::new();
    index::for_each_sku(|sku, items| {
        let mut product = empty_product(sku);
        for (item_id, status) in items {
            product.total += 1;
            if status != Available
                || store::overlapping_booking(item_id, now, now.saturating_add(1)).is_some()
            {
                continue;
            }
            product.available += 1;
            // Cheapest first: the first covering `now` is the item's price.
            let price = index::item_open_offers(item_id)
                .into_iter()
                .find(|open| open.start_ns <= now && now < open.end_ns)
                .map(|open| open.price_per_hour);
            if let Some(price) = price {
                product.leasable_now += 1;
                product.min_price_per_hour = Some(
                    product
                        .min_price_per_hour
                        .map_or(price, |min| min.min(price)),
                );
            }
        }
        products.push(product);
    });
    products
}

fn empty_product(sku_text: &str) -> Product {
    let sku = sku::parse(sku_text).expect("stored SKUs are canonical");
    Product {
        sku: sku_text.into(),
        tier: sku.tier,
        tier_name: sku::tier_name(sku.tier).unwrap_or_default().into(),
        kind: sku.kind.to_string(),
        kind_name: sku::kind_name(sku.kind).unwrap_or_default().into(),
        size: sku.size,
        total: 0,
        available: 0,
        leasable_now: 0,
        min_price_per_hour: None,
    }
}

/// Moves `item` to `to` if the table allows it for `by`; records, stores, re-indexes.
/// `lease_id` survives only into Reserving and Leased (the lease code sets it first).
pub fn move_item(
    now: u64,
    actor: &Actor,
    by: By,
    item: &mut Item,
    to: ItemStatus,
    why: &str,
) -> Result<(), MarketError> {
    let from = item.status;
    if !allowed(from, to, by) {
        return Err(MarketError::InvalidTransition { from, to });
    }
    item.status = to;
    item.updated_at_ns = now;
    if !matches!(to, Reserving | Leased) {
        item.lease_id = None;
    }
    store::put_item(item);
    index::sync_item(item);
    record(now, actor, item, from.name(), to.name(), why);
    Ok(())
}

/// The manager's task: a Rebuilding item whose rebuild time is over becomes Available.
pub fn finish_rebuild(rt: &impl Runtime, item_id: u64) {
    let Some(mut item) = store::item(item_id) else {
        return;
    };
    // The table allows the market only Rebuilding → Available here; an item that moved on
    // meanwhile (or a retried task) is refused, which is the idempotence tasks need.
    let moved = move_item(
        rt.time(),
        &Actor::Canister,
        By::Market,
        &mut item,
        Available,
        "rebuild finished",
    );
    if moved.is_ok() {
        lease::wake_waiting(rt, item_id);
    }
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

/// Providers, delegates, items and bookings for the market's tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::catalog::provider::ProviderKeyInput;
    use crate::catalog::signing;
    use crate::market::index::OpenOffer;
    use crate::market::store::{Booking, Meta};
    use crate::runtime::FakeRuntime;
    use candid::Principal;

    /// The catalog tests' provider, so a test can publish offerings its items name.
    pub const SECRET: [u8; 32] = crate::catalog::publish::testing::SECRET;
    pub const OTHER_SECRET: [u8; 32] = [8; 32];

    pub fn key_input(secret: &[u8; 32]) -> ProviderKeyInput {
        ProviderKeyInput::Raw(signing::provider_of(secret).as_bytes().to_vec().into())
    }

    pub fn pem(secret: &[u8; 32]) -> String {
        signing::provider_of(secret).to_pem()
    }

    /// The principal that acts for the provider of `secret`: one per provider.
    pub fn delegate(secret: &[u8; 32]) -> Principal {
        Principal::from_slice(&[secret[0], 0xde, 0x1e])
    }

    /// Makes `delegate(secret)` the caller, delegating it first if needed.
    pub fn act_for(rt: &FakeRuntime, secret: &[u8; 32]) {
        let provider = signing::provider_of(secret);
        let principal = delegate(secret);
        if !store::is_delegate(&provider, &principal) {
            let seq = store::delegation_seq(&provider) + 1;
            let arg = delegation::signed(secret, &FakeRuntime::CANISTER_ID, principal, true, seq);
            delegation::delegate(rt, arg).unwrap();
        }
        rt.caller.set(principal);
    }

    pub fn input(uuid: &str, sku: &str) -> ItemInput {
        ItemInput {
            resource_type: "ironic_node".into(),
            resource_uuid: uuid.into(),
            sku: sku.into(),
            attributes: Attributes {
                cores: 8,
                memory_mb: 32_768,
                storage_gb: 500,
                resource_class: "baremetal.large".into(),
                ..Attributes::default()
            },
            offering_key: None,
        }
    }

    /// Registers one item of the provider of `secret`, acting for it.
    pub fn register_item(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str, sku: &str) -> Item {
        act_for(rt, secret);
        let arg = InventoryRegisterArg {
            provider: key_input(secret),
            items: vec![input(uuid, sku)],
        };
        register(rt, arg).unwrap().remove(0)
    }

    /// An execution in `phase` booked on the item, as offersets and leases make them.
    pub fn booked_execution(
        item: &Item,
        offer_id: u64,
        start_ns: u64,
        end_ns: u64,
        phase: Phase,
    ) -> Execution {
        let execution = Execution {
            id: store::next_execution_id(),
            offerset_id: None,
            offer_id,
            item_id: item.id,
            provider_pem: item.provider_pem.clone(),
            sku: item.sku.clone(),
            resource_type: item.resource_type.clone(),
            resource_uuid: item.resource_uuid.clone(),
            attributes: item.attributes.clone(),
            consumer: Principal::from_slice(&[42; 29]),
            project: "project".into(),
            image: "ubuntu-24.04".into(),
            start_ns,
            end_ns,
            price_per_hour: 100,
            total_price: 100,
            phase,
            phase_since_ns: start_ns,
            reason: None,
            expires_at_ns: end_ns,
            lessee_key: None,
            consumer_meta: None,
            procurement_meta: None,
            created_at_ns: start_ns,
            updated_at_ns: start_ns,
        };
        store::put_execution(&execution);
        let booking = Booking {
            start_ns,
            end_ns,
            execution_id: execution.id,
        };
        store::book(item.id, booking);
        execution
    }

    pub fn last_audit() -> AuditEntry {
        audit::entry(audit::len()).unwrap()
    }

    /// Everything a refused call must leave as it was.
    #[derive(Debug, PartialEq)]
    pub struct State {
        items: Vec<Item>,
        offers: Vec<Offer>,
        executions: Vec<Execution>,
        bookings: Vec<Vec<Booking>>,
        index: Vec<OpenOffer>,
        audit: u64,
        tasks: u64,
        meta: Meta,
    }

    pub fn state() -> State {
        let items = store::items_after(0, |_| true, usize::MAX);
        let mut executions = Vec::new();
        store::for_each_execution(|execution| executions.push(execution));
        let mut index = Vec::new();
        index::for_each_cheapest(|open| {
            index.push(open.clone());
            true
        });
        State {
            bookings: items.iter().map(|i| store::item_bookings(i.id)).collect(),
            items,
            offers: store::offers_after(0, |_| true, usize::MAX),
            executions,
            index,
            audit: audit::len(),
            tasks: crate::manager::queue_len(),
            meta: store::meta(),
        }
    }
}

#[cfg(test)]
mod tests;
