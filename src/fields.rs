//! The explicit encoding of small stable records: fixed-width little-endian fields, appended
//! over time and never reordered. A field missing at the end was written by an older version of
//! the canister, so it reads as `None` and the owner supplies its default; no migration needed.

pub struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    pub fn u64(&mut self) -> Option<u64> {
        let (field, rest) = self.0.split_first_chunk()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*field))
    }

    pub fn u32(&mut self) -> Option<u32> {
        let (field, rest) = self.0.split_first_chunk()?;
        self.0 = rest;
        Some(u32::from_le_bytes(*field))
    }

    /// A byte string of at most 255 bytes after its one-byte length.
    pub fn short_bytes(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first()?;
        let (field, rest) = rest.split_at_checked(usize::from(*len))?;
        self.0 = rest;
        Some(field)
    }
}

/// Appends `field` as [`Fields::short_bytes`] reads it; at most 255 bytes.
pub fn push_short_bytes(bytes: &mut Vec<u8>, field: &[u8]) {
    let len = u8::try_from(field.len()).expect("a short field is at most 255 bytes");
    bytes.push(len);
    bytes.extend(field);
}

#[cfg(test)]
mod tests;
