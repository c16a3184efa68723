use super::keys::LesseeKeys;
use super::*;
use candid::Decode;
use marketplace::api::{ExecutionsListArg, LeaseBySkuArg, Phase, Role};
use std::os::unix::fs::PermissionsExt;

fn interface() -> runner::candid_text::Interface {
    let did = concat!(env!("CARGO_MANIFEST_DIR"), "/../candid/marketplace.did");
    runner::candid_text::Interface::load(std::path::Path::new(did)).unwrap()
}

#[test]
fn search_arguments_become_a_query_the_interface_takes() {
    let params = SearchOfferingsParams {
        text: Some("intel".into()),
        product_type: Some(ProductKind::Dedicated),
        currency: Some("EUR".into()),
        max_price_minor: Some(20_000),
        gpu: Some(false),
        sort: Some(Sort::PriceDesc),
        cursor: Some("c".into()),
        limit: Some(1),
        ..Default::default()
    };
    let query = params.query().unwrap();
    let filters = query.filters.clone().unwrap();
    assert_eq!(
        filters.price,
        Some(PriceFilter {
            currency: "EUR".into(),
            min_minor: None,
            max_minor: Some(20_000)
        })
    );
    assert_eq!(filters.gpu, Some(GpuFilter::Present(false)));
    assert_eq!(query.format, Some(Format::Records));
    let text = candid::IDLArgs::from_bytes(&encode(&query))
        .unwrap()
        .to_string();
    let typed = interface().encode_call("offerings_search", &text).unwrap();
    assert_eq!(Decode!(&typed, SearchQuery).unwrap(), query);
}

#[test]
fn inconsistent_filters_are_invalid_arguments() {
    let no_currency = SearchOfferingsParams {
        min_price_minor: Some(1),
        ..Default::default()
    };
    assert!(no_currency
        .query()
        .unwrap_err()
        .starts_with("InvalidArgument: "));
    let both = SearchOfferingsParams {
        gpu: Some(true),
        gpu_name: Some("rtx".into()),
        ..Default::default()
    };
    assert!(both.query().unwrap_err().starts_with("InvalidArgument: "));
}

#[test]
fn the_offerset_request_carries_every_parameter() {
    let params = RequestOffersetParams {
        image: "ubuntu-24.04".into(),
        duration_seconds: 7200,
        min_cores: Some(16),
        sku: Some("4D.large".into()),
        offers: Some(2),
        ..Default::default()
    };
    let text = candid::IDLArgs::from_bytes(&encode(&params.request()))
        .unwrap()
        .to_string();
    let typed = interface().encode_call("offerset_request", &text).unwrap();
    assert_eq!(Decode!(&typed, ResourceRequest).unwrap(), params.request());
}

#[test]
fn the_lease_tools_arguments_are_what_the_interface_takes() {
    let by_sku = leases::LeaseBySkuParams {
        sku: "4D.large".into(),
        image: "ubuntu-24.04".into(),
        duration_seconds: 3600,
        max_price_per_hour: Some(300),
        project: None,
    };
    let arg = by_sku.arg(vec![5; 32]);
    let text = candid::IDLArgs::from_bytes(&encode(&arg))
        .unwrap()
        .to_string();
    let typed = interface().encode_call("lease_by_sku", &text).unwrap();
    assert_eq!(Decode!(&typed, LeaseBySkuArg).unwrap(), arg);

    let list = leases::MyLeasesParams {
        phase: Some(PhaseOut::Waiting),
        cursor: Some(7),
        limit: Some(2),
    }
    .arg();
    assert_eq!(list.role, Role::Consumer);
    assert_eq!(list.phase, Some(Phase::Waiting));
    let text = candid::IDLArgs::from_bytes(&encode(&list))
        .unwrap()
        .to_string();
    let typed = interface().encode_call("executions_list", &text).unwrap();
    assert_eq!(Decode!(&typed, ExecutionsListArg).unwrap(), list);
}

#[test]
fn a_lease_is_extended_to_an_end_or_by_seconds_never_both() {
    use leases::{later_by, ExtendLeaseParams, NewEnd};
    let params = |new_end_ns, extend_by_seconds| ExtendLeaseParams {
        execution_id: 1,
        new_end_ns,
        extend_by_seconds,
    };
    assert_eq!(params(Some(9), None).new_end(), Ok(NewEnd::At(9)));
    assert_eq!(params(None, Some(60)).new_end(), Ok(NewEnd::By(60)));
    for wrong in [params(Some(9), Some(60)), params(None, None)] {
        assert!(wrong
            .new_end()
            .unwrap_err()
            .starts_with("InvalidArgument: "));
    }
    assert_eq!(later_by(1, 60), Ok(60_000_000_001));
    assert!(later_by(u64::MAX - 1, 1)
        .unwrap_err()
        .starts_with("InvalidArgument: "));
    assert!(later_by(0, u64::MAX)
        .unwrap_err()
        .starts_with("InvalidArgument: "));
}

#[test]
fn market_errors_name_their_variant() {
    let reply = candid::encode_one(Result::<Execution, MarketError>::Err(
        MarketError::UnknownExecution { id: 9 },
    ))
    .unwrap();
    assert_eq!(
        decode::<Execution, MarketError>("lease_end", &reply).unwrap_err(),
        "UnknownExecution { id: 9 }"
    );
    let reply = candid::encode_one(Result::<SearchPage, SearchError>::Err(
        SearchError::InvalidCursor,
    ))
    .unwrap();
    assert_eq!(search_reply(&reply).unwrap_err(), "InvalidCursor");
    let text = decode::<Execution, MarketError>("lease_end", b"DIDL").unwrap_err();
    assert!(text.starts_with("CallFailed: cannot decode"), "{text}");
}

#[tokio::test]
async fn the_lessee_key_is_made_once_owner_only_and_opens_what_is_sealed_to_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("keys");
    let keys = LesseeKeys::new(dir.clone());
    assert_eq!(keys.open(None).0, types::CredentialsState::NotSealed);
    let public = keys.public_key_or_new().await.unwrap();
    assert_eq!(keys.public_key_or_new().await.unwrap(), public, "kept");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&keys.path()), 0o600);

    let sealed = runner::lessee::seal(&public, b"ssh root@203.0.113.7").unwrap();
    let (state, credentials, error) = keys.open(Some(&sealed));
    assert_eq!(state, types::CredentialsState::Opened);
    assert_eq!(credentials.as_deref(), Some("ssh root@203.0.113.7"));
    assert_eq!(error, None);

    let other = runner::lessee::seal(&[9; 32], b"not yours").unwrap();
    let (state, credentials, error) = keys.open(Some(&other));
    assert_eq!(state, types::CredentialsState::NotOpened);
    assert_eq!(credentials, None);
    assert!(error.unwrap().contains("sealed to another key"));

    let elsewhere = LesseeKeys::new(root.path().join("none"));
    assert_eq!(
        elsewhere.open(Some(&sealed)).0,
        types::CredentialsState::NoKey
    );
}

#[test]
fn availability_arguments_are_what_the_interface_takes() {
    use availability::AvailabilityParams;
    let by_sku = AvailabilityParams {
        sku: Some("4D.large".into()),
        cursor: Some(7),
        limit: Some(20),
        ..Default::default()
    };
    let arg = by_sku.arg(1_000).unwrap();
    assert_eq!(
        (arg.from_ns, arg.to_ns),
        (1_000, 1_000 + 7 * 86_400 * 1_000_000_000)
    );
    assert_eq!((arg.after, arg.limit), (Some(7), Some(20)));
    let text = candid::IDLArgs::from_bytes(&encode(&arg))
        .unwrap()
        .to_string();
    let typed = interface().encode_call("availability", &text).unwrap();
    assert_eq!(
        Decode!(&typed, marketplace::api::AvailabilityArg).unwrap(),
        arg
    );

    let item = AvailabilityParams {
        item_id: Some(3),
        from_ns: Some(5),
        to_ns: Some(9),
        ..Default::default()
    };
    let arg = item.arg(1_000).unwrap();
    assert_eq!(
        (arg.item_id, arg.sku, arg.from_ns, arg.to_ns),
        (Some(3), None, 5, 9)
    );
    for wrong in [
        AvailabilityParams::default(),
        AvailabilityParams {
            item_id: Some(3),
            cursor: Some(1),
            ..Default::default()
        },
    ] {
        assert!(wrong.arg(0).unwrap_err().starts_with("InvalidArgument: "));
    }
}
