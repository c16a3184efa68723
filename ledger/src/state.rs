//! The ledger's state: stable structures only (see [`crate::memory`]), and the primitive reads
//! and writes the operations are built from. No method here loops over stored data.

use crate::memory::{self, Memory};
use crate::storable::{AccountKey, AllowanceValue, ConfigCell};
use crate::types::{Block, Config, PRUNE_PER_CALL};
use ic_stable_structures::{DefaultMemoryImpl, StableBTreeMap, StableCell, StableLog};
use icrc_ledger_types::icrc1::account::Account;

pub struct Ledger {
    config: StableCell<ConfigCell, Memory>,
    supply: StableCell<u128, Memory>,
    balances: StableBTreeMap<AccountKey, u128, Memory>,
    allowances: StableBTreeMap<(AccountKey, AccountKey), AllowanceValue, Memory>,
    blocks: StableLog<Block, Memory, Memory>,
    dedup_by_hash: StableBTreeMap<[u8; 32], u64, Memory>,
    dedup_by_time: StableBTreeMap<(u64, u64), [u8; 32], Memory>,
}

impl Ledger {
    /// Opens the state kept in `memory`, creating empty regions where there are none: the
    /// same call for a fresh canister and after an upgrade (which reads only region headers).
    pub fn open(memory: DefaultMemoryImpl) -> Self {
        let mm = memory::manager(memory);
        Self {
            config: StableCell::init(mm.get(memory::CONFIG), ConfigCell(None)),
            supply: StableCell::init(mm.get(memory::SUPPLY), 0),
            balances: StableBTreeMap::init(mm.get(memory::BALANCES)),
            allowances: StableBTreeMap::init(mm.get(memory::ALLOWANCES)),
            blocks: StableLog::init(mm.get(memory::BLOCKS_INDEX), mm.get(memory::BLOCKS_DATA)),
            dedup_by_hash: StableBTreeMap::init(mm.get(memory::DEDUP_BY_HASH)),
            dedup_by_time: StableBTreeMap::init(mm.get(memory::DEDUP_BY_TIME)),
        }
    }

    pub fn config(&self) -> Option<&Config> {
        self.config.get().0.as_ref()
    }

    /// The configuration; the ledger is always initialised once `init` ran.
    pub fn cfg(&self) -> &Config {
        self.config()
            .unwrap_or_else(|| panic!("the ledger is not initialised"))
    }

    pub fn set_config(&mut self, config: Config) {
        self.config.set(ConfigCell(Some(config)));
    }

    pub fn total_supply(&self) -> u128 {
        *self.supply.get()
    }

    pub fn set_total_supply(&mut self, supply: u128) {
        self.supply.set(supply);
    }

    pub fn balance(&self, account: &Account) -> u128 {
        self.balances.get(&AccountKey::of(account)).unwrap_or(0)
    }

    /// Sets a balance; a zero balance is not stored.
    pub fn set_balance(&mut self, account: &Account, balance: u128) {
        let key = AccountKey::of(account);
        if balance == 0 {
            self.balances.remove(&key);
        } else {
            self.balances.insert(key, balance);
        }
    }

    /// The allowance `spender` has on `owner`'s account at `now`: none once expired
    /// (`expires_at <= now`).
    pub fn allowance(
        &self,
        owner: &Account,
        spender: &Account,
        now: u64,
    ) -> Option<AllowanceValue> {
        self.allowances
            .get(&(AccountKey::of(owner), AccountKey::of(spender)))
            .filter(|a| a.expires_at.is_none_or(|t| t > now))
    }

    /// Sets an allowance; a zero amount removes it.
    pub fn set_allowance(&mut self, owner: &Account, spender: &Account, value: AllowanceValue) {
        let key = (AccountKey::of(owner), AccountKey::of(spender));
        if value.amount == 0 {
            self.allowances.remove(&key);
        } else {
            self.allowances.insert(key, value);
        }
    }

    pub fn log_length(&self) -> u64 {
        self.blocks.len()
    }

    pub fn block(&self, index: u64) -> Option<Block> {
        self.blocks.get(index)
    }

    /// Appends `block` (whose `index` must be [`Self::log_length`]).
    pub fn append_block(&mut self, block: &Block) -> Result<u64, String> {
        self.blocks
            .append(block)
            .map_err(|e| format!("the block log is full: {e:?}"))
    }

    /// The block an identical transaction was recorded in, if it is still indexed.
    pub fn duplicate_of(&self, hash: &[u8; 32]) -> Option<u64> {
        self.dedup_by_hash.get(hash)
    }

    pub fn index_for_dedup(&mut self, hash: [u8; 32], created_at_time: u64, block: u64) {
        self.dedup_by_hash.insert(hash, block);
        self.dedup_by_time.insert((created_at_time, block), hash);
    }

    /// Removes at most [`PRUNE_PER_CALL`] deduplication entries that can no longer match
    /// (their `created_at_time` is before `oldest_allowed`, so the same transaction would be
    /// `TooOld`), oldest first. Returns how many it removed.
    pub fn prune_dedup(&mut self, oldest_allowed: u64) -> usize {
        let mut removed = 0;
        while removed < PRUNE_PER_CALL {
            match self.dedup_by_time.first_key_value() {
                Some(((created, block), hash)) if created < oldest_allowed => {
                    self.dedup_by_time.remove(&(created, block));
                    if self.dedup_by_hash.get(&hash) == Some(block) {
                        self.dedup_by_hash.remove(&hash);
                    }
                    removed += 1;
                }
                _ => break,
            }
        }
        removed
    }

    pub fn dedup_len(&self) -> u64 {
        self.dedup_by_hash.len()
    }

    /// Each stored balance, for the invariant checks of the native tests (reads all).
    #[cfg(test)]
    pub fn balances_for_checks(&self) -> Vec<(Account, u128)> {
        self.balances
            .iter()
            .map(|entry| (entry.key().account(), entry.value()))
            .collect()
    }

    #[cfg(test)]
    pub fn dedup_by_time_len(&self) -> u64 {
        self.dedup_by_time.len()
    }
}
