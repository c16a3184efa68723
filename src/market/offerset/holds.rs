//! Holds: the execution in OFFERED for a match, its window booked on the item.

use super::matching::Match;
use super::window::Window;
use crate::market::audit::{self, Change};
use crate::market::store::{self, Booking};
use crate::market::types::*;
use candid::Principal;

/// What every execution made for one request shares.
pub struct Terms {
    pub consumer: Principal,
    pub project: String,
    pub image: String,
    pub offerset_id: Option<u64>,
    /// Until when an OFFERED execution holds its item.
    pub expires_at_ns: u64,
}

/// Creates the execution in OFFERED for a match and books its window on the item.
pub fn hold(now: u64, terms: &Terms, m: &Match, why: &str) -> Execution {
    let Window { start_ns, end_ns } = m.window;
    let execution = Execution {
        id: store::next_execution_id(),
        offerset_id: terms.offerset_id,
        offer_id: m.offer.offer_id,
        item_id: m.item.id,
        provider_pem: m.item.provider_pem.clone(),
        sku: m.item.sku.clone(),
        resource_type: m.item.resource_type.clone(),
        resource_uuid: m.item.resource_uuid.clone(),
        attributes: m.item.attributes.clone(),
        consumer: terms.consumer,
        project: terms.project.clone(),
        image: terms.image.clone(),
        start_ns,
        end_ns,
        price_per_hour: m.offer.price_per_hour,
        total_price: m.price(),
        phase: Phase::Offered,
        phase_since_ns: now,
        reason: None,
        reclaim: None,
        expires_at_ns: terms.expires_at_ns,
        lessee_key: None,
        consumer_meta: None,
        procurement_meta: Some(Vec::new()),
        created_at_ns: now,
        updated_at_ns: now,
    };
    store::put_execution(&execution);
    store::book(
        execution.item_id,
        Booking {
            start_ns,
            end_ns,
            execution_id: execution.id,
        },
    );
    audit::record(
        now,
        &Actor::Consumer(terms.consumer),
        Change {
            entity: Entity::Execution(execution.id),
            from: "",
            to: Phase::Offered.name(),
            why,
            consumer: Some(terms.consumer),
            provider_pem: &execution.provider_pem,
        },
    );
    execution
}
