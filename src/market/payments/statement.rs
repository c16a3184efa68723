//! Statements: the payments of the caller's executions as consumer, or of a provider's as its
//! delegate, a page at a time, in execution order; each with every transfer and its ledger
//! block (`payments_list`). Reads no execution: the executions' id indexes and the payments.

use super::*;
use crate::market::{delegation, page_limit, page_of, MarketError};
use crate::runtime::Runtime;

/// Most payments one page returns (a payment lists up to 16 pulls and their transfers out).
pub const MAX_STATEMENT_PAGE: usize = 100;

/// Executions one `payments_list` call looks at most: free ones have no payment, so a page may
/// be short (even empty) with `next` set; the caller goes on from there.
pub const MAX_SCANNED: usize = 500;

/// `payments_list`: the caller's (or, as its delegate, a provider's) paid executions.
pub fn list(rt: &impl Runtime, arg: PaymentsListArg) -> Result<PaymentPage, MarketError> {
    if rt.caller() == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal has no payments: call with an identity".into(),
        });
    }
    let limit = page_limit(arg.limit)?;
    if limit > MAX_STATEMENT_PAGE {
        return Err(MarketError::TooMany {
            what: "limit".into(),
            max: MAX_STATEMENT_PAGE as u32,
        });
    }
    let after = arg.after.unwrap_or(0);
    let ids = match arg.role {
        Role::Consumer => store::consumer_execution_ids(&rt.caller(), after, MAX_SCANNED),
        Role::Provider => {
            let input = arg.provider.as_ref().ok_or_else(|| {
                MarketError::invalid("provider is required to list a provider's payments")
            })?;
            let (provider, _) = delegation::acting_provider(rt, input)?;
            store::provider_execution_ids(&provider, after, MAX_SCANNED)
        }
    };
    let entries = ids.into_iter().map(|id| {
        let payment = store::payment(id).map(|payment| ExecutionPayment {
            execution_id: id,
            payment,
        });
        (id, payment)
    });
    let (payments, next) = page_of(entries, Option::is_some, limit, MAX_SCANNED);
    Ok(PaymentPage {
        payments: payments.into_iter().flatten().collect(),
        next,
    })
}
