//! Executions once accepted: contracts (FLOCX) and leases (pez). Accept, cancel, extend, end
//! early, reclaim with notice, the pez lease-by-SKU shortcut, credentials, the queue's start
//! and end, and the views every reader gets through [`as_seen`].
//!
//! Items of type `ironic_node` are provisioned: a lease's start records a deploy
//! (`provision::service::begin_deploy`) and the lease stays PREPARING until the deploy completes
//! ([`provisioned`]: AVAILABLE) or fails ([`provisioning_failed`]: FAILED); its end records an
//! undeploy and the lease stays RELEASING until the node is clean ([`released`]: COMPLETED or
//! CANCELLED, the item available again, or in Maintenance when cleaning failed). For every
//! other type there is no provisioning backend: granting access at the start and revoking it
//! at the end are recorded in the audit log as no-ops, so PREPARING and RELEASING pass within
//! one message. `check_stuck` is the last resort for leases whose provisioning never answers.

mod metadata;
mod paid;
mod provisioning_reports;
mod reclaim;
mod requests;
mod timeline;
mod views;

pub use metadata::{set_consumer_meta, set_procurement_meta};
pub use paid::{accept_paying, extend_paying, lease_by_sku_paying};
pub use provisioning_reports::{provisioned, provisioning_failed, released};
pub use reclaim::reclaim;
pub use requests::{accept, cancel, end_now, extend, lease_by_sku};
pub use timeline::{check_stuck, finish, start, wake_waiting};
pub use views::{as_seen, contract, get, lease, list};

use super::audit::{self, Change};
use super::types::*;
use super::MarketError;
use serde_bytes::ByteBuf;

/// X25519 public keys are 32 bytes.
const KEY_BYTES: usize = 32;

fn check_key(what: &str, key: &[u8]) -> Result<(), MarketError> {
    if key.len() != KEY_BYTES {
        return Err(MarketError::invalid(format!(
            "{what} must be a {KEY_BYTES}-byte X25519 public key, got {} bytes",
            key.len()
        )));
    }
    Ok(())
}

/// An X25519 key as text: two hex digits a byte.
const KEY_HEX_DIGITS: usize = 2 * KEY_BYTES;

/// The lessee's key of a request (`execution_accept`, `lease_by_sku`): `lessee_key` as bytes or
/// `lessee_key_hex` as 64 hex digits (either case, whitespace around trimmed), exactly one of
/// them, and 32 bytes either way. Anything else is `InvalidArgument`.
fn lessee_key(bytes: Option<ByteBuf>, hex: Option<&str>) -> Result<ByteBuf, MarketError> {
    let key = match (bytes, hex) {
        (Some(bytes), None) => bytes,
        (None, Some(hex)) => ByteBuf::from(decode_key_hex("lessee_key_hex", hex)?),
        (Some(_), Some(_)) => {
            return Err(MarketError::invalid(
                "give the lessee's key once: lessee_key or lessee_key_hex, not both",
            ))
        }
        (None, None) => {
            return Err(MarketError::invalid(format!(
                "the lessee's {KEY_BYTES}-byte X25519 public key is missing: give lessee_key \
                 (a blob) or lessee_key_hex ({KEY_HEX_DIGITS} hex digits)"
            )))
        }
    };
    check_key("lessee_key", &key)?;
    Ok(key)
}

/// Decodes a key given as hex: exactly [`KEY_HEX_DIGITS`] digits `0-9a-fA-F` once surrounding
/// whitespace is trimmed. The text itself is never echoed back.
fn decode_key_hex(what: &str, text: &str) -> Result<Vec<u8>, MarketError> {
    let digits = text.trim();
    if digits.len() != KEY_HEX_DIGITS {
        return Err(MarketError::invalid(format!(
            "{what} must be {KEY_HEX_DIGITS} hex digits (a {KEY_BYTES}-byte X25519 public key), \
             got {} bytes of text",
            digits.len()
        )));
    }
    crate::text::hex_array::<KEY_BYTES>(digits)
        .map(|key| key.to_vec())
        .ok_or_else(|| {
            MarketError::invalid(format!(
                "{what} must be hex digits only (0-9, a-f, A-F) after trimming whitespace"
            ))
        })
}

/// Records a change that keeps the phase (an extension, credentials, procurement details).
fn record_same_phase(now: u64, actor: &Actor, execution: &Execution, why: &str) {
    let phase = execution.phase.name();
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Execution(execution.id),
            from: phase,
            to: phase,
            why,
            consumer: Some(execution.consumer),
            provider_pem: &execution.provider_pem,
        },
    );
}

fn wrong_phase(phase: Phase, action: &str) -> MarketError {
    MarketError::WrongPhase {
        phase,
        action: action.into(),
    }
}

fn not_yours(id: u64) -> MarketError {
    MarketError::NotAuthorized {
        message: format!("execution {id} is not the caller's"),
    }
}

#[cfg(test)]
mod tests;
