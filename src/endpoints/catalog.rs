//! The catalog's endpoints: signed publishing (replace, upsert, remove, keys, chunked uploads),
//! the change feed, and the public search and export.

use crate::candid_io::{decode_checked, decode_signed, encode_reply, Checked};
use crate::runtime::IcRuntime;
use crate::{catalog, market};

// --- catalog: publishing (signed changes, uploads) ---
//
// A provider's Ed25519 signature authorizes its changes, so any caller may submit one. Uploads
// belong to the principal that began them.

use catalog::changes::{self, ChangesArg, ChangesPage};
use catalog::error::CatalogError;
use catalog::keys::{ProviderFreezeArg, RotateKeyArg};
use catalog::publish::{self, PublishArg, Receipt};
use catalog::publish::{RemoveOfferingsArg, RemoveProviderArg};
use catalog::upload::{self, UploadAppendArg, UploadBeginArg, UploadProgress, UploadRef};

/// Replaces a provider's whole catalog with the signed CSV (creating the provider).
#[ic_cdk::update(
    decode_with = "decode_signed",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_replace(arg: Checked<PublishArg>) -> Result<Receipt, CatalogError> {
    publish::replace(&IcRuntime, arg.0?)
}

/// Adds or changes the offerings of the signed CSV; the others stay.
#[ic_cdk::update(
    decode_with = "decode_signed",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_upsert(arg: Checked<PublishArg>) -> Result<Receipt, CatalogError> {
    publish::upsert(&IcRuntime, arg.0?)
}

/// Removes offerings by key.
#[ic_cdk::update(
    decode_with = "decode_signed",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_remove_offerings(arg: Checked<RemoveOfferingsArg>) -> Result<Receipt, CatalogError> {
    publish::remove_offerings(&IcRuntime, arg.0?)
}

/// Removes all of a provider's offerings.
#[ic_cdk::update(
    decode_with = "decode_signed",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn provider_remove(arg: Checked<RemoveProviderArg>) -> Result<Receipt, CatalogError> {
    publish::remove_provider(&IcRuntime, arg.0?)
}

/// Freezes or unfreezes a provider: its signed changes and its delegates are refused.
/// Controllers only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn provider_freeze(arg: Checked<ProviderFreezeArg>) -> Result<(), CatalogError> {
    catalog::keys::freeze(&IcRuntime, arg.0?)
}

/// Moves a provider to a new key, signed by its current key.
#[ic_cdk::update(decode_with = "decode_signed", hidden = true)]
#[candid::candid_method(update)]
fn provider_rotate_key(arg: Checked<RotateKeyArg>) -> Result<(), CatalogError> {
    market::delegation::rotate(&IcRuntime, arg.0?)
}

/// Opens a chunked upload of a signed replace or upsert.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn catalog_upload_begin(arg: Checked<UploadBeginArg>) -> Result<u64, CatalogError> {
    upload::begin(&IcRuntime, arg.0?)
}

/// Adds the next chunk of an upload. The uploader only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn catalog_upload_append(arg: Checked<UploadAppendArg>) -> Result<UploadProgress, CatalogError> {
    upload::append(&IcRuntime, arg.0?)
}

/// Applies a complete upload. The uploader only.
#[ic_cdk::update(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(update)]
fn catalog_upload_commit(arg: Checked<UploadRef>) -> Result<Receipt, CatalogError> {
    upload::commit(&IcRuntime, arg.0?)
}

/// How far an upload has come.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn catalog_upload_status(arg: Checked<UploadRef>) -> Result<UploadProgress, CatalogError> {
    upload::status(&IcRuntime, arg.0?)
}

/// Catalog changes after a sequence number, oldest first.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn catalog_changes(arg: Checked<ChangesArg>) -> Result<ChangesPage, CatalogError> {
    changes::page(&arg.0?)
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
    search::offering_get(&arg.0?)
}

/// A provider's visible offerings in key order, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn provider_offerings(arg: Checked<ProviderOfferingsArg>) -> Result<SearchPage, SearchError> {
    search::provider_offerings(&arg.0?)
}

/// Offerings matching words and filters, by price, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn offerings_search(arg: Checked<SearchQuery>) -> Result<SearchPage, SearchError> {
    search::offerings_search(&arg.0?)
}

/// A provider's whole catalog as PEM + CSV, a page at a time.
#[ic_cdk::query(
    decode_with = "decode_checked",
    encode_with = "encode_reply",
    hidden = true
)]
#[candid::candid_method(query)]
fn provider_catalog_export(arg: Checked<CatalogExportArg>) -> Result<CatalogExport, SearchError> {
    search::provider_catalog_export(&arg.0?)
}
