//! Delegations that expire, through the wasm (finding M2's rest): a provider signs that a
//! principal acts for it until a time; the principal acts until then and is refused from then on
//! like a principal nobody delegated, and the delegation view leaves it out. An expiry at or
//! before now is refused and changes nothing.

mod common;

use candid::Principal;
use common::market::*;
use common::*;
use marketplace::market::delegation;

fn ops() -> Principal {
    Principal::self_authenticating(b"ops for a day")
}

fn register(m: &mut Market, uuid: &str) -> MarketResult<Vec<Item>> {
    let item = Market::item_input("4D.large", uuid, attributes(4, 16, 100, 0));
    let arg = m.register_arg(vec![item]);
    m.canister.inventory_register(ops(), arg)
}

/// `m.provider` signs (with its next sequence number) that `principal` acts for it until `at`.
fn delegate_until(m: &mut Market, principal: Principal, at: u64) -> MarketResult<Delegation> {
    m.provider.seq += 1;
    let arg = delegation::signed_until(
        &m.provider.secret,
        &m.canister.id(),
        principal,
        true,
        m.provider.seq,
        Some(at),
    );
    let result = m.canister.market_delegate(arg);
    if result.is_err() {
        m.provider.seq -= 1;
    }
    result
}

#[test]
fn a_delegation_that_expires_lets_its_principal_act_until_then_and_no_longer() {
    let mut m = Market::new();
    // What a principal nobody delegated gets.
    let undelegated = register(&mut m, "ops-item-0");
    assert!(
        matches!(undelegated, Err(MarketError::NotAuthorized { .. })),
        "{undelegated:?}"
    );

    let at = m.now() + DAY_NS;
    let view = delegate_until(&mut m, ops(), at).expect("the provider delegates for a day");
    assert!(view.principals.contains(&ops()));
    assert_eq!(
        view.expiring,
        vec![DelegateExpiry {
            principal: ops(),
            expires_at_ns: at
        }]
    );
    assert_eq!(m.canister.market_delegation(m.provider.key()), Ok(view));
    register(&mut m, "ops-item-1").expect("a delegate acts before the expiry");

    // A second before the expiry it still acts; from the expiry on it is refused like a
    // principal nobody delegated, and the refusal changes nothing.
    m.advance_to(at - SECOND_NS);
    register(&mut m, "ops-item-2").expect("a delegate acts a second before the expiry");
    m.advance_to(at);
    let before = m.canister.digest();
    assert_eq!(register(&mut m, "ops-item-3"), undelegated);
    assert_eq!(m.canister.digest(), before);
    let view = m.canister.market_delegation(m.provider.key()).unwrap();
    assert!(!view.principals.contains(&ops()), "{view:?}");
    assert!(view.expiring.is_empty());

    // An expiry at or before now is refused, and changes nothing.
    let before = m.canister.digest();
    let now = m.now();
    for past in [now - 1, now - DAY_NS, 1] {
        let refused = delegate_until(&mut m, ops(), past);
        assert!(
            matches!(refused, Err(MarketError::InvalidArgument { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(m.canister.digest(), before);

    // Delegated again without an expiry, it acts for good.
    let provider = &mut m.provider;
    m.canister
        .delegate(provider, ops(), true)
        .expect("delegated until revoked");
    m.advance(30 * DAY_NS);
    register(&mut m, "ops-item-3").expect("no expiry: the delegate acts");
    let view = m.canister.market_delegation(m.provider.key()).unwrap();
    assert!(view.principals.contains(&ops()) && view.expiring.is_empty());
}

#[test]
fn a_recovery_drops_expiring_delegations_with_the_rest() {
    let mut m = Market::new();
    let controller = m.controller();
    let at = m.now() + DAY_NS;
    delegate_until(&mut m, ops(), at).expect("the provider delegates for a day");
    let owner_new = Provider::new(21);
    let recovered = m
        .canister
        .provider_recover(controller, m.provider.key(), owner_new.key())
        .expect("the controller recovers to a new key");
    assert!(recovered.principals.is_empty() && recovered.expiring.is_empty());
    assert!(matches!(
        register(&mut m, "ops-item-1"),
        Err(MarketError::NotAuthorized { .. })
    ));
}
