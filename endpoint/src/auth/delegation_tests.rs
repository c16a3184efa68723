//! Delegation chains: signed by ic-agent's identities and DelegatedIdentity, accepted; then
//! each way the IC refuses a chain (expiry, targets, length, cycles, bad links).

use super::tests::*;
use super::*;
use ic_agent::identity::{BasicIdentity, DelegatedIdentity, Delegation, SignedDelegation};
use ic_agent::Identity;

fn delegate(
    from: &dyn Identity,
    to: &dyn Identity,
    expiration: u64,
    targets: Option<Vec<Principal>>,
) -> SignedDelegation {
    let delegation = Delegation {
        pubkey: to.public_key().expect("has a key"),
        expiration,
        targets,
        permissions: None,
    };
    let signature = from
        .sign_delegation(&delegation)
        .expect("signs")
        .signature
        .expect("a signature");
    SignedDelegation {
        delegation,
        signature,
    }
}

/// `root` → keys 10, 11, … → a session key; `targets[i]` restricts delegation `i`.
fn delegated(
    root: &dyn Identity,
    links: usize,
    targets: &[Option<Vec<Principal>>],
    expiration: u64,
) -> DelegatedIdentity {
    let keys: Vec<BasicIdentity> = (0..links).map(|i| ed25519(10 + i as u8)).collect();
    let mut chain = Vec::new();
    let mut from = root;
    for (i, key) in keys.iter().enumerate() {
        chain.push(delegate(
            from,
            key,
            expiration,
            targets.get(i).cloned().flatten(),
        ));
        from = key;
    }
    let session = Box::new(ed25519(10 + links as u8 - 1));
    DelegatedIdentity::new_unchecked(root.public_key().expect("has a key"), session, chain)
}

#[test]
fn accepts_delegations_and_intersects_their_targets() {
    let root = ed25519(1);
    let both = vec![canister(1), canister(2)];
    let later = vec![canister(2), canister(1), canister(3)];
    let id = delegated(&root, 2, &[Some(both), Some(later)], NOW + MINUTE);
    for kind in [Kind::Call, Kind::Query, Kind::ReadState] {
        let auth = authenticate(&signed(&id, kind, NOW + MINUTE), kind, NOW)
            .unwrap_or_else(|r| panic!("{kind:?}: {}", r.message));
        assert_eq!(auth.sender, root.sender().unwrap());
        assert_eq!(auth.targets, Some(vec![canister(1), canister(2)]));
    }
    let secp = identities().remove(1);
    let unrestricted = delegated(secp.as_ref(), 1, &[], NOW + MINUTE);
    let auth = authenticate(
        &signed(&unrestricted, Kind::Call, NOW + MINUTE),
        Kind::Call,
        NOW,
    )
    .expect("accepted");
    assert_eq!(auth.targets, None);
}

#[test]
fn refuses_calls_outside_the_delegation_targets() {
    let root = ed25519(1);
    let id = delegated(
        &root,
        2,
        &[
            Some(vec![canister(1), canister(2)]),
            Some(vec![canister(2)]),
        ],
        NOW + MINUTE,
    );
    for kind in [Kind::Call, Kind::Query] {
        refused(
            authenticate(&signed(&id, kind, NOW + MINUTE), kind, NOW),
            &format!(
                "Canister '{}' is not one of the delegation targets.",
                canister(1)
            ),
        );
    }
    // read_state has no canister of its own: the server checks its paths against the targets.
    let auth = authenticate(
        &signed(&id, Kind::ReadState, NOW + MINUTE),
        Kind::ReadState,
        NOW,
    )
    .expect("accepted");
    assert_eq!(auth.targets, Some(vec![canister(2)]));
}

#[test]
fn refuses_expired_delegations() {
    let id = delegated(&ed25519(1), 1, &[], NOW - 1);
    refused(
        authenticate(&signed(&id, Kind::Call, NOW + MINUTE), Kind::Call, NOW),
        "Invalid delegation expiry: Specified sender delegation has expired",
    );
}

#[test]
fn refuses_chains_longer_than_twenty() {
    let root = ed25519(1);
    let ok = delegated(&root, 20, &[], NOW + MINUTE);
    assert!(authenticate(&signed(&ok, Kind::Query, NOW + MINUTE), Kind::Query, NOW).is_ok());
    let long = delegated(&root, 21, &[], NOW + MINUTE);
    refused(authenticate(&signed(&long, Kind::Query, NOW + MINUTE), Kind::Query, NOW), "Invalid delegation: Chain of delegations is too long: got 21 delegations, but at most 20 are allowed.");
}

#[test]
fn refuses_broken_cyclic_and_overwide_chains() {
    let root = ed25519(1);
    let id = delegated(&root, 2, &[], NOW + MINUTE);
    let c = content(Kind::Call, root.sender().unwrap(), NOW + MINUTE);
    // A link signed by a key other than the previous one.
    let mut e = envelope(&id, &c);
    let chain = e.sender_delegation.as_mut().unwrap();
    chain[1] = delegate(&ed25519(99), &ed25519(11), NOW + MINUTE, None);
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "Invalid delegation: Invalid basic signature: ",
    );
    // A key delegating back to the root.
    let mut e = envelope(&id, &c);
    e.sender_delegation.as_mut().unwrap()[1] = delegate(&ed25519(10), &root, NOW + MINUTE, None);
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "contains at least one cycle",
    );
    // More than 1000 targets in one delegation.
    let many: Vec<Principal> = (0..1001u16)
        .map(|i| Principal::from_slice(&i.to_be_bytes()))
        .collect();
    let wide = delegated(&root, 1, &[Some(many)], NOW + MINUTE);
    refused(
        authenticate(&signed(&wide, Kind::Query, NOW + MINUTE), Kind::Query, NOW),
        "expected at most 1000 targets per delegation, but got 1001",
    );
}

#[test]
fn refuses_calls_under_a_queries_only_delegation() {
    let root = ed25519(1);
    let session = ed25519(10);
    let delegation = Delegation {
        pubkey: session.public_key().unwrap(),
        expiration: NOW + MINUTE,
        targets: None,
        permissions: Some(DelegationPermissions::Queries),
    };
    let signature = root
        .sign_delegation(&delegation)
        .unwrap()
        .signature
        .unwrap();
    let chain = vec![SignedDelegation {
        delegation,
        signature,
    }];
    let id = DelegatedIdentity::new_unchecked(root.public_key().unwrap(), Box::new(session), chain);
    assert!(authenticate(&signed(&id, Kind::Query, NOW + MINUTE), Kind::Query, NOW).is_ok());
    refused(
        authenticate(&signed(&id, Kind::Call, NOW + MINUTE), Kind::Call, NOW),
        "allows only queries",
    );
}
