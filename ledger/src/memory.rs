//! Every stable-memory region of the ledger, in one table. All state lives here, so an upgrade
//! keeps it without `pre_upgrade` or `post_upgrade` touching a single record.
//!
//! | id | region | key → value |
//! |---|---|---|
//! | 0 | configuration | `StableCell<ConfigCell>`: token name, symbol, decimals, fee, minting account, dedup window, maintenance flag (Candid) |
//! | 1 | total supply | `StableCell<u128>` |
//! | 2 | balances | `StableBTreeMap<AccountKey, u128>`: only non-zero balances |
//! | 3 | allowances | `StableBTreeMap<(AccountKey owner, AccountKey spender), AllowanceValue>`: only non-zero allowances |
//! | 4 | block log index | `StableLog` index of region 5 |
//! | 5 | block log data | `StableLog<Block>`: every recorded transaction, block index = log position (Candid) |
//! | 6 | dedup by hash | `StableBTreeMap<[u8; 32] transaction hash, u64 block index>` |
//! | 7 | dedup by time | `StableBTreeMap<(u64 created_at_time, u64 block index), [u8; 32] hash>`: pruning order |
//!
//! Ids are never reused: a retired region keeps its id here marked "do not use".

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::DefaultMemoryImpl;

pub type Memory = VirtualMemory<DefaultMemoryImpl>;

pub const CONFIG: MemoryId = MemoryId::new(0);
pub const SUPPLY: MemoryId = MemoryId::new(1);
pub const BALANCES: MemoryId = MemoryId::new(2);
pub const ALLOWANCES: MemoryId = MemoryId::new(3);
pub const BLOCKS_INDEX: MemoryId = MemoryId::new(4);
pub const BLOCKS_DATA: MemoryId = MemoryId::new(5);
pub const DEDUP_BY_HASH: MemoryId = MemoryId::new(6);
pub const DEDUP_BY_TIME: MemoryId = MemoryId::new(7);

/// The memory manager over `memory`: the canister's stable memory in the wasm, a fresh vector
/// in native tests.
pub fn manager(memory: DefaultMemoryImpl) -> MemoryManager<DefaultMemoryImpl> {
    MemoryManager::init(memory)
}
