//! Lease hooks: the operations a lease's start or end, or the provider's own deploy, begins.

use super::schedule::{new_operation, start};
use crate::market::{store, Execution, Item, Phase};
use crate::provision::operations::{self, Operation};
use crate::provision::types::*;
use crate::runtime::Runtime;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::Failed;

/// A lease starts on an Ironic node: records a deploy operation and queues its first step.
pub fn begin_deploy(rt: &impl Runtime, execution: &Execution) {
    let now = rt.time();
    let Some(item) = store::item(execution.item_id) else {
        return;
    };
    let previous = operations::get(item.id);
    let mut operation = new_operation(now, &item, Deploy, previous.as_ref());
    operation.image = execution.image.clone();
    operation.lessee = execution.project.clone();
    operation.execution_id = Some(execution.id);
    operation.message = format!(
        "Deploy of {} accepted for lease {}.",
        execution.image, execution.id
    );
    start(rt, operation, previous.as_ref());
}

/// A lease ends (or is cancelled) on an Ironic node: records an undeploy and queues its step.
/// When the node is clean the lease takes `release_to` with `why`.
pub fn begin_undeploy(
    rt: &impl Runtime,
    execution: &Execution,
    release_to: Option<Phase>,
    why: &str,
) {
    let now = rt.time();
    let Some(item) = store::item(execution.item_id) else {
        return;
    };
    let previous = operations::get(item.id);
    let mut operation = new_operation(now, &item, Undeploy, previous.as_ref());
    operation.lessee = execution.project.clone();
    operation.execution_id = Some(execution.id);
    operation.release_to = release_to;
    operation.release_why = why.into();
    operation.message = format!("Undeploy accepted for lease {}.", execution.id);
    start(rt, operation, previous.as_ref());
}

/// Whether the item's node carries a deploy made outside the market (not for a lease) that
/// has not failed: it must be undeployed before the item is leased again.
pub fn direct_deploy_on(item_id: u64) -> bool {
    operations::get(item_id)
        .is_some_and(|op| op.kind == Deploy && op.execution_id.is_none() && op.status != Failed)
}

/// The provider puts an item it deployed directly back on the market: undeploy and clean the
/// node; the item (Rebuilding) is available again once that is done.
pub fn begin_direct_undeploy(rt: &impl Runtime, item: &Item) {
    let now = rt.time();
    let previous = operations::get(item.id);
    let mut operation = new_operation(now, item, Undeploy, previous.as_ref());
    if let Some(previous) = &previous {
        operation.lessee = previous.lessee.clone();
    }
    operation.message = "Undeploy accepted: the item goes back to the market.".into();
    start(rt, operation, previous.as_ref());
}

/// Undeploys the node a failed (or unwanted) deploy left, to give its item back once clean.
pub(super) fn begin_cleanup(rt: &impl Runtime, deploy: &Operation) {
    let now = rt.time();
    let Some(item) = store::item(deploy.item_id) else {
        return;
    };
    let mut operation = new_operation(now, &item, Undeploy, Some(deploy));
    operation.lessee = deploy.lessee.clone();
    operation.execution_id = deploy.execution_id;
    operation.message = "Undeploy accepted to clean the node after the deploy.".into();
    start(rt, operation, Some(deploy));
}
