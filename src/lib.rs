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
pub mod config;
pub mod costs;
mod counters;
mod cycles;
mod digest;
mod endpoints;
mod fields;
pub mod http;
mod ironic;
mod ledger;
pub mod lifecycle;
pub mod market;
pub mod memory;
pub mod methods;
pub mod provision;
mod queue;
pub mod runtime;
mod snapshot;
mod status;
mod storable;
mod tasks;
mod text;
mod throttle;
pub mod time;

#[cfg(test)]
mod interface_tests;

/// The decoder every endpoint runs on its argument (within the decoding quotas), for the fuzzer.
pub use candid_io::decode_arg;
use candid_io::{decode_checked, decode_install, Checked};
use config::InitArg;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};
use ironic::{IronicApi, IronicDiscoverArg, IronicError};
use runtime::IcRuntime;
use status::Status;

/// Invalid arguments trap: the install must fail rather than run with a configuration the
/// controller did not ask for.
#[ic_cdk::init(decode_with = "decode_install", hidden = true)]
#[candid::candid_method(init)]
fn init(arg: Checked<Option<InitArg>>) {
    lifecycle::register();
    lifecycle::setup(&IcRuntime, arg.0.map_err(|e| e.to_string()))
        .unwrap_or_else(|e| ic_cdk::trap(e));
    lifecycle::prepare_replies();
}

/// Saves the search index for the next version. Never traps: a canister that cannot save
/// (stable memory full) must stay upgradable, and the next version then rebuilds the index.
#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    if let Err(e) = lifecycle::pre_upgrade() {
        ic_cdk::println!("search index not saved ({e}); the next version rebuilds it");
    }
}

/// Loads the search index; fields given override the stored configuration, and invalid ones
/// make the upgrade fail.
#[ic_cdk::post_upgrade(decode_with = "decode_install", hidden = true)]
fn post_upgrade(arg: Checked<Option<InitArg>>) {
    lifecycle::register();
    lifecycle::post_upgrade(&IcRuntime, arg.0.map_err(|e| e.to_string()))
        .unwrap_or_else(|e| ic_cdk::trap(e));
    lifecycle::prepare_replies();
}

/// Drops ingress updates that can never succeed before the canister pays to run them; see
/// [`methods::inspect`]. An optimisation only: every endpoint checks the same again. The trap
/// message tells the sender why.
#[ic_cdk::inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::msg_method_name();
    match methods::inspect(&IcRuntime, &method, &ic_cdk::api::msg_arg_data()) {
        Ok(()) => ic_cdk::api::accept_message(),
        Err(why) => ic_cdk::trap(format!("inspect_message: {why}")),
    }
}

/// Version, counters, memory, task queue, cycles and configuration of the canister.
#[ic_cdk::query]
fn status() -> Status {
    status::status(&IcRuntime)
}

/// A SHA-256 digest of the whole stable state, region by region. Controllers only. Fails past
/// ~60 MiB in use (one query); `state_digest_page` reads any size a page at a time.
#[ic_cdk::query]
fn state_digest() -> Result<digest::StateDigest, digest::DigestError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(digest::DigestError::NotAuthorized);
    }
    Ok(digest::state_digest())
}

/// The stable state's digest a page at a time, for a state too large for `state_digest`: at
/// most 256 pages (16 MiB) a call, and where to go on. Controllers only.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn state_digest_page(
    arg: Checked<digest::StateDigestPageArg>,
) -> Result<digest::StateDigestPage, digest::DigestPageError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(digest::DigestPageError::NotAuthorized);
    }
    digest::state_digest_page(arg.0?)
}

/// The HTTP gateway's entry: the web app at `/` (its files embedded at build time), `/health`,
/// `/metrics` (Prometheus), `/search` and `/offerings/<provider>/<key>` (JSON); see [`http`].
/// Responses carry v2 certification (`IC-Certificate`) when asked for: the app's files and the
/// 404 are certified (served on `<canister id>.icp0.io`); the live routes are not (served on
/// `<canister id>.raw.icp0.io`). A malformed request is a 400 response, never a trap.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn http_request(request: Checked<http::HttpRequest>) -> http::HttpResponse {
    http::handle(&IcRuntime, request.0.map_err(|e| e.to_string()))
}

/// Asks an Ironic endpoint which API microversions it supports. Controllers only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn ironic_discover(arg: Checked<IronicDiscoverArg>) -> Result<IronicApi, IronicError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(IronicError::NotAuthorized);
    }
    let arg = arg.0.map_err(|e| IronicError::InvalidArgument {
        message: e.to_string(),
    })?;
    ironic::discover(&IcRuntime, arg).await
}

/// Cycles each operation that makes outcalls attaches at most: `ironic_discover`,
/// `provision_server`, `provision_refresh`, a lease's deploy and undeploy (0 on the simulated
/// Ironic). Anyone.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn outcall_costs(arg: Checked<costs::OutcallCostsArg>) -> costs::OutcallCostsResult {
    costs::outcall_costs(&IcRuntime, arg.0?)
}

/// The transform of `ironic_discover`'s outcall; the name is referenced by `ironic`.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
fn transform_ironic_root(args: Checked<TransformArgs>) -> HttpRequestResult {
    ironic::transform_root(args.0.map_err(|e| e.to_string()))
}

// Only the interface test reads the exported service; the wasm carries the .did as metadata.
// `export_candid!` names each endpoint's types as its signature spells them, here.
#[cfg(test)]
#[allow(unused_imports)]
use api::*;
#[cfg(test)]
ic_cdk::export_candid!();
