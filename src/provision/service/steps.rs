//! The queue's step: ask Ironic what the operation needs, read its node, move it on.

use super::errors::describe;
use super::outcomes::{asked, complete, deadline_ns, fail, retry, settle, timed_out};
use super::schedule::{lock, resume};
use super::{poll_interval_ns, DELETABLE};
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{ClientError, Ironic, Node, Target};
use crate::market::operations::{self, plan, Operation};
use crate::market::store;
use crate::provision::settings;
use crate::provision::state;
use crate::provision::types::*;
use crate::runtime::Runtime;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::{Accepted, Completed};

/// The queue's asynchronous task: the next step of the item's operation (ask Ironic, or read
/// the node and move the operation and its lease on). Returns at once when the operation is
/// finished, or when another step is planned later or awaiting Ironic now.
pub async fn step(rt: &impl Runtime, item_id: u64) {
    step_with(rt, item_id, settings::client).await;
}

/// [`step`] with the backend made by `client`, so tests can interleave messages with its
/// awaits.
pub(super) async fn step_with<'a, R: Runtime, I: Ironic>(
    rt: &'a R,
    item_id: u64,
    client: impl FnOnce(&'a R, &ProviderKey) -> I,
) {
    let now = rt.time();
    let Some(mut operation) = operations::get(item_id) else {
        return;
    };
    if !operation.is_active() || now < operation.next_step_ns || now < operation.locked_until_ns {
        return;
    }
    let settings = settings::of_pem(&operation.provider_pem);
    if let Some(why) = timed_out(&operation, now) {
        fail(rt, &mut operation, why, true);
        return;
    }
    if operation.kind == Deploy
        && operation.status == Accepted
        && !settings.allows_image(&operation.image)
    {
        let why = format!(
            "Image {} not found: the provider does not deploy it.",
            operation.image
        );
        fail(rt, &mut operation, why, false);
        return;
    }
    lock(rt, &mut operation, now);
    let (generation, lock) = (operation.generation, operation.locked_until_ns);
    let ironic = client(rt, &store::provider_key(&operation.provider_pem));
    let result = act(&ironic, &operation).await;
    let Some(mut operation) = resume(rt, item_id, generation, lock) else {
        return;
    };
    let now = rt.time();
    match result {
        Ok(done) => {
            observe(&mut operation, done.node(), now);
            match done {
                Done::Asked(_) => {
                    let what = match operation.kind {
                        Deploy => "Deploy requested.",
                        Undeploy => "Undeploy requested.",
                    };
                    asked(rt, &mut operation, what);
                }
                Done::Cleared(_) => {
                    complete(rt, &mut operation, "Undeployed, cleaned and cleared.")
                }
                Done::Read(node) => {
                    // Completing or failing stores the operation before its lease moves on
                    // (which may start the next operation of the item).
                    settle(rt, &mut operation, &node);
                    if operation.is_active() {
                        let age = now.saturating_sub(operation.started_at_ns);
                        let wait = poll_interval_ns(settings.backend(), age);
                        // Backing off never delays the stuck timeout's verdict.
                        let next = now.saturating_add(wait).min(deadline_ns(&operation));
                        plan(rt, &mut operation, next.max(now));
                        operations::put(&operation);
                    }
                }
            }
        }
        Err(e) if e.is_transient() => retry(rt, &mut operation, &settings, &e),
        Err(e) => fail(rt, &mut operation, describe(&settings, &e), true),
    }
}

/// What a step did with Ironic, and the node as it read it.
enum Done {
    /// Read the node only.
    Read(Node),
    /// Asked Ironic to deploy or undeploy.
    Asked(Node),
    /// The undeploy is over and the lessee and image are cleared.
    Cleared(Node),
}

impl Done {
    fn node(&self) -> &Node {
        match self {
            Self::Read(node) | Self::Asked(node) | Self::Cleared(node) => node,
        }
    }
}

/// Whether `operation` is still the item's current one: other messages run during every
/// await, and one of them may have replaced it (a lease cancelled, ended, or found stuck).
fn current(operation: &Operation) -> bool {
    operations::get(operation.item_id).is_some_and(|now| now.generation == operation.generation)
}

/// The Ironic calls of a step: read the node, then ask what the operation needs from there,
/// unless the operation was replaced while the node was read.
async fn act<I: Ironic>(ironic: &I, operation: &Operation) -> Result<Done, ClientError> {
    let uuid = operation.server_id.as_str();
    let node = ironic.node(uuid).await?;
    if !current(operation) {
        return Ok(Done::Read(node));
    }
    let state = node.provision_state.as_str();
    match (operation.kind, operation.status) {
        (Deploy, Accepted) if state == "available" && !node.maintenance => {
            request_deploy(ironic, operation).await?;
            Ok(Done::Asked(node))
        }
        (Undeploy, Accepted) if DELETABLE.contains(&state) => {
            ironic
                .set_provision_state(uuid, Target::Deleted, None)
                .await?;
            Ok(Done::Asked(node))
        }
        (Undeploy, _) if state::status(Undeploy, state, false).0 == Completed => {
            ironic.clear_instance(uuid).await?;
            Ok(Done::Cleared(node))
        }
        _ => Ok(Done::Read(node)),
    }
}

/// Sets the image and the lessee, then asks for `active` unless the operation was replaced
/// meanwhile (its successor finds the node available, with an instance it clears).
pub(super) async fn request_deploy<I: Ironic>(
    ironic: &I,
    operation: &Operation,
) -> Result<(), ClientError> {
    let uuid = operation.server_id.as_str();
    ironic
        .set_instance(uuid, &operation.image, &operation.lessee)
        .await?;
    if !current(operation) {
        return Ok(());
    }
    // The node carries the image and the lessee now: if the deploy fails from here on, the
    // node is cleaned (and the lessee cleared), not left to the failed lease's project.
    mark_touched(operation);
    ironic
        .set_provision_state(uuid, Target::Active, operation.config_drive.as_deref())
        .await
}

/// Records in the stored operation (still the current one) that Ironic changed its node.
fn mark_touched(operation: &Operation) {
    if let Some(mut stored) = operations::get(operation.item_id)
        .filter(|stored| stored.generation == operation.generation && !stored.touched)
    {
        stored.touched = true;
        operations::put(&stored);
    }
}

/// Records what a reading of the node says, without deciding anything.
pub(super) fn observe(operation: &mut Operation, node: &Node, now: u64) {
    operation.provision_state = node.provision_state.clone();
    operation.checked_at_ns = now;
    if let Some(name) = node.name.as_ref().filter(|name| !name.is_empty()) {
        operation.server_name = name.clone();
    }
    if state::is_wait(operation.kind, &node.provision_state) {
        operation.seen_wait_callback = true;
    }
}
