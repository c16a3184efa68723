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
pub mod market;
mod memory;
pub mod runtime;
mod status;

#[cfg(test)]
mod interface_tests;

use candid_io::{decode_checked, encode_reply, Checked};
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
    prepare_replies();
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
#[ic_cdk::post_upgrade(decode_with = "decode_checked", hidden = true)]
fn post_upgrade(arg: Checked<Option<InitArg>>) {
    lifecycle::post_upgrade(&IcRuntime, arg.0).unwrap_or_else(|e| ic_cdk::trap(e));
    prepare_replies();
}

/// Builds the type tables of the replies the catalog methods encode with [`encode_reply`]
/// (any value of each type will do): the heap every call starts from then holds them.
fn prepare_replies() {
    use candid_io::prepare_reply;
    prepare_reply::<Result<Receipt, CatalogError>>(&Err(CatalogError::UnknownProvider));
    prepare_reply::<Result<ChangesPage, CatalogError>>(&Err(CatalogError::UnknownProvider));
    prepare_reply::<Result<OfferingRecords, SearchError>>(&Err(SearchError::UnknownOffering));
    prepare_reply::<Result<SearchPage, SearchError>>(&Err(SearchError::UnknownOffering));
    prepare_reply::<Result<CatalogExport, SearchError>>(&Err(SearchError::UnknownOffering));
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
//
// A provider's Ed25519 signature authorizes its changes, so any caller may submit one. Uploads
// belong to the principal that began them.

use catalog::changes::{self, ChangesArg, ChangesPage};
use catalog::publish::{self, CatalogError, PublishArg, Receipt};
use catalog::publish::{RemoveOfferingsArg, RemoveProviderArg};
use catalog::upload::{self, UploadAppendArg, UploadBeginArg, UploadProgress, UploadRef};

/// Replaces a provider's whole catalog with the signed CSV (creating the provider).
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_replace(arg: Checked<PublishArg>) -> Result<Receipt, CatalogError> {
    publish::replace(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Adds or changes the offerings of the signed CSV; the others stay.
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_upsert(arg: Checked<PublishArg>) -> Result<Receipt, CatalogError> {
    publish::upsert(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Removes offerings by key.
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_remove_offerings(arg: Checked<RemoveOfferingsArg>) -> Result<Receipt, CatalogError> {
    publish::remove_offerings(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Removes all of a provider's offerings.
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn provider_remove(arg: Checked<RemoveProviderArg>) -> Result<Receipt, CatalogError> {
    publish::remove_provider(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Opens a chunked upload of a signed replace or upsert.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn catalog_upload_begin(arg: Checked<UploadBeginArg>) -> Result<u64, CatalogError> {
    upload::begin(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Adds the next chunk of an upload. The uploader only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn catalog_upload_append(arg: Checked<UploadAppendArg>) -> Result<UploadProgress, CatalogError> {
    upload::append(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Applies a complete upload. The uploader only.
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_upload_commit(arg: Checked<UploadRef>) -> Result<Receipt, CatalogError> {
    upload::commit(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// How far an upload has come.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn catalog_upload_status(arg: Checked<UploadRef>) -> Result<UploadProgress, CatalogError> {
    upload::status(&IcRuntime, arg.0.map_err(invalid_catalog_arg)?)
}

/// Catalog changes after a sequence number, oldest first.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn catalog_changes(arg: Checked<ChangesArg>) -> Result<ChangesPage, CatalogError> {
    changes::page(&arg.0.map_err(invalid_catalog_arg)?)
}

fn invalid_catalog_arg(message: String) -> CatalogError {
    CatalogError::InvalidArgument { message }
}

// --- catalog: search and export ---
//
// Public reads: any caller, as queries. Invisible offerings are found by key and exported, but
// never listed or searched. Replies that would outgrow the reply limit are cut short and carry
// the cursor of the rest.

use catalog::encode::OfferingRecords;
use catalog::search::query::SearchQuery;
use catalog::search::{self, CatalogExport, CatalogExportArg, OfferingGetArg};
use catalog::search::{ProviderOfferingsArg, SearchError, SearchPage};

/// A provider's offering by key.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn offering_get(arg: Checked<OfferingGetArg>) -> Result<OfferingRecords, SearchError> {
    search::offering_get(&arg.0.map_err(invalid_search_arg)?)
}

/// A provider's visible offerings in key order, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn provider_offerings(arg: Checked<ProviderOfferingsArg>) -> Result<SearchPage, SearchError> {
    search::provider_offerings(&arg.0.map_err(invalid_search_arg)?)
}

/// Offerings matching words and filters, by price, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn offerings_search(arg: Checked<SearchQuery>) -> Result<SearchPage, SearchError> {
    search::offerings_search(&arg.0.map_err(invalid_search_arg)?)
}

/// A provider's whole catalog as PEM + CSV, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn provider_catalog_export(arg: Checked<CatalogExportArg>) -> Result<CatalogExport, SearchError> {
    search::provider_catalog_export(&arg.0.map_err(invalid_search_arg)?)
}

fn invalid_search_arg(message: String) -> SearchError {
    SearchError::InvalidArgument { message }
}

// Only the interface test reads the exported service; the wasm carries the .did as metadata.
#[cfg(test)]
ic_cdk::export_candid!();
