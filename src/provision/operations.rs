//! The current (or last) operation of each node, by item id, in stable memory: what a status
//! query answers from without an outcall. TODO(helper)

use super::types::{OperationKind, OperationStatus, ProvisionStatus};
use candid::{CandidType, Deserialize};

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub item_id: u64,
    pub server_id: String,
    pub server_name: String,
    pub provider_pem: String,
    pub kind: OperationKind,
    pub image: String,
    pub config_drive: Option<String>,
    /// Set as the node's `lessee`: the lease's project.
    pub lessee: String,
    pub execution_id: Option<u64>,
    pub status: OperationStatus,
    pub provision_state: String,
    pub seen_wait_callback: bool,
    pub message: String,
    pub started_at_ns: u64,
    pub completed_at_ns: Option<u64>,
    pub checked_at_ns: u64,
    /// Failed attempts in a row (transient Ironic errors), for the backoff.
    pub attempts: u32,
}

pub fn get(item_id: u64) -> Option<Operation> {
    todo!("{item_id}")
}

pub fn put(operation: &Operation) {
    todo!("{operation:?}")
}

pub fn view(operation: &Operation) -> ProvisionStatus {
    todo!("{operation:?}")
}
