//! The compute-marketplace canister: its whole public interface, one endpoint each.
//!
//! Endpoints decode, authorize, call the domain and encode; the logic lives in the modules.
//! Methods with an argument decode it with a quota through [`candid_io`] (see there why they are
//! `hidden` from ic-cdk and carry their own `candid_method`); methods without one ignore their
//! argument bytes. The interface is checked against `candid/marketplace.did` by a unit test.

pub mod api;
mod auth;
mod candid_io;
pub mod catalog;
mod config;
mod counters;
mod cycles;
mod fields;
mod ironic;
mod lifecycle;
mod manager;
mod memory;
mod runtime;
mod status;

#[cfg(test)]
mod interface_tests;

use candid_io::{decode_checked, Checked};
use config::InitArg;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};
use ironic::{IronicApi, IronicDiscoverArg, IronicError};
use runtime::IcRuntime;
use status::Status;

/// Invalid arguments trap: the install must fail rather than run with a configuration the
/// controller did not ask for.
#[ic_cdk::init(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(init)]
fn init(arg: Checked<Option<InitArg>>) {
    lifecycle::setup(&IcRuntime, arg.0).unwrap_or_else(|e| ic_cdk::trap(e));
}

/// Fields given override the stored configuration; invalid ones make the upgrade fail.
#[ic_cdk::post_upgrade(decode_with = "decode_checked", hidden = true)]
fn post_upgrade(arg: Checked<Option<InitArg>>) {
    lifecycle::setup(&IcRuntime, arg.0).unwrap_or_else(|e| ic_cdk::trap(e));
}

/// Version, counters, memory, task queue, cycles and configuration of the canister.
#[ic_cdk::query]
fn status() -> Status {
    status::status(&IcRuntime)
}

/// Asks an Ironic endpoint which API microversions it supports. Controllers only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn ironic_discover(arg: Checked<IronicDiscoverArg>) -> Result<IronicApi, IronicError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(IronicError::NotAuthorized);
    }
    let arg = arg
        .0
        .map_err(|message| IronicError::InvalidArgument { message })?;
    ironic::discover(&IcRuntime, arg).await
}

/// The transform of `ironic_discover`'s outcall; the name is referenced by `ironic`.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
fn transform_ironic_root(args: Checked<TransformArgs>) -> HttpRequestResult {
    ironic::transform_root(args.0)
}

// --- catalog: publishing (signed changes, uploads) ---

// --- catalog: search and export ---

// Only the interface test reads the exported service; the wasm carries the .did as metadata.
#[cfg(test)]
ic_cdk::export_candid!();
