//! Rate limits of anonymous relays of signed changes, through the wasm (issue 12, L3).
//!
//! Before, every anonymous relay shared the anonymous principal's bucket: one relay flooding
//! left every other provider's anonymous relay `RateLimited`. Now an anonymous relay is charged
//! to the signing key once its signature verifies, bogus signatures are dropped by
//! `inspect_message` (or, when inspection is skipped, charged to one shared bucket of failed
//! verifications), and no stranger can drain another key's bucket.

mod common;

use candid::Principal;
use common::market::consumer;
use common::*;
use marketplace::catalog::signing::Operation;
use marketplace::market::delegation;
use serde_bytes::ByteBuf;

const BURST: u32 = 3;

fn install() -> Canister {
    Canister::install(Some(InitArg {
        caller_call_burst: Some(BURST),
        caller_calls_per_minute: Some(6),
        ..InitArg::default()
    }))
}

fn relay(canister: &mut Canister, provider: &mut Provider) -> Result<Receipt, CatalogError> {
    let arg = provider.publish_arg(canister.id(), Operation::UpsertOfferings, FIXTURE);
    anonymous_upsert(canister, arg)
}

/// An upsert naming `victim`'s key with a zero signature.
fn bogus(victim: &Provider) -> PublishArg {
    PublishArg {
        provider: victim.key(),
        seq: 1_000,
        signature: ByteBuf::from(vec![0; 64]),
        csv: ByteBuf::from(FIXTURE.to_vec()),
    }
}

fn anonymous_upsert(canister: &mut Canister, arg: PublishArg) -> Result<Receipt, CatalogError> {
    canister.update(Principal::anonymous(), "catalog_upsert", (arg,))
}

#[test]
fn one_anonymous_relay_flooding_does_not_block_another_providers_relay() {
    let mut canister = install().without_inspect();
    let (mut busy, mut other) = (Provider::new(1), Provider::new(2));
    for _ in 0..BURST {
        assert!(relay(&mut canister, &mut busy).is_ok());
    }
    let before = canister.digest();
    assert!(matches!(
        relay(&mut canister, &mut busy),
        Err(CatalogError::RateLimited { .. })
    ));
    assert_eq!(canister.digest(), before, "a refused relay changes nothing");
    // Another provider's anonymous relay is not affected (before: RateLimited).
    let receipt = relay(&mut canister, &mut other).expect("another key has its own bucket");
    assert_eq!(receipt.provider_pem, other.pem());
    // Nor is a market delegation that key signs, relayed anonymously.
    let arg = delegation::signed(&other.secret, &canister.id(), consumer("ops"), true, 1);
    let delegated: Result<Delegation, MarketError> =
        canister.update(Principal::anonymous(), "market_delegate", (arg,));
    assert!(delegated.is_ok(), "{delegated:?}");
}

#[test]
fn bogus_signatures_never_drain_the_named_keys_bucket() {
    let mut canister = install();
    let mut victim = Provider::new(3);
    // Ingress: inspect_message verifies the signature and drops the call before it runs.
    for _ in 0..10 * BURST {
        let arg = candid::encode_one(bogus(&victim)).unwrap();
        let reject = canister
            .update_raw(Principal::anonymous(), "catalog_upsert", arg)
            .expect_err("dropped by inspect_message");
        assert!(reject.to_string().contains("does not verify"), "{reject}");
    }
    // Without inspection (a relay that skipped it), failures take from one shared bucket.
    let mut canister = canister.without_inspect();
    let before = canister.digest();
    for _ in 0..BURST {
        let reply = anonymous_upsert(&mut canister, bogus(&victim));
        assert_eq!(reply, Err(CatalogError::InvalidSignature));
    }
    let reply = anonymous_upsert(&mut canister, bogus(&victim));
    assert!(matches!(reply, Err(CatalogError::RateLimited { .. })));
    assert_eq!(canister.digest(), before, "refused calls change nothing");
    // The victim's own bucket is full: its identified relays were never affected either.
    for _ in 0..BURST {
        let arg = victim.publish_arg(canister.id(), Operation::UpsertOfferings, FIXTURE);
        let reply: Result<Receipt, CatalogError> =
            canister.update(user(), "catalog_upsert", (arg,));
        assert!(reply.is_ok(), "{reply:?}");
    }
}

#[test]
fn a_key_over_its_limit_is_dropped_by_inspect_message_for_anonymous_ingress() {
    let mut canister = install();
    let (mut busy, mut other) = (Provider::new(4), Provider::new(5));
    for _ in 0..BURST {
        assert!(relay(&mut canister, &mut busy).is_ok());
    }
    let arg = busy.publish_arg(canister.id(), Operation::UpsertOfferings, FIXTURE);
    let reject = canister
        .update_raw(
            Principal::anonymous(),
            "catalog_upsert",
            candid::encode_one(arg).unwrap(),
        )
        .expect_err("over the key's limit");
    assert!(reject.to_string().contains("rate limited"), "{reject}");
    assert!(relay(&mut canister, &mut other).is_ok());
}
