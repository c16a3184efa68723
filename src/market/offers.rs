//! Offers (FLOCX): an item offered for a window at a price. TODO(helper)

use super::types::*;
use crate::runtime::Runtime;

pub fn create(rt: &impl Runtime, arg: OfferCreateArg) -> Result<Offer, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn withdraw(rt: &impl Runtime, arg: OfferWithdrawArg) -> Result<Offer, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn get(id: u64) -> Result<Offer, MarketError> {
    super::store::offer(id).ok_or(MarketError::UnknownOffer { id })
}

pub fn list(arg: OffersListArg) -> Result<OfferPage, MarketError> {
    let _ = arg;
    todo!()
}

/// An accepted execution claims its offer: Open → Claimed.
pub fn claim(now: u64, actor: &Actor, offer_id: u64, execution_id: u64) -> Result<(), MarketError> {
    let _ = (now, actor, offer_id, execution_id);
    todo!()
}

/// The manager's task at an offer's end: an Open offer becomes Expired.
pub fn expire(rt: &impl Runtime, offer_id: u64) {
    let _ = (rt.time(), offer_id);
    todo!()
}
