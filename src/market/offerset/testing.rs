//! Fixtures for the market's tests: a provider with delegated principal, consumers, items,
//! offers, and a snapshot of everything a refused call must leave unchanged.

use super::super::{delegation, index, inventory, offers};
use super::*;
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::signing;
use crate::runtime::FakeRuntime;

pub const SECRET: [u8; 32] = [7; 32];
pub const HOUR: u64 = crate::time::HOUR_NS;
pub const MINUTE: u64 = 60 * SECOND_NS;

pub fn provider() -> Principal {
    Principal::from_slice(&[2; 29])
}

pub fn alice() -> Principal {
    Principal::from_slice(&[1; 29])
}

pub fn bob() -> Principal {
    Principal::from_slice(&[3; 29])
}

pub fn admin() -> Principal {
    Principal::from_slice(&[4; 29])
}

pub fn key_input() -> ProviderKeyInput {
    ProviderKeyInput::Raw(signing::provider_of(&SECRET).as_bytes().to_vec().into())
}

/// A runtime whose `provider()` acts for the provider, `admin()` is a controller and the
/// caller is `alice()`.
pub fn market() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(admin());
    let arg = delegation::signed(&SECRET, &FakeRuntime::CANISTER_ID, provider(), true, 1);
    delegation::delegate(&rt, arg).unwrap();
    rt.caller.set(alice());
    rt
}

/// Runs `f` as `who`, then restores the caller.
pub fn calling<R>(rt: &FakeRuntime, who: Principal, f: impl FnOnce() -> R) -> R {
    let before = rt.caller.get();
    rt.caller.set(who);
    let result = f();
    rt.caller.set(before);
    result
}

pub fn item(rt: &FakeRuntime, uuid: &str, sku: &str, cores: u32) -> Item {
    let input = ItemInput {
        resource_type: "ironic_node".into(),
        resource_uuid: uuid.into(),
        sku: sku.into(),
        attributes: Attributes {
            cores,
            memory_mb: 1024 * u64::from(cores),
            resource_class: "baremetal".into(),
            ..Attributes::default()
        },
        offering_key: None,
    };
    let arg = InventoryRegisterArg {
        provider: key_input(),
        items: vec![input],
    };
    calling(rt, provider(), || inventory::register(rt, arg)).unwrap()[0].clone()
}

pub fn offer(rt: &FakeRuntime, item_id: u64, start_ns: u64, end_ns: u64, price: u64) -> Offer {
    offer_with(rt, item_id, (start_ns, end_ns), price, None)
}

/// An offer of `window` with `terms`.
pub fn offer_with(
    rt: &FakeRuntime,
    item_id: u64,
    (start_ns, end_ns): (u64, u64),
    price: u64,
    terms: Option<OfferTerms>,
) -> Offer {
    let arg = OfferCreateArg {
        terms,
        provider: key_input(),
        item_id,
        start_ns,
        end_ns,
        price_per_hour: price,
        properties: vec![Property {
            key: "region".into(),
            value: "moc".into(),
        }],
    };
    calling(rt, provider(), || offers::create(rt, arg)).unwrap()
}

/// An item of "2C.small" with 8 cores offered for a day from now at `price`.
pub fn offered(rt: &FakeRuntime, uuid: &str, price: u64) -> (Item, Offer) {
    let item = item(rt, uuid, "2C.small", 8);
    let now = rt.time.get();
    let offer = offer(rt, item.id, now, now + 24 * HOUR, price);
    (item, offer)
}

/// An hour from now, as soon as possible.
pub fn ask(duration_seconds: u64) -> ResourceRequest {
    ResourceRequest {
        duration_seconds,
        image: "ubuntu-24.04".into(),
        ..ResourceRequest::default()
    }
}

/// Advances the clock to `at` and runs the queue's due tasks.
pub fn run_at(rt: &FakeRuntime, at: u64) {
    rt.time.set(at);
    crate::tasks::run_due(rt, || true);
}

/// Everything a refused call must leave as it was.
pub fn snapshot() -> String {
    let meta = store::meta();
    let mut executions = Vec::new();
    store::for_each_execution(|e| executions.push(e));
    let mut items = Vec::new();
    store::for_each_item(|item| items.push(item));
    let mut all_offers = Vec::new();
    store::for_each_offer(|offer| all_offers.push(offer));
    let offersets: Vec<_> = (1..meta.next_offerset).map(store::offerset).collect();
    let bookings: Vec<_> = items.iter().map(|i| store::item_bookings(i.id)).collect();
    let usage: Vec<_> = [alice(), bob()].iter().map(store::usage).collect();
    format!(
        "{:?}",
        (
            audit::len(),
            meta,
            executions,
            items,
            all_offers,
            offersets,
            bookings,
            usage,
            queue::queue_len(),
            index::len()
        )
    )
}

/// The phases an execution went through, from its audit entries.
pub fn phases(execution_id: u64) -> Vec<String> {
    (1..=audit::len())
        .filter_map(audit::entry)
        .filter(|e| e.entity == Entity::Execution(execution_id) && e.from != e.to)
        .map(|e| e.to)
        .collect()
}
