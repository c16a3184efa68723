//! Provider keys through the wasm (issue 12, item 6, finding M2): a thief holding a provider's
//! key publishes and delegates itself; the controllers freeze the provider, and every signed
//! change and every delegate's action is refused with `ProviderFrozen`, changing nothing, until
//! they unfreeze it.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

fn thief() -> Principal {
    Principal::self_authenticating(b"the thief")
}

#[test]
fn controllers_freeze_a_stolen_key_and_its_delegates_until_they_unfreeze_it() {
    let (mut m, host) = Market::on_host();
    let controller = m.controller();
    // The thief holds the owner's key: it publishes and delegates itself.
    let mut stolen = Provider::new(7);
    stolen.seq = m.provider.seq;
    m.canister
        .replace(&mut stolen, FIXTURE)
        .expect("the thief publishes");
    let instructions_publish = host.borrow().last_instructions();
    m.canister
        .delegate(&mut stolen, thief(), true)
        .expect("the thief delegates itself");
    let item = Market::item_input("4D.large", "thief-item-1", attributes(4, 16, 100, 0));
    let register = m.register_arg(vec![item.clone()]);
    m.canister
        .inventory_register(thief(), register.clone())
        .expect("the thief registers an item");

    // Only controllers freeze: the provider's own delegate cannot, nor a stranger.
    for caller in [m.delegate, thief(), stranger()] {
        assert!(matches!(
            m.canister.provider_freeze(caller, m.provider.key(), true),
            Err(CatalogError::NotAuthorized { .. })
        ));
    }
    m.canister
        .provider_freeze(controller, m.provider.key(), true)
        .expect("the controller freezes the provider");

    // Frozen: the key's signed changes, its delegations and its delegates' actions are refused.
    let before = m.canister.digest();
    let mut attempt = Provider::new(7);
    attempt.seq = stolen.seq;
    assert_eq!(
        m.canister.replace(&mut attempt, FIXTURE),
        Err(CatalogError::ProviderFrozen)
    );
    let instructions_refused = host.borrow().last_instructions();
    let mut attempt = Provider::new(7);
    attempt.seq = stolen.seq;
    assert_eq!(
        m.canister
            .delegate(&mut attempt, stranger(), true)
            .map(|_| ()),
        Err(MarketError::ProviderFrozen)
    );
    for delegate in [thief(), m.delegate] {
        assert_eq!(
            m.canister
                .inventory_register(delegate, register.clone())
                .map(|_| ()),
            Err(MarketError::ProviderFrozen)
        );
    }
    assert_eq!(m.canister.digest(), before, "refusals change nothing");

    // Unfrozen (say, after a recovery), the key and its delegates act again.
    m.canister
        .provider_freeze(controller, m.provider.key(), false)
        .expect("the controller unfreezes the provider");
    m.canister
        .upsert(&mut stolen, FIXTURE)
        .expect("the key publishes again");
    let instructions_after = host.borrow().last_instructions();
    m.canister
        .inventory_register(m.delegate, m.register_arg(vec![item]))
        .expect("a delegate acts again");
    println!(
        "provider_keys: catalog_replace instructions={instructions_publish}, \
         refused_while_frozen={instructions_refused}, upsert_after_unfreeze={instructions_after}"
    );
}

#[test]
fn m2_a_thief_with_the_owners_key_is_frozen_then_recovered_away() {
    let (mut m, host) = Market::on_host();
    let controller = m.controller();
    let mut stolen = Provider::new(7);
    stolen.seq = m.provider.seq;
    m.canister
        .replace(&mut stolen, FIXTURE)
        .expect("the thief publishes");
    m.canister
        .delegate(&mut stolen, thief(), true)
        .expect("the thief delegates itself");

    m.canister
        .provider_freeze(controller, m.provider.key(), true)
        .expect("freeze");
    let mut owner_new = Provider::new(21);
    // Only controllers recover.
    for caller in [thief(), m.delegate, stranger()] {
        assert!(matches!(
            m.canister
                .provider_recover(caller, m.provider.key(), owner_new.key()),
            Err(MarketError::NotAuthorized { .. })
        ));
    }
    let recovered = m
        .canister
        .provider_recover(controller, m.provider.key(), owner_new.key())
        .expect("the controller recovers to the owner's new key");
    assert!(recovered.principals.is_empty(), "every delegation revoked");
    assert_eq!(recovered.provider_pem, m.provider.pem());
    // Key states live in stable memory: what follows holds after an upgrade too.
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");

    // The thief's key and its delegation are refused, and change nothing.
    let before = m.canister.digest();
    let successor = Err(CatalogError::KeyRotated {
        successor_pem: owner_new.pem(),
    });
    assert_eq!(m.canister.upsert(&mut stolen, FIXTURE), successor);
    assert!(matches!(
        m.canister.delegate(&mut stolen, thief(), true),
        Err(MarketError::KeyRotated { .. })
    ));
    let item = Market::item_input("4D.large", "owner-item-1", attributes(4, 16, 100, 0));
    assert!(matches!(
        m.canister
            .inventory_register(thief(), m.register_arg(vec![item.clone()])),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(m.canister.digest(), before, "refusals change nothing");

    // The owner's new key publishes (continuing the account's sequence) and delegates.
    owner_new.seq = stolen.seq;
    let receipt = m
        .canister
        .upsert(&mut owner_new, FIXTURE)
        .expect("the owner's new key publishes");
    let instructions_new_key = host.borrow().last_instructions();
    assert_eq!(receipt.provider_pem, m.provider.pem(), "under the account");
    let owner_delegate = Principal::self_authenticating(b"the owner's new delegate");
    owner_new.seq = m
        .canister
        .market_delegation(owner_new.key())
        .expect("delegation")
        .seq;
    m.canister
        .delegate(&mut owner_new, owner_delegate, true)
        .expect("the owner's new key delegates");
    m.canister
        .inventory_register(owner_delegate, m.register_arg(vec![item]))
        .expect("the owner's delegate acts");
    println!(
        "provider_keys: catalog_upsert by a recovered key instructions={instructions_new_key}"
    );
}

#[test]
fn a_provider_rotates_its_key_and_the_old_one_is_refused() {
    let mut m = Market::new();
    let mut owner = Provider::new(7);
    owner.seq = m.provider.seq;
    m.canister.replace(&mut owner, FIXTURE).expect("publish");
    let mut next = Provider::new(22);
    m.canister
        .rotate_key(&mut owner, &mut next)
        .expect("the old key signs the rotation");
    assert!(matches!(
        m.canister.upsert(&mut owner, FIXTURE),
        Err(CatalogError::KeyRotated { .. })
    ));
    let receipt = m.canister.upsert(&mut next, FIXTURE).expect("the new key");
    assert_eq!(receipt.provider_pem, owner.pem());
    // The delegate of the account still acts, named by either key.
    let item = Market::item_input("4D.large", "rotated-item-1", attributes(4, 16, 100, 0));
    let arg = InventoryRegisterArg {
        provider: next.key(),
        items: vec![item],
    };
    m.canister
        .inventory_register(m.delegate, arg)
        .expect("the account's delegate acts under the new key");
}
