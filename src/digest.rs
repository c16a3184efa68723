//! A digest of the canister's whole stable state, for controllers: proof that a call changed
//! nothing (the malformed-input tests compare it around every refused call) and a cheap way to
//! compare two states (before and after an upgrade, two replicas of a deployment).
//!
//! It hashes every region of stable memory ([`memory::REGIONS`]) byte for byte up to its size
//! (each non-zero 64 KiB page with its index), so even a change that no view shows (an
//! allocator's free list) is seen. `COUNTERS` is hashed
//! but left out of the total: activity counters count refused calls too, by design. Heap-only
//! state is not covered: the search index and the market's offer index are rebuilt from stable
//! memory, and the rate limiter's buckets are deliberately not state (see `throttle`).
//!
//! The cost is linear in stable memory: about 80 M instructions a MiB in use, well under one
//! instruction a byte of zeros. `state_digest` reads everything in one query, so it fails past
//! ~60 MiB in use; [`state_digest_page`] reads at most [`MAX_PAGES`] pages a call and says where
//! to go on, so a controller can digest a state of any size.

use crate::memory::{self, REGIONS};
use candid::{CandidType, Deserialize};
use ic_stable_structures::Memory as _;
use serde_bytes::ByteBuf;
use sha2::{Digest as _, Sha256};

const PAGE_BYTES: u64 = 65_536;

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StateDigest {
    /// SHA-256 over the digests of every region but those in `excluded`, in id order.
    pub sha256: ByteBuf,
    /// Regions hashed but left out of `sha256`.
    pub excluded: Vec<String>,
    pub regions: Vec<RegionDigest>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RegionDigest {
    pub id: u8,
    pub name: String,
    /// The region's size in 64 KiB pages.
    pub pages: u64,
    pub sha256: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum DigestError {
    NotAuthorized,
}

/// Regions whose changes are not state changes.
const EXCLUDED: &[&str] = &["COUNTERS"];

/// The digest of every region now.
pub fn state_digest() -> StateDigest {
    let mut total = Sha256::new();
    let mut regions = Vec::with_capacity(REGIONS.len());
    // REGIONS is in id order: a region's position is its id.
    for (position, (id, name)) in REGIONS.iter().enumerate() {
        let number = position as u8;
        let region = memory::region(*id);
        let pages = region.size();
        let mut hash = Sha256::new();
        let mut page = vec![0u8; PAGE_BYTES as usize];
        for n in 0..pages {
            region.read(n * PAGE_BYTES, &mut page);
            // Regions grow by whole 8 MiB buckets and are mostly zeros: a zero page is implied
            // by its absence (the page count is in the reply), and checking is far cheaper
            // than hashing.
            if !is_zero(&page) {
                hash.update(n.to_le_bytes());
                hash.update(&page);
            }
        }
        let sha256 = hash.finalize();
        if !EXCLUDED.contains(name) {
            total.update([number]);
            total.update(sha256);
        }
        regions.push(RegionDigest {
            id: number,
            name: (*name).to_string(),
            pages,
            sha256: ByteBuf::from(sha256.to_vec()),
        });
    }
    StateDigest {
        sha256: ByteBuf::from(total.finalize().to_vec()),
        excluded: EXCLUDED.iter().map(|name| (*name).to_string()).collect(),
        regions,
    }
}

/// Most 64 KiB pages one `state_digest_page` call reads: 16 MiB, ~1.3 B instructions in use.
pub const MAX_PAGES: u32 = 256;

/// Where a paged digest goes on: a region's id and a page in it.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestCursor {
    pub region: u8,
    pub page: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct StateDigestPageArg {
    /// The `next` of the previous page; none starts at the first region's first page.
    pub cursor: Option<DigestCursor>,
    /// Pages to read at most (default and most [`MAX_PAGES`]).
    pub max_pages: Option<u32>,
}

/// The digest of a run of one region's pages, hashed as `state_digest` hashes a region (each
/// non-zero page with its index).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DigestChunk {
    pub region: u8,
    pub name: String,
    pub first_page: u64,
    pub pages: u64,
    /// The region's size in pages when read.
    pub region_pages: u64,
    pub sha256: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StateDigestPage {
    /// One chunk per region the call read (an empty region gives an empty chunk).
    pub chunks: Vec<DigestChunk>,
    /// Where the next call starts; none when every region has been read.
    pub next: Option<DigestCursor>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum DigestPageError {
    NotAuthorized,
    InvalidArgument { message: String },
    RateLimited { retry_after_seconds: u64 },
}

crate::candid_io::argument_errors!(DigestPageError);

/// Digests of the pages from `arg.cursor` on, at most `max_pages` of them. Two states are equal
/// when walking both with the same `max_pages` gives the same chunks (`COUNTERS`, which counts
/// refused calls too, aside).
pub fn state_digest_page(arg: StateDigestPageArg) -> Result<StateDigestPage, DigestPageError> {
    let budget = arg.max_pages.unwrap_or(MAX_PAGES);
    if budget == 0 || budget > MAX_PAGES {
        return Err(DigestPageError::invalid(format!(
            "max_pages must be 1 to {MAX_PAGES}"
        )));
    }
    let DigestCursor { region, page } = arg.cursor.unwrap_or(DigestCursor { region: 0, page: 0 });
    if usize::from(region) >= REGIONS.len() {
        return Err(DigestPageError::invalid("cursor names no region"));
    }
    let mut left = u64::from(budget);
    let mut chunks = Vec::new();
    let mut at = (usize::from(region), page);
    while left > 0 && at.0 < REGIONS.len() {
        let (position, first_page) = at;
        let (id, name) = REGIONS[position];
        let memory = memory::region(id);
        let region_pages = memory.size();
        let pages = region_pages.saturating_sub(first_page).min(left);
        let mut hash = Sha256::new();
        let mut bytes = vec![0u8; PAGE_BYTES as usize];
        for n in first_page..first_page + pages {
            memory.read(n * PAGE_BYTES, &mut bytes);
            if !is_zero(&bytes) {
                hash.update(n.to_le_bytes());
                hash.update(&bytes);
            }
        }
        chunks.push(DigestChunk {
            region: position as u8,
            name: name.to_string(),
            first_page,
            pages,
            region_pages,
            sha256: ByteBuf::from(hash.finalize().to_vec()),
        });
        left -= pages;
        at = if first_page + pages < region_pages {
            (position, first_page + pages)
        } else {
            (position + 1, 0)
        };
    }
    let next = (at.0 < REGIONS.len()).then_some(DigestCursor {
        region: at.0 as u8,
        page: at.1,
    });
    Ok(StateDigestPage { chunks, next })
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes
        .chunks_exact(8)
        .all(|word| u64::from_ne_bytes(word.try_into().expect("8 bytes")) == 0)
}

#[cfg(test)]
mod tests;
