//! Every canister method that takes an argument, with its argument's Rust type: the
//! `candid_args` target decodes with these exactly as the endpoints do (`decode_checked`) and
//! checks that what decodes encodes again to the same value.

use crate::decode_and_reencode;
use ic_cdk_management_canister::TransformArgs;
use marketplace::api::*;
use marketplace::catalog::search::query::SearchQuery;
use marketplace::costs::OutcallCostsArg;
use marketplace::http::HttpRequest;

/// A method and the check of its argument bytes: `Err` when the endpoint would refuse them as
/// undecodable, a panic when a decoded value does not survive re-encoding.
#[derive(Clone, Copy)]
pub struct Typed {
    pub name: &'static str,
    pub check: fn(&[u8]) -> Result<(), String>,
}

macro_rules! typed {
    ($($name:literal : $ty:ty),* $(,)?) => {
        &[$(Typed { name: $name, check: decode_and_reencode::<$ty> }),*]
    };
}

/// After `init` and `post_upgrade` (which share `opt InitArg`), in the order of
/// `marketplace::methods::METHODS`.
pub static TYPED: &[Typed] = typed![
    "init": Option<InitArg>,
    "post_upgrade": Option<InitArg>,
    "state_digest_page": StateDigestPageArg,
    "http_request": HttpRequest,
    "ironic_discover": IronicDiscoverArg,
    "outcall_costs": OutcallCostsArg,
    "transform_ironic_root": TransformArgs,
    "catalog_replace": PublishArg,
    "catalog_upsert": PublishArg,
    "catalog_remove_offerings": RemoveOfferingsArg,
    "provider_remove": RemoveProviderArg,
    "provider_freeze": ProviderFreezeArg,
    "provider_rotate_key": RotateKeyArg,
    "catalog_upload_begin": UploadBeginArg,
    "catalog_upload_append": UploadAppendArg,
    "catalog_upload_commit": UploadRef,
    "catalog_upload_status": UploadRef,
    "catalog_changes": ChangesArg,
    "offering_get": OfferingGetArg,
    "provider_offerings": ProviderOfferingsArg,
    "offerings_search": SearchQuery,
    "provider_catalog_export": CatalogExportArg,
    "market_delegate": DelegateArg,
    "market_delegation": ProviderKeyInput,
    "provider_recover": RecoverKeyArg,
    "inventory_register": InventoryRegisterArg,
    "inventory_set_status": InventorySetStatusArg,
    "inventory_remove": InventoryRemoveArg,
    "inventory_get": u64,
    "inventory_list": InventoryListArg,
    "offer_create": OfferCreateArg,
    "offers_create": OffersCreateArg,
    "offer_withdraw": OfferWithdrawArg,
    "offer_get": u64,
    "offers_list": OffersListArg,
    "availability": AvailabilityArg,
    "offerset_request": ResourceRequest,
    "offerset_get": u64,
    "execution_accept": AcceptArg,
    "execution_cancel": CancelArg,
    "lease_extend": ExtendArg,
    "lease_end": u64,
    "lease_by_sku": LeaseBySkuArg,
    "lease_reclaim": ReclaimArg,
    "lease_set_consumer_meta": SetConsumerMetaArg,
    "lease_set_procurement_meta": SetProcurementMetaArg,
    "execution_get": u64,
    "executions_list": ExecutionsListArg,
    "contract_get": u64,
    "lease_get": u64,
    "policies_set": PoliciesUpdate,
    "provider_hold_access_set": ProviderHoldAccessArg,
    "audit_log": AuditArg,
    "market_self_check": SelfCheckArg,
    "provision_server": ProvisionRequest,
    "provision_status": String,
    "provision_refresh": String,
    "ironic_configure": IronicConfigureArg,
    "ironic_settings": ProviderKeyInput,
    "ironic_sim_set_failure": SimFailureArg,
    "transform_ironic_nodes": TransformArgs,
    "ironic_budget_grant": IronicBudgetGrantArg,
    "project_create": ProjectCreateArg,
    "project_update": ProjectUpdateArg,
    "project_get": u64,
    "projects_mine": Option<u64>,
    "execution_payment": u64,
    "provider_payout_set": PayoutSetArg,
    "provider_payout": ProviderKeyInput,
    "payments_list": PaymentsListArg,
];

/// The typed check of `name`, if it takes an argument.
pub fn typed(name: &str) -> Option<&'static Typed> {
    TYPED.iter().find(|m| m.name == name)
}

/// A method the target can pick by the first input byte.
#[derive(Clone, Copy)]
pub struct Pick {
    pub name: &'static str,
    /// The endpoint's own decoder (`marketplace::methods::METHODS`' `decode`).
    pub decode: Option<fn(&[u8]) -> Result<(), String>>,
    /// The typed check, for methods with an argument.
    pub typed: Option<&'static Typed>,
}

/// The methods the first input byte picks from (byte modulo their number): every method of
/// `marketplace::methods::METHODS`, in its order, with its typed check when it takes an
/// argument. Panics if METHODS has a method with an argument that [`TYPED`] lacks, or the
/// other way round, so the table cannot drift from the canister's.
pub fn picks() -> Vec<Pick> {
    use marketplace::methods::METHODS;
    let picks: Vec<Pick> = METHODS
        .iter()
        .map(|method| {
            let typed = typed(method.name);
            // A method without an argument takes any bytes; one with an argument refuses these.
            let takes_argument = (method.decode)(b"not candid").is_err();
            assert_eq!(
                takes_argument,
                typed.is_some(),
                "{}: the fuzz table's typed checks (fuzz/src/methods.rs) and METHODS disagree",
                method.name
            );
            Pick {
                name: method.name,
                decode: Some(method.decode),
                typed,
            }
        })
        .collect();
    for typed in TYPED {
        if typed.name != "init" && typed.name != "post_upgrade" {
            assert!(
                picks.iter().any(|p| p.name == typed.name),
                "{} is not in METHODS",
                typed.name
            );
        }
    }
    // init and post_upgrade are not methods a caller picks, but decode the same way.
    let mut picks = picks;
    for name in ["init", "post_upgrade"] {
        picks.push(Pick {
            name,
            decode: None,
            typed: typed(name),
        });
    }
    picks
}

/// The first byte that picks `name`, for seeds.
pub fn selector(picks: &[Pick], name: &str) -> Option<u8> {
    picks.iter().position(|p| p.name == name).map(|i| i as u8)
}
