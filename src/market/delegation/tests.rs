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
    assert_eq!(get(&rt, &key_input()).unwrap().seq, 2);
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
    assert_eq!(get(&rt, &key_input()).unwrap().seq, 0);
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
    assert_eq!(get(&rt, &key_input()).unwrap().seq, 0);
    // Counters and Unix seconds (what `mkt` sends) are fine, up to a day ahead.
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    delegate(&rt, signed(&SECRET, &canister, alice(), true, clock)).unwrap();
    delegate(&rt, signed(&SECRET, &canister, alice(), true, bound)).unwrap();
    // Past the clock, the bound follows the last accepted number.
    let next = bound + signing::MAX_SEQ_LEAD;
    delegate(&rt, signed(&SECRET, &canister, alice(), false, next)).unwrap();
    assert_eq!(get(&rt, &key_input()).unwrap().seq, next);
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
    assert!(!store::is_delegate(&provider, &alice(), rt.time()));
    let bob = Principal::from_slice(&[2; 29]);
    assert_eq!(
        delegate(&rt, signed(&SECRET, &canister, bob, true, 2)),
        Err(MarketError::ProviderFrozen)
    );
    // Nothing changed: the delegation and its sequence number are as they were.
    assert_eq!(get(&rt, &key_input()).unwrap().principals, vec![alice()]);
    assert_eq!(get(&rt, &key_input()).unwrap().seq, 1);

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
    assert_eq!(get(&rt, &key_input()).unwrap().principals.len(), 2);

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
    assert_eq!(get(&rt, &new_key).unwrap().principals, vec![alice()]);
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

const HOUR_NS: u64 = 3_600 * crate::time::SECOND_NS;

fn bob() -> Principal {
    Principal::from_slice(&[2; 29])
}

#[test]
fn an_expiring_delegation_acts_before_its_expiry_and_not_from_it() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let provider = signing::provider_of(&SECRET);
    rt.caller.set(alice());
    // What a principal nobody delegated gets.
    let undelegated = acting_provider(&rt, &key_input()).map(|_| ());
    assert!(matches!(
        undelegated,
        Err(MarketError::NotAuthorized { .. })
    ));
    let at = rt.time() + HOUR_NS;
    let granted = delegate(
        &rt,
        signed_until(&SECRET, &canister, alice(), true, 1, Some(at)),
    )
    .unwrap();
    assert_eq!(granted.principals, vec![alice()]);
    assert_eq!(
        granted.expiring,
        vec![DelegateExpiry {
            principal: alice(),
            expires_at_ns: at
        }]
    );
    assert_eq!(get(&rt, &key_input()).unwrap(), granted);

    // The last nanosecond before the expiry: still a delegate, everywhere.
    rt.time.set(at - 1);
    assert!(acting_provider(&rt, &key_input()).is_ok());
    assert!(caller_acts_for(&rt, &provider.to_pem()));
    assert!(store::is_delegate(&provider, &alice(), rt.time()));

    // From the expiry on: refused exactly like a principal nobody delegated.
    rt.time.set(at);
    assert_eq!(acting_provider(&rt, &key_input()).map(|_| ()), undelegated);
    assert!(!caller_acts_for(&rt, &provider.to_pem()));
    assert!(!store::is_delegate(&provider, &alice(), rt.time()));
    let view = get(&rt, &key_input()).unwrap();
    assert!(view.principals.is_empty() && view.expiring.is_empty());
    assert_eq!(view.seq, 1);

    // Allowed again without an expiry: the expiry is gone for good.
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 2)).unwrap();
    assert_eq!(store::delegate_expiry(&provider, &alice()), None);
    rt.time.set(at + 1_000 * HOUR_NS);
    assert!(acting_provider(&rt, &key_input()).is_ok());
    let view = get(&rt, &key_input()).unwrap();
    assert_eq!(view.principals, vec![alice()]);
    assert!(view.expiring.is_empty());
}

#[test]
fn a_revocation_removes_the_expiry_too() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let provider = signing::provider_of(&SECRET);
    let at = rt.time() + HOUR_NS;
    delegate(
        &rt,
        signed_until(&SECRET, &canister, alice(), true, 1, Some(at)),
    )
    .unwrap();
    assert_eq!(store::delegate_expiry(&provider, &alice()), Some(at));
    delegate(&rt, signed(&SECRET, &canister, alice(), false, 2)).unwrap();
    assert_eq!(store::delegate_expiry(&provider, &alice()), None);
    assert!(store::delegates(&provider).is_empty());
}

#[test]
fn the_payload_without_an_expiry_is_what_it_always_was() {
    let mut old = alice().as_slice().to_vec();
    old.push(1);
    assert_eq!(payload(&alice(), true, None), old);
    let mut revoke = alice().as_slice().to_vec();
    revoke.push(0);
    assert_eq!(payload(&alice(), false, None), revoke);
    let mut expiring = old.clone();
    expiring.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 0xFF]);
    assert_eq!(
        payload(&alice(), true, Some(0x0102_0304_0506_0708)),
        expiring
    );
    // No expiring payload of a short principal reads as an open-ended one of a longer one.
    let short = Principal::from_slice(&[7; 10]);
    let expiring = payload(&short, true, Some(256));
    let longer = Principal::from_slice(&expiring[..expiring.len() - 1]);
    assert_ne!(payload(&longer, true, None), expiring);
    assert_ne!(payload(&longer, false, None), expiring);

    // A signature made the old way, over `principal ‖ allow`, is still accepted.
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let hash = signing::payload_hash(&old);
    let signature = signing::sign(&SECRET, &canister, Operation::Delegate, 1, &hash);
    let arg = DelegateArg {
        provider: key_input(),
        principal: alice(),
        allow: true,
        seq: 1,
        signature: signature.to_vec().into(),
        expires_at_ns: None,
    };
    assert_eq!(delegate(&rt, arg).unwrap().principals, vec![alice()]);

    // The expiry is signed: another one, or none, does not verify.
    let at = rt.time() + HOUR_NS;
    let mut arg = signed_until(&SECRET, &canister, bob(), true, 2, Some(at));
    arg.expires_at_ns = Some(at + 1);
    assert_eq!(
        delegate(&rt, arg.clone()),
        Err(MarketError::InvalidSignature)
    );
    arg.expires_at_ns = None;
    assert_eq!(delegate(&rt, arg), Err(MarketError::InvalidSignature));
    assert_eq!(get(&rt, &key_input()).unwrap().principals, vec![alice()]);
}

#[test]
fn an_expiry_at_or_before_now_or_on_a_revocation_is_refused_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let provider = signing::provider_of(&SECRET);
    delegate(&rt, signed(&SECRET, &canister, alice(), true, 1)).unwrap();
    let before = crate::digest::state_digest();
    let now = rt.time();
    let refused = [
        signed_until(&SECRET, &canister, bob(), true, 2, Some(now)),
        signed_until(&SECRET, &canister, bob(), true, 2, Some(now - 1)),
        signed_until(&SECRET, &canister, bob(), true, 2, Some(0)),
        signed_until(&SECRET, &canister, alice(), true, 2, Some(now)),
        signed_until(&SECRET, &canister, alice(), false, 2, Some(now + HOUR_NS)),
    ];
    for arg in refused {
        assert!(
            matches!(
                delegate(&rt, arg.clone()),
                Err(MarketError::InvalidArgument { .. })
            ),
            "{arg:?}"
        );
    }
    assert_eq!(crate::digest::state_digest(), before);
    assert_eq!(store::delegates(&provider), vec![alice()]);
    assert_eq!(store::delegate_expiry(&provider, &alice()), None);
    assert_eq!(get(&rt, &key_input()).unwrap().seq, 1);
}

#[test]
fn expired_delegates_do_not_count_toward_the_cap() {
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let provider = signing::provider_of(&SECRET);
    let at = rt.time() + HOUR_NS;
    let principal = |i: u8| Principal::from_slice(&[100, i]);
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };
    // Two of the 32 expire.
    for i in 0..MAX_DELEGATES as u8 {
        let expiry = (i < 2).then_some(at);
        let arg = signed_until(&SECRET, &canister, principal(i), true, next(), expiry);
        delegate(&rt, arg).unwrap();
    }
    let too_many = Err(MarketError::TooMany {
        what: "delegates".into(),
        max: MAX_DELEGATES as u32,
    });
    let arg = signed(&SECRET, &canister, principal(40), true, next());
    assert_eq!(delegate(&rt, arg), too_many);

    // Once they expired, a new delegate takes their room and they are dropped.
    rt.time.set(at);
    let view = delegate(&rt, signed(&SECRET, &canister, principal(40), true, next())).unwrap();
    assert_eq!(view.principals.len(), MAX_DELEGATES - 1);
    assert!(view.expiring.is_empty());
    assert_eq!(store::delegates(&provider).len(), MAX_DELEGATES - 1);
    for i in 0..2 {
        assert_eq!(store::delegate_expiry(&provider, &principal(i)), None);
    }
    delegate(&rt, signed(&SECRET, &canister, principal(41), true, next())).unwrap();
    let arg = signed(&SECRET, &canister, principal(42), true, next());
    assert_eq!(delegate(&rt, arg), too_many);
    assert_eq!(store::delegates(&provider).len(), MAX_DELEGATES);
}

#[test]
fn a_recovery_clears_expiries() {
    use crate::catalog::keys::RecoverKeyArg;
    let rt = FakeRuntime::new();
    let canister = FakeRuntime::CANISTER_ID;
    let controller = Principal::from_slice(&[3; 29]);
    rt.controllers.borrow_mut().push(controller);
    let provider = signing::provider_of(&SECRET);
    let at = rt.time() + HOUR_NS;
    delegate(
        &rt,
        signed_until(&SECRET, &canister, alice(), true, 1, Some(at)),
    )
    .unwrap();
    let new_secret = [10; 32];
    let arg = RecoverKeyArg {
        provider: key_input(),
        new_key: ProviderKeyInput::Raw(
            signing::provider_of(&new_secret).as_bytes().to_vec().into(),
        ),
    };
    rt.caller.set(controller);
    let recovered = recover(&rt, arg).unwrap();
    assert!(recovered.principals.is_empty() && recovered.expiring.is_empty());
    assert_eq!(store::delegate_expiry(&provider, &alice()), None);
    // Delegated again by the new key without an expiry: no old expiry comes back.
    delegate(&rt, signed(&new_secret, &canister, alice(), true, 2)).unwrap();
    rt.time.set(at);
    rt.caller.set(alice());
    assert!(acting_provider(&rt, &key_input()).is_ok());
}
