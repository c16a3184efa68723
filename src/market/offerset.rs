//! Offersets (ExecutionBroker): a consumer's request validated, checked against policies and
//! matched against open offers; each match becomes an execution in OFFERED that holds its item
//! until the offerset expires. TODO(helper)

use super::types::*;
use crate::runtime::Runtime;

pub fn request(rt: &impl Runtime, request: ResourceRequest) -> Result<OffersetView, MarketError> {
    let _ = (rt.time(), request);
    todo!()
}

pub fn get(rt: &impl Runtime, id: u64) -> Result<OffersetView, MarketError> {
    let _ = (rt.time(), id);
    todo!()
}

/// The manager's task at an offerset's expiry: OFFERED executions become EXPIRED and release
/// their holds.
pub fn expire(rt: &impl Runtime, offerset_id: u64) {
    let _ = (rt.time(), offerset_id);
    todo!()
}
