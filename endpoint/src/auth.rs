//! Request authentication, as the IC's HTTP endpoint does it (rs/validator and
//! rs/http_endpoints/public in dfinity/ic, and the interface specification's "Authentication"):
//! decode the CBOR envelope, check its expiry, then check that the sender's key (or the chain of
//! delegations from it) signed the request id. Errors carry the IC's status (400) and, where
//! clients look at them (agent-js matches "Invalid request expiry: " to resync its clock), the
//! IC's text.

mod keys;
mod limits;

use std::collections::{BTreeSet, HashSet};

use candid::Principal;
use ic_transport_types::{
    to_request_id, DelegationPermissions, Envelope, EnvelopeContent, RequestId, SignedDelegation,
};

use keys::PublicKey;
use limits::*;

/// Which endpoint a request came to; the envelope's `request_type` must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Call,
    Query,
    ReadState,
}

impl Kind {
    fn request_type(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Query => "query",
            Kind::ReadState => "read_state",
        }
    }
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub request_id: RequestId,
    pub sender: Principal,
    pub content: EnvelopeContent,
    /// The canisters the delegations allow (None: no restriction) — the server checks
    /// read_state/query/call targets against it.
    pub targets: Option<Vec<Principal>>,
}

impl Authenticated {
    /// The canister a call or query is addressed to (`None` for a read_state).
    pub fn content_canister(&self) -> Option<candid::Principal> {
        match &self.content {
            EnvelopeContent::Call { canister_id, .. }
            | EnvelopeContent::Query { canister_id, .. } => Some(*canister_id),
            EnvelopeContent::ReadState { .. } => None,
        }
    }
}

/// A refused request: the IC's HTTP status and its plain-text error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
}

/// Every authentication failure is a 400 on the IC (`validation_error_to_http_error`).
fn bad_request(message: impl Into<String>) -> Rejection {
    Rejection {
        status: 400,
        message: message.into(),
    }
}

/// Decodes a CBOR request body (self-describe tag optional) into an envelope and authenticates
/// it as the IC does.
pub fn authenticate(body: &[u8], kind: Kind, now_nanos: u64) -> Result<Authenticated, Rejection> {
    // serde_cbor skips the 55799 self-describe tag, so tagged and untagged bodies both decode.
    let envelope: Envelope<'static> = serde_cbor::from_slice(body)
        .map_err(|e| bad_request(format!("Failed to deserialize cbor request: {e}")))?;
    let content = envelope.content.into_owned();
    let found = request_type(&content);
    if found != kind.request_type() {
        // What serde says when the IC decodes the body as the endpoint's one content variant.
        return Err(bad_request(format!(
            "Failed to deserialize cbor request: unknown variant `{found}`, expected `{}`",
            kind.request_type()
        )));
    }
    let signature = match (
        envelope.sender_pubkey,
        envelope.sender_sig,
        envelope.sender_delegation,
    ) {
        (Some(pubkey), Some(sig), delegations) => {
            Some((pubkey, sig, delegations.unwrap_or_default()))
        }
        (None, None, None) => None,
        _ => {
            return Err(bad_request(format!(
                "Could not parse body as {} message: sender_pubkey and sender_sig must be given \
                 together, and sender_delegation only with them",
                kind.request_type()
            )))
        }
    };
    let sender = *content.sender();
    // Sender info comes with a canister signature, which this endpoint cannot verify.
    if matches!(
        &content,
        EnvelopeContent::Call {
            sender_info: Some(_),
            ..
        } | EnvelopeContent::Query {
            sender_info: Some(_),
            ..
        }
    ) {
        return Err(bad_request(
            "sender_info (canister-signed sender information) is not supported by this endpoint",
        ));
    }
    if let EnvelopeContent::ReadState { paths, .. } = &content {
        check_paths(paths)?;
    }
    // The IC skips the expiry check for anonymous queries and read_state requests only.
    if kind == Kind::Call || sender != Principal::anonymous() {
        check_expiry(content.ingress_expiry(), now_nanos)?;
    }
    check_nonce(&content)?;
    let request_id = to_request_id(&content)
        .map_err(|e| bad_request(format!("Could not compute the request id: {e}")))?;
    let targets = match signature {
        None if sender == Principal::anonymous() => None,
        None => {
            return Err(bad_request(format!(
                "Missing signature from user: {sender}"
            )))
        }
        Some(_) if sender == Principal::anonymous() => {
            return Err(bad_request(
                "Signature is not allowed for the anonymous user.",
            ))
        }
        Some((pubkey, sig, delegations)) => {
            if Principal::self_authenticating(&pubkey) != sender {
                return Err(bad_request(format!(
                    "The user id '{sender}' does not match the public key '{}'",
                    hex::encode(&pubkey)
                )));
            }
            verify_chain(&pubkey, &sig, &delegations, &request_id, kind, now_nanos)?
        }
    };
    if let (
        EnvelopeContent::Call { canister_id, .. } | EnvelopeContent::Query { canister_id, .. },
        Some(allowed),
    ) = (&content, &targets)
    {
        if !allowed.contains(canister_id) {
            return Err(bad_request(format!(
                "Canister '{canister_id}' is not one of the delegation targets."
            )));
        }
    }
    Ok(Authenticated {
        request_id,
        sender,
        content,
        targets: targets.map(|set| set.into_iter().collect()),
    })
}

fn request_type(content: &EnvelopeContent) -> &'static str {
    match content {
        EnvelopeContent::Call { .. } => "call",
        EnvelopeContent::Query { .. } => "query",
        EnvelopeContent::ReadState { .. } => "read_state",
    }
}

/// The expiry must lie in `[now, now + 5 min + 30 s]`; the message is the IC's, whose prefix
/// agent-js recognises.
fn check_expiry(expiry: u64, now: u64) -> Result<(), Rejection> {
    let max = now.saturating_add(MAX_INGRESS_TTL_NANOS + PERMITTED_DRIFT_NANOS);
    if (now..=max).contains(&expiry) {
        return Ok(());
    }
    Err(bad_request(format!(
        "Invalid request expiry: Specified ingress_expiry not within expected range: \
         Minimum allowed expiry: {}, Maximum allowed expiry: {}, Provided expiry:        {}",
        rfc3339(now),
        rfc3339(max),
        rfc3339(expiry)
    )))
}

fn check_nonce(content: &EnvelopeContent) -> Result<(), Rejection> {
    let (EnvelopeContent::Call {
        nonce: Some(nonce), ..
    }
    | EnvelopeContent::Query {
        nonce: Some(nonce), ..
    }) = content
    else {
        return Ok(());
    };
    if nonce.len() > MAX_NONCE_BYTES {
        return Err(bad_request(format!(
            "Nonce in request is too big: got {} bytes, but at most {MAX_NONCE_BYTES} are allowed.",
            nonce.len()
        )));
    }
    Ok(())
}

fn check_paths(paths: &[Vec<ic_certification::Label>]) -> Result<(), Rejection> {
    if paths.len() > MAX_PATHS {
        return Err(bad_request(format!(
            "Too many paths in read state request: got {} paths, but at most {MAX_PATHS} are allowed.",
            paths.len()
        )));
    }
    if let Some(path) = paths.iter().find(|p| p.len() > MAX_LABELS_PER_PATH) {
        return Err(bad_request(format!(
            "At least one path in read state request is too deep: got {} labels, but at most \
             {MAX_LABELS_PER_PATH} are allowed.",
            path.len()
        )));
    }
    Ok(())
}

/// Checks the delegations from `sender_pubkey` and the request signature by the last key, in
/// the IC's order: chain length, expiries, cycles, target counts, then each signature. Returns
/// the canisters every delegation allows (None: all).
fn verify_chain(
    sender_pubkey: &[u8],
    sig: &[u8],
    delegations: &[SignedDelegation],
    request_id: &RequestId,
    kind: Kind,
    now: u64,
) -> Result<Option<BTreeSet<Principal>>, Rejection> {
    let invalid = |why: String| bad_request(format!("Invalid delegation: {why}"));
    if delegations.len() > MAX_DELEGATIONS {
        return Err(invalid(format!(
            "Chain of delegations is too long: got {} delegations, but at most {MAX_DELEGATIONS} \
             are allowed.",
            delegations.len()
        )));
    }
    for d in delegations {
        if d.delegation.expiration < now {
            return Err(bad_request(format!(
                "Invalid delegation expiry: Specified sender delegation has expired:\n\
                 Provided expiry:    {}\nLocal replica time: {}",
                rfc3339(d.delegation.expiration),
                rfc3339(now)
            )));
        }
    }
    let mut seen = HashSet::from([sender_pubkey]);
    for d in delegations {
        if !seen.insert(&d.delegation.pubkey) {
            return Err(invalid(format!(
                "Chain of delegations contains at least one cycle: first repeating public key \
                 encountered {}",
                hex::encode(&d.delegation.pubkey)
            )));
        }
    }
    for d in delegations {
        let n = d.delegation.targets.as_ref().map_or(0, Vec::len);
        if n > MAX_TARGETS_PER_DELEGATION {
            return Err(invalid(format!(
                "Delegation target error: expected at most {MAX_TARGETS_PER_DELEGATION} targets \
                 per delegation, but got {n}"
            )));
        }
    }
    let mut key = sender_pubkey;
    let mut targets: Option<BTreeSet<Principal>> = None;
    for d in delegations {
        let signer =
            PublicKey::from_der(key).map_err(|e| invalid(format!("Invalid public key: {e}")))?;
        let hash = to_request_id(&d.delegation)
            .map_err(|e| invalid(format!("Delegation target error: {e}")))?;
        // `Delegation::signable`, without its unwrap.
        let signable = [&b"\x1aic-request-auth-delegation"[..], hash.as_slice()].concat();
        signer
            .verify(&signable, &d.signature)
            .map_err(|e| invalid(format!("Invalid basic signature: {e}")))?;
        if kind == Kind::Call && d.delegation.permissions == Some(DelegationPermissions::Queries) {
            return Err(invalid(
                "Delegation permission error: the delegation allows only queries and read_state \
                 requests"
                    .to_string(),
            ));
        }
        if let Some(allowed) = &d.delegation.targets {
            let allowed: BTreeSet<Principal> = allowed.iter().copied().collect();
            targets = Some(match targets {
                None => allowed,
                Some(before) => before.intersection(&allowed).copied().collect(),
            });
        }
        key = &d.delegation.pubkey;
    }
    let signer = PublicKey::from_der(key)
        .map_err(|e| bad_request(format!("Invalid signature: Invalid public key: {e}")))?;
    signer
        .verify(&request_id.signable(), sig)
        .map_err(|e| bad_request(format!("Invalid signature: Invalid basic signature: {e}")))?;
    Ok(targets)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;

#[cfg(test)]
mod delegation_tests;
