//! Provision, status, refresh; who may; and the steps the manager runs for leases.
//!
//! **Who may.** Provisioning a server, reading or refreshing its operation: controllers, the
//! delegates of the server's provider, and the lessee of an active lease on it (its execution
//! PREPARING or AVAILABLE; for reads, also the consumer of the lease the operation serves).
//! Auto-selection is for providers and controllers only. Every check is made before any
//! outcall.
//!
//! **Operations.** The operation id is the node UUID; the canister keeps the item's current
//! operation (`operations`), so a status query answers from the last state read. A deploy
//! sets the image and lessee, then asks for `active`; an undeploy asks for `deleted`, waits
//! for Ironic's cleaning to bring the node back to `available`, then clears the lessee.
//!
//! **Steps.** The manager's `ProvisionStep { item_id }` moves the item's operation on:
//!
//! ```text
//! Accepted ──ask Ironic──► InProgress ──poll every 10 s──► Completed
//!    │ ▲ transient error:          │ ▲ transient error:    └──► Failed (typed message)
//!    └─┘ retry with backoff        └─┘ retry with backoff
//! ```
//!
//! Before its first await a step queues a fallback step (5 min later) and takes a lock
//! (`operations`), so a trap after an await loses no work and no two steps of an item await at
//! once. After every await it reads the operation again: one replaced meanwhile (a lease
//! cancelled while its deploy was under way) is left to its successor, which gets the lock.
//! An operation not finished within the market's stuck timeout fails.
//!
//! **Leases.** A lease's start records a deploy (`begin_deploy`); when it completes the lease
//! becomes AVAILABLE, when it fails the lease FAILS with Ironic's `last_error` and, if Ironic
//! was asked to deploy, an undeploy cleans the node. A lease's end (or cancel) records an
//! undeploy (`begin_undeploy`); when the node is clean the lease is COMPLETED (or CANCELLED) and
//! its item available; when cleaning fails the lease still ends and the item goes to
//! Maintenance.

use super::operations::{self, Operation};
use super::settings::{self, Settings};
use super::state;
use super::types::*;
use super::ProvisionError;
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{ClientError, Ironic, Node, Target};
use crate::manager::{self, Task};
use crate::market::{
    delegation, inventory, lease, store, Actor, Execution, Item, ItemStatus, Phase,
};
use crate::runtime::Runtime;
use crate::time::SECOND_NS;
use candid::Principal;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::{Accepted, Completed, Failed, InProgress};

/// How often an operation under way reads its node.
pub const POLL_NS: u64 = 10 * SECOND_NS;
/// When the fallback step of a step that awaits Ironic is due.
pub const FALLBACK_NS: u64 = 300 * SECOND_NS;
/// A step reuses the fallback already queued when it is at least this far away.
const MIN_LOCK_NS: u64 = 120 * SECOND_NS;
/// Longest config drive (cloud-init user data).
pub const MAX_CONFIG_DRIVE_BYTES: usize = 64 * 1024;
/// A node is read for `provision_refresh` at most once per poll interval unless a controller
/// asks: each read is an outcall the canister pays for, and lessees could otherwise spend its
/// cycles as fast as their rate limit lets them. Within the interval the last known state is
/// the answer.
pub const REFRESH_INTERVAL_NS: u64 = POLL_NS;

thread_local! {
    /// When each node (by item id) was last read for a refresh. Heap only: an upgrade forgetting
    /// it allows one more read.
    static REFRESHED_AT: std::cell::RefCell<std::collections::BTreeMap<u64, u64>> =
        std::cell::RefCell::default();
}
/// Longest image id, server id, resource class.
const MAX_TEXT_BYTES: usize = crate::market::MAX_TEXT_BYTES;
/// States Ironic undeploys from (`deleted`).
const DELETABLE: [&str; 6] = [
    "active",
    "deploy failed",
    "error",
    "rescue",
    "rescue failed",
    "unrescue failed",
];

// --- the API ---

/// `provision_server`: the lessee of an active lease on the server, the server's provider (a
/// delegate), or a controller; auto-selection by the provider or a controller.
pub async fn provision_server(
    rt: &impl Runtime,
    request: ProvisionRequest,
) -> Result<ProvisionResponse, ProvisionError> {
    check_request(&request)?;
    let provider = request
        .provider
        .as_ref()
        .map(ProviderKey::parse_for_lookup)
        .transpose()
        .map_err(ProvisionError::invalid)?;
    let image = request.image_id.clone();
    let (item, node) = match request.server_id.as_deref() {
        Some(server_id) => {
            let item = find_item(server_id, provider.as_ref())?;
            authorize(rt, &item, None)?;
            check_image(&item.provider_pem, &image)?;
            check_free(rt, &item)?;
            let settings = settings::of_pem(&item.provider_pem);
            let ironic = settings::client(rt, &store::provider_key(&item.provider_pem));
            let node = ironic
                .node(server_id)
                .await
                .map_err(|e| typed(&settings, server_id, e))?;
            (item, node)
        }
        None => auto_select(rt, &request, provider).await?,
    };
    let server_id = item.resource_uuid.clone();
    if node.provision_state != "available" || node.maintenance {
        let provision_state = if node.maintenance {
            format!("{} (maintenance)", node.provision_state)
        } else {
            node.provision_state
        };
        return Err(ProvisionError::ServerNotAvailable {
            server_id,
            provision_state,
        });
    }
    // Other messages ran during the read: the item may be gone, taken or busy now.
    let mut item = store::item(item.id).ok_or_else(|| ProvisionError::ServerNotFound {
        server_id: server_id.clone(),
    })?;
    check_free(rt, &item)?;

    let now = rt.time();
    let previous = operations::get(item.id);
    let caller = rt.caller();
    if lessee_lease(caller, &item).is_none() {
        // Deployed outside the market: the market must not lease it meanwhile. Taken out
        // before the first call that changes the node, so no lease can start on it.
        take_for_provider(rt, &mut item)?;
    }
    // The node's lessee: the lease's project when its lessee provisions, else the caller.
    let lessee =
        lessee_lease(caller, &item).map_or_else(|| caller.to_text(), |execution| execution.project);
    let mut operation = new_operation(now, &item, Deploy, previous.as_ref());
    operation.server_name = node.name.clone().unwrap_or_else(|| server_id.clone());
    operation.image = image;
    operation.config_drive = request.config_drive.filter(|drive| !drive.is_empty());
    operation.lessee = lessee;
    operation.provision_state = node.provision_state.clone();
    operation.message = format!("Deploy of {} accepted.", operation.image);
    // Recorded, with its fallback queued, before the calls that change the node.
    lock(rt, &mut operation, now);
    let (generation, lock) = (operation.generation, operation.locked_until_ns);
    let settings = settings::of_pem(&item.provider_pem);
    let ironic = settings::client(rt, &store::provider_key(&item.provider_pem));
    let result = request_deploy(&ironic, &operation).await;
    let Some(mut operation) = resume(rt, item.id, generation, lock) else {
        let provision_state = operations::get(item.id)
            .map(|current| current.provision_state)
            .unwrap_or_default();
        return Err(ProvisionError::ServerNotAvailable {
            server_id,
            provision_state,
        });
    };
    match result {
        Ok(()) => {
            asked(rt, &mut operation, "Deploy requested.");
            Ok(response(&operation))
        }
        Err(e) if e.is_transient() => {
            retry(rt, &mut operation, &settings, &e);
            Ok(response(&operation))
        }
        Err(e) => {
            let error = typed(&settings, &server_id, e.clone());
            fail(rt, &mut operation, describe(&settings, &e), true);
            Err(error)
        }
    }
}

/// The operation's last known state, without an outcall.
pub fn status(rt: &impl Runtime, operation_id: &str) -> Result<ProvisionStatus, ProvisionError> {
    find_operation(rt, operation_id).map(|(_, operation)| operations::view(&operation))
}

/// Reads the node from Ironic now and updates the operation. An operation under way moves on
/// as a step would (a deploy that completed makes its lease AVAILABLE); a finished one only
/// records the state the node is in now.
pub async fn refresh(
    rt: &impl Runtime,
    operation_id: &str,
) -> Result<ProvisionStatus, ProvisionError> {
    let (item, operation) = find_operation(rt, operation_id)?;
    let asked_at = rt.time();
    if !rt.is_controller(&rt.caller()) {
        let last = REFRESHED_AT.with_borrow(|at| at.get(&item.id).copied());
        if last.is_some_and(|last| asked_at < last.saturating_add(REFRESH_INTERVAL_NS)) {
            return Ok(operations::view(&operation));
        }
    }
    REFRESHED_AT.with_borrow_mut(|at| at.insert(item.id, asked_at));
    let settings = settings::of_pem(&item.provider_pem);
    let ironic = settings::client(rt, &store::provider_key(&item.provider_pem));
    let node = ironic
        .node(&operation.server_id)
        .await
        .map_err(|e| typed(&settings, &operation.server_id, e))?;
    let now = rt.time();
    let Some(mut current) =
        operations::get(item.id).filter(|current| current.generation == operation.generation)
    else {
        // Replaced meanwhile: the new operation has not read this node.
        return status(rt, operation_id);
    };
    observe(&mut current, &node, now);
    if current.is_active() && current.locked_until_ns <= now {
        settle(rt, &mut current, &node);
        if !current.is_active() {
            // Stored by `complete` or `fail`, before the lease moved on.
            return Ok(operations::view(&current));
        }
        let arrived = state::status(current.kind, &node.provision_state, false).0 == Completed;
        if current.kind == Undeploy && arrived {
            // Clearing the lessee is a call to Ironic: the step makes it, now.
            plan(rt, &mut current, now);
        }
    }
    operations::put(&current);
    Ok(operations::view(&current))
}

/// `ironic_sim_set_failure`: the provider's delegates or controllers.
pub fn sim_set_failure(rt: &impl Runtime, arg: SimFailureArg) -> Result<(), ProvisionError> {
    let provider = ProviderKey::parse_for_lookup(&arg.provider).map_err(ProvisionError::invalid)?;
    check_text("server_id", &arg.server_id)?;
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !store::is_delegate(&provider, &caller) {
        return Err(not_authorized(
            "only the provider's delegates and controllers set simulated failures",
        ));
    }
    crate::ironic::sim::set_failure(&provider, &arg.server_id, arg.fail_deploy, arg.fail_clean)
        .map_err(|_| ProvisionError::ServerNotFound {
            server_id: arg.server_id,
        })
}

// --- leases ---

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

/// The manager's asynchronous task: the next step of the item's operation (ask Ironic, or read
/// the node and move the operation and its lease on). Returns at once when the operation is
/// finished, or when another step is planned later or awaiting Ironic now.
pub async fn step(rt: &impl Runtime, item_id: u64) {
    step_with(rt, item_id, settings::client).await;
}

/// [`step`] with the backend made by `client`, so tests can interleave messages with its
/// awaits.
async fn step_with<'a, R: Runtime, I: Ironic>(
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
                        plan(rt, &mut operation, now.saturating_add(POLL_NS));
                        operations::put(&operation);
                    }
                }
            }
        }
        Err(e) if e.is_transient() => retry(rt, &mut operation, &settings, &e),
        Err(e) => fail(rt, &mut operation, describe(&settings, &e), true),
    }
}

// --- steps ---

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
async fn request_deploy<I: Ironic>(ironic: &I, operation: &Operation) -> Result<(), ClientError> {
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
fn observe(operation: &mut Operation, node: &Node, now: u64) {
    operation.provision_state = node.provision_state.clone();
    operation.checked_at_ns = now;
    if let Some(name) = node.name.as_ref().filter(|name| !name.is_empty()) {
        operation.server_name = name.clone();
    }
    if state::is_wait(operation.kind, &node.provision_state) {
        operation.seen_wait_callback = true;
    }
}

/// Moves an active operation on from a reading of its node, when that needs no further call
/// to Ironic: completes or fails it, or leaves it as it is (the caller plans the next step).
fn settle(rt: &impl Runtime, operation: &mut Operation, node: &Node) {
    let state_name = node.provision_state.as_str();
    let (status, _) = state::status(operation.kind, state_name, operation.seen_wait_callback);
    let known = state::STATES.contains(&state_name);
    // Ironic's `last_error` may quote its own URLs.
    let message = settings::of_pem(&operation.provider_pem)
        .scrub(&state::message(state_name, node.last_error.as_deref()));
    match (operation.kind, operation.status) {
        (Deploy, Accepted) => {
            let ours = node.lessee.as_deref() == Some(operation.lessee.as_str())
                && node.image_source.as_deref() == Some(operation.image.as_str());
            if ours && status != Accepted {
                // Asked by an earlier step whose answer was lost: follow it.
                operation.touched = true;
                operation.status = InProgress;
                return settle(rt, operation, node);
            }
            if state_name == "available" && !node.maintenance {
                // Ready: the next step asks Ironic (a refresh only looked).
            } else if (status == Accepted && state_name != "available") || !known {
                // Ironic is still bringing it here (cleaning), or a state we do not know.
                operation.message = format!("Waiting for the node to become available. {message}");
            } else {
                let reason = if node.maintenance {
                    format!("The node is in maintenance. {message}")
                } else {
                    message
                };
                let why = format!(
                    "Server {} is not available for provisioning: {reason}",
                    operation.server_id
                );
                fail(rt, operation, why, false);
            }
        }
        // The next step asks Ironic to tear it down (a refresh only looked).
        (Undeploy, Accepted) if DELETABLE.contains(&state_name) => {}
        (Undeploy, Accepted) => match status {
            // Already being torn down or cleaned: follow it.
            InProgress => {
                operation.status = InProgress;
                operation.touched = true;
                operation.message = message;
            }
            Failed => fail(rt, operation, message, true),
            // A deploy still running (undeployed once it ends), or arrived: the next step.
            Accepted | Completed => {
                operation.message = format!("Waiting for the node to settle. {message}");
            }
        },
        (_, InProgress) => match status {
            Completed if operation.kind == Deploy => complete(rt, operation, &message),
            // An undeploy completes in a step, once the lessee is cleared.
            Completed => operation.message = message,
            Failed => fail(rt, operation, message, true),
            Accepted | InProgress => operation.message = message,
        },
        _ => {}
    }
}

/// Ironic accepted the request: the operation is under way; its node is read in 10 s.
fn asked(rt: &impl Runtime, operation: &mut Operation, what: &str) {
    operation.status = InProgress;
    operation.touched = true;
    operation.attempts = 0;
    operation.message = what.into();
    plan(rt, operation, rt.time().saturating_add(POLL_NS));
    operations::put(operation);
}

/// A transient Ironic error: the same step again after the backoff, the operation unchanged.
fn retry(rt: &impl Runtime, operation: &mut Operation, settings: &Settings, e: &ClientError) {
    let now = rt.time();
    if let Some(why) = timed_out(operation, now) {
        let why = format!("{why} Last error: {}", describe(settings, e));
        return fail(rt, operation, why, true);
    }
    let wait = manager::backoff_ns(operation.attempts);
    operation.attempts = operation.attempts.saturating_add(1);
    operation.message = format!(
        "{} Retrying in {} s (attempt {}).",
        describe(settings, e),
        wait / SECOND_NS,
        operation.attempts
    );
    plan(rt, operation, now.saturating_add(wait));
    operations::put(operation);
}

/// The operation is done: its lease moves on.
fn complete(rt: &impl Runtime, operation: &mut Operation, message: &str) {
    let now = rt.time();
    operation.status = Completed;
    operation.completed_at_ns = Some(now);
    operation.attempts = 0;
    operation.message = message.into();
    operations::put(operation);
    match operation.kind {
        Deploy => {
            let Some(execution_id) = operation.execution_id else {
                return;
            };
            let why = format!(
                "server {} deployed with {}",
                operation.server_id, operation.image
            );
            if !lease::provisioned(rt, execution_id, &why) {
                // The lease no longer wants it (it ended or failed meanwhile): clean the node.
                begin_cleanup(rt, operation);
            }
        }
        Undeploy => lease::released(
            rt,
            operation.item_id,
            operation.execution_id,
            operation.release_to,
            &operation.release_why,
            Ok(()),
        ),
    }
}

/// The operation failed with `why`: its lease FAILS (a deploy) or ends with its item in
/// Maintenance (an undeploy). `node_fault`: whether the failure concerns the node (an item
/// whose node Ironic was never asked to change goes back to the market only when it does
/// not).
fn fail(rt: &impl Runtime, operation: &mut Operation, why: String, node_fault: bool) {
    let now = rt.time();
    operation.status = Failed;
    operation.completed_at_ns = Some(now);
    operation.message = why.clone();
    operations::put(operation);
    match operation.kind {
        Deploy => {
            let Some(execution_id) = operation.execution_id else {
                return;
            };
            if !lease::provisioning_failed(rt, execution_id, &why) {
                return;
            }
            if operation.touched {
                begin_cleanup(rt, operation);
            } else {
                let clean = if node_fault {
                    Err(why.as_str())
                } else {
                    Ok(())
                };
                lease::released(rt, operation.item_id, None, None, "", clean);
            }
        }
        Undeploy => lease::released(
            rt,
            operation.item_id,
            operation.execution_id,
            operation.release_to,
            &operation.release_why,
            Err(&why),
        ),
    }
}

/// Undeploys the node a failed (or unwanted) deploy left, to give its item back once clean.
fn begin_cleanup(rt: &impl Runtime, deploy: &Operation) {
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

/// Why an operation is over its time, if it is: the market's stuck timeout.
fn timed_out(operation: &Operation, now: u64) -> Option<String> {
    let timeout = store::policies().stuck_timeout_seconds;
    let due = operation
        .started_at_ns
        .saturating_add(timeout.saturating_mul(SECOND_NS));
    (now >= due).then(|| {
        format!(
            "The operation did not finish within {timeout} s (node last seen in {:?}).",
            operation.provision_state
        )
    })
}

// --- scheduling ---

/// An operation on `item` replacing `previous` (its generation follows).
fn new_operation(
    now: u64,
    item: &Item,
    kind: OperationKind,
    previous: Option<&Operation>,
) -> Operation {
    let same_server = previous.filter(|p| p.server_id == item.resource_uuid);
    Operation {
        item_id: item.id,
        server_id: item.resource_uuid.clone(),
        server_name: same_server
            .map_or_else(|| item.resource_uuid.clone(), |p| p.server_name.clone()),
        provider_pem: item.provider_pem.clone(),
        kind,
        image: String::new(),
        config_drive: None,
        lessee: String::new(),
        execution_id: None,
        status: Accepted,
        provision_state: same_server.map_or_else(String::new, |p| p.provision_state.clone()),
        seen_wait_callback: false,
        message: String::new(),
        started_at_ns: now,
        completed_at_ns: None,
        checked_at_ns: same_server.map_or(0, |p| p.checked_at_ns),
        attempts: 0,
        generation: previous.map_or(1, |p| p.generation.saturating_add(1)),
        next_step_ns: now,
        locked_until_ns: 0,
        fallback_ns: previous.map_or(0, |p| p.fallback_ns),
        touched: false,
        release_to: None,
        release_why: String::new(),
    }
}

/// Records a new operation and queues its first step now. A step of the one it replaces may be
/// awaiting Ironic: the new one waits for that lock (handed over when the step resumes).
fn start(rt: &impl Runtime, mut operation: Operation, previous: Option<&Operation>) {
    let now = rt.time();
    if let Some(previous) = previous.filter(|p| p.locked_until_ns > now) {
        operation.locked_until_ns = previous.locked_until_ns;
    }
    plan(rt, &mut operation, now);
    operations::put(&operation);
}

/// Queues the operation's next step at `at`; steps queued earlier return at once.
fn plan(rt: &impl Runtime, operation: &mut Operation, at: u64) {
    operation.next_step_ns = at;
    let item_id = operation.item_id;
    manager::schedule(rt, at, Task::ProvisionStep { item_id });
}

/// Before awaiting Ironic: the lock, until a fallback step that is queued (now, if the last one
/// is too close), so that a trap after the await leaves the work queued. Stores the operation.
fn lock(rt: &impl Runtime, operation: &mut Operation, now: u64) {
    if operation.fallback_ns < now.saturating_add(MIN_LOCK_NS) {
        operation.fallback_ns = now.saturating_add(FALLBACK_NS);
        let item_id = operation.item_id;
        manager::schedule(rt, operation.fallback_ns, Task::ProvisionStep { item_id });
    }
    operation.locked_until_ns = operation.fallback_ns;
    operation.next_step_ns = operation.fallback_ns;
    operations::put(operation);
}

/// After an await: the operation, unlocked, if it is still the one the step worked for;
/// otherwise its successor gets the lock's end now and `None`.
fn resume(rt: &impl Runtime, item_id: u64, generation: u64, lock: u64) -> Option<Operation> {
    let mut operation = operations::get(item_id)?;
    if operation.generation == generation {
        operation.locked_until_ns = 0;
        return Some(operation);
    }
    if operation.is_active() && operation.locked_until_ns == lock {
        operation.locked_until_ns = 0;
        plan(rt, &mut operation, rt.time());
        operations::put(&operation);
    }
    None
}

// --- finding, checking, authorizing ---

fn check_request(request: &ProvisionRequest) -> Result<(), ProvisionError> {
    check_text("image_id", &request.image_id)?;
    if let Some(server_id) = &request.server_id {
        check_text("server_id", server_id)?;
    }
    if let Some(class) = &request.resource_class {
        if class.len() > MAX_TEXT_BYTES {
            return Err(ProvisionError::invalid(format!(
                "resource_class must be at most {MAX_TEXT_BYTES} bytes"
            )));
        }
    }
    if let Some(drive) = &request.config_drive {
        if drive.len() > MAX_CONFIG_DRIVE_BYTES {
            return Err(ProvisionError::invalid(format!(
                "config_drive must be at most {MAX_CONFIG_DRIVE_BYTES} bytes, got {}",
                drive.len()
            )));
        }
    }
    Ok(())
}

fn check_text(what: &str, text: &str) -> Result<(), ProvisionError> {
    if text.is_empty() || text.len() > MAX_TEXT_BYTES || text.chars().any(char::is_control) {
        return Err(ProvisionError::invalid(format!(
            "{what} must be 1 to {MAX_TEXT_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// The item of the node `server_id`, of `provider` if given.
fn find_item(server_id: &str, provider: Option<&ProviderKey>) -> Result<Item, ProvisionError> {
    let mut items: Vec<Item> = store::node_items(server_id)
        .into_iter()
        .filter_map(store::item)
        .filter(|item| provider.is_none_or(|p| store::provider_key(&item.provider_pem) == *p))
        .collect();
    match items.len() {
        0 => Err(ProvisionError::ServerNotFound {
            server_id: server_id.into(),
        }),
        1 => Ok(items.remove(0)),
        _ => Err(ProvisionError::invalid(format!(
            "several providers have a server {server_id}: name the provider"
        ))),
    }
}

/// Any available node of the provider (of the resource class, if given) whose item is free in
/// the market now and has no operation under way.
async fn auto_select(
    rt: &impl Runtime,
    request: &ProvisionRequest,
    provider: Option<ProviderKey>,
) -> Result<(Item, Node), ProvisionError> {
    let provider = provider
        .ok_or_else(|| ProvisionError::invalid("provider is required to auto-select a server"))?;
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !store::is_delegate(&provider, &caller) {
        return Err(not_authorized(
            "only the provider's delegates and controllers auto-select its servers",
        ));
    }
    let settings = settings::get(&provider);
    if !settings.allows_image(&request.image_id) {
        return Err(ProvisionError::ImageNotFound {
            image_id: request.image_id.clone(),
        });
    }
    let class = request.resource_class.as_deref().filter(|c| !c.is_empty());
    let nodes = settings::client(rt, &provider)
        .list_available(class)
        .await
        .map_err(|e| typed(&settings, "", e))?;
    let now = rt.time();
    for node in nodes {
        if node.provision_state != "available" || node.maintenance {
            continue;
        }
        let free = store::node_items(&node.uuid)
            .into_iter()
            .filter_map(store::item)
            .find(|item| {
                store::provider_key(&item.provider_pem) == provider
                    && item.status == ItemStatus::Available
                    && store::overlapping_booking(item.id, now, now.saturating_add(1)).is_none()
                    && !operations::get(item.id).is_some_and(|op| op.is_active())
            });
        if let Some(item) = free {
            return Ok((item, node));
        }
    }
    Err(ProvisionError::NoAvailableServers {
        resource_class: request.resource_class.clone(),
    })
}

fn check_image(provider_pem: &str, image: &str) -> Result<(), ProvisionError> {
    if !settings::of_pem(provider_pem).allows_image(image) {
        return Err(ProvisionError::ImageNotFound {
            image_id: image.into(),
        });
    }
    Ok(())
}

/// Refuses a server with an operation under way, or booked now in the market by someone else
/// than the caller's active lease.
fn check_free(rt: &impl Runtime, item: &Item) -> Result<(), ProvisionError> {
    let server_id = item.resource_uuid.clone();
    if let Some(operation) = operations::get(item.id).filter(Operation::is_active) {
        let kind = match operation.kind {
            Deploy => "deploy",
            Undeploy => "undeploy",
        };
        return Err(ProvisionError::ServerNotAvailable {
            server_id,
            provision_state: format!("{} ({kind} under way)", operation.provision_state),
        });
    }
    let now = rt.time();
    if let Some(booking) = store::overlapping_booking(item.id, now, now.saturating_add(1)) {
        let own = lessee_lease(rt.caller(), item).is_some_and(|e| e.id == booking.execution_id);
        if !own {
            let provision_state = match item.status {
                ItemStatus::Available => "booked".to_string(),
                status => status.name().to_string(),
            };
            return Err(ProvisionError::ServerNotAvailable {
                server_id,
                provision_state,
            });
        }
    }
    Ok(())
}

/// A provider's delegate or a controller provisions the item directly: it leaves the market
/// (Maintenance) unless it already has; refused while an accepted lease is booked on it.
fn take_for_provider(rt: &impl Runtime, item: &mut Item) -> Result<(), ProvisionError> {
    let now = rt.time();
    let server_id = item.resource_uuid.clone();
    let not_available = |provision_state: String| ProvisionError::ServerNotAvailable {
        server_id: server_id.clone(),
        provision_state,
    };
    let leased = store::item_bookings(item.id).into_iter().any(|booking| {
        booking.end_ns > now
            && store::execution(booking.execution_id).is_some_and(|e| e.phase != Phase::Offered)
    });
    if leased {
        return Err(not_available("booked".into()));
    }
    match item.status {
        ItemStatus::Maintenance => Ok(()),
        ItemStatus::Available => {
            let caller = rt.caller();
            let actor = if rt.is_controller(&caller) {
                Actor::Controller(caller)
            } else {
                Actor::Provider {
                    provider_pem: item.provider_pem.clone(),
                    principal: caller,
                }
            };
            let why = "provisioned by its provider outside the market";
            inventory::take_out_of_service(now, &actor, item, why)
                .map_err(|e| not_available(format!("{e:?}")))
        }
        status => Err(not_available(status.name().into())),
    }
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

/// The caller's lease on the item, if it is active (PREPARING or AVAILABLE).
fn lessee_lease(caller: Principal, item: &Item) -> Option<Execution> {
    if caller == Principal::anonymous() {
        return None;
    }
    item.lease_id
        .and_then(store::execution)
        .filter(|e| e.consumer == caller && matches!(e.phase, Phase::Preparing | Phase::Available))
}

/// Controllers, the provider's delegates, the lessee of an active lease on the item, and for an
/// existing `operation` the consumer of the lease it serves.
fn authorize(
    rt: &impl Runtime,
    item: &Item,
    operation: Option<&Operation>,
) -> Result<(), ProvisionError> {
    let caller = rt.caller();
    let allowed = caller != Principal::anonymous()
        && (rt.is_controller(&caller)
            || delegation::caller_acts_for(rt, &item.provider_pem)
            || lessee_lease(caller, item).is_some()
            || operation
                .and_then(|op| op.execution_id)
                .and_then(store::execution)
                .is_some_and(|e| e.consumer == caller));
    if allowed {
        Ok(())
    } else {
        Err(not_authorized(
            "only the lessee of an active lease on the server, its provider's delegates and \
             controllers",
        ))
    }
}

/// The operation `operation_id` (a node UUID) names that the caller may see: the latest, when
/// several providers' nodes have that UUID.
fn find_operation(
    rt: &impl Runtime,
    operation_id: &str,
) -> Result<(Item, Operation), ProvisionError> {
    check_text("operation_id", operation_id)?;
    let not_found = || ProvisionError::ServerNotFound {
        server_id: operation_id.into(),
    };
    let mut denied = false;
    let mut found: Option<(Item, Operation)> = None;
    for item_id in store::node_items(operation_id) {
        let (Some(item), Some(operation)) = (store::item(item_id), operations::get(item_id)) else {
            continue;
        };
        if authorize(rt, &item, Some(&operation)).is_err() {
            denied = true;
            continue;
        }
        if found
            .as_ref()
            .is_none_or(|(_, best)| operation.started_at_ns > best.started_at_ns)
        {
            found = Some((item, operation));
        }
    }
    match found {
        Some(found) => Ok(found),
        None if denied => Err(not_authorized(
            "only the lessee, the server's provider's delegates and controllers see its operation",
        )),
        None => Err(not_found()),
    }
}

// --- errors ---

fn response(operation: &Operation) -> ProvisionResponse {
    ProvisionResponse {
        operation_id: operation.server_id.clone(),
        server_id: operation.server_id.clone(),
        server_name: operation.server_name.clone(),
        item_id: operation.item_id,
        status: operation.status,
        message: operation.message.clone(),
        started_at_ns: operation.started_at_ns,
    }
}

/// An Ironic error as the seed's error table has it, scrubbed of the provider's secrets.
fn typed(settings: &Settings, server_id: &str, e: ClientError) -> ProvisionError {
    match e {
        ClientError::NotFound { .. } => ProvisionError::ServerNotFound {
            server_id: server_id.into(),
        },
        ClientError::Unreachable { code, message } => ProvisionError::IronicUnreachable {
            message: format!(
                "Failed to communicate with Ironic (reject code {code}): {}",
                settings.scrub(&message)
            ),
        },
        ClientError::Http { status, message } => ProvisionError::IronicFailed {
            status: Some(status),
            message: settings.scrub(&message),
        },
        ClientError::InvalidResponse { message } => ProvisionError::IronicFailed {
            status: None,
            message: settings.scrub(&message),
        },
    }
}

/// An Ironic error as a sentence for an operation's message.
fn describe(settings: &Settings, e: &ClientError) -> String {
    match e {
        ClientError::NotFound { uuid } => format!("Ironic does not know node {uuid}."),
        ClientError::Unreachable { code, message } => format!(
            "Failed to communicate with Ironic (reject code {code}): {}",
            settings.scrub(message)
        ),
        ClientError::Http { status, message } => {
            format!("Ironic answered HTTP {status}: {}", settings.scrub(message))
        }
        ClientError::InvalidResponse { message } => format!(
            "Ironic answered something it never sends: {}",
            settings.scrub(message)
        ),
    }
}

fn not_authorized(message: &str) -> ProvisionError {
    ProvisionError::NotAuthorized {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests;
