//! `/search` query strings mapped onto [`SearchQuery`]: the same request `offerings_search`
//! takes, so the HTTP route checks and searches exactly as the Candid method does.
//!
//! Percent-decoding and `+` as space are `form_urlencoded`'s (the url crate's); this module
//! only names the parameters.

use crate::catalog::search::query::{Filters, Format, PriceFilter, SearchQuery, SortOrder};

/// The parameters `/search` understands, for error messages and the index page.
pub const SEARCH_PARAMS: &[&str] = &[
    "text",
    "country",
    "city",
    "currency",
    "min_price",
    "max_price",
    "limit",
    "cursor",
    "sort",
];

/// The search a query string asks for, always as [`Format::Json`]; or why it is refused.
///
/// `min_price` and `max_price` are amounts of `currency` with at most two decimals ("99.99");
/// they need `currency`. `sort` is `price_asc` (default) or `price_desc`. A parameter given
/// twice, or one not in [`SEARCH_PARAMS`], is refused rather than silently ignored.
pub fn search_query(query_string: &str) -> Result<SearchQuery, String> {
    let mut query = SearchQuery {
        format: Some(Format::Json),
        ..SearchQuery::default()
    };
    let mut filters = Filters::default();
    let (mut currency, mut min_price, mut max_price) = (None, None, None);
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query_string.as_bytes()) {
        if seen.iter().any(|s| *s == name) {
            return Err(format!("parameter `{name}` is given more than once"));
        }
        seen.push(name.to_string());
        let value = value.into_owned();
        match name.as_ref() {
            "text" => query.text = Some(value),
            "country" => filters.country = Some(value),
            "city" => filters.city = Some(value),
            "currency" => currency = Some(value),
            "min_price" => min_price = Some(amount("min_price", &value)?),
            "max_price" => max_price = Some(amount("max_price", &value)?),
            "limit" => {
                let limit = value
                    .parse::<u32>()
                    .map_err(|_| format!("limit: a whole number, not `{value}`"))?;
                query.limit = Some(limit);
            }
            "cursor" => query.cursor = Some(value),
            "sort" => {
                query.sort = Some(match value.as_str() {
                    "price_asc" => SortOrder::PriceAsc,
                    "price_desc" => SortOrder::PriceDesc,
                    _ => return Err(format!("sort: price_asc or price_desc, not `{value}`")),
                })
            }
            _ => {
                return Err(format!(
                    "unknown parameter `{name}`; known: {}",
                    SEARCH_PARAMS.join(", ")
                ))
            }
        }
    }
    match currency {
        Some(currency) => {
            filters.price = Some(PriceFilter {
                currency,
                min_minor: min_price,
                max_minor: max_price,
            })
        }
        None if min_price.is_some() || max_price.is_some() => {
            return Err("min_price and max_price need currency (e.g. currency=EUR)".into())
        }
        None => {}
    }
    if filters != Filters::default() {
        query.filters = Some(filters);
    }
    Ok(query)
}

/// An amount with at most two decimals, in hundredths: "99.9" → 9990, "100" → 10000.
fn amount(name: &str, value: &str) -> Result<u64, String> {
    let refuse = || format!("{name}: an amount with at most two decimals, not `{value}`");
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || !(fraction.is_empty() || digits(fraction)) {
        return Err(refuse());
    }
    let whole: u64 = whole.parse().map_err(|_| refuse())?;
    let cents: u64 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
    whole
        .checked_mul(100)
        .and_then(|n| n.checked_add(cents))
        .ok_or_else(refuse)
}

#[cfg(test)]
mod tests;
