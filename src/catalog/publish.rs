//! Applying signed catalog changes: replace a catalog, upsert or remove offerings, remove a
//! provider.
//!
//! The provider's signature is the authorization, so any caller may submit a signed change
//! (a relay, a CI job). Every change is checked whole (signature, sequence, CSV, caps) before
//! anything is written, so a refused change leaves the catalog, the index and the change feed as
//! they were.

use crate::catalog::changes::{self, ChangeKind};
use crate::catalog::csv_format::{self, Catalog, RowError};
use crate::catalog::index;
use crate::catalog::keys;
use crate::catalog::offering::{nfc_key, Cells};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::signing::{self, Operation};
use crate::catalog::store::{self, ProviderRecord};
use crate::config;
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use serde_bytes::ByteBuf;
use std::collections::{HashMap, HashSet};

pub use crate::catalog::error::{CatalogError, CsvError};

/// `catalog_replace` and `catalog_upsert`.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PublishArg {
    pub provider: ProviderKeyInput,
    pub seq: u64,
    pub signature: ByteBuf,
    pub csv: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RemoveOfferingsArg {
    pub provider: ProviderKeyInput,
    pub seq: u64,
    pub signature: ByteBuf,
    pub keys: Vec<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RemoveProviderArg {
    pub provider: ProviderKeyInput,
    pub seq: u64,
    pub signature: ByteBuf,
}

/// What an accepted change did.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub provider_pem: String,
    pub seq: u64,
    /// The provider's offerings now.
    pub offerings: u32,
    /// Offerings added or changed.
    pub upserted: u32,
    /// Offerings sent with exactly their stored cells: nothing written, ids kept.
    pub unchanged: u32,
    pub removed: u32,
    /// The change feed's latest sequence number after this change.
    pub change_seq: u64,
}

/// A signed change, once its signature is checked.
pub(super) enum Edit<'a> {
    Replace(&'a [u8]),
    Upsert(&'a [u8]),
    Remove(&'a [String]),
    RemoveProvider,
}

pub fn replace(rt: &impl Runtime, arg: PublishArg) -> Result<Receipt, CatalogError> {
    let op = Operation::ReplaceCatalog;
    let provider = signer(rt, &arg.provider, op, arg.seq, &arg.csv, &arg.signature)?;
    apply(rt.time(), &provider, arg.seq, Edit::Replace(&arg.csv))
}

pub fn upsert(rt: &impl Runtime, arg: PublishArg) -> Result<Receipt, CatalogError> {
    let op = Operation::UpsertOfferings;
    let provider = signer(rt, &arg.provider, op, arg.seq, &arg.csv, &arg.signature)?;
    apply(rt.time(), &provider, arg.seq, Edit::Upsert(&arg.csv))
}

pub(crate) fn remove_offerings(
    rt: &impl Runtime,
    arg: RemoveOfferingsArg,
) -> Result<Receipt, CatalogError> {
    check_keys(&arg.keys)?;
    let payload = signing::remove_offerings_payload(&arg.keys);
    let op = Operation::RemoveOfferings;
    let provider = signer(rt, &arg.provider, op, arg.seq, &payload, &arg.signature)?;
    apply(rt.time(), &provider, arg.seq, Edit::Remove(&arg.keys))
}

pub(crate) fn remove_provider(
    rt: &impl Runtime,
    arg: RemoveProviderArg,
) -> Result<Receipt, CatalogError> {
    let op = Operation::RemoveProvider;
    let provider = signer(rt, &arg.provider, op, arg.seq, b"", &arg.signature)?;
    apply(rt.time(), &provider, arg.seq, Edit::RemoveProvider)
}

/// The provider, once its signature over this change on this canister is checked.
fn signer(
    rt: &impl Runtime,
    provider: &ProviderKeyInput,
    op: Operation,
    seq: u64,
    payload: &[u8],
    signature: &[u8],
) -> Result<ProviderKey, CatalogError> {
    let provider = parse_key(provider)?;
    let hash = signing::payload_hash(payload);
    signing::verify_relayed(rt, &provider, op, seq, &hash, signature)?;
    // The account the key signs for (a rotated key's first key), unless retired or frozen.
    keys::signer(&provider)
}

pub(super) fn parse_key(input: &ProviderKeyInput) -> Result<ProviderKey, CatalogError> {
    ProviderKey::parse(input).map_err(|message| CatalogError::InvalidKey { message })
}

/// Sequence numbers start at 1, must increase with every accepted change, and may not run far
/// ahead (`signing::MAX_SEQ_LEAD`).
pub(super) fn check_seq(
    record: Option<&ProviderRecord>,
    seq: u64,
    now: u64,
) -> Result<(), CatalogError> {
    let last = record.map_or(0, |record| record.seq);
    if seq <= last {
        return Err(CatalogError::StaleSequence { last });
    }
    match signing::seq_too_far_ahead(seq, last, now) {
        Some(message) => Err(CatalogError::invalid(message)),
        None => Ok(()),
    }
}

/// Applies a change whose signature was checked: all of it, or nothing.
pub(super) fn apply(
    now: u64,
    provider: &ProviderKey,
    seq: u64,
    edit: Edit,
) -> Result<Receipt, CatalogError> {
    let record = store::provider(provider);
    // Removals need a provider that has published; a first publish creates it.
    let known = || {
        let known = record.as_ref().ok_or(CatalogError::UnknownProvider)?;
        check_seq(Some(known), seq, now).map(|()| known)
    };
    let plan = match edit {
        Edit::Replace(csv) | Edit::Upsert(csv) => {
            check_seq(record.as_ref(), seq, now)?;
            plan_rows(record.as_ref(), csv, matches!(edit, Edit::Replace(_)))?
        }
        Edit::Remove(keys) => plan_removal(known()?, keys)?,
        Edit::RemoveProvider => plan_provider_removal(known()?),
    };
    check_caps(record.as_ref(), &plan)?;
    Ok(commit(now, provider, seq, record, plan))
}

/// The canister's global caps: a first publish needs room for one more provider, and a change
/// that adds offerings needs room for them among all providers' (one that shrinks a catalog
/// always passes, so a full canister can still be trimmed). Two counters, whatever the size.
fn check_caps(record: Option<&ProviderRecord>, plan: &Plan) -> Result<(), CatalogError> {
    let config = config::get();
    if record.is_none() && store::provider_count() >= u64::from(config.max_providers) {
        return Err(CatalogError::CapacityReached {
            what: "providers".into(),
            max: u64::from(config.max_providers),
        });
    }
    let before = u64::from(record.map_or(0, |record| record.offerings));
    let after = u64::from(plan.offerings);
    let total = store::offering_count().saturating_sub(before) + after;
    if after > before && total > config.max_offerings {
        return Err(CatalogError::CapacityReached {
            what: "offerings".into(),
            max: config.max_offerings,
        });
    }
    Ok(())
}

/// Everything a change writes, computed before anything is.
#[derive(Default)]
struct Plan {
    /// The offerings of the CSV sent, if any.
    catalog: Catalog,
    /// Offerings to write, by row of `catalog`.
    writes: Vec<Write>,
    /// `(key, id)` of the offerings to remove.
    removals: Vec<(String, u64)>,
    /// Every offering of the provider goes: the index drops them in one call.
    whole_provider: bool,
    unchanged: u32,
    offerings: u32,
    csv_bytes: u64,
}

struct Write {
    /// `Some` for a changed offering: it keeps its id.
    id: Option<u64>,
    row: usize,
}

fn plan_rows(
    record: Option<&ProviderRecord>,
    csv: &[u8],
    replace: bool,
) -> Result<Plan, CatalogError> {
    let config = config::get();
    let too_large = CatalogError::CatalogTooLarge {
        max_bytes: config.max_catalog_bytes,
    };
    // Refused before parsing: its rows could not fit either.
    if csv.len() as u64 > config.max_catalog_bytes {
        return Err(too_large);
    }
    let catalog = csv_format::parse(csv).map_err(invalid_csv)?;
    let provider_id = record.map(|record| record.id);
    // A replace finds its stored offerings here; what is left over at the end goes.
    let mut previous: HashMap<String, u64> = match (replace, provider_id) {
        (true, Some(id)) => index::provider_offerings(id).into_iter().collect(),
        _ => HashMap::new(),
    };
    let mut plan = Plan::default();
    let (mut offerings, mut csv_bytes) = match (replace, record) {
        (false, Some(record)) => (u64::from(record.offerings), record.csv_bytes),
        _ => (0, 0),
    };
    for (at, row) in catalog.rows().enumerate() {
        let key = row.cells.key();
        let id = if replace {
            previous.remove(key)
        } else {
            provider_id.and_then(|provider| index::lookup(provider, key))
        };
        let stored = id.and_then(|id| Some((id, store::row(id)?)));
        match &stored {
            // An upsert of a stored offering swaps its bytes and keeps the count.
            Some((_, old)) if !replace => {
                csv_bytes = csv_bytes.saturating_sub(old.len() as u64);
            }
            _ => offerings += 1,
        }
        csv_bytes += row.record.len() as u64;
        if stored.as_ref().is_some_and(|(_, old)| old == row.record) {
            plan.unchanged += 1;
            continue;
        }
        plan.writes.push(Write {
            id: stored.map(|(id, _)| id),
            row: at,
        });
    }
    plan.catalog = catalog;
    plan.removals = previous.into_iter().collect();
    plan.removals.sort_unstable_by_key(|(_, id)| *id);
    if offerings > u64::from(config.max_offerings_per_provider) {
        return Err(CatalogError::TooManyOfferings {
            max: config.max_offerings_per_provider,
        });
    }
    if csv_bytes > config.max_catalog_bytes {
        return Err(too_large);
    }
    plan.offerings = offerings as u32;
    plan.csv_bytes = csv_bytes;
    Ok(plan)
}

fn plan_removal(record: &ProviderRecord, keys: &[String]) -> Result<Plan, CatalogError> {
    let mut plan = Plan {
        offerings: record.offerings,
        csv_bytes: record.csv_bytes,
        ..Plan::default()
    };
    for key in keys {
        let unknown = || CatalogError::UnknownOffering { key: key.clone() };
        // Keys are stored NFC (the signature covers them as given).
        let key = nfc_key(key).into_owned();
        let id = index::lookup(record.id, &key).ok_or_else(unknown)?;
        let row = store::row(id).ok_or_else(unknown)?;
        plan.offerings = plan.offerings.saturating_sub(1);
        plan.csv_bytes = plan.csv_bytes.saturating_sub(row.len() as u64);
        plan.removals.push((key, id));
    }
    Ok(plan)
}

fn plan_provider_removal(record: &ProviderRecord) -> Plan {
    let mut removals = index::provider_offerings(record.id);
    removals.sort_unstable_by_key(|(_, id)| *id);
    Plan {
        removals,
        whole_provider: true,
        ..Plan::default()
    }
}

/// Writes a validated plan: store, index and change feed, then the provider record.
fn commit(
    now: u64,
    provider: &ProviderKey,
    seq: u64,
    record: Option<ProviderRecord>,
    plan: Plan,
) -> Receipt {
    let mut record = record.unwrap_or_else(|| {
        let record = store::add_provider(provider, now);
        index::add_provider(record.id, provider);
        record
    });
    let provider_id = record.id;
    for (key, id) in &plan.removals {
        store::remove_offering(*id);
        if !plan.whole_provider {
            index::remove(*id);
        }
        changes::record(provider_id, ChangeKind::Remove, key, now);
    }
    if plan.whole_provider {
        index::remove_provider(provider_id);
    }
    let upserted = plan.writes.len() as u32;
    for write in &plan.writes {
        let row = plan.catalog.row(write.row);
        let id = match write.id {
            Some(id) => {
                index::remove(id);
                store::put_offering(id, provider_id, row.record);
                id
            }
            None => store::add_offering(provider_id, row.record),
        };
        let key = row.cells.key();
        index::insert(id, provider_id, &row.cells, row.values);
        changes::record(provider_id, ChangeKind::Upsert, key, now);
    }
    record.seq = seq;
    record.offerings = plan.offerings;
    record.csv_bytes = plan.csv_bytes;
    record.updated_at_ns = now;
    store::set_provider(provider, &record);
    Receipt {
        provider_pem: provider.to_pem(),
        seq,
        offerings: plan.offerings,
        upserted,
        unchanged: plan.unchanged,
        removed: plan.removals.len() as u32,
        change_seq: changes::latest(),
    }
}

/// Keys to remove: at least one, each once, without "\n" (the payload's separator).
fn check_keys(keys: &[String]) -> Result<(), CatalogError> {
    if keys.is_empty() {
        return Err(CatalogError::invalid("no offering keys to remove"));
    }
    let mut seen = HashSet::new();
    for key in keys {
        if key.contains('\n') {
            return Err(CatalogError::invalid(format!(
                "offering key {key:?} contains a newline"
            )));
        }
        if !seen.insert(nfc_key(key)) {
            return Err(CatalogError::invalid(format!(
                "offering key {key:?} is given twice"
            )));
        }
    }
    Ok(())
}

fn invalid_csv(errors: Vec<RowError>) -> CatalogError {
    let errors = errors
        .into_iter()
        .map(|e| CsvError {
            row: e.row,
            column: e.column,
            reason: e.reason,
        })
        .collect();
    CatalogError::InvalidCsv { errors }
}

/// Offerings, keys and signatures for the tests of `publish` and `upload`.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::catalog::offering::{Column, COLUMNS};
    use crate::runtime::FakeRuntime;

    pub const SECRET: [u8; 32] = [7; 32];

    /// The fixture's first offering.
    const TEMPLATE: &str = "Intel Dual Core Dedicated Server,Here goes a product description.,\
        DC2993,https://test.com/DC2993/,EUR,99.99,99.99,Visible,VPS,KVM,Monthly,In stock,Intel,1,\
        2,2.6 GHz,Intel® Xeon® Processor E5-1620 v4,non-ECC,DDR4,8192 MB,0,0,2,160 GB,\
        Unmetered inbound,1000 mbit,10240,NL,\"Rotterdam, Netherlands\",\"51.9229,4.46317\",\
        \"KVM over IP, Managed support, Native IPv6, Instant setup\",\"Debian, CentOs, VMWare\",\
        cPanel,,\"Bitcoin, Credit card, PayPal, Wire Transfer\"\n";

    pub fn header() -> Vec<u8> {
        format!("{}\n", COLUMNS.join(",")).into_bytes()
    }

    /// The template with another key, price and description.
    pub fn offering(key: &str, price: &str, description: &str) -> Vec<u8> {
        let csv = [header(), TEMPLATE.as_bytes().to_vec()].concat();
        let (mut offering, _) = csv_format::parse_catalog(&csv).unwrap().remove(0);
        offering.cells[Column::UniqueInternalIdentifier.index()] = key.into();
        offering.cells[Column::MonthlyPrice.index()] = price.into();
        offering.cells[Column::Description.index()] = description.into();
        offering.to_csv_row()
    }

    /// A catalog of `(key, price)` offerings.
    pub fn csv(offerings: &[(&str, &str)]) -> Vec<u8> {
        let rows: Vec<Vec<u8>> = offerings
            .iter()
            .map(|(key, price)| offering(key, price, "A server."))
            .collect();
        csv_format::write_catalog(rows.iter().map(Vec::as_slice))
    }

    pub fn key_input(secret: &[u8; 32]) -> ProviderKeyInput {
        let key = signing::provider_of(secret);
        ProviderKeyInput::Raw(ByteBuf::from(key.as_bytes().to_vec()))
    }

    pub fn signature(secret: &[u8; 32], op: Operation, seq: u64, payload: &[u8]) -> ByteBuf {
        let hash = signing::payload_hash(payload);
        let canister = FakeRuntime::CANISTER_ID;
        ByteBuf::from(signing::sign(secret, &canister, op, seq, &hash).to_vec())
    }

    pub fn publish_arg(op: Operation, seq: u64, csv: Vec<u8>) -> PublishArg {
        PublishArg {
            provider: key_input(&SECRET),
            seq,
            signature: signature(&SECRET, op, seq, &csv),
            csv: ByteBuf::from(csv),
        }
    }
}

#[cfg(test)]
mod tests;
