//! Provider tools: a signing key, and catalog changes signed with it, either published to the
//! local canister or printed as the Candid argument of a `dfx canister call`; and lease
//! credentials sealed to a lessee's key.

use crate::candid_text::Interface;
use crate::commands::{self, Arg, CallKind};
use crate::state::State;
use crate::{lessee, progress, Output};
use candid::types::Label;
use candid::{IDLArgs, IDLValue, Principal};
use marketplace::catalog::provider::ProviderKeyInput;
use marketplace::catalog::publish::CatalogError;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::upload::{
    UploadAppendArg, UploadBeginArg, UploadOperation, UploadProgress, UploadRef,
};
use marketplace::market::delegation;
use serde_bytes::ByteBuf;
use std::path::Path;

/// Writes a new secret key (hex, readable by the owner only) and prints the public key as PEM.
pub fn new_key(path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists; refusing to overwrite a key",
            path.display()
        ));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no randomness: {e}"))?;
    write_private(path, format!("{}\n", hex::encode(secret)).as_bytes())?;
    print!("{}", signing::provider_of(&secret).to_pem());
    Ok(())
}

/// Prints the key file's public key as PEM, as the Candid `ProviderKeyInput` to paste into
/// a call's argument, or with `json` as `{"pem", "public_key" (hex), "candid", "principal"}`
/// (the key's self-authenticating principal: where its payouts go unless it names an account).
pub fn show(key: &Path, as_arg: bool, json: bool) -> Result<(), String> {
    let public = signing::provider_of(&read_key(key)?);
    let pem = public.to_pem();
    let arg = IDLValue::Variant(candid::types::value::VariantValue(
        Box::new(candid::types::value::IDLField {
            id: Label::Named("Pem".into()),
            val: IDLValue::Text(pem.clone()),
        }),
        0,
    ));
    if json {
        let object = serde_json::json!({
            "pem": pem,
            "public_key": hex::encode(public.as_bytes()),
            "candid": arg.to_string(),
            "principal": public.principal().to_text(),
        });
        say!("{object:#}");
    } else if as_arg {
        say!("{arg}");
    } else {
        say!("{}", pem.trim_end());
    }
    Ok(())
}

/// Writes a new file readable by its owner only; an existing file is never replaced.
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn read_key(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = hex::decode(text.trim())
        .map_err(|_| format!("{}: not a hex secret key", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| format!("{}: a secret key is 32 bytes", path.display()))
}

/// Where the credentials to seal come from.
pub enum Plaintext<'a> {
    File(&'a Path),
    Text(&'a str),
}

/// Seals the credentials to the lessee's X25519 public key and prints the `SealedBox` as
/// Candid text, for the `sealed` field of `lease_set_consumer_meta`.
pub fn seal(lessee_key: &str, plaintext: Plaintext<'_>) -> Result<(), String> {
    let recipient = lessee::parse_public_key(lessee_key)?;
    let bytes = match plaintext {
        Plaintext::File(path) => {
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        Plaintext::Text(text) => text.as_bytes().to_vec(),
    };
    say!(
        "{}",
        lessee::sealed_box_text(&lessee::seal(&recipient, &bytes)?)
    );
    Ok(())
}

/// What to sign: the catalog file, the operation and the sequence number.
pub struct Change<'a> {
    pub key: &'a Path,
    pub csv: &'a Path,
    pub upsert: bool,
    /// Defaults to the current Unix time in seconds, which grows between a person's publications.
    pub seq: Option<u64>,
}

impl Change<'_> {
    fn method(&self) -> &'static str {
        if self.upsert {
            "catalog_upsert"
        } else {
            "catalog_replace"
        }
    }

    /// The method's argument, signed for `canister`.
    fn argument(&self, canister: Principal) -> Result<IDLArgs, String> {
        let secret = read_key(self.key)?;
        let csv = std::fs::read(self.csv).map_err(|e| format!("{}: {e}", self.csv.display()))?;
        let seq = self.seq.unwrap_or_else(unix_seconds);
        let op = if self.upsert {
            Operation::UpsertOfferings
        } else {
            Operation::ReplaceCatalog
        };
        let signature = signing::sign(&secret, &canister, op, seq, &signing::payload_hash(&csv));
        let field = |name: &str, val| candid::types::value::IDLField {
            id: Label::Named(name.into()),
            val,
        };
        Ok(IDLArgs::new(&[IDLValue::Record(vec![
            field("provider", raw_key(&secret)),
            field("seq", IDLValue::Nat64(seq)),
            field("signature", IDLValue::Blob(signature.to_vec())),
            field("csv", IDLValue::Blob(csv)),
        ])]))
    }
}

/// Catalogs larger than this are uploaded in chunks: one ingress message holds at most 2 MiB,
/// the signature and the rest of the argument included.
pub const CHUNKED_ABOVE_BYTES: u64 = 1536 * 1024;
/// The chunk size unless told.
pub const DEFAULT_CHUNK_BYTES: usize = 1024 * 1024;
/// The largest chunk: 2 MiB less room for the rest of the message.
pub const MAX_CHUNK_BYTES: usize = 2 * 1024 * 1024 - 16 * 1024;

/// How a change travels: in one message, or in chunks (`catalog_upload_*`).
#[derive(Clone, Copy)]
pub struct Transfer {
    /// Upload in chunks whatever the catalog's size.
    pub chunked: bool,
    /// Bytes per chunk; a catalog larger than [`CHUNKED_ABOVE_BYTES`] is chunked anyway.
    pub chunk_size: usize,
}

impl Default for Transfer {
    fn default() -> Self {
        Self {
            chunked: false,
            chunk_size: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// Signs `change` for the local canister and sends it: in one message (`catalog_replace` or
/// `catalog_upsert`), or for a large catalog (or `transfer.chunked`) as a chunked upload.
pub fn publish(
    dir: &Path,
    did: &Path,
    change: &Change<'_>,
    transfer: Transfer,
    output: Output,
) -> Result<(), String> {
    if transfer.chunk_size == 0 || transfer.chunk_size > MAX_CHUNK_BYTES {
        return Err(format!(
            "--chunk-size {} is out of range: give 1 to {MAX_CHUNK_BYTES} bytes",
            transfer.chunk_size
        ));
    }
    let size = std::fs::metadata(change.csv)
        .map_err(|e| format!("{}: {e}", change.csv.display()))?
        .len();
    if transfer.chunked || size > CHUNKED_ABOVE_BYTES {
        return publish_chunked(dir, did, change, transfer.chunk_size, output);
    }
    let canister = State::load(dir)?.host.canister_id();
    // Typed against the .did like every call the runner makes.
    let text = change.argument(canister)?.to_string();
    // Signed changes need no particular caller: anyone may deliver them.
    commands::call(
        dir,
        did,
        change.method(),
        Arg::Text(text),
        Some(CallKind::Update),
        "anonymous",
        output,
    )
}

/// The chunked upload: `catalog_upload_begin` (signed over the catalog's SHA-256), the chunks
/// in order with a progress bar on stderr (a terminal only), then `catalog_upload_commit`, whose
/// receipt is printed like a direct publish's. The upload belongs to its caller, which may not
/// be anonymous: the runner sends it as the controller. A refusal on the way (a stale sequence
/// number, a bad chunk) is printed as the reply that carried it; the state is saved either way.
fn publish_chunked(
    dir: &Path,
    did: &Path,
    change: &Change<'_>,
    chunk_size: usize,
    output: Output,
) -> Result<(), String> {
    let secret = read_key(change.key)?;
    let csv = std::fs::read(change.csv).map_err(|e| format!("{}: {e}", change.csv.display()))?;
    if csv.is_empty() {
        return Err(format!("{}: the catalog is empty", change.csv.display()));
    }
    let mut state = State::load(dir)?;
    let interface = Interface::load(did)?;
    let caller = crate::commands::parse_caller(&state.host, "controller")?;
    let seq = change.seq.unwrap_or_else(unix_seconds);
    let hash = signing::payload_hash(&csv);
    let (op, operation) = if change.upsert {
        (Operation::UpsertOfferings, UploadOperation::Upsert)
    } else {
        (Operation::ReplaceCatalog, UploadOperation::Replace)
    };
    let canister = state.host.canister_id();
    let begin = UploadBeginArg {
        provider: ProviderKeyInput::Raw(ByteBuf::from(
            signing::provider_of(&secret).as_bytes().to_vec(),
        )),
        seq,
        signature: ByteBuf::from(signing::sign(&secret, &canister, op, seq, &hash).to_vec()),
        operation,
        total_bytes: csv.len() as u64,
        sha256: ByteBuf::from(hash.to_vec()),
    };
    let result = upload(&mut state, caller, &begin, &csv, chunk_size);
    let saved = state.finish();
    let (method, reply) = result?;
    saved?;
    commands::print_reply(&interface, method, &reply, output)
}

/// Runs the upload's messages; returns the reply to print and the method it answers.
fn upload(
    state: &mut State,
    caller: Principal,
    begin: &UploadBeginArg,
    csv: &[u8],
    chunk_size: usize,
) -> Result<(&'static str, Vec<u8>), String> {
    const BEGIN: &str = "catalog_upload_begin";
    const APPEND: &str = "catalog_upload_append";
    const COMMIT: &str = "catalog_upload_commit";
    let bar = progress::bytes(csv.len() as u64, "uploading catalog");
    let mut send = |method: &str, arg: Vec<u8>| {
        let result = state.host.update(caller, method, &arg);
        state.host.tick();
        bar.suspend(|| state.print_log());
        result.map_err(|reject| format!("{method}: {reject}"))
    };
    let reply = send(BEGIN, encode(begin)?)?;
    let upload_id = match decode::<u64>(BEGIN, &reply)? {
        Ok(id) => id,
        Err(_) => {
            bar.finish_and_clear();
            return Ok((BEGIN, reply));
        }
    };
    let mut rows = 0;
    let chunks = csv.chunks(chunk_size);
    let count = chunks.len();
    for (index, bytes) in chunks.enumerate() {
        let arg = UploadAppendArg {
            upload_id,
            index: u32::try_from(index).map_err(|_| "too many chunks: raise --chunk-size")?,
            bytes: ByteBuf::from(bytes.to_vec()),
        };
        let reply = send(APPEND, encode(&arg)?)?;
        match decode::<UploadProgress>(APPEND, &reply)? {
            Ok(progress) => {
                bar.set_position(progress.bytes_received);
                rows = progress.rows_received;
            }
            Err(_) => {
                bar.finish_and_clear();
                return Ok((APPEND, reply));
            }
        }
    }
    let reply = send(COMMIT, encode(&UploadRef { upload_id })?)?;
    bar.finish_and_clear();
    eprintln!(
        "uploaded {} bytes in {count} chunk{} of at most {chunk_size} bytes (upload {upload_id}, \
         {rows} rows)",
        csv.len(),
        if count == 1 { "" } else { "s" },
    );
    Ok((COMMIT, reply))
}

fn encode(arg: &impl candid::CandidType) -> Result<Vec<u8>, String> {
    candid::encode_one(arg).map_err(|e| format!("cannot encode the upload: {e}"))
}

/// An upload reply: the method's `Ok` value, or the canister's refusal.
fn decode<T: candid::CandidType + for<'a> candid::Deserialize<'a>>(
    method: &str,
    reply: &[u8],
) -> Result<Result<T, CatalogError>, String> {
    candid::decode_one(reply).map_err(|e| format!("{method}: unexpected reply: {e}"))
}

/// Prints the signed argument as Candid text, for `dfx canister call … --argument-file`, or
/// with `hex` (the .did at `hex`) as the argument's bytes typed by the .did, in hex, for an
/// agent that takes raw arguments.
pub fn sign(
    dir: &Path,
    change: &Change<'_>,
    canister: Option<&str>,
    hex: Option<&Path>,
) -> Result<(), String> {
    let canister = match canister {
        Some(text) => Principal::from_text(text).map_err(|e| format!("--canister: {e}"))?,
        None => State::load(dir)?.host.canister_id(),
    };
    print_argument(change.method(), &change.argument(canister)?, hex)?;
    eprintln!("method: {}", change.method());
    Ok(())
}

/// Prints `args` as Candid text, or with `hex` (the .did's path) encoded with `method`'s
/// argument types as hex.
fn print_argument(method: &str, args: &IDLArgs, hex: Option<&Path>) -> Result<(), String> {
    match hex {
        Some(did) => {
            let bytes = Interface::load(did)?.encode_call(method, &args.to_string())?;
            println!("{}", hex::encode(bytes));
        }
        None => println!("{args}"),
    }
    Ok(())
}

/// A market delegation to sign: `principal` acts for the key's provider (or stops).
pub struct Delegation<'a> {
    pub key: &'a Path,
    pub principal: &'a str,
    pub allow: bool,
    pub seq: Option<u64>,
    /// How long the delegation lasts from `now` (the signed `expires_at_ns`); `None`: until
    /// revoked.
    pub expires_in: Option<std::time::Duration>,
}

impl Delegation<'_> {
    /// The signed argument; `now` (ns since the epoch) is the canister's time the expiry
    /// counts from.
    fn argument(&self, canister: Principal, now: u64) -> Result<IDLArgs, String> {
        let secret = read_key(self.key)?;
        let principal = Principal::from_text(self.principal)
            .map_err(|e| format!("--principal '{}': {e}", self.principal))?;
        let seq = self.seq.unwrap_or_else(unix_seconds);
        let expires_at_ns = self
            .expires_in
            .map(|by| {
                u64::try_from(by.as_nanos())
                    .ok()
                    .and_then(|by| now.checked_add(by))
                    .ok_or("--expires-in is too long")
            })
            .transpose()?;
        let arg = delegation::signed_until(
            &secret,
            &canister,
            principal,
            self.allow,
            seq,
            expires_at_ns,
        );
        let field = |name: &str, val| candid::types::value::IDLField {
            id: Label::Named(name.into()),
            val,
        };
        let mut fields = vec![
            field("provider", raw_key(&secret)),
            field("principal", IDLValue::Principal(arg.principal)),
            field("allow", IDLValue::Bool(arg.allow)),
            field("seq", IDLValue::Nat64(arg.seq)),
            field("signature", IDLValue::Blob(arg.signature.into_vec())),
        ];
        if let Some(at) = arg.expires_at_ns {
            fields.push(field(
                "expires_at_ns",
                IDLValue::Opt(Box::new(IDLValue::Nat64(at))),
            ));
        }
        Ok(IDLArgs::new(&[IDLValue::Record(fields)]))
    }
}

/// Signs the delegation for the local canister and sends it (anyone may deliver it).
pub fn delegate(dir: &Path, did: &Path, delegation: &Delegation<'_>) -> Result<(), String> {
    let host = State::load(dir)?.host;
    // An expiry counts from the local canister's time (`mkt advance-time` moves it).
    let text = delegation
        .argument(host.canister_id(), host.time())?
        .to_string();
    commands::call(
        dir,
        did,
        "market_delegate",
        Arg::Text(text),
        Some(CallKind::Update),
        "anonymous",
        Output::Idl,
    )
}

/// Prints the signed delegation as Candid text, for `dfx canister call … market_delegate`, or
/// with `hex` (the .did's path) as the encoded argument in hex.
pub fn print_delegation(
    dir: &Path,
    delegation: &Delegation<'_>,
    canister: Option<&str>,
    hex: Option<&Path>,
) -> Result<(), String> {
    // For another canister an expiry counts from the wall clock; for the local one from its
    // own clock, which moves only with `advance-time`.
    let (canister, now) = match canister {
        Some(text) => (
            Principal::from_text(text).map_err(|e| format!("--canister: {e}"))?,
            unix_nanos(),
        ),
        None => {
            let host = State::load(dir)?.host;
            (host.canister_id(), host.time())
        }
    };
    let argument = delegation.argument(canister, now)?;
    print_argument("market_delegate", &argument, hex)
}

/// `variant { Raw = blob }` with the provider's public key.
fn raw_key(secret: &[u8; 32]) -> IDLValue {
    let provider = signing::provider_of(secret).as_bytes().to_vec();
    IDLValue::Variant(candid::types::value::VariantValue(
        Box::new(candid::types::value::IDLField {
            id: Label::Named("Raw".into()),
            val: IDLValue::Blob(provider),
        }),
        0,
    ))
}

fn unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
