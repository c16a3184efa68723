//! The provisioning API's Candid types (seed 004's schemas) and per-provider Ironic settings.
//! Times are nanoseconds since the Unix epoch.

use crate::catalog::provider::ProviderKeyInput;
use candid::{CandidType, Deserialize};

pub use crate::market::operations::{OperationKind, OperationStatus};

/// Provision a server: a specific one (`server_id`, the Ironic node UUID), or any available
/// one of `resource_class` among `provider`'s nodes.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvisionRequest {
    pub server_id: Option<String>,
    pub resource_class: Option<String>,
    /// The OS image (Glance id or name, or an image URL Ironic can fetch).
    pub image_id: String,
    /// Cloud-init user data for the config drive.
    pub config_drive: Option<String>,
    /// Whose nodes: required to auto-select, and to name a server that several providers have.
    pub provider: Option<ProviderKeyInput>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionResponse {
    /// The node UUID: the operation is the node's current one.
    pub operation_id: String,
    pub server_id: String,
    pub server_name: String,
    /// The market item of the node.
    pub item_id: u64,
    pub status: OperationStatus,
    pub message: String,
    pub started_at_ns: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionStatus {
    pub operation_id: String,
    pub server_id: String,
    pub item_id: u64,
    pub kind: OperationKind,
    pub status: OperationStatus,
    /// Ironic's `provision_state` when last read.
    pub provision_state: String,
    /// Derived from the provision state (`provision::state`).
    pub progress_percent: Option<u8>,
    pub message: String,
    pub started_at_ns: u64,
    pub completed_at_ns: Option<u64>,
    /// When Ironic was last read.
    pub checked_at_ns: u64,
    /// The lease this operation serves, if any.
    pub execution_id: Option<u64>,
}

/// `ironic_configure`: fields given replace the provider's current settings.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IronicConfigureArg {
    pub provider: ProviderKeyInput,
    /// Base URL of the provider's Ironic API; `Some("")` goes back to the simulated Ironic.
    pub endpoint: Option<String>,
    /// Sent as `X-OpenStack-Ironic-API-Version` (default "1.81").
    pub microversion: Option<String>,
    /// Sent as `X-Auth-Token`. Visible to the subnet's node operators: scope it (README).
    pub auth_token: Option<String>,
    /// Images this provider deploys; empty allows any.
    pub images: Option<Vec<String>>,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Simulated,
    Ironic,
}

/// What anyone may know of a provider's settings: never the endpoint, the microversion or the
/// credential.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IronicSettingsView {
    pub provider_pem: String,
    pub backend: Backend,
    pub credential_set: bool,
    pub images: Vec<String>,
    /// Cycles the provider's outcalls may still attach (0 on none granted); the simulated
    /// Ironic needs none.
    pub outcall_budget_cycles: u128,
}

/// `ironic_budget_grant`: adds `cycles` to the provider's outcall budget.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IronicBudgetGrantArg {
    pub provider: ProviderKeyInput,
    pub cycles: u128,
}

/// `ironic_sim_set_failure`: make the simulated node's next deploy or clean fail.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SimFailureArg {
    pub provider: ProviderKeyInput,
    pub server_id: String,
    pub fail_deploy: bool,
    pub fail_clean: bool,
}
