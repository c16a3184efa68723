use super::*;
use crate::runtime::FakeRuntime;

const SECRET: [u8; 32] = [9; 32];

fn alice() -> Principal {
    Principal::from_slice(&[1; 29])
}

fn key_input() -> ProviderKeyInput {
    ProviderKeyInput::Raw(signing::provider_of(&SECRET).as_bytes().to_vec().into())
}

#[test]
fn a_signed_delegation_lets_the_principal_act_until_revoked() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    rt.caller.set(alice());
    assert!(matches!(
        acting_provider(&rt, &key_input()),
        Err(MarketError::NotAuthorized { .. })
    ));
    let granted = delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    assert_eq!(granted.principals, vec![alice()]);
    let (provider, actor) = acting_provider(&rt, &key_input()).unwrap();
    assert_eq!(provider, signing::provider_of(&SECRET));
    assert!(matches!(actor, Actor::Provider { principal, .. } if principal == alice()));
    assert!(caller_acts_for(&rt, &provider.to_pem()));
    // Offersets have no provider: an empty PEM is nobody's, not a trap.
    assert!(!caller_acts_for(&rt, ""));

    // Replays and reused sequence numbers are refused.
    assert_eq!(
        delegate(&rt, signed(&SECRET, &canister, alice(), false, 1)),
        Err(MarketError::StaleSequence { last: 1 })
    );
    delegate(&rt, signed(&SECRET, &canister, alice(), false, 2)).unwrap();
    assert!(acting_provider(&rt, &key_input()).is_err());
    assert_eq!(get(&key_input()).unwrap().seq, 2);
}

#[test]
fn bad_signatures_and_other_canisters_are_refused() {
    let rt = FakeRuntime::new();
    let other = Principal::from_slice(&[5; 10]);
    assert_eq!(
        delegate(&rt, signed(&SECRET, &other, alice(), true, 1)),
        Err(MarketError::InvalidSignature)
    );
    let mut arg = signed(&SECRET, &FakeRuntime::CANISTER_ID, alice(), true, 1);
    arg.allow = false;
    assert_eq!(delegate(&rt, arg), Err(MarketError::InvalidSignature));
    let mut arg = signed(&SECRET, &FakeRuntime::CANISTER_ID, alice(), true, 1);
    arg.signature = vec![0; 3].into();
    assert!(matches!(
        delegate(&rt, arg),
        Err(MarketError::InvalidArgument { .. })
    ));
    let anonymous = signed(
        &SECRET,
        &FakeRuntime::CANISTER_ID,
        Principal::anonymous(),
        true,
        1,
    );
    assert!(matches!(
        delegate(&rt, anonymous),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(get(&key_input()).unwrap().seq, 0);
}

#[test]
fn a_sequence_number_far_ahead_is_refused_so_a_stolen_key_cannot_lock_its_owner_out() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let clock = rt.time() / crate::time::SECOND_NS;
    let bound = clock + signing::MAX_SEQ_LEAD;
    // What a thief would send: refused, and nothing changes.
    for seq in [u64::MAX, bound + 1] {
        assert!(matches!(
            delegate(&rt, signed(&SECRET, &canister, alice(), true, seq)),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    assert_eq!(get(&key_input()).unwrap().seq, 0);
    // Counters and Unix seconds (what `mkt` sends) are fine, up to a day ahead.
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    delegate(&rt, signed(&SECRET, &canister, alice(), true, clock)).unwrap();
    delegate(&rt, signed(&SECRET, &canister, alice(), true, bound)).unwrap();
    // Past the clock, the bound follows the last accepted number.
    let next = bound + signing::MAX_SEQ_LEAD;
    delegate(&rt, signed(&SECRET, &canister, alice(), false, next)).unwrap();
    assert_eq!(get(&key_input()).unwrap().seq, next);
}

#[test]
fn a_frozen_providers_delegations_and_delegates_are_refused_until_unfrozen() {
    use crate::catalog::keys::{self, ProviderFreezeArg};
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let controller = Principal::from_slice(&[3; 29]);
    rt.controllers.borrow_mut().push(controller);
    rt.caller.set(alice());
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    let set_frozen = |frozen| {
        rt.caller.set(controller);
        let arg = ProviderFreezeArg {
            provider: key_input(),
            frozen,
        };
        keys::freeze(&rt, arg).unwrap();
        rt.caller.set(alice());
    };
    set_frozen(true);
    let provider = signing::provider_of(&SECRET);
    assert_eq!(
        acting_provider(&rt, &key_input()).map(|_| ()),
        Err(MarketError::ProviderFrozen)
    );
    assert!(!caller_acts_for(&rt, &provider.to_pem()));
    assert!(!store::is_delegate(&provider, &alice()));
    let bob = Principal::from_slice(&[2; 29]);
    assert_eq!(
        delegate(&rt, signed(&SECRET, &canister, bob, true, 2)),
        Err(MarketError::ProviderFrozen)
    );
    // Nothing changed: the delegation and its sequence number are as they were.
    assert_eq!(get(&key_input()).unwrap().principals, vec![alice()]);
    assert_eq!(get(&key_input()).unwrap().seq, 1);

    set_frozen(false);
    assert!(acting_provider(&rt, &key_input()).is_ok());
    delegate(&rt, signed(&SECRET, &canister, bob, true, 2)).unwrap();
}

#[test]
fn a_recovery_revokes_every_delegation_and_the_new_key_delegates_for_the_account() {
    use crate::catalog::keys::RecoverKeyArg;
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let controller = Principal::from_slice(&[3; 29]);
    rt.controllers.borrow_mut().push(controller);
    let thief = Principal::from_slice(&[6; 29]);
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    delegate(&rt, signed(&SECRET, &canister, thief, true, 2)).unwrap();
    let new_secret = [10; 32];
    let new_key =
        ProviderKeyInput::Raw(signing::provider_of(&new_secret).as_bytes().to_vec().into());
    let arg = RecoverKeyArg {
        provider: key_input(),
        new_key: new_key.clone(),
    };
    rt.caller.set(thief);
    assert!(matches!(
        recover(&rt, arg.clone()),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(get(&key_input()).unwrap().principals.len(), 2);

    rt.caller.set(controller);
    let recovered = recover(&rt, arg).unwrap();
    assert!(recovered.principals.is_empty());
    assert_eq!(
        recovered.provider_pem,
        signing::provider_of(&SECRET).to_pem()
    );
    rt.caller.set(thief);
    assert!(acting_provider(&rt, &key_input()).is_err());
    // The old key is retired; the new one continues the account's delegation sequence.
    assert!(matches!(
        delegate(&rt, signed(&SECRET, &canister, thief, true, 3)),
        Err(MarketError::KeyRotated { .. })
    ));
    delegate(&rt, signed(&new_secret, &canister, alice(), true, 3)).unwrap();
    rt.caller.set(alice());
    // Named by either key, the provider is the account.
    let (provider, _) = acting_provider(&rt, &new_key).unwrap();
    assert_eq!(provider, signing::provider_of(&SECRET));
    assert_eq!(get(&new_key).unwrap().principals, vec![alice()]);
}

#[test]
fn a_key_that_delegated_for_itself_cannot_become_another_providers() {
    use crate::catalog::keys::{RecoverKeyArg, RotateKeyArg};
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let controller = Principal::from_slice(&[3; 29]);
    rt.controllers.borrow_mut().push(controller);
    // The victim key only delegated (it never published a catalog).
    let victim = [12; 32];
    delegate(&rt, signed(&victim, &canister, alice(), true, 1)).unwrap();
    let victim_key =
        ProviderKeyInput::Raw(signing::provider_of(&victim).as_bytes().to_vec().into());
    let payload = signing::provider_of(&victim);
    let hash = signing::payload_hash(payload.as_bytes());
    let arg = RotateKeyArg {
        provider: key_input(),
        new_key: victim_key.clone(),
        seq: 1,
        signature: signing::sign(&SECRET, &canister, Operation::RotateKey, 1, &hash)
            .to_vec()
            .into(),
    };
    assert!(matches!(
        rotate(&rt, arg),
        Err(CatalogError::InvalidKey { .. })
    ));
    rt.caller.set(controller);
    let arg = RecoverKeyArg {
        provider: key_input(),
        new_key: victim_key,
    };
    assert!(matches!(
        recover(&rt, arg),
        Err(MarketError::InvalidKey { .. })
    ));
    assert_eq!(
        crate::catalog::keys::account_of(&signing::provider_of(&victim)),
        signing::provider_of(&victim)
    );
}
