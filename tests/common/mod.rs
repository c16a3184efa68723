//! Shared helpers for the end-to-end tests: the built wasm, a driver, typed calls.
#![allow(dead_code, unused_imports)] // each test binary uses its own part of this module

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::driver::{self, Driver};
use ic0_host::Reject;
pub use marketplace::api::*;

pub mod ironic;
pub mod market;
pub mod payments;
pub mod self_check;

pub const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/wasm/marketplace.wasm.gz"
);
pub const DID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/candid/marketplace.did");

pub fn wasm() -> Vec<u8> {
    std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first"))
}

pub fn user() -> Principal {
    Principal::self_authenticating(b"a marketplace user")
}

/// The marketplace installed on the driver the environment selects.
pub struct Canister {
    pub driver: Box<dyn Driver>,
}

impl Canister {
    pub fn install(arg: Option<InitArg>) -> Self {
        let mut driver = driver::from_env();
        driver
            .install(&wasm(), candid::encode_one(arg).unwrap())
            .expect("install");
        Self { driver }
    }

    pub fn controller(&self) -> Principal {
        self.driver.controller()
    }

    /// `state_digest`'s total, read by a controller: equal before and after a call that
    /// changed nothing.
    pub fn digest(&mut self) -> Vec<u8> {
        let controller = self.controller();
        let bytes = self
            .driver
            .query(controller, "state_digest", candid::encode_args(()).unwrap())
            .expect("state_digest");
        candid::decode_one::<Result<StateDigest, DigestError>>(&bytes)
            .unwrap()
            .expect("a controller reads the digest")
            .sha256
            .to_vec()
    }

    /// Delivers updates as a canister's call would, skipping `inspect_message`: for tests of the
    /// methods' own answers to input inspect_message drops from ingress (tests/malformed.rs and
    /// tests/authorization.rs check both paths).
    pub fn without_inspect(mut self) -> Self {
        self.driver.set_inspect_ingress(false);
        self
    }

    pub fn status(&mut self) -> Status {
        let bytes = self
            .driver
            .query(user(), "status", candid::encode_args(()).unwrap())
            .expect("status");
        candid::decode_one(&bytes).expect("status decodes")
    }

    pub fn update_raw(
        &mut self,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        self.driver.update(caller, method, arg)
    }

    pub fn update<A: ArgumentEncoder, R: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        args: A,
    ) -> R {
        let bytes = self
            .update_raw(caller, method, candid::encode_args(args).unwrap())
            .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn discover(
        &mut self,
        caller: Principal,
        endpoint: &str,
    ) -> Result<IronicApi, IronicError> {
        self.update(
            caller,
            "ironic_discover",
            (IronicDiscoverArg {
                endpoint: endpoint.into(),
            },),
        )
    }
}

pub use marketplace::catalog::changes::{ChangeKind, ChangesArg, ChangesPage};
pub use marketplace::catalog::provider::ProviderKeyInput;
pub use marketplace::catalog::publish::{
    CatalogError, PublishArg, Receipt, RemoveOfferingsArg, RemoveProviderArg,
};
use marketplace::catalog::signing::{self, Operation};
use serde_bytes::ByteBuf;

pub const FIXTURE: &[u8] = include_bytes!("../fixtures/serverhunter-offering-example.csv");

/// A provider with its secret key and its next sequence number, signing what it sends.
pub struct Provider {
    pub secret: [u8; 32],
    pub seq: u64,
}

impl Provider {
    pub fn new(seed: u8) -> Self {
        Self {
            secret: [seed; 32],
            seq: 0,
        }
    }

    pub fn key(&self) -> ProviderKeyInput {
        ProviderKeyInput::Raw(ByteBuf::from(
            signing::provider_of(&self.secret).as_bytes().to_vec(),
        ))
    }

    pub fn pem(&self) -> String {
        signing::provider_of(&self.secret).to_pem()
    }

    /// Signs `payload` for `op` with the next sequence number (consumed only by the caller's send).
    pub fn sign(&self, canister: Principal, op: Operation, seq: u64, payload: &[u8]) -> ByteBuf {
        ByteBuf::from(
            signing::sign(
                &self.secret,
                &canister,
                op,
                seq,
                &signing::payload_hash(payload),
            )
            .to_vec(),
        )
    }

    pub fn publish_arg(&mut self, canister: Principal, op: Operation, csv: &[u8]) -> PublishArg {
        self.seq += 1;
        PublishArg {
            provider: self.key(),
            seq: self.seq,
            signature: self.sign(canister, op, self.seq, csv),
            csv: ByteBuf::from(csv.to_vec()),
        }
    }
}

impl Canister {
    pub fn id(&self) -> Principal {
        self.driver.canister_id()
    }

    pub fn replace(
        &mut self,
        provider: &mut Provider,
        csv: &[u8],
    ) -> Result<Receipt, CatalogError> {
        let arg = provider.publish_arg(self.id(), Operation::ReplaceCatalog, csv);
        self.update(user(), "catalog_replace", (arg,))
    }

    pub fn upsert(&mut self, provider: &mut Provider, csv: &[u8]) -> Result<Receipt, CatalogError> {
        let arg = provider.publish_arg(self.id(), Operation::UpsertOfferings, csv);
        self.update(user(), "catalog_upsert", (arg,))
    }

    /// `provider_freeze` by `caller` (controllers only).
    pub fn provider_freeze(
        &mut self,
        caller: Principal,
        provider: ProviderKeyInput,
        frozen: bool,
    ) -> Result<(), CatalogError> {
        let arg = ProviderFreezeArg { provider, frozen };
        self.update(caller, "provider_freeze", (arg,))
    }

    /// `provider_rotate_key`: `provider`'s current key signs (with its next sequence number)
    /// that `new` signs from now on; `new` continues the sequence.
    pub fn rotate_key(
        &mut self,
        provider: &mut Provider,
        new: &mut Provider,
    ) -> Result<(), CatalogError> {
        provider.seq += 1;
        let new_key = signing::provider_of(&new.secret);
        let arg = RotateKeyArg {
            provider: provider.key(),
            new_key: new.key(),
            seq: provider.seq,
            signature: provider.sign(
                self.id(),
                Operation::RotateKey,
                provider.seq,
                new_key.as_bytes(),
            ),
        };
        new.seq = provider.seq;
        self.update(user(), "provider_rotate_key", (arg,))
    }

    /// `provider_recover` by `caller` (controllers only).
    pub fn provider_recover(
        &mut self,
        caller: Principal,
        provider: ProviderKeyInput,
        new_key: ProviderKeyInput,
    ) -> Result<Delegation, MarketError> {
        let arg = RecoverKeyArg { provider, new_key };
        self.update(caller, "provider_recover", (arg,))
    }

    pub fn changes(&mut self, since: u64) -> ChangesPage {
        let arg = candid::encode_one(ChangesArg { since, limit: None }).unwrap();
        let bytes = self
            .driver
            .query(user(), "catalog_changes", arg)
            .expect("catalog_changes");
        candid::decode_one::<Result<ChangesPage, CatalogError>>(&bytes)
            .unwrap()
            .expect("changes page")
    }
}
