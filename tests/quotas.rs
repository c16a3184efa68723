//! Cheap rejection and quotas through the wasm: what `inspect_message` drops from ingress (and
//! the same call's typed answer when it arrives without inspection), the per-caller rate limit,
//! and the controller-only state digest they are checked against.

mod common;

use candid::Principal;
use common::market::{consumer, stranger, Market};
use common::{Canister, InitArg, MarketError};
use marketplace::methods::METHODS;
use std::time::Duration;

#[derive(candid::CandidType, candid::Deserialize, Debug, PartialEq, Eq)]
struct RegionDigest {
    id: u8,
    name: String,
    pages: u64,
    sha256: serde_bytes::ByteBuf,
}

#[derive(candid::CandidType, candid::Deserialize, Debug, PartialEq, Eq)]
struct StateDigest {
    sha256: serde_bytes::ByteBuf,
    excluded: Vec<String>,
    regions: Vec<RegionDigest>,
}

#[derive(candid::CandidType, candid::Deserialize, Debug, PartialEq, Eq)]
enum DigestError {
    NotAuthorized,
}

fn digest(canister: &mut Canister, caller: Principal) -> Result<StateDigest, DigestError> {
    let bytes = canister
        .driver
        .query(caller, "state_digest", candid::encode_args(()).unwrap())
        .expect("state_digest answers");
    candid::decode_one(&bytes).expect("state_digest reply")
}

fn rejection(result: Result<Vec<u8>, ic0_host::Reject>) -> String {
    match result {
        Ok(bytes) => panic!("accepted: {} reply bytes", bytes.len()),
        Err(reject) => reject.to_string(),
    }
}

#[test]
fn only_controllers_read_the_state_digest_and_it_follows_every_change() {
    let mut m = Market::new();
    let controller = m.controller();
    for caller in [Principal::anonymous(), stranger(), consumer("a")] {
        assert_eq!(
            digest(&mut m.canister, caller),
            Err(DigestError::NotAuthorized)
        );
    }
    let before = digest(&mut m.canister, controller).unwrap();
    assert_eq!(before.excluded, ["COUNTERS"]);
    assert_eq!(before.regions.len(), marketplace::memory::REGIONS.len());
    assert_eq!(digest(&mut m.canister, controller).unwrap(), before);
    // A refused call is counted (COUNTERS) and changes nothing else.
    let refused = m.canister.lease_end(stranger(), 999);
    assert_eq!(refused, Err(MarketError::UnknownExecution { id: 999 }));
    assert_eq!(
        digest(&mut m.canister, controller).unwrap().sha256,
        before.sha256
    );
    // An accepted one shows.
    m.register(
        "2C.small",
        "digest-1",
        common::market::attributes(2, 8, 100, 0),
    );
    let after = digest(&mut m.canister, controller).unwrap();
    assert_ne!(after.sha256, before.sha256);
    let changed: Vec<&str> = (after.regions.iter().zip(&before.regions))
        .filter(|(a, b)| a.sha256 != b.sha256)
        .map(|(a, _)| a.name.as_str())
        .collect();
    assert!(changed.contains(&"MARKET_ITEMS"), "{changed:?}");
}

#[test]
fn inspect_message_drops_ingress_that_can_never_succeed_and_says_why() {
    let mut canister = Canister::install(None);
    let controller = canister.controller();
    let before = digest(&mut canister, controller).unwrap();
    let anonymous = Principal::anonymous();
    let lease_end = candid::encode_one(7u64).unwrap();
    let cases: [(Principal, &str, Vec<u8>, &str); 4] = [
        (
            anonymous,
            "lease_end",
            lease_end.clone(),
            "needs an identity",
        ),
        (
            stranger(),
            "lease_end",
            b"not candid".to_vec(),
            "cannot decode",
        ),
        (
            stranger(),
            "lease_end",
            vec![0; 4096],
            "takes at most 1024 bytes",
        ),
        (
            controller,
            "policies_set",
            candid::encode_one("the wrong type").unwrap(),
            "cannot decode",
        ),
    ];
    for (caller, method, arg, why) in &cases {
        let message = rejection(canister.update_raw(*caller, method, arg.clone()));
        assert!(
            message.contains(&format!("inspect_message: {method}")) && message.contains(why),
            "{method}: {message}"
        );
    }
    // Without inspection the same calls reach the method, which answers with typed errors.
    let mut canister = canister.without_inspect();
    for (caller, method, arg, _) in cases {
        let bytes = canister
            .update_raw(caller, method, arg)
            .unwrap_or_else(|r| panic!("{method}: {r}"));
        let reply: Result<candid::Reserved, MarketError> = candid::decode_one(&bytes).unwrap();
        assert!(
            matches!(
                reply,
                Err(MarketError::InvalidArgument { .. })
                    | Err(MarketError::NotAuthorized { .. })
                    | Err(MarketError::UnknownExecution { .. })
            ),
            "{method}: {reply:?}"
        );
    }
    assert_same_state(&digest(&mut canister, controller).unwrap(), &before);
}

fn assert_same_state(after: &StateDigest, before: &StateDigest) {
    let changed: Vec<&str> = (after.regions.iter().zip(&before.regions))
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.name.as_str())
        .collect();
    assert_eq!(after.sha256, before.sha256, "changed: {changed:?}");
}

#[test]
fn arguments_over_each_updates_bound_are_dropped_and_a_well_formed_one_is_admitted() {
    let mut canister = Canister::install(None);
    let caller = stranger();
    for method in METHODS
        .iter()
        .filter(|m| m.kind == marketplace::methods::Kind::Update)
    {
        // One byte over the method's bound is dropped (over 2 MiB, by the IC's ingress limit).
        let too_big = vec![b'x'; method.max_arg_bytes + 1];
        let message = rejection(canister.update_raw(caller, method.name, too_big));
        assert!(
            message.contains("bytes of argument") || message.contains("exceeds the limit"),
            "{}: {message}",
            method.name
        );
    }
    let bytes = canister
        .update_raw(caller, "lease_end", candid::encode_one(1u64).unwrap())
        .expect("admitted");
    let reply: Result<candid::Reserved, MarketError> = candid::decode_one(&bytes).unwrap();
    assert_eq!(reply, Err(MarketError::UnknownExecution { id: 1 }));
}

#[test]
fn a_caller_over_its_rate_limit_is_refused_until_its_bucket_refills() {
    let arg = InitArg {
        caller_call_burst: Some(3),
        caller_calls_per_minute: Some(6),
        ..InitArg::default()
    };
    let mut canister = Canister::install(Some(arg));
    let controller = canister.controller();
    let (busy, other) = (consumer("busy"), consumer("other"));
    let end = |canister: &mut Canister, caller| -> Result<candid::Reserved, MarketError> {
        canister.update(caller, "lease_end", (5u64,))
    };
    for _ in 0..3 {
        assert_eq!(
            end(&mut canister, busy),
            Err(MarketError::UnknownExecution { id: 5 })
        );
    }
    let before = digest(&mut canister, controller).unwrap();
    // Ingress over the limit is dropped before it runs...
    let message =
        rejection(canister.update_raw(busy, "lease_end", candid::encode_one(5u64).unwrap()));
    assert!(
        message.contains("rate limited: retry lease_end in 10 s"),
        "{message}"
    );
    // ...and a call that skips inspection gets the typed error, changing nothing.
    let mut canister = canister.without_inspect();
    assert_eq!(
        end(&mut canister, busy),
        Err(MarketError::RateLimited {
            retry_after_seconds: 10
        })
    );
    assert_eq!(
        digest(&mut canister, controller).unwrap().sha256,
        before.sha256
    );
    // Others and controllers are not affected.
    assert!(matches!(
        end(&mut canister, other),
        Err(MarketError::UnknownExecution { .. })
    ));
    for _ in 0..10 {
        assert!(matches!(
            end(&mut canister, controller),
            Err(MarketError::UnknownExecution { .. })
        ));
    }
    // Ten seconds give one call back (6 a minute), not two.
    canister.driver.advance_time(Duration::from_secs(10));
    assert!(matches!(
        end(&mut canister, busy),
        Err(MarketError::UnknownExecution { .. })
    ));
    assert!(matches!(
        end(&mut canister, busy),
        Err(MarketError::RateLimited { .. })
    ));
    let status = canister.status();
    assert_eq!(status.config.caller_call_burst, 3);
    assert_eq!(status.config.caller_calls_per_minute, 6);
}
