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
