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
