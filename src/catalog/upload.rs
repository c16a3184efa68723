//! Chunked uploads, for catalogs larger than one ingress message: begin (signed over the
//! declared SHA-256), append chunks in order, commit (the same apply path as a direct publish).
//!
//! A session belongs to the principal that began it: only it may append and commit, so nobody
//! else can interleave chunks. A commit of a complete upload deletes the session whatever its
//! outcome, since the same bytes and signature can never succeed later (begin again).
//!
//! Slots are shared under open participation (keys are free to mint): a session dies two
//! minutes after its last chunk (or its begin) and an hour after its begin, checked lazily on
//! access, so no timer runs; a provider key holds at most two live sessions; and when all 32
//! slots are taken, a begin takes the slot of a dead session, else of another provider's live
//! session with the fewest bytes received (then the longest idle). Begins are therefore never
//! refused for lack of slots, and an upload that is sending its catalog can only lose its slot
//! to 32 other live sessions that each received more bytes. Every begin decodes at most 32
//! sessions and deletes at most one (at most `MAX_CHUNKS` entries).

use crate::catalog::error::CatalogError;
use crate::catalog::keys;
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::publish::{self, Edit, Receipt};
use crate::catalog::signing::{self, Operation};
use crate::catalog::store;
use crate::config;
use crate::memory::{self, Memory};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize, Principal};
use ic_stable_structures::{StableBTreeMap, Storable};
use serde_bytes::ByteBuf;
use std::borrow::Cow;
use std::cell::RefCell;

/// The longest a session lives, however busy.
pub const UPLOAD_TTL_NS: u64 = crate::time::HOUR_NS;
/// A session dies this long after its begin or its last chunk: a held slot costs traffic.
pub const UPLOAD_IDLE_NS: u64 = 2 * crate::time::MINUTE_NS;
/// Live sessions per provider key and slots in all: each can hold a whole catalog in stable
/// memory.
pub const MAX_UPLOADS_PER_PROVIDER: u32 = 2;
pub const MAX_UPLOADS: u32 = 32;
/// Chunks per upload: bounds what deleting a session costs (16 MiB in chunks of 4 KiB).
pub const MAX_CHUNKS: u32 = 4096;

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadOperation {
    Replace,
    Upsert,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadBeginArg {
    pub provider: ProviderKeyInput,
    pub seq: u64,
    /// Over the catalog change with `sha256` as the payload hash (see `signing`).
    pub signature: ByteBuf,
    pub operation: UploadOperation,
    pub total_bytes: u64,
    pub sha256: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadAppendArg {
    pub upload_id: u64,
    /// 0 for the first chunk, then 1, 2, …
    pub index: u32,
    pub bytes: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadRef {
    pub upload_id: u64,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadProgress {
    pub upload_id: u64,
    pub total_bytes: u64,
    pub bytes_received: u64,
    pub chunks: u32,
    /// Complete CSV records received, header excluded.
    pub rows_received: u32,
    pub expires_at_ns: u64,
}

/// A session as stored (Candid, so fields can be added).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
struct Session {
    owner: Principal,
    provider: ByteBuf,
    seq: u64,
    operation: UploadOperation,
    total_bytes: u64,
    sha256: ByteBuf,
    created_at_ns: u64,
    bytes_received: u64,
    chunks: u32,
    rows: RowCounter,
    /// When the last chunk came; `None` until the first (and for sessions stored before).
    last_chunk_at_ns: Option<u64>,
}

/// Counts CSV records as bytes arrive, following quotes across chunk boundaries: a newline
/// inside a quoted cell does not end a record, and blank lines are not records.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RowCounter {
    records: u32,
    in_quotes: bool,
    line_has_content: bool,
}

/// The part of an upload's entries that holds its session; chunks are parts 0, 1, …
const SESSION: u32 = u32::MAX;

thread_local! {
    /// (upload id, part) → the session (Candid) or a chunk's bytes.
    static UPLOADS: RefCell<StableBTreeMap<(u64, u32), Vec<u8>, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::UPLOADS)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    UPLOADS.with(|_| ());
}

pub(crate) fn begin(rt: &impl Runtime, arg: UploadBeginArg) -> Result<u64, CatalogError> {
    let owner = rt.caller();
    if owner == Principal::anonymous() {
        return Err(CatalogError::invalid(
            "uploads belong to their caller: call with a non-anonymous identity",
        ));
    }
    let provider = publish::parse_key(&arg.provider)?;
    let Ok(sha256) = <[u8; 32]>::try_from(arg.sha256.as_slice()) else {
        return Err(CatalogError::invalid("sha256 must be 32 bytes"));
    };
    let max_bytes = config::get().max_catalog_bytes;
    if arg.total_bytes == 0 {
        return Err(CatalogError::invalid("total_bytes must be at least 1"));
    }
    if arg.total_bytes > max_bytes {
        return Err(CatalogError::CatalogTooLarge { max_bytes });
    }
    let op = operation(arg.operation);
    signing::verify(
        &rt.canister_id(),
        &provider,
        op,
        arg.seq,
        &sha256,
        &arg.signature,
    )?;
    // The session is the account's (a rotated key's first key).
    let provider = keys::signer(&provider)?;
    let now = rt.time();
    publish::check_seq(store::provider(&provider).as_ref(), arg.seq, now)?;
    // Dead sessions are invisible: they do not count, and only a begin that succeeds deletes
    // one, so a refused begin writes nothing.
    let stored = sessions();
    let live = |session: &Session| now < expires_at(session);
    let mine = |session: &Session| *session.provider == provider.as_bytes()[..];
    let held = stored.iter().filter(|(_, s)| live(s) && mine(s)).count();
    if held >= MAX_UPLOADS_PER_PROVIDER as usize {
        return Err(CatalogError::TooManyUploads {
            max: MAX_UPLOADS_PER_PROVIDER,
        });
    }
    if stored.len() >= MAX_UPLOADS as usize {
        // Dead first; then the live session that has sent least, then the longest idle.
        let victim = stored
            .iter()
            .filter(|(_, s)| !live(s) || !mine(s))
            .min_by_key(|(id, s)| (live(s), s.bytes_received, last_active(s), *id));
        let Some((id, session)) = victim else {
            return Err(CatalogError::TooManyUploads { max: MAX_UPLOADS });
        };
        delete(*id, session);
    }
    let session = Session {
        owner,
        provider: ByteBuf::from(provider.as_bytes().to_vec()),
        seq: arg.seq,
        operation: arg.operation,
        total_bytes: arg.total_bytes,
        sha256: ByteBuf::from(sha256.to_vec()),
        created_at_ns: now,
        bytes_received: 0,
        chunks: 0,
        rows: RowCounter::default(),
        last_chunk_at_ns: None,
    };
    let id = store::new_upload_id();
    put_session(id, &session);
    Ok(id)
}

pub(crate) fn append(
    rt: &impl Runtime,
    arg: UploadAppendArg,
) -> Result<UploadProgress, CatalogError> {
    let id = arg.upload_id;
    let mut session = owned_session(rt, id)?;
    if arg.index != session.chunks {
        return Err(CatalogError::ChunkOutOfOrder {
            expected: session.chunks,
        });
    }
    if arg.bytes.is_empty() {
        return Err(CatalogError::invalid("a chunk has at least one byte"));
    }
    if session.chunks >= MAX_CHUNKS {
        return Err(CatalogError::invalid(format!(
            "an upload has at most {MAX_CHUNKS} chunks: send larger ones"
        )));
    }
    let received = session.bytes_received + arg.bytes.len() as u64;
    if received > session.total_bytes {
        return Err(CatalogError::UploadTooLarge {
            total_bytes: session.total_bytes,
        });
    }
    session.rows.feed(&arg.bytes);
    session.bytes_received = received;
    session.chunks += 1;
    session.last_chunk_at_ns = Some(rt.time());
    UPLOADS.with_borrow_mut(|map| map.insert((id, arg.index), arg.bytes.into_vec()));
    put_session(id, &session);
    Ok(progress(id, &session))
}

pub(crate) fn commit(rt: &impl Runtime, arg: UploadRef) -> Result<Receipt, CatalogError> {
    let id = arg.upload_id;
    let session = owned_session(rt, id)?;
    // A provider frozen since the upload began: refused, the session kept until it expires.
    keys::check_not_frozen(&ProviderKey::from_bytes(Cow::Borrowed(&session.provider)))?;
    if session.bytes_received < session.total_bytes {
        return Err(CatalogError::UploadIncomplete {
            bytes_received: session.bytes_received,
            total_bytes: session.total_bytes,
        });
    }
    let mut csv = Vec::with_capacity(session.total_bytes as usize);
    UPLOADS.with_borrow(|map| {
        for chunk in map.values_range((id, 0)..(id, SESSION)) {
            csv.extend(chunk);
        }
    });
    delete(id, &session);
    if signing::payload_hash(&csv)[..] != session.sha256[..] {
        return Err(CatalogError::HashMismatch);
    }
    let provider = ProviderKey::from_bytes(Cow::Borrowed(&session.provider));
    let edit = match session.operation {
        UploadOperation::Replace => Edit::Replace(&csv),
        UploadOperation::Upsert => Edit::Upsert(&csv),
    };
    publish::apply(rt.time(), &provider, session.seq, edit)
}

/// Anyone may follow an upload's progress.
pub(crate) fn status(rt: &impl Runtime, arg: UploadRef) -> Result<UploadProgress, CatalogError> {
    let session = live_session(arg.upload_id, rt.time())?;
    Ok(progress(arg.upload_id, &session))
}

fn operation(operation: UploadOperation) -> Operation {
    match operation {
        UploadOperation::Replace => Operation::ReplaceCatalog,
        UploadOperation::Upsert => Operation::UpsertOfferings,
    }
}

fn live_session(id: u64, now: u64) -> Result<Session, CatalogError> {
    UPLOADS
        .with_borrow(|map| map.get(&(id, SESSION)))
        .map(|bytes| Session::decode(&bytes))
        .filter(|session| now < expires_at(session))
        .ok_or(CatalogError::UnknownUpload)
}

fn owned_session(rt: &impl Runtime, id: u64) -> Result<Session, CatalogError> {
    let session = live_session(id, rt.time())?;
    if session.owner == rt.caller() {
        Ok(session)
    } else {
        Err(CatalogError::NotUploader)
    }
}

fn last_active(session: &Session) -> u64 {
    session.last_chunk_at_ns.unwrap_or(session.created_at_ns)
}

/// Idle for two minutes, or an hour old: whichever comes first.
fn expires_at(session: &Session) -> u64 {
    let idle = last_active(session).saturating_add(UPLOAD_IDLE_NS);
    idle.min(session.created_at_ns.saturating_add(UPLOAD_TTL_NS))
}

fn progress(upload_id: u64, session: &Session) -> UploadProgress {
    UploadProgress {
        upload_id,
        total_bytes: session.total_bytes,
        bytes_received: session.bytes_received,
        chunks: session.chunks,
        rows_received: session.rows.records.saturating_sub(1),
        expires_at_ns: expires_at(session),
    }
}

fn delete(id: u64, session: &Session) {
    UPLOADS.with_borrow_mut(|map| {
        for index in 0..session.chunks {
            map.remove(&(id, index));
        }
        map.remove(&(id, SESSION));
    });
}

/// Every stored session, dead or not, by upload id (at most [`MAX_UPLOADS`]). One lookup per
/// upload, jumping over its chunks rather than reading them.
fn sessions() -> Vec<(u64, Session)> {
    UPLOADS.with_borrow(|map| {
        let mut found = Vec::new();
        let mut from = Some(0);
        while let Some(next) = from {
            let Some((id, _)) = map.keys_range((next, 0)..).next() else {
                break;
            };
            if let Some(bytes) = map.get(&(id, SESSION)) {
                found.push((id, Session::decode(&bytes)));
            }
            from = id.checked_add(1);
        }
        found
    })
}

fn put_session(id: u64, session: &Session) {
    let bytes = candid::encode_one(session).expect("a session always encodes");
    UPLOADS.with_borrow_mut(|map| map.insert((id, SESSION), bytes));
}

impl RowCounter {
    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                // A doubled quote inside a quoted cell toggles twice: still inside.
                b'"' => {
                    self.in_quotes = !self.in_quotes;
                    self.line_has_content = true;
                }
                b'\n' if !self.in_quotes => {
                    if self.line_has_content {
                        self.records = self.records.saturating_add(1);
                    }
                    self.line_has_content = false;
                }
                b'\r' => {}
                _ => self.line_has_content = true,
            }
        }
    }
}

impl Session {
    /// Only this module writes sessions: an undecodable one is corrupted state.
    fn decode(bytes: &[u8]) -> Self {
        candid::decode_one(bytes).expect("stored upload session is not valid Candid")
    }
}

#[cfg(test)]
mod tests;
