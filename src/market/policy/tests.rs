use super::*;

#[test]
fn defaults_are_valid_and_updates_merge() {
    assert_eq!(validate(&defaults()), Ok(()));
    assert_eq!(get(), defaults());
    let set_to = set(PoliciesUpdate {
        allowed_images: Some(vec!["ubuntu-24.04".into()]),
        offer_ttl_seconds: Some(60),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    assert_eq!(set_to.offer_ttl_seconds, 60);
    assert_eq!(set_to.max_lease_seconds, 21 * DAY);
    assert_eq!(get(), set_to);
    assert!(image_allowed(&set_to, "ubuntu-24.04"));
    assert!(!image_allowed(&set_to, "debian"));
    assert!(image_allowed(&defaults(), "anything"));
}

#[test]
fn invalid_updates_change_nothing() {
    for update in [
        PoliciesUpdate {
            max_lease_seconds: Some(1),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            max_open_offersets_per_principal: Some(0),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            allowed_images: Some(vec![String::new()]),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            max_offers_per_offerset: Some(1000),
            ..PoliciesUpdate::default()
        },
    ] {
        assert!(matches!(
            set(update),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    assert_eq!(get(), defaults());
}

/// `Policies` as the previous version stored it (inside `store::Meta`), before the hold caps.
#[derive(candid::CandidType)]
struct PreviousPolicies {
    allowed_images: Vec<String>,
    max_lease_seconds: u64,
    max_open_offersets_per_principal: u32,
    max_active_leases_per_principal: u32,
    offer_ttl_seconds: u64,
    max_offers_per_offerset: u32,
    stuck_timeout_seconds: u64,
    rebuild_seconds: u64,
}

#[derive(candid::CandidType)]
struct PreviousMeta {
    next_item: u64,
    next_offer: u64,
    next_offerset: u64,
    next_execution: u64,
    policies: PreviousPolicies,
}

#[test]
fn the_previous_versions_stored_policies_decode_with_the_new_fields_at_their_defaults() {
    use ic_stable_structures::Storable;
    let previous = PreviousMeta {
        next_item: 7,
        next_offer: 8,
        next_offerset: 9,
        next_execution: 10,
        policies: PreviousPolicies {
            allowed_images: vec!["ubuntu-24.04".into()],
            max_lease_seconds: 3600,
            max_open_offersets_per_principal: 2,
            max_active_leases_per_principal: 3,
            offer_ttl_seconds: 60,
            max_offers_per_offerset: 4,
            stuck_timeout_seconds: 600,
            rebuild_seconds: 5,
        },
    };
    let bytes = candid::encode_one(&previous).unwrap();
    let meta = store::Meta::from_bytes(std::borrow::Cow::Owned(bytes));
    assert_eq!(meta.next_execution, 10);
    let stored = meta.policies;
    assert_eq!(stored.max_held_items_per_principal, None);
    assert_eq!(stored.consumers, None);
    let policies = effective(stored);
    assert_eq!(
        (policies.max_lease_seconds, policies.rebuild_seconds),
        (3600, 5)
    );
    assert_eq!(policies.max_held_items_per_principal, Some(20));
    assert_eq!(policies.max_held_share_per_provider_percent, Some(100));
    assert_eq!(policies.max_hold_window_seconds, Some(7 * DAY));
    assert_eq!(policies.consumers, Some(ConsumerAccess::Everyone));
    assert_eq!(validate(&policies), Ok(()));
}

#[test]
fn hold_policies_are_checked_and_a_refused_update_changes_nothing() {
    let bob = candid::Principal::from_slice(&[3; 29]);
    for update in [
        PoliciesUpdate {
            max_held_items_per_principal: Some(0),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            max_held_share_per_provider_percent: Some(101),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            max_hold_window_seconds: Some(59),
            ..PoliciesUpdate::default()
        },
        PoliciesUpdate {
            allow_consumers: Some(vec![bob]),
            disallow_consumers: Some(vec![bob]),
            ..PoliciesUpdate::default()
        },
    ] {
        assert!(matches!(
            set(update),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    let many = PoliciesUpdate {
        allow_consumers: Some(vec![bob; MAX_LISTED_PER_CALL + 1]),
        ..PoliciesUpdate::default()
    };
    assert!(matches!(set(many), Err(MarketError::TooMany { .. })));
    assert_eq!(get(), defaults());
    assert!(!store::consumer_allowed(&bob));
}
