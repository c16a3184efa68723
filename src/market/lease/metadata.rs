//! What a lease's provider records on it: credentials sealed to the lessee, procurement details.

use super::views::as_seen;
use super::{check_key, record_same_phase, wrong_phase};
use crate::market::store;
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{check_text, delegation, execution};
use crate::runtime::Runtime;

/// XSalsa20-Poly1305 (24) or ChaCha20-Poly1305 (12) nonces.
const NONCE_BYTES: [usize; 2] = [24, 12];
/// A sealed box carries at least its 16-byte tag, and credentials are small.
const CIPHERTEXT_BYTES: std::ops::RangeInclusive<usize> = 16..=4096;
const MAX_PROCUREMENT_PROPERTIES: usize = 32;

/// The provider gives the lessee its credentials, sealed to the lessee key given at accept.
/// Credentials never sit in plaintext in the canister (whose state node operators can read):
/// only the shape and the recipient of the sealed box are checked, and only the holder of the
/// lessee's secret key can open it.
pub fn set_consumer_meta(
    rt: &impl Runtime,
    arg: SetConsumerMetaArg,
) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor) = provider_execution(rt, &arg.provider, arg.execution_id)?;
    if !execution.phase.is_active_lease() {
        return Err(wrong_phase(execution.phase, "set consumer meta"));
    }
    let sealed = arg.sealed;
    if execution.lessee_key.as_deref().map(|key| key.as_slice())
        != Some(sealed.recipient_key.as_slice())
    {
        return Err(MarketError::invalid(
            "the box is sealed to another key than the lessee's",
        ));
    }
    check_key("ephemeral_key", &sealed.ephemeral_key)?;
    if !NONCE_BYTES.contains(&sealed.nonce.len()) {
        return Err(MarketError::invalid(format!(
            "nonce must be 24 or 12 bytes, got {}",
            sealed.nonce.len()
        )));
    }
    if !CIPHERTEXT_BYTES.contains(&sealed.ciphertext.len()) {
        return Err(MarketError::invalid(format!(
            "ciphertext must be {} to {} bytes, got {}",
            CIPHERTEXT_BYTES.start(),
            CIPHERTEXT_BYTES.end(),
            sealed.ciphertext.len()
        )));
    }
    execution.consumer_meta = Some(sealed);
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(
        now,
        &actor,
        &execution,
        "credentials sealed to the lessee set",
    );
    Ok(as_seen(rt, execution))
}

/// The provider records how it procured the lease; only its delegates and controllers see it.
pub fn set_procurement_meta(
    rt: &impl Runtime,
    arg: SetProcurementMetaArg,
) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor) = provider_execution(rt, &arg.provider, arg.execution_id)?;
    if arg.meta.len() > MAX_PROCUREMENT_PROPERTIES {
        return Err(MarketError::TooMany {
            what: "procurement properties".into(),
            max: MAX_PROCUREMENT_PROPERTIES as u32,
        });
    }
    for property in &arg.meta {
        check_text("property key", &property.key, false)?;
        check_text("property value", &property.value, true)?;
    }
    execution.procurement_meta = Some(arg.meta);
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(now, &actor, &execution, "procurement details set");
    Ok(as_seen(rt, execution))
}

/// The execution on an item of the provider the caller acts for.
pub(super) fn provider_execution(
    rt: &impl Runtime,
    provider: &crate::catalog::provider::ProviderKeyInput,
    execution_id: u64,
) -> Result<(Execution, Actor), MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, provider)?;
    let execution = execution::get(execution_id)?;
    if store::provider_key(&execution.provider_pem) != provider {
        return Err(MarketError::NotAuthorized {
            message: format!("execution {execution_id} is not on this provider's items"),
        });
    }
    Ok((execution, actor))
}
