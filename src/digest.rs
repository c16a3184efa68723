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
//! The cost is linear in stable memory: about 10 instructions a byte in use, well under one a
//! byte of zeros; fine for tests and operations, too much for a query on a canister holding
//! more than ~400 MB.

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

fn is_zero(bytes: &[u8]) -> bool {
    bytes
        .chunks_exact(8)
        .all(|word| u64::from_ne_bytes(word.try_into().expect("8 bytes")) == 0)
}

#[cfg(test)]
mod tests;
