//! The market's records in stable memory, and the secondary maps that find them.
//!
//! Records are Candid (new optional fields keep old entries readable). Only the market's own
//! modules write here, and every write goes through one of the functions below, so the
//! secondary maps never disagree with the records they index.

use super::index;
use super::types::{Execution, HoldAccess, Item, Offer, Offerset, Phase, Policies};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize, Principal};
use ic_stable_structures::{StableBTreeMap, StableCell, Storable};
use std::cell::RefCell;

/// Id counters and policies: one small record.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub next_item: u64,
    pub next_offer: u64,
    pub next_offerset: u64,
    pub next_execution: u64,
    pub policies: Policies,
    /// Whether the records closed before retention existed were queued for it (see
    /// `retention::sweep`); `None` in what older versions stored, so a new canister has
    /// nothing to sweep and an upgraded one sweeps once.
    pub closed_swept: Option<bool>,
}

impl Default for Meta {
    fn default() -> Self {
        Self {
            next_item: 1,
            next_offer: 1,
            next_offerset: 1,
            next_execution: 1,
            policies: super::policy::defaults(),
            closed_swept: Some(true),
        }
    }
}

/// What one principal holds, for the quotas.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub open_offersets: u32,
    /// Executions accepted and not yet finished (ACCEPTED through RELEASING).
    pub active_leases: u32,
}

/// A booking of an item: the window's end and the execution holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Booking {
    pub start_ns: u64,
    pub end_ns: u64,
    pub execution_id: u64,
}

/// A provider's counts for the hold caps and who may hold its items. Kept incrementally:
/// `put_item`/`remove_item` count items, `put_execution` counts OFFERED executions.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderHolds {
    /// OFFERED executions on the provider's items.
    pub held: u32,
    /// Its items; `None` until first counted (providers from before the counter existed).
    pub items: Option<u32>,
    /// Who may hold its items; `None` is everyone.
    pub access: Option<HoldAccess>,
    /// Principals on its own allow-list.
    pub listed: Option<u32>,
}

crate::storable::candid_storable!(Meta, Usage, Item, Offer, Offerset, Execution, ProviderHolds);

type Map<K, V> = RefCell<StableBTreeMap<K, V, Memory>>;

/// The second halves of the `(prefix, id)` keys of a secondary set, from `(prefix, first)` on,
/// in order, at most `limit`: how every "ids of X" lookup below reads its index.
fn ids_under<P, I>(
    set: &StableBTreeMap<(P, I), (), Memory>,
    prefix: P,
    first: I,
    limit: usize,
) -> Vec<I>
where
    P: Storable + Ord + Clone + PartialEq,
    I: Storable + Ord + Clone,
    (P, I): Storable + Ord + Clone,
{
    set.range((prefix.clone(), first)..)
        .take_while(|entry| entry.key().0 == prefix)
        .take(limit)
        .map(|entry| entry.key().1.clone())
        .collect()
}

fn map<K: Storable + Ord + Clone, V: Storable>(
    id: ic_stable_structures::memory_manager::MemoryId,
) -> Map<K, V> {
    RefCell::new(StableBTreeMap::init(memory::region(id)))
}

thread_local! {
    static META: RefCell<StableCell<Meta, Memory>> =
        RefCell::new(StableCell::init(memory::region(memory::MARKET_META), Meta::default()));
    static ITEMS: Map<u64, Item> = map(memory::MARKET_ITEMS);
    /// `(provider, SHA-256 of resource_type ‖ '\n' ‖ resource_uuid)` → item id. Hashed because
    /// stable tuple keys must be bounded (a `String` in a tuple panics when stored).
    static RESOURCES: Map<(ProviderKey, [u8; 32]), u64> = map(memory::MARKET_RESOURCES);
    static OFFERS: Map<u64, Offer> = map(memory::MARKET_OFFERS);
    static OFFERSETS: Map<u64, Offerset> = map(memory::MARKET_OFFERSETS);
    static EXECUTIONS: Map<u64, Execution> = map(memory::MARKET_EXECUTIONS);
    /// `(item, start)` → `(end, execution)`; bookings of one item never overlap.
    static BOOKINGS: Map<(u64, u64), (u64, u64)> = map(memory::MARKET_BOOKINGS);
    static PROVIDER_ITEMS: Map<(ProviderKey, u64), ()> = map(memory::MARKET_PROVIDER_ITEMS);
    /// `(SHA-256(node uuid), item id)` for items of type `ironic_node`: provisioning names
    /// servers by node UUID.
    static NODE_ITEMS: Map<([u8; 32], u64), ()> = map(memory::MARKET_NODE_ITEMS);
    static ITEM_OFFERS: Map<(u64, u64), ()> = map(memory::MARKET_ITEM_OFFERS);
    static CONSUMER_EXECUTIONS: Map<(Principal, u64), ()> =
        map(memory::MARKET_CONSUMER_EXECUTIONS);
    static PROVIDER_EXECUTIONS: Map<(ProviderKey, u64), ()> =
        map(memory::MARKET_PROVIDER_EXECUTIONS);
    static CONSUMER_OFFERSETS: Map<(Principal, u64), ()> = map(memory::MARKET_CONSUMER_OFFERSETS);
    static USAGE: Map<Principal, Usage> = map(memory::MARKET_USAGE);
    /// `(provider, principal)` → `()`: who may act for a provider.
    static DELEGATES: Map<(ProviderKey, Principal), ()> = map(memory::MARKET_DELEGATES);
    /// The last delegation sequence number each provider signed.
    static DELEGATION_SEQ: Map<ProviderKey, u64> = map(memory::MARKET_DELEGATION_SEQ);
    /// Items each principal holds (its OFFERED executions); absent is zero.
    static CONSUMER_HOLDS: Map<Principal, u32> = map(memory::MARKET_CONSUMER_HOLDS);
    static PROVIDER_HOLDS: Map<ProviderKey, ProviderHolds> = map(memory::MARKET_PROVIDER_HOLDS);
    static ALLOWED_CONSUMERS: Map<Principal, ()> = map(memory::MARKET_ALLOWED_CONSUMERS);
    static PROVIDER_CONSUMERS: Map<(ProviderKey, Principal), ()> =
        map(memory::MARKET_PROVIDER_CONSUMERS);
    /// `(provider, principal)` → when that delegation expires (ns); absent: it does not.
    /// Only delegates (`DELEGATES`) have an entry.
    static DELEGATE_EXPIRY: Map<(ProviderKey, Principal), u64> =
        map(memory::MARKET_DELEGATE_EXPIRY);
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    META.with(|_| ());
    ITEMS.with(|_| ());
    RESOURCES.with(|_| ());
    OFFERS.with(|_| ());
    OFFERSETS.with(|_| ());
    EXECUTIONS.with(|_| ());
    BOOKINGS.with(|_| ());
    PROVIDER_ITEMS.with(|_| ());
    NODE_ITEMS.with(|_| ());
    ITEM_OFFERS.with(|_| ());
    CONSUMER_EXECUTIONS.with(|_| ());
    PROVIDER_EXECUTIONS.with(|_| ());
    CONSUMER_OFFERSETS.with(|_| ());
    USAGE.with(|_| ());
    DELEGATES.with(|_| ());
    DELEGATION_SEQ.with(|_| ());
    CONSUMER_HOLDS.with(|_| ());
    PROVIDER_HOLDS.with(|_| ());
    ALLOWED_CONSUMERS.with(|_| ());
    PROVIDER_CONSUMERS.with(|_| ());
    DELEGATE_EXPIRY.with(|_| ());
}

// --- meta ---

pub fn meta() -> Meta {
    META.with_borrow(|cell| cell.get().clone())
}

pub fn policies() -> Policies {
    META.with_borrow(|cell| cell.get().policies.clone())
}

pub fn set_policies(policies: Policies) {
    update_meta(|meta| meta.policies = policies);
}

/// Whether the one sweep of records closed before retention is still to start; marks it
/// started. Writes only when it was.
pub fn start_closed_sweep() -> bool {
    if meta().closed_swept == Some(true) {
        return false;
    }
    update_meta(|meta| meta.closed_swept = Some(true));
    true
}

fn update_meta<R>(f: impl FnOnce(&mut Meta) -> R) -> R {
    META.with_borrow_mut(|cell| {
        let mut meta = cell.get().clone();
        let result = f(&mut meta);
        cell.set(meta);
        result
    })
}

pub fn next_item_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_item))
}

pub fn next_offer_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_offer))
}

pub fn next_offerset_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_offerset))
}

pub fn next_execution_id() -> u64 {
    update_meta(|meta| bump(&mut meta.next_execution))
}

fn bump(next: &mut u64) -> u64 {
    let id = *next;
    *next += 1;
    id
}

// --- items ---

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

/// The key of a stored record's `provider_pem`: written from a checked key, so it parses.
pub fn provider_key(provider_pem: &str) -> ProviderKey {
    ProviderKey::parse_for_lookup(&ProviderKeyInput::Pem(provider_pem.into()))
        .expect("stored provider PEM is valid")
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
    ITEMS.with_borrow(|items| {
        let entries = items.range(after.saturating_add(1)..);
        super::page_of(entries.map(|e| (*e.key(), e.value())), keep, limit, scan)
    })
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
/// [`super::page_of`]).
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
            super::page_of(entries, keep, limit, scan)
        })
    })
}

// --- offers ---

pub fn offer(id: u64) -> Option<Offer> {
    OFFERS.with_borrow(|offers| offers.get(&id))
}

pub fn put_offer(offer: &Offer) {
    ITEM_OFFERS.with_borrow_mut(|index| index.insert((offer.item_id, offer.id), ()));
    OFFERS.with_borrow_mut(|offers| offers.insert(offer.id, offer.clone()));
}

/// Removes a closed offer and its item's index entry.
pub fn remove_offer(offer: &Offer) {
    ITEM_OFFERS.with_borrow_mut(|index| index.remove(&(offer.item_id, offer.id)));
    OFFERS.with_borrow_mut(|offers| offers.remove(&offer.id));
}

/// Whether any booking of the item starts in `[start_ns, end_ns)`.
pub fn booked_between(item_id: u64, start_ns: u64, end_ns: u64) -> bool {
    BOOKINGS.with_borrow(|bookings| {
        bookings
            .range((item_id, start_ns)..(item_id, end_ns))
            .next()
            .is_some()
    })
}

/// Every offer of an item, any status, in id order.
pub fn item_offer_ids(item_id: u64) -> Vec<u64> {
    ITEM_OFFERS.with_borrow(|index| ids_under(index, item_id, 0, usize::MAX))
}

/// Offers with ids above `after`, in id order (see [`super::page_of`]).
pub fn offers_after(
    after: u64,
    keep: impl FnMut(&Offer) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Offer>, Option<u64>) {
    OFFERS.with_borrow(|offers| {
        let entries = offers.range(after.saturating_add(1)..);
        super::page_of(entries.map(|e| (*e.key(), e.value())), keep, limit, scan)
    })
}

/// Every offer, for rebuilding the heap index after an upgrade.
pub fn for_each_offer(mut f: impl FnMut(Offer)) {
    OFFERS.with_borrow(|offers| offers.iter().for_each(|entry| f(entry.value())));
}

// --- offersets ---

pub fn offerset(id: u64) -> Option<Offerset> {
    OFFERSETS.with_borrow(|sets| sets.get(&id))
}

pub fn put_offerset(offerset: &Offerset) {
    CONSUMER_OFFERSETS.with_borrow_mut(|index| index.insert((offerset.consumer, offerset.id), ()));
    OFFERSETS.with_borrow_mut(|sets| sets.insert(offerset.id, offerset.clone()));
}

pub fn remove_offerset(offerset: &Offerset) {
    CONSUMER_OFFERSETS.with_borrow_mut(|index| index.remove(&(offerset.consumer, offerset.id)));
    OFFERSETS.with_borrow_mut(|sets| sets.remove(&offerset.id));
}

// --- executions ---

pub fn execution(id: u64) -> Option<Execution> {
    EXECUTIONS.with_borrow(|executions| executions.get(&id))
}

/// Removes a closed execution and its index entries (it holds no booking and no hold).
pub fn remove_execution(execution: &Execution) {
    let provider = &provider_key(&execution.provider_pem);
    CONSUMER_EXECUTIONS.with_borrow_mut(|index| index.remove(&(execution.consumer, execution.id)));
    PROVIDER_EXECUTIONS.with_borrow_mut(|index| index.remove(&(*provider, execution.id)));
    EXECUTIONS.with_borrow_mut(|executions| executions.remove(&execution.id));
}

/// Inserts or replaces an execution.
pub fn put_execution(execution: &Execution) {
    let provider = &provider_key(&execution.provider_pem);
    CONSUMER_EXECUTIONS
        .with_borrow_mut(|index| index.insert((execution.consumer, execution.id), ()));
    PROVIDER_EXECUTIONS.with_borrow_mut(|index| index.insert((*provider, execution.id), ()));
    let before =
        EXECUTIONS.with_borrow_mut(|executions| executions.insert(execution.id, execution.clone()));
    // Every phase change is stored here, so the hold counters follow every path a hold
    // starts or ends by (accept, reject, expiry, withdrawal, maintenance).
    let was_held = before.is_some_and(|before| before.phase == Phase::Offered);
    let held = execution.phase == Phase::Offered;
    if was_held != held {
        let delta = if held { 1 } else { -1 };
        count_holds(&execution.consumer, provider, delta);
    }
}

/// Ids of the consumer's executions above `after`, in id order, at most `limit`.
pub fn consumer_execution_ids(consumer: &Principal, after: u64, limit: usize) -> Vec<u64> {
    CONSUMER_EXECUTIONS
        .with_borrow(|index| ids_under(index, *consumer, after.saturating_add(1), limit))
}

/// Ids of the executions on the provider's items above `after`, in id order, at most `limit`.
pub fn provider_execution_ids(provider: &ProviderKey, after: u64, limit: usize) -> Vec<u64> {
    PROVIDER_EXECUTIONS
        .with_borrow(|index| ids_under(index, *provider, after.saturating_add(1), limit))
}

/// Executions with ids above `after`, in id order (see [`super::page_of`]).
pub fn executions_after(
    after: u64,
    keep: impl FnMut(&Execution) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Execution>, Option<u64>) {
    EXECUTIONS.with_borrow(|executions| {
        let entries = executions.range(after.saturating_add(1)..);
        super::page_of(entries.map(|e| (*e.key(), e.value())), keep, limit, scan)
    })
}

/// Every execution, for invariant checks and rebuilding heap state.
pub fn for_each_execution(mut f: impl FnMut(Execution)) {
    EXECUTIONS.with_borrow(|executions| executions.iter().for_each(|entry| f(entry.value())));
}

// --- bookings (the calendar) ---

/// The booking on `item_id` that overlaps `[start_ns, end_ns)`, if any. Bookings of one item
/// never overlap, so the last one starting before `end_ns` is the only candidate. Read from the
/// heap mirror (`index`), which `book` and `unbook` keep equal to the stable calendar.
pub fn overlapping_booking(item_id: u64, start_ns: u64, end_ns: u64) -> Option<Booking> {
    index::overlapping_booking(item_id, start_ns, end_ns)
}

/// Books `[start_ns, end_ns)` on the item; the caller has checked nothing overlaps.
pub fn book(item_id: u64, booking: Booking) {
    BOOKINGS.with_borrow_mut(|bookings| {
        bookings.insert(
            (item_id, booking.start_ns),
            (booking.end_ns, booking.execution_id),
        )
    });
    index::book(item_id, booking);
}

/// Removes the execution's booking starting at `start_ns`, if it is there.
pub fn unbook(item_id: u64, start_ns: u64, execution_id: u64) {
    BOOKINGS.with_borrow_mut(|bookings| {
        if bookings
            .get(&(item_id, start_ns))
            .is_some_and(|(_, holder)| holder == execution_id)
        {
            bookings.remove(&(item_id, start_ns));
            index::unbook(item_id, start_ns);
        }
    });
}

/// Every booking of an item, earliest first (from the heap mirror).
pub fn item_bookings(item_id: u64) -> Vec<Booking> {
    index::item_bookings(item_id)
}

/// Every booking in the stable calendar, for rebuilding the heap mirror and for checks.
pub fn for_each_booking(mut f: impl FnMut(u64, Booking)) {
    BOOKINGS.with_borrow(|bookings| {
        for entry in bookings.iter() {
            let (item_id, start_ns) = *entry.key();
            let (end_ns, execution_id) = entry.value();
            let booking = Booking {
                start_ns,
                end_ns,
                execution_id,
            };
            f(item_id, booking);
        }
    })
}

// --- usage (quotas) ---

pub fn usage(principal: &Principal) -> Usage {
    USAGE.with_borrow(|usage| usage.get(principal).unwrap_or_default())
}

pub fn update_usage(principal: &Principal, f: impl FnOnce(&mut Usage)) {
    USAGE.with_borrow_mut(|map| {
        let mut usage = map.get(principal).unwrap_or_default();
        f(&mut usage);
        if usage == Usage::default() {
            map.remove(principal);
        } else {
            map.insert(*principal, usage);
        }
    });
}

// --- delegates ---

/// Delegations are the account's (a rotated key's first key); a frozen provider's delegates act
/// for it no more (`catalog::keys`), nor does a delegate whose delegation expired by `now`.
pub fn is_delegate(provider: &ProviderKey, principal: &Principal, now: u64) -> bool {
    let account = crate::catalog::keys::account_of(provider);
    !crate::catalog::keys::is_frozen(&account)
        && DELEGATES.with_borrow(|delegates| delegates.contains_key(&(account, *principal)))
        && is_live(delegate_expiry(&account, principal), now)
}

/// Whether a delegation expiring at `expiry` (`None`: never) still holds at `now`.
pub fn is_live(expiry: Option<u64>, now: u64) -> bool {
    expiry.is_none_or(|at| now < at)
}

/// Lets `principal` act for `provider` until `expires_at_ns` (`None`: until revoked), or with
/// `allow` false stops it (its expiry goes too).
pub fn set_delegate(
    provider: &ProviderKey,
    principal: &Principal,
    allow: bool,
    expires_at_ns: Option<u64>,
) {
    let key = (*provider, *principal);
    DELEGATES.with_borrow_mut(|delegates| {
        if allow {
            delegates.insert(key, ());
        } else {
            delegates.remove(&key);
        }
    });
    DELEGATE_EXPIRY.with_borrow_mut(|expiry| match expires_at_ns {
        Some(at) if allow => {
            expiry.insert(key, at);
        }
        _ => {
            expiry.remove(&key);
        }
    });
}

/// When `principal`'s delegation from `provider` expires; `None`: never (or no delegation).
pub fn delegate_expiry(provider: &ProviderKey, principal: &Principal) -> Option<u64> {
    DELEGATE_EXPIRY.with_borrow(|expiry| expiry.get(&(*provider, *principal)))
}

/// Every delegate of `provider`, expired ones included (at most `MAX_DELEGATES`).
pub fn delegates(provider: &ProviderKey) -> Vec<Principal> {
    DELEGATES.with_borrow(|delegates| {
        delegates
            .range((*provider, Principal::management_canister())..)
            .take_while(|entry| entry.key().0 == *provider)
            .map(|entry| entry.key().1)
            .collect()
    })
}

pub fn delegation_seq(provider: &ProviderKey) -> u64 {
    DELEGATION_SEQ.with_borrow(|seqs| seqs.get(provider).unwrap_or(0))
}

pub fn set_delegation_seq(provider: &ProviderKey, seq: u64) {
    DELEGATION_SEQ.with_borrow_mut(|seqs| seqs.insert(*provider, seq));
}

// --- holds (the hold caps) and who may hold ---

fn add(count: u32, delta: i32) -> u32 {
    count.saturating_add_signed(delta)
}

fn count_holds(consumer: &Principal, provider: &ProviderKey, delta: i32) {
    CONSUMER_HOLDS.with_borrow_mut(|map| {
        let held = add(map.get(consumer).unwrap_or(0), delta);
        if held == 0 {
            map.remove(consumer);
        } else {
            map.insert(*consumer, held);
        }
    });
    update_provider_holds(provider, |p| p.held = add(p.held, delta));
}

fn count_provider_items(provider: &ProviderKey, delta: i32) {
    // An uncounted provider stays uncounted: `provider_items` counts it once, when needed.
    update_provider_holds(provider, |p| p.items = p.items.map(|n| add(n, delta)));
}

/// Items `consumer` holds now (its OFFERED executions).
pub fn consumer_holds(consumer: &Principal) -> u32 {
    CONSUMER_HOLDS.with_borrow(|map| map.get(consumer).unwrap_or(0))
}

pub fn provider_holds(provider: &ProviderKey) -> ProviderHolds {
    PROVIDER_HOLDS.with_borrow(|map| map.get(provider).unwrap_or_default())
}

pub fn update_provider_holds(provider: &ProviderKey, f: impl FnOnce(&mut ProviderHolds)) {
    PROVIDER_HOLDS.with_borrow_mut(|map| {
        let mut holds = map.get(provider).unwrap_or_default();
        f(&mut holds);
        if holds == ProviderHolds::default() {
            map.remove(provider);
        } else {
            map.insert(*provider, holds);
        }
    });
}

/// The provider's item count. Counted from its index once for a provider registered before
/// the counter existed (one walk of its keys), then kept by `put_item` and `remove_item`.
pub fn provider_items(provider: &ProviderKey) -> u32 {
    if let Some(items) = provider_holds(provider).items {
        return items;
    }
    let counted = PROVIDER_ITEMS.with_borrow(|index| {
        index
            .range((*provider, 0)..)
            .take_while(|entry| entry.key().0 == *provider)
            .count()
    });
    let counted = u32::try_from(counted).unwrap_or(u32::MAX);
    update_provider_holds(provider, |p| p.items = Some(counted));
    counted
}

pub fn consumer_allowed(principal: &Principal) -> bool {
    ALLOWED_CONSUMERS.with_borrow(|set| set.contains_key(principal))
}

pub fn set_consumer_allowed(principal: &Principal, allow: bool) {
    ALLOWED_CONSUMERS.with_borrow_mut(|set| {
        if allow {
            set.insert(*principal, ());
        } else {
            set.remove(principal);
        }
    });
}

pub fn provider_lists(provider: &ProviderKey, principal: &Principal) -> bool {
    PROVIDER_CONSUMERS.with_borrow(|set| set.contains_key(&(*provider, *principal)))
}

/// Adds or removes `principal` on the provider's list; returns whether the list changed.
pub fn set_provider_lists(provider: &ProviderKey, principal: &Principal, allow: bool) -> bool {
    PROVIDER_CONSUMERS.with_borrow_mut(|set| {
        let key = (*provider, *principal);
        if allow {
            set.insert(key, ()).is_none()
        } else {
            set.remove(&key).is_some()
        }
    })
}
