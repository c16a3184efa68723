//! The provisioning endpoints: servers through Ironic, its configuration and outcall budget.

use crate::candid_io::{decode_checked, Checked};
use crate::catalog::provider::ProviderKeyInput;
use crate::runtime::IcRuntime;
use crate::{ironic, provision};
use ic_cdk_management_canister::{HttpRequestResult, TransformArgs};

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
