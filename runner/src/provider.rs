//! Provider tools: a signing key, and catalog changes signed with it, either published to the
//! local canister or printed as the Candid argument of a `dfx canister call`; and lease
//! credentials sealed to a lessee's key.

use crate::commands::{self, Arg, CallKind};
use crate::lessee;
use crate::state::State;
use crate::Output;
use candid::types::Label;
use candid::{IDLArgs, IDLValue, Principal};
use marketplace::catalog::signing::{self, Operation};
use marketplace::market::delegation;
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

/// Prints the key file's public key as PEM, or as the Candid `ProviderKeyInput` to paste into
/// a call's argument.
pub fn show(key: &Path, as_arg: bool) -> Result<(), String> {
    let pem = signing::provider_of(&read_key(key)?).to_pem();
    if as_arg {
        println!(
            "{}",
            IDLValue::Variant(candid::types::value::VariantValue(
                Box::new(candid::types::value::IDLField {
                    id: Label::Named("Pem".into()),
                    val: IDLValue::Text(pem),
                }),
                0,
            ))
        );
    } else {
        print!("{pem}");
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

/// Signs `change` for the local canister and sends it.
pub fn publish(dir: &Path, did: &Path, change: &Change<'_>, output: Output) -> Result<(), String> {
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

/// Prints the signed argument as Candid text, for `dfx canister call … --argument-file`.
pub fn sign(dir: &Path, change: &Change<'_>, canister: Option<&str>) -> Result<(), String> {
    let canister = match canister {
        Some(text) => Principal::from_text(text).map_err(|e| format!("--canister: {e}"))?,
        None => State::load(dir)?.host.canister_id(),
    };
    println!("{}", change.argument(canister)?);
    eprintln!("method: {}", change.method());
    Ok(())
}

/// A market delegation to sign: `principal` acts for the key's provider (or stops).
pub struct Delegation<'a> {
    pub key: &'a Path,
    pub principal: &'a str,
    pub allow: bool,
    pub seq: Option<u64>,
}

impl Delegation<'_> {
    fn argument(&self, canister: Principal) -> Result<IDLArgs, String> {
        let secret = read_key(self.key)?;
        let principal = Principal::from_text(self.principal)
            .map_err(|e| format!("--principal '{}': {e}", self.principal))?;
        let seq = self.seq.unwrap_or_else(unix_seconds);
        let arg = delegation::signed(&secret, &canister, principal, self.allow, seq);
        let field = |name: &str, val| candid::types::value::IDLField {
            id: Label::Named(name.into()),
            val,
        };
        Ok(IDLArgs::new(&[IDLValue::Record(vec![
            field("provider", raw_key(&secret)),
            field("principal", IDLValue::Principal(arg.principal)),
            field("allow", IDLValue::Bool(arg.allow)),
            field("seq", IDLValue::Nat64(arg.seq)),
            field("signature", IDLValue::Blob(arg.signature.into_vec())),
        ])]))
    }
}

/// Signs the delegation for the local canister and sends it (anyone may deliver it).
pub fn delegate(dir: &Path, did: &Path, delegation: &Delegation<'_>) -> Result<(), String> {
    let canister = State::load(dir)?.host.canister_id();
    let text = delegation.argument(canister)?.to_string();
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

/// Prints the signed delegation as Candid text, for `dfx canister call … market_delegate`.
pub fn print_delegation(
    dir: &Path,
    delegation: &Delegation<'_>,
    canister: Option<&str>,
) -> Result<(), String> {
    let canister = match canister {
        Some(text) => Principal::from_text(text).map_err(|e| format!("--canister: {e}"))?,
        None => State::load(dir)?.host.canister_id(),
    };
    println!("{}", delegation.argument(canister)?);
    Ok(())
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

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
