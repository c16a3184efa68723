//! SKU names `[tier][type].[size]` (pez): tier 1–4, type A–E, a size word, e.g. "4D.large".
//! Input is case-insensitive; the canonical form has an upper-case type and a lower-case size,
//! so one SKU has one spelling in the store.

use super::MarketError;
use std::fmt;

/// Longest size word.
pub const MAX_SIZE_CHARS: usize = 32;
/// How much of a refused SKU an error echoes back.
const ECHO_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sku {
    pub tier: u8,
    /// Upper case, `A`–`E`.
    pub kind: char,
    /// Lower case, 1–32 of `[a-z0-9-]`.
    pub size: String,
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}{}.{}", self.tier, self.kind, self.size)
    }
}

/// The service tier's name, or `None` for a tier that does not exist.
pub fn tier_name(tier: u8) -> Option<&'static str> {
    match tier {
        1 => Some("heritage"),
        2 => Some("PaaS"),
        3 => Some("IaaS"),
        4 => Some("MaaS"),
        _ => None,
    }
}

/// The infrastructure type's name (upper case letter), or `None` for a type that does not exist.
pub fn kind_name(kind: char) -> Option<&'static str> {
    match kind {
        'A' => Some("OpenStack"),
        'B' => Some("vSphere"),
        'C' => Some("vCloud"),
        'D' => Some("raw hardware"),
        'E' => Some("orchestration layer"),
        _ => None,
    }
}

pub fn parse(text: &str) -> Result<Sku, MarketError> {
    let invalid = |message: String| MarketError::InvalidSku {
        sku: text.chars().take(ECHO_CHARS).collect(),
        message,
    };
    let (prefix, size) = text
        .split_once('.')
        .ok_or_else(|| invalid("expected [tier][type].[size], e.g. 4D.large".into()))?;
    let mut prefix_chars = prefix.chars();
    let (Some(tier), Some(kind), None) = (
        prefix_chars.next(),
        prefix_chars.next(),
        prefix_chars.next(),
    ) else {
        return Err(invalid(
            "expected one tier digit and one type letter before the dot".into(),
        ));
    };
    let tier = tier
        .to_digit(10)
        .and_then(|digit| u8::try_from(digit).ok())
        .filter(|&tier| tier_name(tier).is_some())
        .ok_or_else(|| invalid(format!("tier must be 1 to 4, got {tier:?}")))?;
    let kind = kind.to_ascii_uppercase();
    if kind_name(kind).is_none() {
        return Err(invalid(format!("type must be A to E, got {kind:?}")));
    }
    let size = size.to_ascii_lowercase();
    if size.is_empty() || size.len() > MAX_SIZE_CHARS {
        return Err(invalid(format!(
            "size must be 1 to {MAX_SIZE_CHARS} characters"
        )));
    }
    if let Some(bad) = size
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(invalid(format!(
            "size may hold only a-z, 0-9 and '-', got {bad:?}"
        )));
    }
    Ok(Sku { tier, kind, size })
}

/// The canonical spelling of `text`, e.g. "2c.Small" → "2C.small".
pub fn canonical(text: &str) -> Result<String, MarketError> {
    parse(text).map(|sku| sku.to_string())
}

#[cfg(test)]
mod tests;
