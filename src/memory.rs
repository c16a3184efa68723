//! Every stable-memory region of the canister, in one table.
//!
//! Stable memory is split into virtual regions by one [`MemoryManager`]; each region is named by a
//! [`MemoryId`] below. Ids are part of the stable layout: never renumber one, and when a region
//! is retired keep its row and mark it "retired, do not reuse".
//!
//! | id | region           | holds                                   | layout                                        |
//! |----|------------------|-----------------------------------------|-----------------------------------------------|
//! | 0  | `CONFIG`         | the canister configuration              | cell: `Config`, little-endian fields          |
//! | 1  | `COUNTERS`       | activity counters shown by `status`     | cell: `Counters`, little-endian `u64` fields  |
//! | 2  | `TASK_QUEUE`     | the queue's tasks, earliest first     | map: `(due_ns: u64, seq: u64)` → `QueuedTask` (Candid; a bare `Task` from older versions) |
//! | 3  | `TASK_SEQ`       | next task sequence number, failing tasks | cell: `next_seq u64`, `failing u64` (LE fields) |
//! | 4  | `CYCLES_HISTORY` | liquid cycle balance samples            | map: `time_ns: u64` → `balance: u128`         |
//! | 5  | `PROVIDERS`      | catalog providers and id counters       | map: `0` → counters; `1 ‖ key[32]` → `ProviderRecord`; `2 ‖ id u32 BE` → key (LE fields) |
//! | 6  | `OFFERINGS`      | catalog offerings, one CSV row each     | row heap: 4 KiB header (magic, bump, live rows, free-list heads), blocks in size classes |
//! | 7  | `UPLOADS`        | chunked uploads                         | map: `(upload_id u64, part u32)` → chunk bytes; part `u32::MAX` → session (Candid) |
//! | 8  | `OFFERING_SLOTS` | where each offering's row is            | vec by offering id: `(address u64, len u32, provider_id u32)`; address 0 = removed |
//! | 9  | `CHANGES_INDEX`  | change feed before its window (StableLog index; no longer appended) | log: entry `seq - 1` is change `seq`          |
//! | 10 | `CHANGES_DATA`   | change feed before its window (StableLog data) | `provider_id u32, kind u8, at_ns u64`, then the offering key |
//! | 11 | `INDEX_SNAPSHOT` | the search index, saved by pre_upgrade  | 24-byte header (magic, version, ready/consumed, length), then the index's vectors as LE arrays (`catalog::index::snapshot`) |
//! | 12 | `MARKET_META` | market id counters and policies | cell: `market::store::Meta` (Candid) |
//! | 13 | `MARKET_ITEMS` | inventory items | map: `id u64` → `Item` (Candid) |
//! | 14 | `MARKET_RESOURCES` | item by resource | map: `(provider key, SHA-256(type ‖ \n ‖ uuid))` → item id |
//! | 15 | `MARKET_OFFERS` | offers | map: `id u64` → `Offer` (Candid) |
//! | 16 | `MARKET_OFFERSETS` | offersets | map: `id u64` → `Offerset` (Candid) |
//! | 17 | `MARKET_EXECUTIONS` | executions (offers, contracts, leases) | map: `id u64` → `Execution` (Candid) |
//! | 18 | `MARKET_BOOKINGS` | the calendar: holds and leases per item | map: `(item, start_ns)` → `(end_ns, execution)` |
//! | 19 | `MARKET_PROVIDER_ITEMS` | a provider's items | set: `(provider key, item id)` |
//! | 20 | `MARKET_ITEM_OFFERS` | an item's offers | set: `(item id, offer id)` |
//! | 21 | `MARKET_CONSUMER_EXECUTIONS` | a consumer's executions | set: `(principal, execution id)` |
//! | 22 | `MARKET_PROVIDER_EXECUTIONS` | executions on a provider's items | set: `(provider key, execution id)` |
//! | 23 | `MARKET_CONSUMER_OFFERSETS` | a consumer's offersets | set: `(principal, offerset id)` |
//! | 24 | `MARKET_USAGE` | what each principal holds, for quotas | map: principal → `Usage` (Candid) |
//! | 25 | `MARKET_DELEGATES` | principals acting for providers | set: `(provider key, principal)` |
//! | 26 | `MARKET_DELEGATION_SEQ` | last signed delegation per provider | map: provider key → `seq u64` |
//! | 27 | `AUDIT_INDEX` | audit log (StableLog index) | log: entry `seq - 1` is entry `seq` |
//! | 28 | `AUDIT_DATA` | audit log (StableLog data) | `AuditEntry` (Candid) |
//! | 29 | `AUDIT_BY_ENTITY` | audit entries per entity | set: `(entity kind u8, entity id, seq)` |
//! | 30 | `PROVISION_SETTINGS` | each provider's Ironic backend | map: provider key → `provision::settings::Settings` (Candid) |
//! | 31 | `PROVISION_OPERATIONS` | the current operation of each node | map: item id → `market::operations::Operation` (Candid) |
//! | 32 | `SIM_NODES` | the simulated Ironic's nodes | map: item id → `provision::sim::SimNode` (Candid) |
//! | 33 | `MARKET_NODE_ITEMS` | Ironic node items by node UUID | set: `(SHA-256(uuid), item id)` |
//! | 34 | `MARKET_INDEX_SNAPSHOT` | the market's heap index, saved by pre_upgrade | the `snapshot` format: items' and open offers' columns (`market::index::persist`) |
//! | 35 | `MARKET_CONSUMER_HOLDS` | items each principal holds (OFFERED executions) | map: principal → `u32` |
//! | 36 | `MARKET_PROVIDER_HOLDS` | each provider's item count, items held, hold access | map: provider key → `market::store::ProviderHolds` (Candid) |
//! | 37 | `MARKET_ALLOWED_CONSUMERS` | the controllers' allow-list of consumers | set: principal |
//! | 38 | `MARKET_PROVIDER_CONSUMERS` | each provider's allow-list of who may hold its items | set: `(provider key, principal)` |
//! | 39 | `CHANGES_WINDOW` | the change feed's newest changes (older ones pruned) | map: `seq u64` → `provider_id u32, kind u8, at_ns u64`, then the offering key |
//! | 40 | `MARKET_DELEGATE_EXPIRY` | when delegations expire (absent: never) | map: `(provider key, principal)` → `expires_at_ns u64` |
//! | 41 | `MARKET_PROJECTS` | projects (groups private offers are shown to) | map: project id → `market::store::ProjectRecord` (Candid) |
//! | 42 | `MARKET_PROJECT_MEMBERS` | each project's members | set: `(project id, principal)` |
//! | 43 | `MARKET_MEMBER_PROJECTS` | the projects each principal is a member of | map: principal → its project ids in order, `u64` little-endian each |
//! | 44 | `MARKET_OWNER_PROJECTS` | the projects each principal owns | set: `(principal, project id)` |
//! | 45 | `MARKET_PAYMENTS` | each paid execution's escrow and ledger transfers | map: execution id → `market::types::Payment` (Candid) |
//!
//! Heap-only state (the armed timer's id) is lost on upgrade by design and rebuilt in
//! `post_upgrade`; it is kept with the code that owns it, not here.

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{DefaultMemoryImpl, Memory as _};

pub const CONFIG: MemoryId = MemoryId::new(0);
pub const COUNTERS: MemoryId = MemoryId::new(1);
pub const TASK_QUEUE: MemoryId = MemoryId::new(2);
pub const TASK_SEQ: MemoryId = MemoryId::new(3);
pub const CYCLES_HISTORY: MemoryId = MemoryId::new(4);
pub const PROVIDERS: MemoryId = MemoryId::new(5);
pub const OFFERINGS: MemoryId = MemoryId::new(6);
pub const UPLOADS: MemoryId = MemoryId::new(7);
pub const OFFERING_SLOTS: MemoryId = MemoryId::new(8);
pub const CHANGES_INDEX: MemoryId = MemoryId::new(9);
pub const CHANGES_DATA: MemoryId = MemoryId::new(10);
pub const INDEX_SNAPSHOT: MemoryId = MemoryId::new(11);
pub const MARKET_META: MemoryId = MemoryId::new(12);
pub const MARKET_ITEMS: MemoryId = MemoryId::new(13);
pub const MARKET_RESOURCES: MemoryId = MemoryId::new(14);
pub const MARKET_OFFERS: MemoryId = MemoryId::new(15);
pub const MARKET_OFFERSETS: MemoryId = MemoryId::new(16);
pub const MARKET_EXECUTIONS: MemoryId = MemoryId::new(17);
pub const MARKET_BOOKINGS: MemoryId = MemoryId::new(18);
pub const MARKET_PROVIDER_ITEMS: MemoryId = MemoryId::new(19);
pub const MARKET_ITEM_OFFERS: MemoryId = MemoryId::new(20);
pub const MARKET_CONSUMER_EXECUTIONS: MemoryId = MemoryId::new(21);
pub const MARKET_PROVIDER_EXECUTIONS: MemoryId = MemoryId::new(22);
pub const MARKET_CONSUMER_OFFERSETS: MemoryId = MemoryId::new(23);
pub const MARKET_USAGE: MemoryId = MemoryId::new(24);
pub const MARKET_DELEGATES: MemoryId = MemoryId::new(25);
pub const MARKET_DELEGATION_SEQ: MemoryId = MemoryId::new(26);
pub const AUDIT_INDEX: MemoryId = MemoryId::new(27);
pub const AUDIT_DATA: MemoryId = MemoryId::new(28);
pub const AUDIT_BY_ENTITY: MemoryId = MemoryId::new(29);
pub const PROVISION_SETTINGS: MemoryId = MemoryId::new(30);
pub const PROVISION_OPERATIONS: MemoryId = MemoryId::new(31);
pub const SIM_NODES: MemoryId = MemoryId::new(32);
pub const MARKET_NODE_ITEMS: MemoryId = MemoryId::new(33);
pub const MARKET_INDEX_SNAPSHOT: MemoryId = MemoryId::new(34);
pub const MARKET_CONSUMER_HOLDS: MemoryId = MemoryId::new(35);
pub const MARKET_PROVIDER_HOLDS: MemoryId = MemoryId::new(36);
pub const MARKET_ALLOWED_CONSUMERS: MemoryId = MemoryId::new(37);
pub const MARKET_PROVIDER_CONSUMERS: MemoryId = MemoryId::new(38);
pub const CHANGES_WINDOW: MemoryId = MemoryId::new(39);
pub const MARKET_DELEGATE_EXPIRY: MemoryId = MemoryId::new(40);
pub const MARKET_PROJECTS: MemoryId = MemoryId::new(41);
pub const MARKET_PROJECT_MEMBERS: MemoryId = MemoryId::new(42);
pub const MARKET_MEMBER_PROJECTS: MemoryId = MemoryId::new(43);
pub const MARKET_OWNER_PROJECTS: MemoryId = MemoryId::new(44);
pub const MARKET_PAYMENTS: MemoryId = MemoryId::new(45);

/// Every region with its name, in id order (the state digest walks them).
pub const REGIONS: &[(MemoryId, &str)] = &[
    (CONFIG, "CONFIG"),
    (COUNTERS, "COUNTERS"),
    (TASK_QUEUE, "TASK_QUEUE"),
    (TASK_SEQ, "TASK_SEQ"),
    (CYCLES_HISTORY, "CYCLES_HISTORY"),
    (PROVIDERS, "PROVIDERS"),
    (OFFERINGS, "OFFERINGS"),
    (UPLOADS, "UPLOADS"),
    (OFFERING_SLOTS, "OFFERING_SLOTS"),
    (CHANGES_INDEX, "CHANGES_INDEX"),
    (CHANGES_DATA, "CHANGES_DATA"),
    (INDEX_SNAPSHOT, "INDEX_SNAPSHOT"),
    (MARKET_META, "MARKET_META"),
    (MARKET_ITEMS, "MARKET_ITEMS"),
    (MARKET_RESOURCES, "MARKET_RESOURCES"),
    (MARKET_OFFERS, "MARKET_OFFERS"),
    (MARKET_OFFERSETS, "MARKET_OFFERSETS"),
    (MARKET_EXECUTIONS, "MARKET_EXECUTIONS"),
    (MARKET_BOOKINGS, "MARKET_BOOKINGS"),
    (MARKET_PROVIDER_ITEMS, "MARKET_PROVIDER_ITEMS"),
    (MARKET_ITEM_OFFERS, "MARKET_ITEM_OFFERS"),
    (MARKET_CONSUMER_EXECUTIONS, "MARKET_CONSUMER_EXECUTIONS"),
    (MARKET_PROVIDER_EXECUTIONS, "MARKET_PROVIDER_EXECUTIONS"),
    (MARKET_CONSUMER_OFFERSETS, "MARKET_CONSUMER_OFFERSETS"),
    (MARKET_USAGE, "MARKET_USAGE"),
    (MARKET_DELEGATES, "MARKET_DELEGATES"),
    (MARKET_DELEGATION_SEQ, "MARKET_DELEGATION_SEQ"),
    (AUDIT_INDEX, "AUDIT_INDEX"),
    (AUDIT_DATA, "AUDIT_DATA"),
    (AUDIT_BY_ENTITY, "AUDIT_BY_ENTITY"),
    (PROVISION_SETTINGS, "PROVISION_SETTINGS"),
    (PROVISION_OPERATIONS, "PROVISION_OPERATIONS"),
    (SIM_NODES, "SIM_NODES"),
    (MARKET_NODE_ITEMS, "MARKET_NODE_ITEMS"),
    (MARKET_INDEX_SNAPSHOT, "MARKET_INDEX_SNAPSHOT"),
    (MARKET_CONSUMER_HOLDS, "MARKET_CONSUMER_HOLDS"),
    (MARKET_PROVIDER_HOLDS, "MARKET_PROVIDER_HOLDS"),
    (MARKET_ALLOWED_CONSUMERS, "MARKET_ALLOWED_CONSUMERS"),
    (MARKET_PROVIDER_CONSUMERS, "MARKET_PROVIDER_CONSUMERS"),
    (CHANGES_WINDOW, "CHANGES_WINDOW"),
    (MARKET_DELEGATE_EXPIRY, "MARKET_DELEGATE_EXPIRY"),
    (MARKET_PROJECTS, "MARKET_PROJECTS"),
    (MARKET_PROJECT_MEMBERS, "MARKET_PROJECT_MEMBERS"),
    (MARKET_MEMBER_PROJECTS, "MARKET_MEMBER_PROJECTS"),
    (MARKET_OWNER_PROJECTS, "MARKET_OWNER_PROJECTS"),
    (MARKET_PAYMENTS, "MARKET_PAYMENTS"),
];

/// One region of stable memory.
pub type Memory = VirtualMemory<DefaultMemoryImpl>;

const WASM_PAGE_BYTES: u64 = 65_536;

thread_local! {
    // Kept beside the queue so its size can be read: a clone shares the same memory
    // (ic0 stable memory on wasm, a shared vector natively).
    static STABLE: DefaultMemoryImpl = DefaultMemoryImpl::default();
    static MANAGER: MemoryManager<DefaultMemoryImpl> =
        MemoryManager::init(STABLE.with(Clone::clone));
}

/// The region `id`.
pub fn region(id: MemoryId) -> Memory {
    MANAGER.with(|manager| manager.get(id))
}

/// Size of the whole stable memory in 64 KiB pages.
pub fn stable_pages() -> u64 {
    STABLE.with(|memory| memory.size())
}

/// A copy of the whole stable memory, natively: what a drill that fills the state through the
/// canister's own code hands to the ic0 host to run the wasm on (`bench --limits`).
#[cfg(not(target_arch = "wasm32"))]
pub fn stable_bytes() -> Vec<u8> {
    STABLE.with(|memory| memory.borrow().clone())
}

/// Size of the wasm heap in bytes; 0 off wasm, where there is no canister heap to measure.
pub fn heap_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    pages * WASM_PAGE_BYTES
}

#[cfg(test)]
mod tests;
