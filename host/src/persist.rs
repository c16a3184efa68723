//! Saving a host to a directory and loading it back, so a canister lives on between processes
//! the way a real one lives on between messages: module, heap, globals, stable memory, time, timer.
//!
//! A save writes only what changed since the directory was last saved or loaded: the host keeps
//! what it wrote, compares in chunks and writes the chunks that differ in place. Each canister's
//! changes are first written as its journal file; one commit marker then commits every
//! canister's journal at once, and they are applied. So a save interrupted at any moment leaves
//! either the old state of every canister or the new one: `load` finishes applying committed
//! journals and drops uncommitted ones. The primary canister is saved in the directory itself,
//! each other in `canisters/<id>/`.

use crate::context::System;
use crate::host::Host;
use crate::instance::{Instance, Snapshot};
use candid::{CandidType, Decode, Deserialize, Encode, Principal};
use serde::Serialize;
use serde_bytes::ByteBuf;
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use wasmi::Val;

const FORMAT: u32 = 1;
/// The unit of comparison: a changed byte rewrites its whole chunk.
const CHUNK: usize = 64 * 1024;
const JOURNAL: &str = "journal.bin";
/// In the primary's directory from the moment every canister's journal is written until all
/// are applied: its presence commits them.
const COMMIT: &str = "commit";
/// The directory under a saved host's own where the other canisters are, one per id.
const OTHERS: &str = "canisters";

#[derive(Serialize, Deserialize)]
struct Meta {
    format: u32,
    sys: System,
    /// Mutable globals as (type, bits), in the instrumented export order.
    globals: Vec<(String, u64)>,
}

/// What the host last wrote to (or read from) a directory. Stable memory is not kept: the
/// host tracks which of its chunks were written since (`Host::stable_dirty`).
pub(crate) struct Saved {
    dir: PathBuf,
    module: Vec<u8>,
    heap: Vec<u8>,
}

/// One save's changes, applied in order.
#[derive(CandidType, Deserialize)]
struct Journal {
    heap: Vec<Patch>,
    heap_len: u64,
    stable: Vec<Patch>,
    stable_len: u64,
    module: Option<ByteBuf>,
    state_json: ByteBuf,
}

#[derive(CandidType, Deserialize)]
struct Patch {
    offset: u64,
    bytes: ByteBuf,
}

fn encode(value: &Val) -> Result<(String, u64), String> {
    Ok(match value {
        Val::I32(v) => ("i32".into(), *v as u32 as u64),
        Val::I64(v) => ("i64".into(), *v as u64),
        Val::F32(v) => ("f32".into(), u64::from(v.to_bits())),
        Val::F64(v) => ("f64".into(), v.to_bits()),
        other => return Err(format!("cannot save a global of type {:?}", other.ty())),
    })
}

fn decode((ty, bits): &(String, u64)) -> Result<Val, String> {
    Ok(match ty.as_str() {
        "i32" => Val::I32(*bits as u32 as i32),
        "i64" => Val::I64(*bits as i64),
        "f32" => Val::F32(wasmi::F32::from_bits(*bits as u32)),
        "f64" => Val::F64(wasmi::F64::from_bits(*bits)),
        other => return Err(format!("unknown global type {other}")),
    })
}

/// Adds `chunk` at `start`, extending the last patch when it ends where the chunk begins.
fn push_merged(patches: &mut Vec<Patch>, start: usize, chunk: &[u8]) {
    match patches.last_mut() {
        Some(last) if last.offset as usize + last.bytes.len() == start => {
            last.bytes.extend_from_slice(chunk)
        }
        _ => patches.push(Patch {
            offset: start as u64,
            bytes: ByteBuf::from(chunk.to_vec()),
        }),
    }
}

/// The chunks of `new` that differ from `old`, adjacent ones merged.
fn patches(old: &[u8], new: &[u8]) -> Vec<Patch> {
    let mut patches: Vec<Patch> = vec![];
    for (i, chunk) in new.chunks(CHUNK).enumerate() {
        let start = i * CHUNK;
        if old.get(start..start + chunk.len()) == Some(chunk) {
            continue;
        }
        push_merged(&mut patches, start, chunk);
    }
    patches
}

/// Records that `len` bytes at `offset` of stable memory were written.
pub(crate) fn mark_dirty(dirty: &mut std::collections::BTreeSet<u64>, offset: u64, len: usize) {
    if len == 0 {
        return;
    }
    let chunk = CHUNK as u64;
    dirty.extend(offset / chunk..=(offset + len as u64 - 1) / chunk);
}

/// The chunks of `bytes` named in `dirty` (all of it when unknown), adjacent ones merged.
fn dirty_patches(bytes: &[u8], dirty: Option<&std::collections::BTreeSet<u64>>) -> Vec<Patch> {
    let Some(dirty) = dirty else {
        return vec![Patch {
            offset: 0,
            bytes: ByteBuf::from(bytes.to_vec()),
        }];
    };
    let mut patches: Vec<Patch> = vec![];
    for &index in dirty {
        let start = index as usize * CHUNK;
        let Some(chunk) = bytes.get(start..(start + CHUNK).min(bytes.len())) else {
            continue;
        };
        push_merged(&mut patches, start, chunk);
    }
    patches
}

fn io(what: &Path, e: std::io::Error) -> String {
    format!("cannot write {}: {e}", what.display())
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename, never torn.
fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let tmp = dir.join(format!("{name}.tmp"));
    fs::write(&tmp, bytes)
        .and_then(|_| fs::rename(&tmp, dir.join(name)))
        .map_err(|e| io(&dir.join(name), e))
}

fn patch_file(path: &Path, patches: &[Patch], len: u64) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io(path, e))?;
    for patch in patches {
        file.seek(SeekFrom::Start(patch.offset))
            .and_then(|_| file.write_all(&patch.bytes))
            .map_err(|e| io(path, e))?;
    }
    file.set_len(len).map_err(|e| io(path, e))
}

/// Applies a committed journal to the files of `dir`, then removes it.
fn apply(dir: &Path, journal: &Journal) -> Result<(), String> {
    patch_file(&dir.join("heap.bin"), &journal.heap, journal.heap_len)?;
    patch_file(&dir.join("stable.bin"), &journal.stable, journal.stable_len)?;
    if let Some(module) = &journal.module {
        replace(dir, "module.wasm", module)?;
    }
    replace(dir, "state.json", &journal.state_json)?;
    fs::remove_file(dir.join(JOURNAL)).map_err(|e| io(&dir.join(JOURNAL), e))
}

/// The canisters saved under `others_dir`, by id, in id order.
fn saved_others(others_dir: &Path) -> Result<Vec<(Principal, PathBuf)>, String> {
    if !others_dir.is_dir() {
        return Ok(vec![]);
    }
    let entries = fs::read_dir(others_dir)
        .map_err(|e| format!("cannot read {}: {e}", others_dir.display()))?;
    let mut others = vec![];
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", others_dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // Only directories named by a canister id hold a canister (a `.tmp` or stray file is not).
        if let (true, Ok(id)) = (path.is_dir(), Principal::from_text(name)) {
            others.push((id, path));
        }
    }
    others.sort();
    Ok(others)
}

/// Removes the saved canisters no longer hosted (a host re-created in the same directory).
fn forget_others(others_dir: &Path, hosted: &[Principal]) -> Result<(), String> {
    for (id, path) in saved_others(others_dir)? {
        if !hosted.contains(&id) {
            fs::remove_dir_all(&path).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}

impl Host {
    /// Writes every canister's state to `dir`: the primary canister's in `dir` itself, each
    /// other canister's in `dir/canisters/<id>/`. Everything the first time, then only what
    /// changed since the last save or load of that directory. Only an idle host can be saved: a
    /// call awaiting an answer cannot outlive the process. Call it outside
    /// [`Host::with_canister`] (inside, the canister in place would be saved as the primary).
    ///
    /// The canisters are saved together: every canister's changes are written as its journal,
    /// then one commit marker in `dir` commits them all, then they are applied. A save
    /// interrupted before the marker leaves every canister as it was; after it, `load` finishes
    /// it, so a ledger is never saved ahead of the market that called it. (A canister saved for
    /// the first time appears whole, by a rename, once its files are written.)
    pub fn save(&mut self, dir: &Path) -> Result<(), String> {
        if self.instance.is_none() {
            return Err("no canister is installed".into());
        }
        if !self.is_idle() {
            return Err("the canister still has calls in flight".into());
        }
        let saved = self.save_all(dir);
        if saved.is_err() {
            // What is on disk is unknown: the next save writes everything again.
            self.forget_saves();
        }
        saved
    }

    fn save_all(&mut self, dir: &Path) -> Result<(), String> {
        let others_dir = dir.join(OTHERS);
        let others = self.installed_others();
        let mut journals = vec![];
        let mut written = 0;
        for id in &others {
            let sub = others_dir.join(id.to_text());
            written += self.on(id.as_slice(), |host| {
                host.prepare(&sub, true, &mut journals)
            })?;
        }
        written += self.prepare(dir, false, &mut journals)?;
        if !journals.is_empty() {
            #[cfg(test)]
            self.crash_point("before the commit")?;
            replace(dir, COMMIT, b"")?;
            #[cfg(test)]
            self.crash_point("after the commit")?;
            for (journal_dir, journal) in &journals {
                apply(journal_dir, journal)?;
            }
            fs::remove_file(dir.join(COMMIT)).map_err(|e| io(&dir.join(COMMIT), e))?;
        }
        forget_others(&others_dir, &others)?;
        self.last_save_bytes = written;
        Ok(())
    }

    /// Saves the canister in place to `dir`: a first save writes its files (`aside`: into a new
    /// directory renamed into place); a later one writes its journal, which the caller commits
    /// and applies. Returns the bytes written.
    fn prepare(
        &mut self,
        dir: &Path,
        aside: bool,
        journals: &mut Vec<(PathBuf, Journal)>,
    ) -> Result<u64, String> {
        let instance = self.instance.as_ref().ok_or("no canister is installed")?;
        let mut snapshot = Snapshot::default();
        instance.snapshot_into(&mut snapshot);
        let meta = Meta {
            format: FORMAT,
            sys: self.sys.clone(),
            globals: snapshot
                .globals
                .iter()
                .map(encode)
                .collect::<Result<_, _>>()?,
        };
        let state_json = serde_json::to_string_pretty(&meta).map_err(|e| e.to_string())?;
        let module = &instance.original;
        let written = match self.saved.as_ref().filter(|s| s.dir == dir) {
            Some(saved) => {
                let journal = Journal {
                    heap: patches(&saved.heap, &snapshot.memory),
                    heap_len: snapshot.memory.len() as u64,
                    stable: dirty_patches(&self.stable, self.stable_dirty.as_ref()),
                    stable_len: self.stable.len() as u64,
                    module: (saved.module != *module).then(|| ByteBuf::from(module.clone())),
                    state_json: ByteBuf::from(state_json.into_bytes()),
                };
                let bytes = Encode!(&journal).map_err(|e| format!("journal: {e}"))?;
                // Not yet committed: only the commit marker makes a load apply it.
                fs::write(dir.join(JOURNAL), &bytes).map_err(|e| io(&dir.join(JOURNAL), e))?;
                journals.push((dir.to_path_buf(), journal));
                bytes.len()
            }
            None => {
                // The primary's directory may hold an older canister (`mkt deploy --force`) and
                // is written in place; another canister's appears whole, by a rename.
                let target = if aside {
                    dir.with_extension("new")
                } else {
                    dir.to_path_buf()
                };
                if aside {
                    let _ = fs::remove_dir_all(&target);
                }
                fs::create_dir_all(&target)
                    .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
                let _ = fs::remove_file(target.join(JOURNAL));
                replace(&target, "module.wasm", module)?;
                replace(&target, "heap.bin", &snapshot.memory)?;
                replace(&target, "stable.bin", &self.stable)?;
                replace(&target, "state.json", state_json.as_bytes())?;
                if aside {
                    let _ = fs::remove_dir_all(dir);
                    fs::rename(&target, dir).map_err(|e| io(dir, e))?;
                }
                module.len() + snapshot.memory.len() + self.stable.len() + state_json.len()
            }
        };
        self.saved = Some(Saved {
            dir: dir.to_path_buf(),
            module: module.clone(),
            heap: snapshot.memory,
        });
        self.stable_dirty = Some(Default::default());
        Ok(written as u64)
    }

    /// Bytes the last [`Host::save`] wrote (the journal, or every file on a first save).
    pub fn last_save_bytes(&self) -> u64 {
        self.last_save_bytes
    }

    /// Loads the canisters saved with [`Host::save`], first finishing a save that was
    /// interrupted after its commit point (or dropping one interrupted before it).
    pub fn load(dir: &Path) -> Result<Host, String> {
        let others = saved_others(&dir.join(OTHERS))?;
        let committed = dir.join(COMMIT).is_file();
        for journal_dir in std::iter::once(dir).chain(others.iter().map(|(_, sub)| sub.as_path())) {
            let path = journal_dir.join(JOURNAL);
            if !path.is_file() {
                continue;
            }
            if committed {
                let bytes =
                    fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let journal = Decode!(&bytes, Journal)
                    .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
                apply(journal_dir, &journal)?;
            } else {
                fs::remove_file(&path).map_err(|e| io(&path, e))?;
            }
        }
        if committed {
            fs::remove_file(dir.join(COMMIT)).map_err(|e| io(&dir.join(COMMIT), e))?;
        }
        let mut host = Self::load_one(dir)?;
        for (id, sub) in others {
            let other = Self::load_one(&sub).map_err(|e| format!("canister {id}: {e}"))?;
            host.adopt(id, other)?;
        }
        Ok(host)
    }

    /// Loads the one canister saved in `dir` as a host's primary canister.
    fn load_one(dir: &Path) -> Result<Host, String> {
        let read = |name: &str| {
            fs::read(dir.join(name))
                .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
        };
        let meta: Meta =
            serde_json::from_slice(&read("state.json")?).map_err(|e| format!("state.json: {e}"))?;
        if meta.format != FORMAT {
            return Err(format!(
                "state format {} is not supported (expected {FORMAT})",
                meta.format
            ));
        }
        let module = read("module.wasm")?;
        let mut instance = Instance::new(&module)?;
        let snapshot = Snapshot {
            memory: read("heap.bin")?,
            globals: meta.globals.iter().map(decode).collect::<Result<_, _>>()?,
        };
        instance.restore(&snapshot)?;
        let mut host = Host::new();
        host.sys = meta.sys;
        host.stable = read("stable.bin")?;
        host.instance = Some(instance);
        host.saved = Some(Saved {
            dir: dir.to_path_buf(),
            module,
            heap: snapshot.memory,
        });
        host.stable_dirty = Some(Default::default());
        Ok(host)
    }
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
