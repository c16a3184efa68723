//! The market's endpoints: delegation, inventory, offers, offersets, executions (contracts,
//! leases), payments, policies, projects, the audit log and the self-check.

use crate::candid_io::{decode_checked, decode_signed, Checked};
use crate::catalog::keys::RecoverKeyArg;
use crate::catalog::provider::ProviderKeyInput;
use crate::runtime::{IcRuntime, Runtime as _};
use crate::{auth, market, provision};

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
