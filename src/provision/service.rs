//! Provision, status, refresh; who may; and the steps the manager runs for leases. TODO(helper)

use super::types::*;
use crate::market::Execution;
use crate::runtime::Runtime;

/// `provision_server`: the lessee of an active lease on the server, the server's provider (a
/// delegate), or a controller.
pub async fn provision_server(
    rt: &impl Runtime,
    request: ProvisionRequest,
) -> Result<ProvisionResponse, ProvisionError> {
    todo!("{} {request:?}", rt.time())
}

/// The operation's last known state, without an outcall.
pub fn status(rt: &impl Runtime, operation_id: &str) -> Result<ProvisionStatus, ProvisionError> {
    todo!("{} {operation_id}", rt.time())
}

/// Reads the node from Ironic now and updates the operation.
pub async fn refresh(
    rt: &impl Runtime,
    operation_id: &str,
) -> Result<ProvisionStatus, ProvisionError> {
    todo!("{} {operation_id}", rt.time())
}

/// `ironic_sim_set_failure`: the provider's delegates or controllers.
pub fn sim_set_failure(rt: &impl Runtime, arg: SimFailureArg) -> Result<(), ProvisionError> {
    todo!("{} {arg:?}", rt.time())
}

/// A lease starts on an Ironic node: records a deploy operation and queues its first step.
pub fn begin_deploy(rt: &impl Runtime, execution: &Execution) {
    todo!("{} {execution:?}", rt.time())
}

/// A lease ends (or is cancelled) on an Ironic node: records an undeploy and queues its step.
pub fn begin_undeploy(rt: &impl Runtime, execution: &Execution) {
    todo!("{} {execution:?}", rt.time())
}

/// The manager's asynchronous task: the next step of the item's operation (ask Ironic, or read
/// the node and move the operation and its lease on).
pub async fn step(rt: &impl Runtime, item_id: u64) {
    todo!("{} {item_id}", rt.time())
}
