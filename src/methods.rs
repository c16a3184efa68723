//! Every public method in one table: whether it is an update or a query, who may call it, how
//! large its argument may be, and how that argument decodes.
//!
//! The endpoints in `lib.rs` enforce access themselves (in the domain functions they call);
//! this table states it once, as data: `inspect_message` reads it to drop obviously bad ingress
//! early, the authorization test (`tests/authorization.rs`) calls every update for every caller
//! class and asserts the cell [`Access::allows`] gives, and the fuzzer decodes through it. A
//! unit test keeps it equal to `candid/marketplace.did`.

use crate::candid_io::{decode_arg, would_admit, ArgError};
use crate::runtime::Runtime;
use candid::{CandidType, Principal};
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Update,
    Query,
}

/// Who may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, the anonymous principal included.
    Anyone,
    /// Anyone may submit it; the provider's Ed25519 signature over the argument authorizes it.
    ProviderSignature,
    /// Any principal but the anonymous one; what it starts is its own (an upload, an offerset).
    Authenticated,
    /// The principal that began the upload, or whose offerset or lease it is (a consumer).
    Owner,
    /// The consumer (owner) and controllers: a lease's cancel, an offerset's read.
    OwnerOrController,
    /// The lessee (owner), the provider's delegates and controllers.
    OwnerDelegateOrController,
    /// The provider's delegates: principals it authorized with a signed `market_delegate`.
    Delegate,
    /// The provider's delegates and controllers.
    DelegateOrController,
    /// Controllers of the canister.
    Controller,
}

/// Who is calling, as the authorization matrix sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Anonymous,
    /// A principal the canister knows nothing about.
    Unknown,
    /// A delegate of another provider (signing with another provider's key where the method
    /// is signed).
    OtherProvider,
    /// The owner of what the call is about: the provider (its key or a delegate) or the
    /// consumer whose offerset, lease or upload it is.
    Owner,
    Controller,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Anonymous,
        Class::Unknown,
        Class::OtherProvider,
        Class::Owner,
        Class::Controller,
    ];
}

impl Access {
    /// The authorization matrix: whether a caller of `class` may call a method with this access
    /// about something it owns (or not).
    pub fn allows(self, class: Class) -> bool {
        use Class::*;
        match self {
            Access::Anyone => true,
            // The signature is the owner's whoever submits it; another provider's is refused.
            Access::ProviderSignature => class != OtherProvider,
            Access::Authenticated => class != Anonymous,
            Access::Owner => class == Owner,
            Access::OwnerOrController | Access::OwnerDelegateOrController => {
                matches!(class, Owner | Controller)
            }
            Access::Delegate => class == Owner,
            Access::DelegateOrController => matches!(class, Owner | Controller),
            Access::Controller => class == Controller,
        }
    }

    /// Whether the anonymous principal can ever be allowed, so `inspect_message` may drop its
    /// ingress.
    pub fn admits_anonymous(self) -> bool {
        matches!(self, Access::Anyone | Access::ProviderSignature)
    }
}

pub struct Method {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// Largest argument worth decoding, in bytes; larger ingress is dropped by
    /// `inspect_message` (the decoder's quota bounds the rest).
    pub max_arg_bytes: usize,
    /// Decodes an argument exactly as the endpoint does (within the decoding quota).
    pub decode: fn(&[u8]) -> Result<(), String>,
}

const KIB: usize = 1024;
/// The most an ingress message may carry.
const INGRESS: usize = 2 * KIB * KIB;

fn decode<T: CandidType + DeserializeOwned>(bytes: &[u8]) -> Result<(), String> {
    decode_arg::<T>(bytes).map(drop)
}

/// Methods without an argument ignore whatever bytes come with them.
fn no_argument(_: &[u8]) -> Result<(), String> {
    Ok(())
}

macro_rules! method {
    ($name:literal, $kind:ident, $access:ident, $max:expr, ()) => {
        Method {
            name: $name,
            kind: Kind::$kind,
            access: Access::$access,
            max_arg_bytes: $max,
            decode: no_argument,
        }
    };
    ($name:literal, $kind:ident, $access:ident, $max:expr, $arg:ty) => {
        Method {
            name: $name,
            kind: Kind::$kind,
            access: Access::$access,
            max_arg_bytes: $max,
            decode: decode::<$arg>,
        }
    };
}

use crate::api::*;
use crate::costs::OutcallCostsArg;
use crate::provision::{IronicBudgetGrantArg, IronicConfigureArg, ProvisionRequest, SimFailureArg};
use ic_cdk_management_canister::TransformArgs;

/// Every method the canister exports, in the order of `lib.rs`.
#[rustfmt::skip] // one row per method: it is a table
pub static METHODS: &[Method] = &[
    method!("status", Query, Anyone, KIB, ()),
    method!("state_digest", Query, Controller, KIB, ()),
    method!("state_digest_page", Query, Controller, KIB, StateDigestPageArg),
    method!("http_request", Query, Anyone, 64 * KIB, crate::http::HttpRequest),
    method!("ironic_discover", Update, Controller, 4 * KIB, IronicDiscoverArg),
    method!("outcall_costs", Query, Anyone, 4 * KIB, OutcallCostsArg),
    method!("transform_ironic_root", Query, Anyone, INGRESS, TransformArgs),
    // Catalogs: publishing.
    method!("catalog_replace", Update, ProviderSignature, INGRESS, PublishArg),
    method!("catalog_upsert", Update, ProviderSignature, INGRESS, PublishArg),
    method!("catalog_remove_offerings", Update, ProviderSignature, INGRESS, RemoveOfferingsArg),
    method!("provider_remove", Update, ProviderSignature, 4 * KIB, RemoveProviderArg),
    method!("provider_freeze", Update, Controller, 4 * KIB, ProviderFreezeArg),
    method!("provider_rotate_key", Update, ProviderSignature, 4 * KIB, RotateKeyArg),
    method!("catalog_upload_begin", Update, Authenticated, 4 * KIB, UploadBeginArg),
    method!("catalog_upload_append", Update, Owner, INGRESS, UploadAppendArg),
    method!("catalog_upload_commit", Update, Owner, KIB, UploadRef),
    method!("catalog_upload_status", Query, Anyone, KIB, UploadRef),
    method!("catalog_changes", Query, Anyone, KIB, ChangesArg),
    // Catalogs: search and export.
    method!("offering_get", Query, Anyone, 4 * KIB, OfferingGetArg),
    method!("provider_offerings", Query, Anyone, 4 * KIB, ProviderOfferingsArg),
    method!("offerings_search", Query, Anyone, 16 * KIB, SearchQuery),
    method!("provider_catalog_export", Query, Anyone, 4 * KIB, CatalogExportArg),
    // Market: providers.
    method!("market_delegate", Update, ProviderSignature, 4 * KIB, DelegateArg),
    method!("market_delegation", Query, Anyone, 4 * KIB, ProviderKeyInput),
    method!("provider_recover", Update, Controller, 4 * KIB, RecoverKeyArg),
    method!("inventory_register", Update, Delegate, INGRESS, InventoryRegisterArg),
    method!("inventory_set_status", Update, Delegate, 4 * KIB, InventorySetStatusArg),
    method!("inventory_remove", Update, Delegate, 4 * KIB, InventoryRemoveArg),
    method!("inventory_get", Query, Anyone, KIB, u64),
    method!("inventory_list", Query, Anyone, 4 * KIB, InventoryListArg),
    method!("products", Query, Anyone, KIB, ()),
    method!("offer_create", Update, Delegate, 16 * KIB, OfferCreateArg),
    method!("offers_create", Update, Delegate, INGRESS, OffersCreateArg),
    method!("offer_withdraw", Update, Delegate, 4 * KIB, OfferWithdrawArg),
    method!("offer_get", Query, Anyone, KIB, u64),
    method!("offers_list", Query, Anyone, 4 * KIB, OffersListArg),
    method!("availability", Query, Anyone, 4 * KIB, AvailabilityArg),
    // Market: consumers.
    method!("offerset_request", Update, Authenticated, 16 * KIB, ResourceRequest),
    method!("offerset_get", Query, OwnerOrController, KIB, u64),
    method!("execution_accept", Update, Owner, 4 * KIB, AcceptArg),
    method!("execution_cancel", Update, OwnerOrController, 4 * KIB, CancelArg),
    method!("lease_extend", Update, Owner, 4 * KIB, ExtendArg),
    method!("lease_end", Update, Owner, KIB, u64),
    method!("lease_by_sku", Update, Authenticated, 16 * KIB, LeaseBySkuArg),
    method!("lease_reclaim", Update, Delegate, 4 * KIB, ReclaimArg),
    method!("lease_set_consumer_meta", Update, Delegate, 128 * KIB, SetConsumerMetaArg),
    method!("lease_set_procurement_meta", Update, Delegate, 64 * KIB, SetProcurementMetaArg),
    method!("execution_get", Query, OwnerDelegateOrController, KIB, u64),
    method!("executions_list", Query, Authenticated, 4 * KIB, ExecutionsListArg),
    method!("contract_get", Query, OwnerDelegateOrController, KIB, u64),
    method!("lease_get", Query, OwnerDelegateOrController, KIB, u64),
    // Market: policies and the audit log.
    method!("policies", Query, Anyone, KIB, ()),
    method!("policies_set", Update, Controller, INGRESS, PoliciesUpdate),
    method!("provider_hold_access_set", Update, Delegate, 64 * KIB, ProviderHoldAccessArg),
    method!("audit_log", Query, Authenticated, 4 * KIB, AuditArg),
    method!("market_self_check", Query, Controller, KIB, SelfCheckArg),
    // Provisioning.
    method!("provision_server", Update, OwnerDelegateOrController, 128 * KIB, ProvisionRequest),
    method!("provision_status", Query, OwnerDelegateOrController, KIB, String),
    method!("provision_refresh", Update, OwnerDelegateOrController, KIB, String),
    method!("ironic_configure", Update, DelegateOrController, 128 * KIB, IronicConfigureArg),
    method!("ironic_settings", Query, Anyone, 4 * KIB, ProviderKeyInput),
    method!("ironic_sim_set_failure", Update, DelegateOrController, 4 * KIB, SimFailureArg),
    method!("transform_ironic_nodes", Query, Anyone, INGRESS, TransformArgs),
    method!("ironic_budget_grant", Update, Controller, 4 * KIB, IronicBudgetGrantArg),
    // Market: projects (last, so the fuzz seeds' method indices stay as they were).
    method!("project_create", Update, Authenticated, 8 * KIB, ProjectCreateArg),
    method!("project_update", Update, Owner, 8 * KIB, ProjectUpdateArg),
    method!("project_get", Query, OwnerOrController, KIB, u64),
    method!("projects_mine", Query, Authenticated, KIB, Option<u64>),
    // Payments: an execution's escrow and ledger transfers.
    method!("execution_payment", Query, OwnerDelegateOrController, KIB, u64),
    method!("provider_payout_set", Update, Owner, 4 * KIB, PayoutSetArg),
    method!("provider_payout", Query, Anyone, 4 * KIB, ProviderKeyInput),
    method!("payments_list", Query, Authenticated, 4 * KIB, PaymentsListArg),
];

pub fn find(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|method| method.name == name)
}

/// `inspect_message`'s verdict on an ingress update: drops what can never succeed (an unknown
/// method, an argument over the method's size or not of its type, an anonymous caller where
/// only identified ones are served, a caller over its rate limit) before the canister pays to
/// execute it. An optimisation, not a security check: a boundary node or a canister caller
/// bypasses it, and every endpoint checks the same again and answers with a typed error.
pub fn inspect(rt: &impl Runtime, method: &str, arg: &[u8]) -> Result<(), String> {
    let Some(found) = find(method) else {
        return Err(format!("no method {method}"));
    };
    if arg.len() > found.max_arg_bytes {
        return Err(format!(
            "{method} takes at most {} bytes of argument, got {}",
            found.max_arg_bytes,
            arg.len()
        ));
    }
    let caller = rt.caller();
    if caller == Principal::anonymous() && !found.access.admits_anonymous() {
        return Err(format!(
            "{method} needs an identity: the anonymous principal is never allowed"
        ));
    }
    // An anonymous relay of a signed change is limited by its signing key, not by the
    // anonymous principal's bucket that every relay would share.
    if caller == Principal::anonymous() && found.access == Access::ProviderSignature {
        (found.decode)(arg).map_err(|message| format!("{method}: {message}"))?;
        return inspect_relay(rt, method, arg).map_err(|why| format!("{method}: {why}"));
    }
    if let Err(ArgError::RateLimited {
        retry_after_seconds,
    }) = would_admit(rt, &caller)
    {
        return Err(format!(
            "rate limited: retry {method} in {retry_after_seconds} s"
        ));
    }
    (found.decode)(arg).map_err(|message| format!("{method}: {message}"))
}

/// Checks an anonymous relay's signature and its key's rate limit (see
/// [`signing::inspect_relayed`]); the argument decoded already.
fn inspect_relay(rt: &impl Runtime, method: &str, arg: &[u8]) -> Result<(), String> {
    use crate::catalog::signing::{self, Operation};
    let publish = |op: Operation| {
        let a: PublishArg = decode_arg(arg)?;
        signing::inspect_relayed(rt, &a.provider, op, a.seq, &a.csv, &a.signature)
    };
    match method {
        "catalog_replace" => publish(Operation::ReplaceCatalog),
        "catalog_upsert" => publish(Operation::UpsertOfferings),
        "catalog_remove_offerings" => {
            let a: RemoveOfferingsArg = decode_arg(arg)?;
            let payload = signing::remove_offerings_payload(&a.keys);
            let op = Operation::RemoveOfferings;
            signing::inspect_relayed(rt, &a.provider, op, a.seq, &payload, &a.signature)
        }
        "provider_remove" => {
            let a: RemoveProviderArg = decode_arg(arg)?;
            let op = Operation::RemoveProvider;
            signing::inspect_relayed(rt, &a.provider, op, a.seq, b"", &a.signature)
        }
        "market_delegate" => {
            let a: DelegateArg = decode_arg(arg)?;
            let payload =
                crate::market::delegation::payload(&a.principal, a.allow, a.expires_at_ns);
            let op = Operation::Delegate;
            signing::inspect_relayed(rt, &a.provider, op, a.seq, &payload, &a.signature)
        }
        "provider_rotate_key" => {
            let a: RotateKeyArg = decode_arg(arg)?;
            let new_key = crate::catalog::provider::ProviderKey::parse(&a.new_key)?;
            let op = Operation::RotateKey;
            signing::inspect_relayed(rt, &a.provider, op, a.seq, new_key.as_bytes(), &a.signature)
        }
        // A signed method this match does not know yet is checked by its endpoint.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
