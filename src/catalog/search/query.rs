//! Search requests as callers send them, their limits, and the checked form the index is
//! asked with.

use super::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use super::SearchError;
use crate::catalog::index::{self, Tag};
use crate::catalog::text;
use candid::{CandidType, Deserialize};

/// Longest query text, and longest text of any filter.
pub const MAX_TEXT_BYTES: usize = 256;
/// Most distinct words in a query text: each is one posting list to intersect.
pub const MAX_TERMS: usize = 16;
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words that must all appear in the offering's searchable cells (any order, folded).
    pub text: Option<String>,
    pub filters: Option<Filters>,
    pub sort: Option<SortOrder>,
    /// `next_cursor` of the previous page of the same query.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    pub format: Option<Format>,
}

/// Every filter given must hold.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub price: Option<PriceFilter>,
    /// ISO 3166-1 alpha-2, any case.
    pub country: Option<String>,
    /// The city's name, folded; "Rotterdam" and "rotterdam, NL" both match "Rotterdam,
    /// Netherlands" (only the part before a comma counts).
    pub city: Option<String>,
    pub product_type: Option<ProductType>,
    pub virtualization: Option<Virtualization>,
    pub billing: Option<BillingInterval>,
    pub stock: Option<Stock>,
    pub min_cores: Option<u32>,
    pub min_memory_mb: Option<u64>,
    pub min_ssd_gb: Option<u64>,
    pub min_hdd_gb: Option<u64>,
    pub gpu: Option<GpuFilter>,
    /// One of the offering's operating systems, folded ("centos" matches "CentOs").
    pub os: Option<String>,
    /// One of the offering's features, folded.
    pub feature: Option<String>,
    pub unmetered: Option<bool>,
}

/// Offerings priced in `currency`, between the bounds (inclusive, in hundredths).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PriceFilter {
    pub currency: String,
    pub min_minor: Option<u64>,
    pub max_minor: Option<u64>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum GpuFilter {
    /// With a GPU (true) or without (false).
    Present(bool),
    /// A GPU whose folded name contains this folded text ("rtx 40" matches "NVIDIA RTX 4090").
    Name(String),
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    PriceAsc,
    PriceDesc,
}

/// How matching offerings are sent back.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Typed records with the CSV row, each provider's PEM given once.
    #[default]
    Records,
    /// Per provider: its PEM and a CSV file of its matching rows.
    PemCsv,
    /// The same as compact JSON text.
    Json,
}

/// A checked query: folded, bounded, and independent of the index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Distinct folded words, sorted.
    pub words: Vec<String>,
    /// City, OS and feature values as index tags.
    pub tags: Vec<Vec<u8>>,
    pub price: Option<Price>,
    pub country: Option<[u8; 2]>,
    pub product_type: Option<u8>,
    pub virtualization: Option<u8>,
    pub billing: Option<u8>,
    pub stock: Option<u8>,
    pub min_cores: u32,
    pub min_memory_mb: u64,
    pub min_ssd_gb: u64,
    pub min_hdd_gb: u64,
    pub gpu: Option<Gpu>,
    pub unmetered: Option<bool>,
    pub descending: bool,
    /// A filter value no offering can have (a text filter without a single word).
    pub impossible: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    pub currency: [u8; 3],
    pub min: u64,
    pub max: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gpu {
    Present(bool),
    /// Folded.
    Name(String),
}

/// The page a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: usize,
    pub format: Format,
}

/// Checks a page size: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn limit(limit: Option<u32>) -> Result<usize, SearchError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        0 => Err(SearchError::InvalidArgument {
            message: "limit must be at least 1".into(),
        }),
        n if n > MAX_LIMIT => Err(SearchError::PageSizeTooLarge { max: MAX_LIMIT }),
        n => Ok(n as usize),
    }
}

/// The checked form of `request`, or the first reason it is refused.
pub fn check(request: &SearchQuery) -> Result<(Query, PageRequest), SearchError> {
    let page = PageRequest {
        cursor: request.cursor.clone(),
        limit: limit(request.limit)?,
        format: request.format.unwrap_or_default(),
    };
    let mut query = Query {
        descending: request.sort.unwrap_or_default() == SortOrder::PriceDesc,
        ..Query::default()
    };
    if let Some(text) = &request.text {
        short(text)?;
        let mut words = text::tokenize(text);
        words.sort_unstable();
        words.dedup();
        if words.len() > MAX_TERMS {
            return Err(SearchError::TooManyTerms {
                max: MAX_TERMS as u32,
            });
        }
        query.words = words;
    }
    if let Some(filters) = &request.filters {
        apply_filters(&mut query, filters)?;
    }
    Ok((query, page))
}

fn apply_filters(query: &mut Query, f: &Filters) -> Result<(), SearchError> {
    if let Some(price) = &f.price {
        let (min, max) = (
            price.min_minor.unwrap_or(0),
            price.max_minor.unwrap_or(u64::MAX),
        );
        if min > max {
            return Err(SearchError::invalid("price: min_minor is above max_minor"));
        }
        let currency = letters(&price.currency, "currency: three letters, e.g. \"EUR\"")?;
        query.price = Some(Price { currency, min, max });
    }
    if let Some(country) = &f.country {
        query.country = Some(letters(country, "country: two letters, e.g. \"NL\"")?);
    }
    let mut add_tag = |value: &String, tag: Option<Vec<u8>>| -> Result<(), SearchError> {
        short(value)?;
        match tag {
            Some(tag) => query.tags.push(tag),
            None => query.impossible = true,
        }
        Ok(())
    };
    if let Some(city) = &f.city {
        add_tag(city, index::city_tag(city))?;
    }
    if let Some(os) = &f.os {
        add_tag(os, index::tag(Tag::Os, os))?;
    }
    if let Some(feature) = &f.feature {
        add_tag(feature, index::tag(Tag::Feature, feature))?;
    }
    query.product_type = f.product_type.map(|k| k as u8);
    query.virtualization = f.virtualization.map(|k| k as u8);
    query.billing = f.billing.map(|k| k as u8);
    query.stock = f.stock.map(|k| k as u8);
    query.min_cores = f.min_cores.unwrap_or(0);
    query.min_memory_mb = f.min_memory_mb.unwrap_or(0);
    query.min_ssd_gb = f.min_ssd_gb.unwrap_or(0);
    query.min_hdd_gb = f.min_hdd_gb.unwrap_or(0);
    query.unmetered = f.unmetered;
    query.gpu = match &f.gpu {
        None => None,
        Some(GpuFilter::Present(present)) => Some(Gpu::Present(*present)),
        Some(GpuFilter::Name(name)) => {
            short(name)?;
            let folded = index::fold(name);
            query.impossible |= folded.is_empty();
            Some(Gpu::Name(folded))
        }
    };
    Ok(())
}

impl Query {
    /// A hash of everything that decides which offerings match and their order, which a cursor
    /// carries so that it is refused with any other query. The bytes hashed are spelled out
    /// (not `#[derive(Hash)]`, whose bytes may change with the compiler) so cursors stay valid
    /// across upgrades.
    pub fn scope(&self) -> u64 {
        let mut bytes = b"search".to_vec();
        // Every part is length-prefixed, so no two queries spell the same bytes.
        let mut put = |part: &[u8]| {
            bytes.extend((part.len() as u32).to_le_bytes());
            bytes.extend(part);
        };
        for list in [
            &self.words.iter().map(|w| w.as_bytes()).collect::<Vec<_>>(),
            &self.tags.iter().map(Vec::as_slice).collect(),
        ] {
            put(&(list.len() as u32).to_le_bytes());
            list.iter().for_each(|item| put(item));
        }
        let price = self.price.as_ref().map_or(vec![], |p| {
            [&p.currency[..], &p.min.to_le_bytes(), &p.max.to_le_bytes()].concat()
        });
        put(&price);
        put(self.country.as_ref().map_or(&[], |c| &c[..]));
        for code in [
            self.product_type,
            self.virtualization,
            self.billing,
            self.stock,
        ] {
            put(code.as_slice());
        }
        put(&u64::from(self.min_cores).to_le_bytes());
        for min in [self.min_memory_mb, self.min_ssd_gb, self.min_hdd_gb] {
            put(&min.to_le_bytes());
        }
        let gpu = match &self.gpu {
            None => vec![],
            Some(Gpu::Present(present)) => vec![0, u8::from(*present)],
            Some(Gpu::Name(name)) => [&[1][..], name.as_bytes()].concat(),
        };
        put(&gpu);
        put(self.unmetered.map(u8::from).as_slice());
        put(&[u8::from(self.descending), u8::from(self.impossible)]);
        fnv(&bytes)
    }
}

/// FNV-1a, 64 bits: stable across compilers and upgrades, which cursors need.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn short(text: &str) -> Result<(), SearchError> {
    match text.len() > MAX_TEXT_BYTES {
        true => Err(SearchError::QueryTooLong {
            max_bytes: MAX_TEXT_BYTES as u32,
        }),
        false => Ok(()),
    }
}

/// `text` as N ASCII letters, upper-cased.
fn letters<const N: usize>(text: &str, what: &str) -> Result<[u8; N], SearchError> {
    let code: [u8; N] = text
        .trim()
        .as_bytes()
        .try_into()
        .map_err(|_| SearchError::invalid(what))?;
    match code.iter().all(u8::is_ascii_alphabetic) {
        true => Ok(code.map(|b| b.to_ascii_uppercase())),
        false => Err(SearchError::invalid(what)),
    }
}
