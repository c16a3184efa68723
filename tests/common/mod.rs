//! Shared helpers for the end-to-end tests: the built wasm, a driver, typed calls.
#![allow(dead_code)] // each test binary uses its own part of this module

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::driver::{self, Driver};
use ic0_host::Reject;
pub use marketplace::api::*;

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
