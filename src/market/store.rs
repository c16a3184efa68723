//! The market's records in stable memory, and the secondary maps that find them.
//!
//! Records are Candid (new optional fields keep old entries readable). Only the market's own
//! modules write here, and every write goes through one of the functions of this module's
//! files, so the secondary maps never disagree with the records they index. The maps are
//! declared here, once; each file reads and writes its own:
//!
//! | file         | what it holds                                                         |
//! |--------------|-----------------------------------------------------------------------|
//! | `meta`       | the id counters and the policies                                      |
//! | `items`      | items, by resource, provider and Ironic node                          |
//! | `offers`     | offers and each item's offers                                         |
//! | `offersets`  | offersets and each consumer's                                         |
//! | `executions` | executions, each consumer's and provider's                            |
//! | `bookings`   | the calendar: each item's bookings                                    |
//! | `usage`      | what each principal holds, for the quotas                             |
//! | `delegates`  | who may act for a provider, until when, and its delegation sequence   |
//! | `holds`      | the hold caps' counts and who may hold                                |
//! | `projects`   | projects, their members and owners                                    |

mod bookings;
mod delegates;
mod executions;
mod holds;
mod items;
mod meta;
mod offers;
mod offersets;
mod payments;
mod projects;
mod usage;

pub use bookings::*;
pub use delegates::*;
pub use executions::*;
pub use holds::*;
pub use items::*;
pub use meta::*;
pub use offers::*;
pub use offersets::*;
pub use payments::*;
pub use projects::*;
pub use usage::*;

use super::types::{Execution, Item, Offer, Offerset, Payment};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::memory::{self, Memory};
use candid::Principal;
use ic_stable_structures::{StableBTreeMap, StableCell, Storable};
use std::cell::RefCell;
use std::thread::LocalKey;

crate::storable::candid_storable!(
    Meta,
    Usage,
    Item,
    Offer,
    Offerset,
    Execution,
    ProviderHolds,
    ProjectRecord,
    Payment
);

type Map<K, V> = RefCell<StableBTreeMap<K, V, Memory>>;

/// The second halves of the `(prefix, id)` keys of a secondary set, from `(prefix, first)` on,
/// in order, at most `limit`: how every "ids of X" lookup in this module reads its index.
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
    static PROJECTS: Map<u64, ProjectRecord> = map(memory::MARKET_PROJECTS);
    /// `(project, principal)`: a project's members, its owner included.
    static PROJECT_MEMBERS: Map<(u64, Principal), ()> = map(memory::MARKET_PROJECT_MEMBERS);
    /// principal → the ids of the projects it is a member of, in order, 8 bytes each (see
    /// `projects::Memberships`): one read gives all of them, however many.
    static MEMBER_PROJECTS: Map<Principal, Vec<u8>> = map(memory::MARKET_MEMBER_PROJECTS);
    /// `(owner, project)`.
    static OWNER_PROJECTS: Map<(Principal, u64), ()> = map(memory::MARKET_OWNER_PROJECTS);
    /// Paid executions' payments, apart from the executions: only payments read them.
    static PAYMENTS: Map<u64, Payment> = map(memory::MARKET_PAYMENTS);
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
    PROJECTS.with(|_| ());
    PROJECT_MEMBERS.with(|_| ());
    MEMBER_PROJECTS.with(|_| ());
    OWNER_PROJECTS.with(|_| ());
    PAYMENTS.with(|_| ());
}

/// The key of a stored record's `provider_pem`: written from a checked key, so it parses.
pub fn provider_key(provider_pem: &str) -> ProviderKey {
    ProviderKey::parse_for_lookup(&ProviderKeyInput::Pem(provider_pem.into()))
        .expect("stored provider PEM is valid")
}

/// The records of `map` with ids above `after` that `keep` accepts, in id order (see
/// [`super::page_of`]): how the `*_after` listings read.
fn records_after<V: Storable>(
    map: &'static LocalKey<Map<u64, V>>,
    after: u64,
    keep: impl FnMut(&V) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<V>, Option<u64>) {
    map.with_borrow(|records| {
        let entries = records.range(after.saturating_add(1)..);
        super::page_of(entries.map(|e| (*e.key(), e.value())), keep, limit, scan)
    })
}
