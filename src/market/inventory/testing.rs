//! Providers, delegates, items and bookings for the market's tests.

use super::*;
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::signing;
use crate::market::index::{self, OpenOffer};
use crate::market::store::{Booking, Meta};
use crate::market::{delegation, store};
use crate::runtime::FakeRuntime;
use candid::Principal;

/// The catalog tests' provider, so a test can publish offerings its items name.
pub const SECRET: [u8; 32] = crate::catalog::publish::testing::SECRET;
pub const OTHER_SECRET: [u8; 32] = [8; 32];

pub fn key_input(secret: &[u8; 32]) -> ProviderKeyInput {
    ProviderKeyInput::Raw(signing::provider_of(secret).as_bytes().to_vec().into())
}

pub fn pem(secret: &[u8; 32]) -> String {
    signing::provider_of(secret).to_pem()
}

/// The principal that acts for the provider of `secret`: one per provider.
pub fn delegate(secret: &[u8; 32]) -> Principal {
    Principal::from_slice(&[secret[0], 0xde, 0x1e])
}

/// Makes `delegate(secret)` the caller, delegating it first if needed.
pub fn act_for(rt: &FakeRuntime, secret: &[u8; 32]) {
    let provider = signing::provider_of(secret);
    let principal = delegate(secret);
    if !store::is_delegate(&provider, &principal, rt.time.get()) {
        let seq = store::delegation_seq(&provider) + 1;
        let arg = delegation::signed(secret, &FakeRuntime::CANISTER_ID, principal, true, seq);
        delegation::delegate(rt, arg).unwrap();
    }
    rt.caller.set(principal);
}

pub fn input(uuid: &str, sku: &str) -> ItemInput {
    ItemInput {
        resource_type: "ironic_node".into(),
        resource_uuid: uuid.into(),
        sku: sku.into(),
        attributes: Attributes {
            cores: 8,
            memory_mb: 32_768,
            storage_gb: 500,
            resource_class: "baremetal.large".into(),
            ..Attributes::default()
        },
        offering_key: None,
    }
}

/// Registers one item of the provider of `secret`, acting for it.
pub fn register_item(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str, sku: &str) -> Item {
    act_for(rt, secret);
    let arg = InventoryRegisterArg {
        provider: key_input(secret),
        items: vec![input(uuid, sku)],
    };
    register(rt, arg).unwrap().remove(0)
}

/// An execution in `phase` booked on the item, as offersets and leases make them.
pub fn booked_execution(
    item: &Item,
    offer_id: u64,
    start_ns: u64,
    end_ns: u64,
    phase: Phase,
) -> Execution {
    let execution = Execution {
        id: store::next_execution_id(),
        offerset_id: None,
        offer_id,
        item_id: item.id,
        provider_pem: item.provider_pem.clone(),
        sku: item.sku.clone(),
        resource_type: item.resource_type.clone(),
        resource_uuid: item.resource_uuid.clone(),
        attributes: item.attributes.clone(),
        consumer: Principal::from_slice(&[42; 29]),
        project: "project".into(),
        image: "ubuntu-24.04".into(),
        start_ns,
        end_ns,
        price_per_hour: 100,
        total_price: 100,
        phase,
        phase_since_ns: start_ns,
        reason: None,
        reclaim: None,
        expires_at_ns: end_ns,
        lessee_key: None,
        consumer_meta: None,
        procurement_meta: None,
        created_at_ns: start_ns,
        updated_at_ns: start_ns,
    };
    store::put_execution(&execution);
    let booking = Booking {
        start_ns,
        end_ns,
        execution_id: execution.id,
    };
    store::book(item.id, booking);
    execution
}

pub fn last_audit() -> AuditEntry {
    audit::entry(audit::len()).unwrap()
}

/// Everything a refused call must leave as it was.
#[derive(Debug, PartialEq)]
pub struct State {
    items: Vec<Item>,
    offers: Vec<Offer>,
    executions: Vec<Execution>,
    bookings: Vec<Vec<Booking>>,
    index: Vec<OpenOffer>,
    audit: u64,
    tasks: u64,
    meta: Meta,
}

pub fn state() -> State {
    let (items, _) = store::items_after(0, |_| true, usize::MAX, usize::MAX);
    let mut executions = Vec::new();
    store::for_each_execution(|execution| executions.push(execution));
    let mut index = Vec::new();
    index::for_each_cheapest(|open| {
        index.push(open.clone());
        true
    });
    State {
        bookings: items.iter().map(|i| store::item_bookings(i.id)).collect(),
        items,
        offers: store::offers_after(0, |_| true, usize::MAX, usize::MAX).0,
        executions,
        index,
        audit: audit::len(),
        tasks: crate::queue::queue_len(),
        meta: store::meta(),
    }
}
