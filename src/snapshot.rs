//! Upgrade snapshots of heap indexes (the catalog's search index in `INDEX_SNAPSHOT`, the
//! market's open offers in `MARKET_INDEX_SNAPSHOT`): a header, then the index's vectors one
//! after the other, each copied as its little-endian bytes in one stable write.
//!
//! ```text
//! 0..8    magic "MKTINDEX" (the format, whichever index it holds)
//! 8..12   format version, u32
//! 12..16  state, u32: 1 ready (written by pre_upgrade), 2 consumed (read by post_upgrade)
//! 16..24  body length in bytes, u64: what lies beyond is stale and never read
//! 24..    body: sections, each a u64 element count and the elements' bytes
//! ```
//!
//! A snapshot is read once: post_upgrade marks it consumed, so an upgrade that skips
//! pre_upgrade (`skip_pre_upgrade`) finds no snapshot and the index is rebuilt from the store
//! instead of loaded stale.

use bytemuck::Pod;
use ic_stable_structures::Memory;

// The sections are the vectors' in-memory bytes; the wasm and native test targets are both
// little-endian, which is what the format says.
const _: () = assert!(cfg!(target_endian = "little"));

const MAGIC: [u8; 8] = *b"MKTINDEX";
const HEADER_BYTES: u64 = 24;
const READY: u32 = 1;
const CONSUMED: u32 = 2;
const PAGE_BYTES: u64 = 65_536;

/// Writes the sections of a snapshot body.
pub struct Writer<'a, M: Memory> {
    memory: &'a M,
    offset: u64,
    full: bool,
}

impl<M: Memory> Writer<'_, M> {
    pub fn put<T: Pod>(&mut self, values: &[T]) {
        self.write(&(values.len() as u64).to_le_bytes());
        self.write(bytemuck::cast_slice(values));
    }

    fn write(&mut self, bytes: &[u8]) {
        let end = self.offset + bytes.len() as u64;
        if !self.full && ensure_size(self.memory, end) {
            self.memory.write(self.offset, bytes);
        } else {
            self.full = true;
        }
        self.offset = end;
    }
}

/// Reads the sections of a snapshot body, never past its recorded end.
pub struct Reader<'a, M: Memory> {
    memory: &'a M,
    offset: u64,
    end: u64,
}

impl<M: Memory> Reader<'_, M> {
    pub fn take<T: Pod>(&mut self) -> Result<Vec<T>, String> {
        let mut count = [0; 8];
        self.read(&mut count)?;
        let count = u64::from_le_bytes(count);
        let bytes = count.saturating_mul(size_of::<T>() as u64);
        if bytes > self.end - self.offset {
            return Err("a section runs past the snapshot's end".into());
        }
        let mut values = vec![T::zeroed(); count as usize];
        self.read(bytemuck::cast_slice_mut(&mut values))?;
        Ok(values)
    }

    fn read(&mut self, into: &mut [u8]) -> Result<(), String> {
        let end = self.offset + into.len() as u64;
        if end > self.end {
            return Err("the snapshot ends early".into());
        }
        self.memory.read(self.offset, into);
        self.offset = end;
        Ok(())
    }
}

/// Writes a ready snapshot of `body`'s sections; returns its size in bytes, or why it could not
/// be written (stable memory full), in which case no ready snapshot is left.
pub fn save<M: Memory>(
    memory: &M,
    version: u32,
    body: impl FnOnce(&mut Writer<M>),
) -> Result<u64, String> {
    set_state(memory, CONSUMED);
    let mut writer = Writer {
        memory,
        offset: HEADER_BYTES,
        full: false,
    };
    body(&mut writer);
    if writer.full {
        return Err("stable memory is full".into());
    }
    let mut header = MAGIC.to_vec();
    header.extend(version.to_le_bytes());
    header.extend(READY.to_le_bytes());
    header.extend((writer.offset - HEADER_BYTES).to_le_bytes());
    memory.write(0, &header);
    Ok(writer.offset)
}

/// The format of the snapshot in `memory`, if one is there (ready or consumed).
pub fn version<M: Memory>(memory: &M) -> Option<u32> {
    if memory.size() * PAGE_BYTES < HEADER_BYTES {
        return None;
    }
    let mut header = [0; 12];
    memory.read(0, &mut header);
    (header[..8] == MAGIC)
        .then(|| u32::from_le_bytes([header[8], header[9], header[10], header[11]]))
}

/// Reads a ready snapshot of format `version` with `body`, then marks it consumed.
pub fn load<M: Memory, T>(
    memory: &M,
    version: u32,
    body: impl FnOnce(&mut Reader<M>) -> Result<T, String>,
) -> Result<T, String> {
    if memory.size() * PAGE_BYTES < HEADER_BYTES {
        return Err("no snapshot".into());
    }
    let mut header = [0; HEADER_BYTES as usize];
    memory.read(0, &mut header);
    let field = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    if header[..8] != MAGIC {
        return Err("no snapshot".into());
    }
    if field(8) != version {
        return Err(format!("snapshot format {} is not {version}", field(8)));
    }
    if field(12) != READY {
        return Err("the snapshot was already loaded once".into());
    }
    let length = u64::from(field(16)) | u64::from(field(20)) << 32;
    let end = HEADER_BYTES.saturating_add(length);
    if end > memory.size() * PAGE_BYTES {
        return Err("the snapshot is longer than its region".into());
    }
    let mut reader = Reader {
        memory,
        offset: HEADER_BYTES,
        end,
    };
    let value = body(&mut reader)?;
    set_state(memory, CONSUMED);
    Ok(value)
}

fn set_state<M: Memory>(memory: &M, state: u32) {
    if memory.size() > 0 {
        memory.write(12, &state.to_le_bytes());
    }
}

/// Grows `memory` to hold `bytes`; false when stable memory is exhausted.
fn ensure_size<M: Memory>(memory: &M, bytes: u64) -> bool {
    let pages = bytes.div_ceil(PAGE_BYTES);
    let have = memory.size();
    pages <= have || memory.grow(pages - have) >= 0
}

#[cfg(test)]
mod tests;
