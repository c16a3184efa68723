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
use candid_io::{decode_checked, decode_install, decode_signed, encode_reply, Checked};
use config::InitArg;
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};
use ironic::{IronicApi, IronicDiscoverArg, IronicError};
use runtime::{IcRuntime, Runtime as _};
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

// --- catalog: publishing (signed changes, uploads) ---
//
// A provider's Ed25519 signature authorizes its changes, so any caller may submit one. Uploads
// belong to the principal that began them.

use catalog::changes::{self, ChangesArg, ChangesPage};
use catalog::error::CatalogError;
use catalog::keys::{ProviderFreezeArg, RecoverKeyArg, RotateKeyArg};
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
use catalog::provider::ProviderKeyInput;
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

// --- market: delegation, inventory, offers (providers) ---
//
// A provider signs once that a principal acts for it (`market_delegate`); the methods that
// change its inventory and offers then require the caller to be one of its delegates. Reads of
// inventory, offers, products and policies are public.

use market::invariants::{SelfCheckArg, SelfCheckPage};
use market::{
    AcceptArg, AuditArg, AuditPage, AvailabilityArg, AvailabilityPage, CancelArg, Contract,
    DelegateArg, Delegation, Execution, ExecutionPage, ExecutionsListArg, ExtendArg,
    InventoryListArg, InventoryRegisterArg, InventoryRemoveArg, InventorySetStatusArg, Item,
    ItemPage, Lease, LeaseBySkuArg, MarketError, Offer, OfferCreateArg, OfferPage,
    OfferWithdrawArg, OffersCreateArg, OffersListArg, OffersetView, Payment, PaymentPage,
    PaymentsListArg, PayoutSetArg, Policies, PoliciesUpdate, Product, Project, ProjectCreateArg,
    ProjectPage, ProjectUpdateArg, ProviderHoldAccess, ProviderHoldAccessArg, ProviderPayout,
    ReclaimArg, ResourceRequest, SetConsumerMetaArg, SetProcurementMetaArg,
};

/// Lets a principal act for a provider in the market, or stops it; signed by the provider.
#[ic_cdk::update(decode_with = "decode_signed", hidden = true)]
#[candid::candid_method(update)]
fn market_delegate(arg: Checked<DelegateArg>) -> Result<Delegation, MarketError> {
    market::delegation::delegate(&IcRuntime, arg.0?)
}

/// A provider's delegates and the last delegation sequence number it signed.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn market_delegation(arg: Checked<ProviderKeyInput>) -> Result<Delegation, MarketError> {
    market::delegation::get(&IcRuntime, &arg.0?)
}

/// Sets a provider's key to a new one without the old key, lifts a freeze and revokes its
/// delegations (a lost or stolen key). Controllers only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn provider_recover(arg: Checked<RecoverKeyArg>) -> Result<Delegation, MarketError> {
    market::delegation::recover(&IcRuntime, arg.0?)
}

/// Registers items, or updates those the provider already has. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn inventory_register(arg: Checked<InventoryRegisterArg>) -> Result<Vec<Item>, MarketError> {
    market::inventory::register(&IcRuntime, arg.0?)
}

/// Moves an item to maintenance, archiving or back to available. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn inventory_set_status(arg: Checked<InventorySetStatusArg>) -> Result<Item, MarketError> {
    provision::sim::set_item_status(&IcRuntime, arg.0?)
}

/// Removes an archiving item with nothing booked. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn inventory_remove(arg: Checked<InventoryRemoveArg>) -> Result<(), MarketError> {
    market::inventory::remove(&IcRuntime, arg.0?)
}

/// One inventory item by id. Public.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn inventory_get(id: Checked<u64>) -> Result<Item, MarketError> {
    market::inventory::get(id.0?)
}

/// Items by provider, SKU and status, a page at a time.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn inventory_list(arg: Checked<InventoryListArg>) -> Result<ItemPage, MarketError> {
    market::inventory::list(arg.0?)
}

/// Every SKU with its counts and lowest price: the pez portal's product list.
#[ic_cdk::query]
fn products() -> Vec<Product> {
    market::inventory::products(IcRuntime.time())
}

/// Offers an item for a window at a price. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn offer_create(arg: Checked<OfferCreateArg>) -> Result<Offer, MarketError> {
    market::offers::create(&IcRuntime, arg.0?)
}

/// Offers items for windows at prices, 1 to 500 in one call, all or none (every offer is
/// checked before any is created). The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn offers_create(arg: Checked<OffersCreateArg>) -> Result<Vec<Offer>, MarketError> {
    market::offers::create_batch(&IcRuntime, arg.0?)
}

/// Takes an open offer back. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn offer_withdraw(arg: Checked<OfferWithdrawArg>) -> Result<Offer, MarketError> {
    market::offers::withdraw(&IcRuntime, arg.0?)
}

/// One offer by id. Public, but a private offer (`terms.visible_to`) is unknown to whoever it
/// does not name (its provider's delegates and controllers see it).
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn offer_get(id: Checked<u64>) -> Result<Offer, MarketError> {
    market::offers::get_as_seen(&IcRuntime, id.0?)
}

/// Offers by item, provider and status, a page at a time; private offers only to those they
/// name.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn offers_list(arg: Checked<OffersListArg>) -> Result<OfferPage, MarketError> {
    market::offers::list(&IcRuntime, arg.0?)
}

/// The free time of one item, or of a SKU's items a page at a time, between two times: what
/// an offerset could book. Public; private offers only to those they name.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn availability(arg: Checked<AvailabilityArg>) -> Result<AvailabilityPage, MarketError> {
    market::availability::query(&IcRuntime, arg.0?)
}

// --- market: offersets and leases (consumers) ---
//
// Consumers are authenticated principals (never anonymous). An offerset and its executions are
// its consumer's; executions are also readable by the provider's delegates and controllers.

/// Matches a request against open offers; the offers it returns hold their items until they
/// expire. With a ledger and the policy `hold_deposit`, each hold's deposit is pulled first.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn offerset_request(arg: Checked<ResourceRequest>) -> Result<OffersetView, MarketError> {
    market::offerset::request_paying(&IcRuntime, arg.0?).await
}

/// An offerset with its offers. Its consumer and controllers only.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn offerset_get(id: Checked<u64>) -> Result<OffersetView, MarketError> {
    market::offerset::get(&IcRuntime, id.0?)
}

/// Accepts one offer of an offerset: it becomes a contract (lease); its siblings are rejected.
/// With a ledger, its price is pulled from the consumer first (after `icrc2_approve`).
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn execution_accept(arg: Checked<AcceptArg>) -> Result<Execution, MarketError> {
    market::lease::accept_paying(&IcRuntime, arg.0?).await
}

/// Cancels an accepted lease (releasing the item if it started). Its consumer or a controller.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn execution_cancel(arg: Checked<CancelArg>) -> Result<Execution, MarketError> {
    market::lease::cancel(&IcRuntime, arg.0?)
}

/// The provider takes a leased item back with notice (at least the policy's
/// `reclaim_notice_seconds`): the lease ends at the deadline, reason "reclaimed", which its
/// consumer sees at once. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn lease_reclaim(arg: Checked<ReclaimArg>) -> Result<Execution, MarketError> {
    market::lease::reclaim(&IcRuntime, arg.0?)
}

/// Moves a lease's end later, within its offer, when nothing else is booked. Its consumer.
/// With a ledger, the extra price is pulled first.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn lease_extend(arg: Checked<ExtendArg>) -> Result<Execution, MarketError> {
    market::lease::extend_paying(&IcRuntime, arg.0?).await
}

/// Ends a running lease now. Its consumer.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn lease_end(id: Checked<u64>) -> Result<Execution, MarketError> {
    market::lease::end_now(&IcRuntime, id.0?)
}

/// The pez shortcut: leases one item of a SKU now, at the cheapest open offer (with a ledger,
/// paid first).
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn lease_by_sku(arg: Checked<LeaseBySkuArg>) -> Result<Execution, MarketError> {
    market::lease::lease_by_sku_paying(&IcRuntime, arg.0?).await
}

/// Attaches credentials sealed to the lessee's key. The provider's delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn lease_set_consumer_meta(arg: Checked<SetConsumerMetaArg>) -> Result<Execution, MarketError> {
    market::lease::set_consumer_meta(&IcRuntime, arg.0?)
}

/// Records how the provider procured a lease; never shown to consumers. Its delegates only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn lease_set_procurement_meta(
    arg: Checked<SetProcurementMetaArg>,
) -> Result<Execution, MarketError> {
    market::lease::set_procurement_meta(&IcRuntime, arg.0?)
}

/// An execution: its consumer, the provider's delegates and controllers.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn execution_get(id: Checked<u64>) -> Result<Execution, MarketError> {
    market::lease::get(&IcRuntime, id.0?)
}

/// The caller's executions as consumer, or a provider's as its delegate, a page at a time. A
/// call reads at most 500 executions: a page filtered by phase may hold fewer than `limit`, even
/// none, with `next` set; go on from `next` until it is null.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn executions_list(arg: Checked<ExecutionsListArg>) -> Result<ExecutionPage, MarketError> {
    market::lease::list(&IcRuntime, arg.0?)
}

/// The execution's payment (escrow, every ledger transfer with its block), when the market
/// has a ledger and it was paid.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn execution_payment(id: Checked<u64>) -> Result<Option<Payment>, MarketError> {
    market::payments::get(&IcRuntime, id.0?)
}

/// The payments of the caller's executions, or of a provider's as its delegate: a statement,
/// a page at a time, every transfer with its ledger block.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn payments_list(arg: Checked<PaymentsListArg>) -> Result<PaymentPage, MarketError> {
    market::payments::list(&IcRuntime, arg.0?)
}

/// Names where the provider's payouts go (absent: its key's own principal). Only the
/// provider's current key, calling as its own principal.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn provider_payout_set(arg: Checked<PayoutSetArg>) -> Result<ProviderPayout, MarketError> {
    market::payouts::set(&IcRuntime, arg.0?)
}

/// Where a provider's payouts go. Public.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn provider_payout(provider: Checked<ProviderKeyInput>) -> Result<ProviderPayout, MarketError> {
    market::payouts::get(provider.0?)
}

/// The FLOCX contract view of an accepted execution.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn contract_get(id: Checked<u64>) -> Result<Contract, MarketError> {
    market::lease::contract(&IcRuntime, id.0?)
}

/// The pez lease view of an execution.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn lease_get(id: Checked<u64>) -> Result<Lease, MarketError> {
    market::lease::lease(&IcRuntime, id.0?)
}

// --- market: policies and the audit log ---

/// The market's policies now. Public.
#[ic_cdk::query]
fn policies() -> Policies {
    market::policy::get()
}

/// Changes the market's policies. Controllers only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn policies_set(arg: Checked<PoliciesUpdate>) -> Result<Policies, MarketError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(MarketError::NotAuthorized {
            message: "only controllers set policies".into(),
        });
    }
    market::policy::set(arg.0?)
}

/// Who may hold a provider's items (everyone, the controllers' allow-list, its own), and its
/// allow-list's changes. The provider's delegates.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn provider_hold_access_set(
    arg: Checked<ProviderHoldAccessArg>,
) -> Result<ProviderHoldAccess, MarketError> {
    market::offerset::set_provider_access(&IcRuntime, arg.0?)
}

/// Creates a project the caller owns: a group of principals private offers may be shown to
/// (`terms.visible_to_projects`). Any identity.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn project_create(arg: Checked<ProjectCreateArg>) -> Result<Project, MarketError> {
    market::projects::create(&IcRuntime, arg.0?)
}

/// Adds and removes a project's members, or renames it. Its owner only.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn project_update(arg: Checked<ProjectUpdateArg>) -> Result<Project, MarketError> {
    market::projects::update(&IcRuntime, arg.0?)
}

/// One project with its members. Its members and the controllers.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn project_get(id: Checked<u64>) -> Result<Project, MarketError> {
    market::projects::get(&IcRuntime, id.0?)
}

/// The projects the caller is a member of, a page at a time from the id after `after`.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn projects_mine(after: Checked<Option<u64>>) -> Result<ProjectPage, MarketError> {
    market::projects::mine(&IcRuntime, after.0?)
}

/// Audit entries the caller may read: controllers all, consumers their own, providers' delegates
/// their provider's.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn audit_log(arg: Checked<AuditArg>) -> Result<AuditPage, MarketError> {
    let arg = arg.0?;
    let acts_for = |pem: &str| market::delegation::caller_acts_for(&IcRuntime, pem);
    let reader = market::audit::Reader {
        principal: IcRuntime.caller(),
        is_controller: auth::caller_is_controller(&IcRuntime),
        acts_for: &acts_for,
    };
    market::audit::page(&reader, &arg)
}

/// One page of the market's rules checked over its records (`market::invariants`): the
/// violations found, and the cursor of the next page. Controllers only.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn market_self_check(arg: Checked<SelfCheckArg>) -> Result<SelfCheckPage, MarketError> {
    if !auth::caller_is_controller(&IcRuntime) {
        return Err(MarketError::NotAuthorized {
            message: "only controllers run the market's self-check".into(),
        });
    }
    market::invariants::self_check_page(arg.0?)
}

// --- provisioning (Ironic) ---
//
// The operation id is the node UUID. Who may provision a server: the lessee of an active lease
// on it, its provider's delegates, controllers; a lease's start and end provision and
// undeploy on their own. Outcalls are visible to the subnet's node operators (README).

use provision::{
    IronicBudgetGrantArg, IronicConfigureArg, IronicSettingsView, ProvisionError, ProvisionRequest,
    ProvisionResponse, ProvisionStatus, SimFailureArg,
};

/// Provisions a server (a specific node, or any available one of a resource class) with an
/// image.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn provision_server(
    arg: Checked<ProvisionRequest>,
) -> Result<ProvisionResponse, ProvisionError> {
    let request = arg.0?;
    provision::service::provision_server(&IcRuntime, request).await
}

/// The operation's last known state (no outcall).
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn provision_status(operation_id: Checked<String>) -> Result<ProvisionStatus, ProvisionError> {
    provision::service::status(&IcRuntime, &operation_id.0?)
}

/// Reads the node from Ironic now and returns the updated state.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
async fn provision_refresh(
    operation_id: Checked<String>,
) -> Result<ProvisionStatus, ProvisionError> {
    let operation_id = operation_id.0?;
    provision::service::refresh(&IcRuntime, &operation_id).await
}

/// Sets a provider's Ironic backend. The provider's delegates or controllers.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn ironic_configure(
    arg: Checked<IronicConfigureArg>,
) -> Result<IronicSettingsView, ProvisionError> {
    provision::settings::configure(&IcRuntime, arg.0?)
}

/// Which backend a provider uses; never its endpoint, microversion or credential.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(query)]
fn ironic_settings(arg: Checked<ProviderKeyInput>) -> Result<IronicSettingsView, ProvisionError> {
    provision::settings::view(&arg.0?)
}

/// Makes a simulated node's next deploy or clean fail. The provider's delegates or controllers.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn ironic_sim_set_failure(arg: Checked<SimFailureArg>) -> Result<(), ProvisionError> {
    provision::service::sim_set_failure(&IcRuntime, arg.0?)
}

/// The transform of the node reads; the name is referenced by `ironic::nodes`.
#[ic_cdk::query(decode_with = "decode_checked", hidden = true)]
fn transform_ironic_nodes(args: Checked<TransformArgs>) -> HttpRequestResult {
    args.0
        .map(|args| ironic::nodes::transform(args.response))
        .unwrap_or_default()
}

/// Adds cycles to a provider's outcall budget, which pays its Ironic's outcalls. Controllers.
#[ic_cdk::update(decode_with = "decode_checked", hidden = true)]
#[candid::candid_method(update)]
fn ironic_budget_grant(
    arg: Checked<IronicBudgetGrantArg>,
) -> Result<IronicSettingsView, ProvisionError> {
    provision::budget::grant(&IcRuntime, arg.0?)
}

// Only the interface test reads the exported service; the wasm carries the .did as metadata.
#[cfg(test)]
ic_cdk::export_candid!();
