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
}

#[cfg(test)]
mod tests;
