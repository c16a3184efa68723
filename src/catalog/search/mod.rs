//! Public reads of the catalog: direct lookup, provider browse and export, text and filter
//! search. Requests are checked here, run on the heap index, and their rows read from the
//! store and encoded by `encode`.

#[cfg(test)]
mod bench;
pub mod cursor;
pub mod eval;
pub mod kinds;
pub mod query;

use crate::catalog::csv_format::write_catalog;
use crate::catalog::encode::{self, Encoded, Item, OfferingRecords, Offerings, REPLY_BUDGET};
use crate::catalog::index::{self, Index};
use crate::catalog::offering::{nfc_key, MAX_KEY_BYTES};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::store;
use candid::{CandidType, Deserialize};
use eval::Matches;
use query::{fnv, Format, SearchQuery};

/// Why a catalog read was refused.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum SearchError {
    InvalidArgument {
        message: String,
    },
    /// The caller made too many update calls lately; it may call again after this long.
    RateLimited {
        retry_after_seconds: u64,
    },
    /// The provider key is neither 32 raw bytes of an Ed25519 key nor its PEM.
    InvalidKey {
        message: String,
    },
    QueryTooLong {
        max_bytes: u32,
    },
    TooManyTerms {
        max: u32,
    },
    PageSizeTooLarge {
        max: u32,
    },
    /// Not a cursor this query returned.
    InvalidCursor,
    UnknownProvider,
    UnknownOffering,
}

crate::candid_io::argument_errors!(SearchError);

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferingGetArg {
    pub provider: ProviderKeyInput,
    pub key: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderOfferingsArg {
    pub provider: ProviderKeyInput,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    pub format: Option<Format>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CatalogExportArg {
    pub provider: ProviderKeyInput,
    pub cursor: Option<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    pub offerings: Offerings,
    /// Present when more offerings match: pass it as `cursor` with the same request.
    pub next_cursor: Option<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CatalogExport {
    pub provider_pem: String,
    /// Header and rows; later pages repeat the header.
    pub csv: String,
    pub next_cursor: Option<String>,
}

/// A provider's offering by key, invisible ones included (they are unlisted, not secret).
pub fn offering_get(arg: &OfferingGetArg) -> Result<OfferingRecords, SearchError> {
    let (provider, pem) = provider(&arg.provider)?;
    if arg.key.len() > MAX_KEY_BYTES {
        return Err(SearchError::InvalidArgument {
            message: format!("an offering key has at most {MAX_KEY_BYTES} bytes"),
        });
    }
    let item = index::with(|index| {
        // Keys are stored NFC: either spelling finds the offering.
        let slot = index.lookup(provider, nfc_key(&arg.key).as_bytes())?;
        item(index, slot)
    });
    let Encoded { value, .. } = encode::records([item], |_| Some(pem.clone()), REPLY_BUDGET);
    match value.offerings.is_empty() {
        true => Err(SearchError::UnknownOffering),
        false => Ok(value),
    }
}

/// A provider's visible offerings in key order.
pub fn provider_offerings(arg: &ProviderOfferingsArg) -> Result<SearchPage, SearchError> {
    browse_within(arg, REPLY_BUDGET)
}

/// Offerings matching a text and filters, by price.
pub fn offerings_search(request: &SearchQuery) -> Result<SearchPage, SearchError> {
    search_within(request, REPLY_BUDGET)
}

/// A provider's whole catalog (invisible offerings included) as CSV, in key order: what it
/// published, to check or re-import.
pub fn provider_catalog_export(arg: &CatalogExportArg) -> Result<CatalogExport, SearchError> {
    export_within(arg, REPLY_BUDGET)
}

fn search_within(request: &SearchQuery, budget: usize) -> Result<SearchPage, SearchError> {
    let (query, page) = query::check(request)?;
    let scope = query.scope();
    let after = match &page.cursor {
        Some(text) => Some(cursor::parse_sorted(text, scope)?),
        None => None,
    };
    Ok(index::with(|index| {
        let matches = eval::search(index, &query, after.as_ref(), page.limit);
        reply(index, &matches, page.format, budget, |slot| {
            cursor::sorted(scope, &eval::sort_key(index, slot))
        })
    }))
}

fn browse_within(arg: &ProviderOfferingsArg, budget: usize) -> Result<SearchPage, SearchError> {
    let (provider, _) = provider(&arg.provider)?;
    let limit = query::limit(arg.limit)?;
    let scope = keyed_scope(b"browse", provider);
    let after = match &arg.cursor {
        Some(text) => Some(cursor::parse_keyed(text, scope)?),
        None => None,
    };
    let format = arg.format.unwrap_or_default();
    Ok(index::with(|index| {
        let matches = eval::browse(index, provider, after.as_deref(), false, limit);
        reply(index, &matches, format, budget, |slot| {
            cursor::keyed(scope, index.key(slot))
        })
    }))
}

fn export_within(arg: &CatalogExportArg, budget: usize) -> Result<CatalogExport, SearchError> {
    let (provider, pem) = provider(&arg.provider)?;
    let scope = keyed_scope(b"export", provider);
    let after = match &arg.cursor {
        Some(text) => Some(cursor::parse_keyed(text, scope)?),
        None => None,
    };
    Ok(index::with(|index| {
        let matches = eval::browse(index, provider, after.as_deref(), true, usize::MAX);
        let items = rows(index, &matches);
        let Encoded { value, taken } = encode::catalogs(items, |_| Some(pem.clone()), budget);
        let header = || String::from_utf8_lossy(&write_catalog([])).into_owned();
        CatalogExport {
            csv: value
                .into_iter()
                .next()
                .map_or_else(header, |catalog| catalog.csv),
            provider_pem: pem,
            next_cursor: next_cursor(&matches, taken, |slot| {
                cursor::keyed(scope, index.key(slot))
            }),
        }
    }))
}

/// Encodes a page of matches and gives the cursor after its last row when the page is cut
/// short by size or more matches follow.
fn reply(
    index: &Index,
    matches: &Matches,
    format: Format,
    budget: usize,
    cursor: impl Fn(u32) -> String,
) -> SearchPage {
    let pem = |provider| index.provider_key(provider).map(|key| key.to_pem());
    let Encoded { value, taken } = encode::results(format, rows(index, matches), pem, budget);
    SearchPage {
        offerings: value,
        next_cursor: next_cursor(matches, taken, cursor),
    }
}

fn next_cursor(matches: &Matches, taken: usize, cursor: impl Fn(u32) -> String) -> Option<String> {
    let cut = taken < matches.slots.len();
    let last = matches.slots[..taken].last()?;
    (cut || matches.more).then(|| cursor(*last))
}

/// The stored rows of `matches`, read as the encoder asks for them.
fn rows<'a>(index: &'a Index, matches: &'a Matches) -> impl Iterator<Item = Option<Item>> + 'a {
    matches.slots.iter().map(|&slot| item(index, slot))
}

/// The stored row of `slot`, with what the index holds of it.
fn item(index: &Index, slot: u32) -> Option<Item> {
    let indexed = index.columns.row(slot)?;
    Some(Item {
        provider: indexed.provider,
        row: store::row(indexed.id)?,
        indexed: Some(indexed),
    })
}

/// The id and PEM of a known provider.
fn provider(input: &ProviderKeyInput) -> Result<(u32, String), SearchError> {
    let key = ProviderKey::parse_for_lookup(input)
        .map_err(|message| SearchError::InvalidKey { message })?;
    let id = index::with(|index| index.provider_id(&key)).ok_or(SearchError::UnknownProvider)?;
    Ok((id, key.to_pem()))
}

/// The scope of a provider's key-ordered listing: browse and export cursors do not mix.
fn keyed_scope(kind: &[u8], provider: u32) -> u64 {
    fnv(&[kind, &provider.to_le_bytes()].concat())
}

#[cfg(test)]
mod tests;
