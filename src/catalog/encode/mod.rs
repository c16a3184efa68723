//! Replies of catalog reads in three forms: Candid records, per-provider PEM + CSV, and the
//! same as compact JSON. Each reply is filled row by row in the page's order while its size
//! stays within a budget; the caller learns how many rows went in and gives a cursor after the
//! last, so a reply cut short loses nothing.

mod view;

pub use view::OfferingView;

use crate::catalog::csv_format::write_catalog;
use crate::catalog::index;
use crate::catalog::search::query::Format;
use candid::{CandidType, Deserialize};
use serde::Serialize;

/// Payload bytes a reply may carry. The IC allows 3 MiB for a query's reply but 2 MiB when the
/// query runs as an update (replicated), so 1.5 MiB fits both with room for the envelope.
pub const REPLY_BUDGET: usize = 3 * 512 * 1024;

/// Candid bytes around each provider in `Records` (the PEM's length, vector growth).
const PROVIDER_OVERHEAD: usize = 8;
/// Candid bytes around each PEM + CSV group.
const GROUP_OVERHEAD: usize = 16;
/// JSON bytes around each group: `{"provider_pubkey_pem":"…","server_offerings_csv":"…"},`.
const JSON_GROUP_OVERHEAD: usize = 64;

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Offerings {
    Records(OfferingRecords),
    PemCsv(Vec<ProviderCatalog>),
    /// `[{"provider_pubkey_pem": "…", "server_offerings_csv": "…"}, …]`
    Json(String),
}

/// Offerings in page order; each names its provider by position in `providers` (PEMs), so a
/// provider's ~110-byte PEM is sent once per reply.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferingRecords {
    pub providers: Vec<String>,
    pub offerings: Vec<OfferingView>,
}

/// One provider's PEM and a CSV file (header + rows) of its offerings in the reply.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderCatalog {
    pub provider_pem: String,
    pub csv: String,
}

/// A [`ProviderCatalog`] in the compact JSON form.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct JsonCatalog {
    pub provider_pubkey_pem: String,
    pub server_offerings_csv: String,
}

/// A row to encode: the provider's id and the offering's stored CSV row, and the index's
/// values of it when the caller has them (they spare parsing the row's values again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub provider: u32,
    pub row: Vec<u8>,
    pub indexed: Option<index::Row>,
}

/// What went into a reply: `taken` items of the page were consumed (encoded, or skipped as
/// missing), so the next page starts after item `taken - 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded<T> {
    pub value: T,
    pub taken: usize,
}

/// Encodes `items` (`None` for a row the store no longer has) in `format` within `budget`
/// bytes, always taking the first so that every page makes progress. `pem` gives a provider's
/// PEM.
pub fn results(
    format: Format,
    items: impl IntoIterator<Item = Option<Item>>,
    pem: impl FnMut(u32) -> Option<String>,
    budget: usize,
) -> Encoded<Offerings> {
    match format {
        Format::Records => {
            let Encoded { value, taken } = records(items, pem, budget);
            Encoded {
                value: Offerings::Records(value),
                taken,
            }
        }
        Format::PemCsv => {
            let Encoded { value, taken } = catalogs(items, pem, budget);
            Encoded {
                value: Offerings::PemCsv(value),
                taken,
            }
        }
        Format::Json => {
            let Encoded { value, taken } = json(items, pem, budget);
            Encoded {
                value: Offerings::Json(value),
                taken,
            }
        }
    }
}

pub fn records(
    items: impl IntoIterator<Item = Option<Item>>,
    mut pem: impl FnMut(u32) -> Option<String>,
    budget: usize,
) -> Encoded<OfferingRecords> {
    let mut out = OfferingRecords::default();
    let mut ids: Vec<u32> = vec![];
    let mut left = Budget::new(budget);
    let mut taken = 0;
    for item in items {
        let Some(Item {
            provider,
            row,
            indexed,
        }) = item
        else {
            taken += 1;
            continue;
        };
        let known = ids.iter().position(|&id| id == provider);
        let new_pem = match known {
            Some(_) => None,
            None => match pem(provider) {
                Some(pem) => Some(pem),
                None => {
                    taken += 1;
                    continue;
                }
            },
        };
        let position = known.unwrap_or(ids.len()) as u32;
        let view = match &indexed {
            Some(indexed) => OfferingView::of_indexed(position, &row, indexed),
            None => OfferingView::of_row(position, &row),
        };
        let Some(view) = view else {
            taken += 1;
            continue;
        };
        let pem_size = new_pem.as_ref().map_or(0, |p| p.len() + PROVIDER_OVERHEAD);
        if !left.take(view.encoded_size() + pem_size) {
            break;
        }
        if let Some(pem) = new_pem {
            ids.push(provider);
            out.providers.push(pem);
        }
        out.offerings.push(view);
        taken += 1;
    }
    Encoded { value: out, taken }
}

/// PEM + CSV per provider, in order of first appearance; a provider's rows keep page order.
pub fn catalogs(
    items: impl IntoIterator<Item = Option<Item>>,
    pem: impl FnMut(u32) -> Option<String>,
    budget: usize,
) -> Encoded<Vec<ProviderCatalog>> {
    let header = write_catalog([]).len();
    let Encoded { value, taken } = groups(items, pem, budget, |row, new_pem| {
        row.len() + new_pem.map_or(0, |pem| pem.len() + header + GROUP_OVERHEAD)
    });
    Encoded {
        value: value.into_iter().map(Group::into_catalog).collect(),
        taken,
    }
}

/// [`catalogs`] as compact JSON text.
pub fn json(
    items: impl IntoIterator<Item = Option<Item>>,
    pem: impl FnMut(u32) -> Option<String>,
    budget: usize,
) -> Encoded<String> {
    let header = json_len(&write_catalog([]));
    let Encoded { value, taken } = groups(items, pem, budget.saturating_sub(2), |row, new_pem| {
        json_len(row)
            + new_pem.map_or(0, |pem| {
                json_len(pem.as_bytes()) + header + JSON_GROUP_OVERHEAD
            })
    });
    let catalogs: Vec<JsonCatalog> = value
        .into_iter()
        .map(Group::into_catalog)
        .map(|c| JsonCatalog {
            provider_pubkey_pem: c.provider_pem,
            server_offerings_csv: c.csv,
        })
        .collect();
    // Strings and a derived struct always serialize.
    let text = serde_json::to_string(&catalogs).unwrap_or_default();
    Encoded { value: text, taken }
}

struct Group {
    provider: u32,
    pem: String,
    rows: Vec<Vec<u8>>,
}

impl Group {
    fn into_catalog(self) -> ProviderCatalog {
        let csv = write_catalog(self.rows.iter().map(Vec::as_slice));
        ProviderCatalog {
            provider_pem: self.pem,
            csv: String::from_utf8(csv)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }
}

/// Gathers items by provider while `size(row, PEM if the provider is new)` fits the budget.
fn groups(
    items: impl IntoIterator<Item = Option<Item>>,
    mut pem: impl FnMut(u32) -> Option<String>,
    budget: usize,
    size: impl Fn(&[u8], Option<&str>) -> usize,
) -> Encoded<Vec<Group>> {
    let mut groups: Vec<Group> = vec![];
    let mut left = Budget::new(budget);
    let mut taken = 0;
    for item in items {
        let Some(Item { provider, row, .. }) = item else {
            taken += 1;
            continue;
        };
        match groups.iter().position(|g| g.provider == provider) {
            Some(at) => {
                if !left.take(size(&row, None)) {
                    break;
                }
                groups[at].rows.push(row);
            }
            None => {
                let Some(pem) = pem(provider) else {
                    taken += 1;
                    continue;
                };
                if !left.take(size(&row, Some(&pem))) {
                    break;
                }
                let rows = vec![row];
                groups.push(Group {
                    provider,
                    pem,
                    rows,
                });
            }
        }
        taken += 1;
    }
    Encoded {
        value: groups,
        taken,
    }
}

/// Bytes left for a reply; the first row always fits, so that a page is never empty.
struct Budget {
    left: usize,
    first: bool,
}

impl Budget {
    fn new(bytes: usize) -> Self {
        Self {
            left: bytes,
            first: true,
        }
    }

    fn take(&mut self, bytes: usize) -> bool {
        let fits = self.first || bytes <= self.left;
        if fits {
            self.first = false;
            self.left = self.left.saturating_sub(bytes);
        }
        fits
    }
}

/// The length of `bytes` as the body of a JSON string, as serde_json escapes it.
fn json_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
        + 2
}

#[cfg(test)]
mod tests;
