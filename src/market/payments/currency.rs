//! The market's currency: what its ledger says of itself (symbol, decimals, fee), asked after
//! install and every upgrade and shown in `policies`.

use super::*;
use crate::ledger;
use crate::runtime::Runtime;
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;

/// How long before a ledger that did not answer is asked again (every upgrade asks too).
const RETRY_NS: u64 = crate::time::HOUR_NS;

/// The currency prices are in: the configured ledger, with what it last said of itself.
pub fn currency() -> Option<Currency> {
    let ledger = ledger()?;
    let known = store::stored_currency().filter(|c| c.ledger == ledger);
    Some(known.unwrap_or(Currency {
        ledger,
        symbol: None,
        decimals: None,
        fee: None,
    }))
}

/// The queue's `RefreshCurrency` task (in its own future): asks the ledger's `icrc1_metadata`
/// and stores its symbol, decimals and fee; a ledger that does not answer is asked again
/// later (and every upgrade asks again).
pub async fn refresh_currency(rt: &impl Runtime) {
    let Some(ledger_id) = ledger() else {
        return;
    };
    let Ok(metadata) = ledger::metadata(rt, ledger_id).await else {
        let retry_at = rt.time().saturating_add(RETRY_NS);
        queue::schedule(rt, retry_at, Task::RefreshCurrency);
        return;
    };
    let text = |key: &str| {
        metadata.iter().find_map(|(k, v)| match v {
            MetadataValue::Text(text) if k == key => Some(text.clone()),
            _ => None,
        })
    };
    let number = |key: &str| {
        metadata.iter().find_map(|(k, v)| match v {
            MetadataValue::Nat(n) if k == key => ledger::amount(n),
            _ => None,
        })
    };
    store::set_currency(Currency {
        ledger: ledger_id,
        symbol: text("icrc1:symbol"),
        decimals: number("icrc1:decimals").and_then(|d| u8::try_from(d).ok()),
        fee: number("icrc1:fee").and_then(|f| u64::try_from(f).ok()),
    });
}
