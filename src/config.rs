//! The init/upgrade argument and the configuration it sets, kept in stable memory.

use crate::fields::{push_short_bytes, Fields};
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize, Principal};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableCell, Storable};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::ops::RangeInclusive;

const SAMPLE_INTERVAL_SECONDS: RangeInclusive<u64> = 60..=7 * 24 * 3600;
const HISTORY_LEN: RangeInclusive<u32> = 2..=10_000;
// A whole catalog is applied in one message: these bounds keep it within the 40 B instruction
// limit of an update (an imported offering costs ~1.4 M instructions today).
const MAX_OFFERINGS_PER_PROVIDER: RangeInclusive<u32> = 1..=25_000;
const MAX_CATALOG_BYTES: RangeInclusive<u64> = 1_024..=32 * 1024 * 1024;
const CALLS_PER_MINUTE: RangeInclusive<u32> = 1..=1_000_000;
const CALL_BURST: RangeInclusive<u32> = 1..=1_000_000;
// Global caps: what minted keys and principals can make the canister hold. The upper bounds
// keep the heap's indexes within the wasm's 4 GiB (an offering takes ~1.5 KB of heap).
const MAX_PROVIDERS: RangeInclusive<u32> = 1..=1_000_000;
const MAX_OFFERINGS: RangeInclusive<u64> = 1..=2_000_000;
const MAX_ITEMS: RangeInclusive<u64> = 1..=1_000_000;
const MAX_OPEN_OFFERS: RangeInclusive<u64> = 1..=2_000_000;
// The change feed keeps this many newest changes: at least a full catalog's worth, so a reader
// polling between two publications never falls behind.
const CHANGE_FEED_WINDOW: RangeInclusive<u64> = 25_000..=10_000_000;

/// The argument of `init` and `post_upgrade`. At install, absent fields take the defaults; at
/// upgrade, absent fields keep the stored values.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct InitArg {
    pub cycles_sample_interval_seconds: Option<u64>,
    pub cycles_history_len: Option<u32>,
    pub max_offerings_per_provider: Option<u32>,
    pub max_catalog_bytes: Option<u64>,
    pub caller_calls_per_minute: Option<u32>,
    pub caller_call_burst: Option<u32>,
    pub max_providers: Option<u32>,
    pub max_offerings: Option<u64>,
    pub max_items: Option<u64>,
    pub max_open_offers: Option<u64>,
    pub change_feed_window: Option<u64>,
    /// The ICRC-2 ledger leases are paid through (see `docs/payments.md`); absent at install:
    /// the market runs free. At upgrade, absent keeps the stored one; `no_ledger = true`
    /// switches payments off.
    pub ledger: Option<Principal>,
    pub no_ledger: Option<bool>,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Seconds between two samples of the cycle balance.
    pub cycles_sample_interval_seconds: u64,
    /// How many cycle balance samples are kept; older ones are dropped.
    pub cycles_history_len: u32,
    /// Most offerings one provider may publish.
    pub max_offerings_per_provider: u32,
    /// Most bytes of CSV rows one provider may keep (and largest catalog payload).
    pub max_catalog_bytes: u64,
    /// Update calls a principal other than a controller may make per minute, sustained.
    pub caller_calls_per_minute: u32,
    /// Update calls such a principal may make at once before the rate above applies.
    pub caller_call_burst: u32,
    /// Most provider keys that may ever publish (a provider's record stays after it removes
    /// its catalog: its sequence number guards against replays).
    pub max_providers: u32,
    /// Most catalog offerings of all providers together.
    pub max_offerings: u64,
    /// Most market items of all providers together.
    pub max_items: u64,
    /// Most open offers in the market's matching index (offerable items' open offers).
    pub max_open_offers: u64,
    /// How many of the newest catalog changes `catalog_changes` keeps; older ones are pruned.
    pub change_feed_window: u64,
    /// The ledger leases are paid through; `None`: the market runs free.
    pub ledger: Option<Principal>,
}

impl Default for Config {
    /// Hourly samples for 30 days; catalogs up to 20 000 offerings and 16 MiB; a caller makes
    /// 600 updates at once, then 120 a minute; in all at most 100 000 providers, 1 M offerings,
    /// 100 000 items and 500 000 open offers; the change feed keeps the newest million changes.
    fn default() -> Self {
        Self {
            cycles_sample_interval_seconds: 3600,
            cycles_history_len: 720,
            max_offerings_per_provider: 20_000,
            max_catalog_bytes: 16 * 1024 * 1024,
            caller_calls_per_minute: 120,
            caller_call_burst: 600,
            max_providers: 100_000,
            max_offerings: 1_000_000,
            max_items: 100_000,
            max_open_offers: 500_000,
            change_feed_window: 1_000_000,
            ledger: None,
        }
    }
}

impl Config {
    pub fn sample_interval_ns(&self) -> u64 {
        self.cycles_sample_interval_seconds * crate::time::SECOND_NS
    }

    /// `self` with the fields `arg` gives replaced, if the result is valid.
    pub fn merge(self, arg: InitArg) -> Result<Self, ConfigError> {
        let merged = Self {
            cycles_sample_interval_seconds: arg
                .cycles_sample_interval_seconds
                .unwrap_or(self.cycles_sample_interval_seconds),
            cycles_history_len: arg.cycles_history_len.unwrap_or(self.cycles_history_len),
            max_offerings_per_provider: arg
                .max_offerings_per_provider
                .unwrap_or(self.max_offerings_per_provider),
            max_catalog_bytes: arg.max_catalog_bytes.unwrap_or(self.max_catalog_bytes),
            caller_calls_per_minute: arg
                .caller_calls_per_minute
                .unwrap_or(self.caller_calls_per_minute),
            caller_call_burst: arg.caller_call_burst.unwrap_or(self.caller_call_burst),
            max_providers: arg.max_providers.unwrap_or(self.max_providers),
            max_offerings: arg.max_offerings.unwrap_or(self.max_offerings),
            max_items: arg.max_items.unwrap_or(self.max_items),
            max_open_offers: arg.max_open_offers.unwrap_or(self.max_open_offers),
            change_feed_window: arg.change_feed_window.unwrap_or(self.change_feed_window),
            ledger: match (arg.ledger, arg.no_ledger) {
                (Some(_), Some(true)) => return Err(ConfigError::Ledger),
                (_, Some(true)) => None,
                (ledger, _) => ledger.or(self.ledger),
            },
        };
        merged.validate()?;
        Ok(merged)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !SAMPLE_INTERVAL_SECONDS.contains(&self.cycles_sample_interval_seconds) {
            return Err(ConfigError::SampleInterval(
                self.cycles_sample_interval_seconds,
            ));
        }
        if !HISTORY_LEN.contains(&self.cycles_history_len) {
            return Err(ConfigError::HistoryLen(self.cycles_history_len));
        }
        if !MAX_OFFERINGS_PER_PROVIDER.contains(&self.max_offerings_per_provider) {
            return Err(ConfigError::MaxOfferings(self.max_offerings_per_provider));
        }
        if !MAX_CATALOG_BYTES.contains(&self.max_catalog_bytes) {
            return Err(ConfigError::MaxCatalogBytes(self.max_catalog_bytes));
        }
        if !CALLS_PER_MINUTE.contains(&self.caller_calls_per_minute) {
            return Err(ConfigError::CallsPerMinute(self.caller_calls_per_minute));
        }
        if !CALL_BURST.contains(&self.caller_call_burst) {
            return Err(ConfigError::CallBurst(self.caller_call_burst));
        }
        let caps = [
            (
                "max_providers",
                u64::from(self.max_providers),
                widen(&MAX_PROVIDERS),
            ),
            ("max_offerings", self.max_offerings, MAX_OFFERINGS),
            ("max_items", self.max_items, MAX_ITEMS),
            ("max_open_offers", self.max_open_offers, MAX_OPEN_OFFERS),
            (
                "change_feed_window",
                self.change_feed_window,
                CHANGE_FEED_WINDOW,
            ),
        ];
        for (name, got, range) in caps {
            if !range.contains(&got) {
                return Err(ConfigError::Cap { name, got, range });
            }
        }
        Ok(())
    }
}

fn widen(range: &RangeInclusive<u32>) -> RangeInclusive<u64> {
    u64::from(*range.start())..=u64::from(*range.end())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Both a ledger and `no_ledger`.
    Ledger,
    SampleInterval(u64),
    HistoryLen(u32),
    MaxOfferings(u32),
    MaxCatalogBytes(u64),
    CallsPerMinute(u32),
    CallBurst(u32),
    /// A global cap out of its range.
    Cap {
        name: &'static str,
        got: u64,
        range: RangeInclusive<u64>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ledger => write!(f, "give a ledger or no_ledger = true, not both"),
            Self::SampleInterval(got) => write!(
                f,
                "cycles_sample_interval_seconds must be in {}..={}, got {got}",
                SAMPLE_INTERVAL_SECONDS.start(),
                SAMPLE_INTERVAL_SECONDS.end()
            ),
            Self::HistoryLen(got) => write!(
                f,
                "cycles_history_len must be in {}..={}, got {got}",
                HISTORY_LEN.start(),
                HISTORY_LEN.end()
            ),
            Self::MaxOfferings(got) => write!(
                f,
                "max_offerings_per_provider must be in {}..={}, got {got}",
                MAX_OFFERINGS_PER_PROVIDER.start(),
                MAX_OFFERINGS_PER_PROVIDER.end()
            ),
            Self::MaxCatalogBytes(got) => write!(
                f,
                "max_catalog_bytes must be in {}..={}, got {got}",
                MAX_CATALOG_BYTES.start(),
                MAX_CATALOG_BYTES.end()
            ),
            Self::CallsPerMinute(got) => write!(
                f,
                "caller_calls_per_minute must be in {}..={}, got {got}",
                CALLS_PER_MINUTE.start(),
                CALLS_PER_MINUTE.end()
            ),
            Self::CallBurst(got) => write!(
                f,
                "caller_call_burst must be in {}..={}, got {got}",
                CALL_BURST.start(),
                CALL_BURST.end()
            ),
            Self::Cap { name, got, range } => write!(
                f,
                "{name} must be in {}..={}, got {got}",
                range.start(),
                range.end()
            ),
        }
    }
}

impl Storable for Config {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.cycles_sample_interval_seconds.to_le_bytes().to_vec();
        bytes.extend(self.cycles_history_len.to_le_bytes());
        bytes.extend(self.max_offerings_per_provider.to_le_bytes());
        bytes.extend(self.max_catalog_bytes.to_le_bytes());
        bytes.extend(self.caller_calls_per_minute.to_le_bytes());
        bytes.extend(self.caller_call_burst.to_le_bytes());
        bytes.extend(self.max_providers.to_le_bytes());
        bytes.extend(self.max_offerings.to_le_bytes());
        bytes.extend(self.max_items.to_le_bytes());
        bytes.extend(self.max_open_offers.to_le_bytes());
        bytes.extend(self.change_feed_window.to_le_bytes());
        let ledger = self.ledger.as_ref().map_or(&[][..], Principal::as_slice);
        push_short_bytes(&mut bytes, ledger);
        bytes
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut fields = Fields::new(&bytes);
        let default = Self::default();
        Self {
            cycles_sample_interval_seconds: fields
                .u64()
                .unwrap_or(default.cycles_sample_interval_seconds),
            cycles_history_len: fields.u32().unwrap_or(default.cycles_history_len),
            max_offerings_per_provider: fields.u32().unwrap_or(default.max_offerings_per_provider),
            max_catalog_bytes: fields.u64().unwrap_or(default.max_catalog_bytes),
            caller_calls_per_minute: fields.u32().unwrap_or(default.caller_calls_per_minute),
            caller_call_burst: fields.u32().unwrap_or(default.caller_call_burst),
            max_providers: fields.u32().unwrap_or(default.max_providers),
            max_offerings: fields.u64().unwrap_or(default.max_offerings),
            max_items: fields.u64().unwrap_or(default.max_items),
            max_open_offers: fields.u64().unwrap_or(default.max_open_offers),
            change_feed_window: fields.u64().unwrap_or(default.change_feed_window),
            ledger: fields
                .short_bytes()
                .filter(|bytes| !bytes.is_empty())
                .and_then(|bytes| Principal::try_from_slice(bytes).ok()),
        }
    }

    const BOUND: Bound = Bound::Unbounded;
}

thread_local! {
    static CONFIG: RefCell<StableCell<Config, Memory>> =
        RefCell::new(StableCell::init(memory::region(memory::CONFIG), Config::default()));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    CONFIG.with(|_| ());
}

pub fn get() -> Config {
    CONFIG.with_borrow(|cell| *cell.get())
}

/// Merges `arg` into the stored configuration (the defaults on a fresh install) and stores the
/// result; nothing is stored when it is invalid.
pub fn apply(arg: InitArg) -> Result<Config, ConfigError> {
    let config = get().merge(arg)?;
    CONFIG.with_borrow_mut(|cell| cell.set(config));
    Ok(config)
}

#[cfg(test)]
mod tests;
