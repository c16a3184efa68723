//! Offersets, and each consumer's.

use super::{CONSUMER_OFFERSETS, OFFERSETS};
use crate::market::types::Offerset;

pub fn offerset(id: u64) -> Option<Offerset> {
    OFFERSETS.with_borrow(|sets| sets.get(&id))
}

pub fn put_offerset(offerset: &Offerset) {
    CONSUMER_OFFERSETS.with_borrow_mut(|index| index.insert((offerset.consumer, offerset.id), ()));
    OFFERSETS.with_borrow_mut(|sets| sets.insert(offerset.id, offerset.clone()));
}

pub fn remove_offerset(offerset: &Offerset) {
    CONSUMER_OFFERSETS.with_borrow_mut(|index| index.remove(&(offerset.consumer, offerset.id)));
    OFFERSETS.with_borrow_mut(|sets| sets.remove(&offerset.id));
}
