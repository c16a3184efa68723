//! Cursors: where the next page starts, bound to the query that produced them.
//!
//! A cursor names the last row returned (its sort key, or its offering key when browsing a
//! provider) rather than an offset, so a page is the same however the catalog changed before
//! it, and a catalog change between pages neither repeats nor skips a row that stayed. It also
//! carries the query's scope hash: with another query it is refused.
//!
//! Text form: lower-case hex of `[version, kind, scope (u64 LE), position…]`.

use super::SearchError;

const VERSION: u8 = 1;
const SORTED: u8 = 1;
const KEYED: u8 = 2;
/// Twice the bytes of the longest cursor (a 128-byte offering key), with room to spare.
const MAX_CHARS: usize = 600;

/// Where a search result sorts: by price, then provider id, then offering key, which is a
/// total order since a provider's keys are unique.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey {
    pub price: u64,
    pub provider: u32,
    pub key: Vec<u8>,
}

pub fn sorted(scope: u64, after: &SortKey) -> String {
    let mut position = after.price.to_le_bytes().to_vec();
    position.extend(after.provider.to_le_bytes());
    position.extend(&after.key);
    pack(SORTED, scope, &position)
}

pub fn parse_sorted(text: &str, scope: u64) -> Result<SortKey, SearchError> {
    let position = unpack(text, SORTED, scope)?;
    let (price, rest) = position
        .split_first_chunk()
        .ok_or(SearchError::InvalidCursor)?;
    let (provider, key) = rest.split_first_chunk().ok_or(SearchError::InvalidCursor)?;
    Ok(SortKey {
        price: u64::from_le_bytes(*price),
        provider: u32::from_le_bytes(*provider),
        key: key.to_vec(),
    })
}

/// A cursor after offering key `after` (browse and export, in key order).
pub fn keyed(scope: u64, after: &[u8]) -> String {
    pack(KEYED, scope, after)
}

pub fn parse_keyed(text: &str, scope: u64) -> Result<Vec<u8>, SearchError> {
    unpack(text, KEYED, scope)
}

fn pack(kind: u8, scope: u64, position: &[u8]) -> String {
    let mut bytes = vec![VERSION, kind];
    bytes.extend(scope.to_le_bytes());
    bytes.extend(position);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unpack(text: &str, kind: u8, scope: u64) -> Result<Vec<u8>, SearchError> {
    if text.len() > MAX_CHARS || !text.len().is_multiple_of(2) {
        return Err(SearchError::InvalidCursor);
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|at| {
            text.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(SearchError::InvalidCursor)?;
    match bytes.split_first_chunk::<10>() {
        Some((head, position))
            if head[..2] == [VERSION, kind] && head[2..] == scope.to_le_bytes() =>
        {
            Ok(position.to_vec())
        }
        _ => Err(SearchError::InvalidCursor),
    }
}

#[cfg(test)]
mod tests;
