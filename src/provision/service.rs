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

use super::invalid;
use super::operations::{self, Operation};
use super::settings::{self, Settings};
use super::state;
use super::types::*;
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{ClientError, Ironic, Node, Target};
use crate::manager::{self, Task};
use crate::market::{
    delegation, inventory, lease, store, Actor, Execution, Item, ItemStatus, Phase, SECOND_NS,
};
use crate::runtime::Runtime;
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
        .map_err(invalid)?;
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
    let provider = ProviderKey::parse_for_lookup(&arg.provider).map_err(invalid)?;
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
            return Err(invalid(format!(
                "resource_class must be at most {MAX_TEXT_BYTES} bytes"
            )));
        }
    }
    if let Some(drive) = &request.config_drive {
        if drive.len() > MAX_CONFIG_DRIVE_BYTES {
            return Err(invalid(format!(
                "config_drive must be at most {MAX_CONFIG_DRIVE_BYTES} bytes, got {}",
                drive.len()
            )));
        }
    }
    Ok(())
}

fn check_text(what: &str, text: &str) -> Result<(), ProvisionError> {
    if text.is_empty() || text.len() > MAX_TEXT_BYTES || text.chars().any(char::is_control) {
        return Err(invalid(format!(
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
        _ => Err(invalid(format!(
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
    let provider =
        provider.ok_or_else(|| invalid("provider is required to auto-select a server"))?;
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
mod tests {
    use super::*;
    use crate::catalog::provider::ProviderKeyInput;
    use crate::catalog::signing;
    use crate::ironic::nodes;
    use crate::ironic::sim::SimIronic;
    use crate::market::inventory::testing::{
        act_for, booked_execution, delegate, key_input, register_item, OTHER_SECRET, SECRET,
    };
    use crate::market::{lease as market_lease, CancelArg};
    use crate::runtime::{block_on, FakeRuntime, OutcallError};
    use candid::Nat;
    use ic_cdk_management_canister::HttpRequestResult;
    use std::cell::RefCell;

    const ENDPOINT: &str = "https://ironic.example:6385";
    const TOKEN: &str = "gAAAAAB-secret-token-42";
    const HOUR: u64 = 3600 * SECOND_NS;

    fn admin() -> Principal {
        Principal::from_slice(&[4; 29])
    }

    fn alice() -> Principal {
        Principal::from_slice(&[1; 29])
    }

    fn bob() -> Principal {
        Principal::from_slice(&[3; 29])
    }

    fn carol() -> Principal {
        Principal::from_slice(&[5; 29])
    }

    fn provider() -> Principal {
        delegate(&SECRET)
    }

    fn setup() -> FakeRuntime {
        let rt = FakeRuntime::new();
        rt.controllers.borrow_mut().push(admin());
        rt
    }

    /// An `ironic_node` item of the provider of `secret` (class "baremetal.large").
    fn node_item(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str) -> Item {
        let item = register_item(rt, secret, uuid, "2C.small");
        rt.caller.set(Principal::anonymous());
        item
    }

    fn ask(server_id: Option<&str>) -> ProvisionRequest {
        ProvisionRequest {
            server_id: server_id.map(Into::into),
            image_id: "ubuntu-24.04".into(),
            ..ProvisionRequest::default()
        }
    }

    fn auto(resource_class: Option<&str>) -> ProvisionRequest {
        ProvisionRequest {
            resource_class: resource_class.map(Into::into),
            provider: Some(key_input(&SECRET)),
            ..ask(None)
        }
    }

    fn provision(
        rt: &FakeRuntime,
        who: Principal,
        request: ProvisionRequest,
    ) -> Result<ProvisionResponse, ProvisionError> {
        rt.caller.set(who);
        block_on(provision_server(rt, request))
    }

    fn status_as(
        rt: &FakeRuntime,
        who: Principal,
        id: &str,
    ) -> Result<ProvisionStatus, ProvisionError> {
        rt.caller.set(who);
        status(rt, id)
    }

    fn refresh_as(
        rt: &FakeRuntime,
        who: Principal,
        id: &str,
    ) -> Result<ProvisionStatus, ProvisionError> {
        rt.caller.set(who);
        block_on(refresh(rt, id))
    }

    /// A lease of `consumer` on the item in `phase`, holding the item as the market does.
    fn lease_on(rt: &FakeRuntime, item: &Item, consumer: Principal, phase: Phase) -> Execution {
        let now = rt.time();
        let mut execution = booked_execution(item, 0, now, now + HOUR, phase);
        execution.consumer = consumer;
        store::put_execution(&execution);
        let mut item = store::item(item.id).unwrap();
        item.lease_id = Some(execution.id);
        item.status = match phase {
            Phase::Preparing => ItemStatus::Reserving,
            _ => ItemStatus::Leased,
        };
        store::put_item(&item);
        execution
    }

    fn sim_node(rt: &FakeRuntime, secret: &[u8; 32], uuid: &str) -> Node {
        let sim = SimIronic {
            rt,
            provider: signing::provider_of(secret),
        };
        block_on(sim.node(uuid)).unwrap()
    }

    fn run_at(rt: &FakeRuntime, at: u64) {
        rt.time.set(at);
        manager::run_due(rt, || true);
    }

    fn configure_http(rt: &FakeRuntime) {
        act_for(rt, &SECRET);
        let arg = IronicConfigureArg {
            provider: key_input(&SECRET),
            endpoint: Some(ENDPOINT.into()),
            microversion: None,
            auth_token: Some(TOKEN.into()),
            images: None,
        };
        settings::configure(rt, arg).unwrap();
    }

    /// What the system hands back after the transform.
    fn answer(status: u16, body: &str) -> Result<HttpRequestResult, OutcallError> {
        Ok(nodes::transform(HttpRequestResult {
            status: Nat::from(status),
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }))
    }

    fn reject(code: u32) -> Result<HttpRequestResult, OutcallError> {
        Err(OutcallError {
            code,
            message: format!("connecting to {ENDPOINT} failed (token {TOKEN})"),
        })
    }

    fn node_json(uuid: &str, state: &str, maintenance: bool) -> String {
        format!(
            r#"{{"uuid": "{uuid}", "name": "rack1-{uuid}", "resource_class": "baremetal.large",
            "provision_state": "{state}", "target_provision_state": null,
            "maintenance": {maintenance}, "last_error": null, "lessee": null,
            "instance_info": {{}}}}"#
        )
    }

    fn node_answer(uuid: &str, state: &str) -> Result<HttpRequestResult, OutcallError> {
        answer(200, &node_json(uuid, state, false))
    }

    fn fault(status: u16, text: &str) -> Result<HttpRequestResult, OutcallError> {
        let inner = format!(r#"{{\"faultstring\": \"{text}\"}}"#);
        answer(status, &format!(r#"{{"error_message": "{inner}"}}"#))
    }

    fn requests(rt: &FakeRuntime) -> usize {
        rt.requests.borrow().len()
    }

    fn is(result: &Result<ProvisionResponse, ProvisionError>, expected: &str) -> bool {
        format!("{result:?}").starts_with(&format!("Err({expected}"))
    }

    #[test]
    fn the_lessee_the_provider_and_controllers_may_provision_and_nobody_else() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let n2 = node_item(&rt, &SECRET, "n2");
        let n3 = node_item(&rt, &SECRET, "n3");
        let n4 = node_item(&rt, &SECRET, "n4");
        let other = node_item(&rt, &OTHER_SECRET, "o1");
        let alices = lease_on(&rt, &n1, alice(), Phase::Available);
        lease_on(&rt, &n2, bob(), Phase::Available);
        lease_on(&rt, &n4, carol(), Phase::Completed);

        // Refused: a stranger, anonymous, another lease's consumer, a lease no longer active,
        // another provider's delegate; nothing recorded.
        let refused = [
            (bob(), "n1"),
            (bob(), "n3"),
            (carol(), "n4"),
            (Principal::from_slice(&[9; 29]), "n3"),
            (Principal::anonymous(), "n3"),
            (delegate(&OTHER_SECRET), "n3"),
            (provider(), "o1"),
        ];
        for (who, server) in refused {
            let result = provision(&rt, who, ask(Some(server)));
            assert!(is(&result, "NotAuthorized"), "{who} {server}: {result:?}");
        }
        for item in [&n1, &n2, &n3, &n4, &other] {
            assert_eq!(operations::get(item.id), None);
        }

        // The lessee: the node's lessee is the lease's project.
        let response = provision(&rt, alice(), ask(Some("n1"))).unwrap();
        assert_eq!(response.status, InProgress);
        let node = sim_node(&rt, &SECRET, "n1");
        assert_eq!(node.lessee.as_deref(), Some(alices.project.as_str()));
        assert_eq!(node.provision_state, "deploying");
        // The provider's delegate, and a controller on any provider's server.
        provision(&rt, provider(), ask(Some("n3"))).unwrap();
        assert_eq!(
            sim_node(&rt, &SECRET, "n3").lessee,
            Some(provider().to_text())
        );
        provision(&rt, admin(), ask(Some("o1"))).unwrap();
        assert_eq!(operations::get(other.id).unwrap().status, InProgress);
    }

    #[test]
    fn refusals_come_before_any_outcall() {
        let rt = setup();
        node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
            assert!(is(&provision(&rt, who, ask(Some("n1"))), "NotAuthorized"));
            assert!(is(&provision(&rt, who, auto(None)), "NotAuthorized"));
            rt.caller.set(who);
            assert!(block_on(refresh(&rt, "n1")).is_err());
        }
        assert_eq!(requests(&rt), 0);
    }

    #[test]
    fn a_specific_server_or_any_available_one_of_a_class() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let n2 = node_item(&rt, &SECRET, "n2");
        let n3 = node_item(&rt, &SECRET, "n3");
        let t0 = rt.time();

        let response = provision(&rt, provider(), ask(Some("n1"))).unwrap();
        assert_eq!(
            response,
            ProvisionResponse {
                operation_id: "n1".into(),
                server_id: "n1".into(),
                server_name: format!("node-{}", n1.id),
                item_id: n1.id,
                status: InProgress,
                message: "Deploy requested.".into(),
                started_at_ns: t0,
            }
        );
        // n1 is deploying, n2 held by an offer in the market: n3 is chosen.
        booked_execution(&n2, 0, t0, t0 + HOUR, Phase::Offered);
        let chosen = provision(&rt, provider(), auto(Some("baremetal.large"))).unwrap();
        assert_eq!((chosen.server_id.as_str(), chosen.item_id), ("n3", n3.id));
        assert_eq!(sim_node(&rt, &SECRET, "n3").provision_state, "deploying");
        // None left.
        assert_eq!(
            provision(&rt, admin(), auto(None)),
            Err(ProvisionError::NoAvailableServers {
                resource_class: None
            })
        );
        let other = node_item(&rt, &SECRET, "n4");
        assert_eq!(
            provision(&rt, provider(), auto(Some("baremetal.gpu"))),
            Err(ProvisionError::NoAvailableServers {
                resource_class: Some("baremetal.gpu".into())
            })
        );
        // Auto-selection needs the provider, and is for its delegates and controllers only.
        let no_provider = ProvisionRequest {
            provider: None,
            ..auto(None)
        };
        assert!(is(
            &provision(&rt, provider(), no_provider),
            "InvalidArgument"
        ));
        lease_on(&rt, &n2, alice(), Phase::Available);
        assert!(is(&provision(&rt, alice(), auto(None)), "NotAuthorized"));
        let chosen = provision(&rt, admin(), auto(None)).unwrap();
        assert_eq!(chosen.item_id, other.id);
    }

    #[test]
    fn unknown_and_ambiguous_servers() {
        let rt = setup();
        node_item(&rt, &SECRET, "shared");
        let theirs = node_item(&rt, &OTHER_SECRET, "shared");
        node_item(&rt, &OTHER_SECRET, "o1");
        assert_eq!(
            provision(&rt, admin(), ask(Some("nope"))),
            Err(ProvisionError::ServerNotFound {
                server_id: "nope".into()
            })
        );
        let Err(ProvisionError::InvalidArgument { message }) =
            provision(&rt, admin(), ask(Some("shared")))
        else {
            panic!("expected InvalidArgument");
        };
        assert!(message.contains("name the provider"), "{message}");
        let named = ProvisionRequest {
            provider: Some(key_input(&OTHER_SECRET)),
            ..ask(Some("shared"))
        };
        assert_eq!(provision(&rt, admin(), named).unwrap().item_id, theirs.id);
        // Named with the wrong provider.
        let wrong = ProvisionRequest {
            provider: Some(key_input(&SECRET)),
            ..ask(Some("o1"))
        };
        assert!(is(&provision(&rt, admin(), wrong), "ServerNotFound"));
    }

    #[test]
    fn invalid_requests_are_refused() {
        let rt = setup();
        node_item(&rt, &SECRET, "n1");
        let bad = [
            ProvisionRequest {
                image_id: String::new(),
                ..ask(Some("n1"))
            },
            ProvisionRequest {
                image_id: "i".repeat(257),
                ..ask(Some("n1"))
            },
            ProvisionRequest {
                config_drive: Some("x".repeat(MAX_CONFIG_DRIVE_BYTES + 1)),
                ..ask(Some("n1"))
            },
            ask(Some("n1\n")),
            ask(Some("")),
            ProvisionRequest {
                resource_class: Some("c".repeat(257)),
                ..auto(None)
            },
            ProvisionRequest {
                provider: Some(ProviderKeyInput::Raw(vec![1; 5].into())),
                ..ask(Some("n1"))
            },
        ];
        for request in bad {
            let result = provision(&rt, admin(), request.clone());
            assert!(is(&result, "InvalidArgument"), "{request:?}: {result:?}");
        }
        let biggest = ProvisionRequest {
            config_drive: Some("#cloud-config\n".repeat(5000)[..MAX_CONFIG_DRIVE_BYTES].into()),
            ..ask(Some("n1"))
        };
        assert_eq!(provision(&rt, admin(), biggest).unwrap().status, InProgress);
    }

    #[test]
    fn images_the_provider_does_not_deploy_are_not_found() {
        let rt = setup();
        node_item(&rt, &SECRET, "n1");
        act_for(&rt, &SECRET);
        let arg = IronicConfigureArg {
            provider: key_input(&SECRET),
            endpoint: None,
            microversion: None,
            auth_token: None,
            images: Some(vec!["debian-12".into()]),
        };
        settings::configure(&rt, arg).unwrap();
        let not_found = Err(ProvisionError::ImageNotFound {
            image_id: "ubuntu-24.04".into(),
        });
        assert_eq!(provision(&rt, provider(), ask(Some("n1"))), not_found);
        assert_eq!(provision(&rt, provider(), auto(None)), not_found);
        let debian = ProvisionRequest {
            image_id: "debian-12".into(),
            ..ask(Some("n1"))
        };
        provision(&rt, provider(), debian).unwrap();
    }

    #[test]
    fn a_busy_deployed_or_booked_server_is_not_available() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let n2 = node_item(&rt, &SECRET, "n2");
        let t0 = rt.time();
        provision(&rt, provider(), ask(Some("n1"))).unwrap();
        assert_eq!(
            provision(&rt, provider(), ask(Some("n1"))),
            Err(ProvisionError::ServerNotAvailable {
                server_id: "n1".into(),
                provision_state: "available (deploy under way)".into()
            })
        );
        // The deploy completes (the simulated node moves every 10 s; the steps follow it).
        for s in 1..=6 {
            run_at(&rt, t0 + s * 10 * SECOND_NS);
        }
        assert_eq!(operations::get(n1.id).unwrap().status, Completed);
        assert_eq!(
            provision(&rt, provider(), ask(Some("n1"))),
            Err(ProvisionError::ServerNotAvailable {
                server_id: "n1".into(),
                provision_state: "active".into()
            })
        );
        let now = rt.time();
        booked_execution(&n2, 0, now, now + HOUR, Phase::Offered);
        assert_eq!(
            provision(&rt, provider(), ask(Some("n2"))),
            Err(ProvisionError::ServerNotAvailable {
                server_id: "n2".into(),
                provision_state: "booked".into()
            })
        );
    }

    #[test]
    fn ironic_errors_through_the_http_backend_are_typed_and_scrubbed() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        let cases = [
            (answer(404, ""), "ServerNotFound"),
            (reject(1), "IronicUnreachable"),
            (reject(2), "IronicUnreachable"),
            (fault(500, "Internal Server Error"), "IronicFailed"),
            (answer(200, "<html>not json</html>"), "IronicFailed"),
            (
                answer(200, &node_json("n1", "available", true)),
                "ServerNotAvailable",
            ),
            (node_answer("n1", "manageable"), "ServerNotAvailable"),
        ];
        for (reply, expected) in cases {
            rt.reply(reply);
            let result = provision(&rt, provider(), ask(Some("n1")));
            assert!(is(&result, expected), "{expected}: {result:?}");
            let text = format!("{result:?}");
            assert!(
                !text.contains(TOKEN) && !text.contains("ironic.example"),
                "{text}"
            );
            assert_eq!(operations::get(n1.id), None);
        }
        rt.reply(answer(200, &node_json("n1", "available", true)));
        assert_eq!(
            provision(&rt, provider(), ask(Some("n1"))),
            Err(ProvisionError::ServerNotAvailable {
                server_id: "n1".into(),
                provision_state: "available (maintenance)".into()
            })
        );
        let request = rt.requests.borrow()[0].clone();
        assert!(request
            .url
            .starts_with("https://ironic.example:6385/v1/nodes/n1?"));
        assert!(request
            .headers
            .iter()
            .any(|h| h.name == "X-Auth-Token" && h.value == TOKEN));

        // A permanent error once the operation is recorded: it fails, typed.
        rt.reply(node_answer("n1", "available"));
        rt.reply(fault(400, "Invalid image_source"));
        assert_eq!(
            provision(&rt, provider(), ask(Some("n1"))),
            Err(ProvisionError::IronicFailed {
                status: Some(400),
                message: "Invalid image_source".into()
            })
        );
        let failed = status_as(&rt, provider(), "n1").unwrap();
        assert_eq!(failed.status, Failed);
        assert_eq!(
            failed.message,
            "Ironic answered HTTP 400: Invalid image_source"
        );
        assert!(failed.completed_at_ns.is_some());
    }

    #[test]
    fn transient_errors_are_retried_with_backoff_until_the_deploy_completes() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        let t0 = rt.time();
        rt.reply(node_answer("n1", "available"));
        rt.reply(fault(503, "Service Unavailable"));
        let response = provision(&rt, provider(), ask(Some("n1"))).unwrap();
        assert_eq!(response.status, Accepted);
        assert!(
            response.message.ends_with("Retrying in 10 s (attempt 1)."),
            "{}",
            response.message
        );
        // Nothing before the backoff (an outcall here would find no scripted reply).
        run_at(&rt, t0 + 9 * SECOND_NS);
        // The step reads the node and asks again; Ironic's node lock (409) is transient too.
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, &node_json("n1", "available", false)));
        rt.reply(fault(409, "Node n1 is locked by host ironic-1"));
        run_at(&rt, t0 + 10 * SECOND_NS);
        let operation = operations::get(n1.id).unwrap();
        assert_eq!((operation.status, operation.attempts), (Accepted, 2));
        assert_eq!(operation.next_step_ns, t0 + 30 * SECOND_NS);
        run_at(&rt, t0 + 29 * SECOND_NS);
        // So is the IC's SYS_TRANSIENT.
        rt.reply(reject(2));
        run_at(&rt, t0 + 30 * SECOND_NS);
        let operation = operations::get(n1.id).unwrap();
        assert_eq!(
            (operation.attempts, operation.next_step_ns),
            (3, t0 + 70 * SECOND_NS)
        );
        assert!(
            !operation.message.contains(TOKEN) && !operation.message.contains("ironic.example")
        );

        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        rt.reply(answer(202, ""));
        run_at(&rt, t0 + 70 * SECOND_NS);
        let operation = operations::get(n1.id).unwrap();
        assert_eq!((operation.status, operation.attempts), (InProgress, 0));
        let put = rt.requests.borrow().last().unwrap().clone();
        assert!(put.url.ends_with("/v1/nodes/n1/states/provision"));

        let progress = [
            ("deploying", Some(25)),
            ("wait call-back", Some(50)),
            ("deploying", Some(75)),
        ];
        for (i, (state, percent)) in progress.into_iter().enumerate() {
            rt.reply(node_answer("n1", state));
            run_at(&rt, t0 + (80 + 10 * i as u64) * SECOND_NS);
            let seen = status_as(&rt, provider(), "n1").unwrap();
            assert_eq!((seen.status, seen.progress_percent), (InProgress, percent));
            assert_eq!(seen.provision_state, state);
        }
        rt.reply(node_answer("n1", "active"));
        run_at(&rt, t0 + 110 * SECOND_NS);
        let done = status_as(&rt, provider(), "n1").unwrap();
        assert_eq!((done.status, done.progress_percent), (Completed, Some(100)));
        assert_eq!(done.completed_at_ns, Some(t0 + 110 * SECOND_NS));
        assert_eq!(done.server_id, "n1");
        // The fallbacks still queued find nothing to do: no outcall, nothing left queued.
        let before = requests(&rt);
        run_at(&rt, t0 + HOUR);
        assert_eq!(requests(&rt), before);
        assert_eq!(manager::queue_len(), 0);
    }

    #[test]
    fn an_operation_that_never_completes_fails_after_the_stuck_timeout() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        let t0 = rt.time();
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        rt.reply(answer(202, ""));
        provision(&rt, provider(), ask(Some("n1"))).unwrap();
        let mut at = t0;
        while at < t0 + 1800 * SECOND_NS {
            at += 10 * SECOND_NS;
            if at < t0 + 1800 * SECOND_NS {
                rt.reply(node_answer("n1", "wait call-back"));
            }
            run_at(&rt, at);
        }
        let failed = operations::get(n1.id).unwrap();
        assert_eq!(failed.status, Failed);
        assert!(failed
            .message
            .starts_with("The operation did not finish within 1800 s"));
    }

    #[test]
    fn status_answers_from_the_last_state_and_refresh_reads_ironic_now() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        node_item(&rt, &SECRET, "n2");
        configure_http(&rt);
        let t0 = rt.time();
        assert!(matches!(
            status_as(&rt, admin(), "nope"),
            Err(ProvisionError::ServerNotFound { .. })
        ));
        // A server without an operation.
        assert!(matches!(
            status_as(&rt, admin(), "n2"),
            Err(ProvisionError::ServerNotFound { .. })
        ));
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        rt.reply(answer(202, ""));
        provision(&rt, provider(), ask(Some("n1"))).unwrap();
        for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
            assert!(matches!(
                status_as(&rt, who, "n1"),
                Err(ProvisionError::NotAuthorized { .. })
            ));
        }
        let seen = status_as(&rt, admin(), "n1").unwrap();
        assert_eq!(
            (seen.status, seen.provision_state.as_str()),
            (InProgress, "available")
        );
        assert_eq!(seen.kind, Deploy);
        assert_eq!(seen.execution_id, None);

        rt.time.set(t0 + 5 * SECOND_NS);
        rt.reply(node_answer("n1", "deploying"));
        let refreshed = refresh_as(&rt, provider(), "n1").unwrap();
        assert_eq!(refreshed.provision_state, "deploying");
        assert_eq!(refreshed.progress_percent, Some(25));
        assert_eq!(refreshed.checked_at_ns, t0 + 5 * SECOND_NS);
        assert_eq!(status_as(&rt, provider(), "n1").unwrap(), refreshed);
        // Ironic's errors are typed and change nothing.
        rt.reply(reject(6));
        assert!(matches!(
            refresh_as(&rt, admin(), "n1"),
            Err(ProvisionError::IronicUnreachable { .. })
        ));
        assert_eq!(status_as(&rt, admin(), "n1").unwrap(), refreshed);
        rt.reply(node_answer("n1", "active"));
        let done = refresh_as(&rt, admin(), "n1").unwrap();
        assert_eq!(
            (done.status, done.completed_at_ns),
            (Completed, Some(t0 + 5 * SECOND_NS))
        );
        assert_eq!(operations::get(n1.id).unwrap().status, Completed);
        // The step queued for later finds it done: no outcall.
        run_at(&rt, t0 + HOUR);
        // A finished operation's refresh records where the node is now.
        rt.reply(node_answer("n1", "deploying"));
        let later = refresh_as(&rt, admin(), "n1").unwrap();
        assert_eq!(
            (later.status, later.provision_state.as_str()),
            (Completed, "deploying")
        );
    }

    #[test]
    fn refreshes_read_a_node_once_per_interval_unless_a_controller_asks() {
        let rt = setup();
        let t0 = rt.time();
        node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        rt.reply(answer(202, ""));
        provision(&rt, provider(), ask(Some("n1"))).unwrap();
        let outcalls = || rt.requests.borrow().len();

        rt.time.set(t0 + SECOND_NS);
        rt.reply(node_answer("n1", "deploying"));
        let first = refresh_as(&rt, provider(), "n1").unwrap();
        let after_first = outcalls();
        // Within the interval: the last known state, no outcall.
        rt.time.set(t0 + SECOND_NS + REFRESH_INTERVAL_NS - 1);
        assert_eq!(refresh_as(&rt, provider(), "n1").unwrap(), first);
        assert_eq!(outcalls(), after_first);
        // A controller reads now.
        rt.reply(node_answer("n1", "deploying"));
        refresh_as(&rt, admin(), "n1").unwrap();
        assert_eq!(outcalls(), after_first + 1);
        // Once the interval since the last read has passed, the provider reads again.
        rt.time.set(t0 + SECOND_NS + 2 * REFRESH_INTERVAL_NS);
        rt.reply(node_answer("n1", "active"));
        let later = refresh_as(&rt, provider(), "n1").unwrap();
        assert_eq!(outcalls(), after_first + 2);
        assert_eq!(later.status, Completed);
    }

    #[test]
    fn the_lessee_reads_the_operation_of_its_lease() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
        begin_deploy(&rt, &lease);
        run_at(&rt, rt.time());
        let seen = status_as(&rt, alice(), "n1").unwrap();
        assert_eq!(
            (seen.execution_id, seen.status),
            (Some(lease.id), InProgress)
        );
        assert!(refresh_as(&rt, alice(), "n1").is_ok());
        assert!(matches!(
            status_as(&rt, bob(), "n1"),
            Err(ProvisionError::NotAuthorized { .. })
        ));
    }

    #[test]
    fn sim_failures_are_set_by_the_provider_and_controllers() {
        let rt = setup();
        node_item(&rt, &SECRET, "n1");
        let arg = |server_id: &str| SimFailureArg {
            provider: key_input(&SECRET),
            server_id: server_id.into(),
            fail_deploy: true,
            fail_clean: false,
        };
        for who in [bob(), Principal::anonymous(), delegate(&OTHER_SECRET)] {
            rt.caller.set(who);
            assert!(matches!(
                sim_set_failure(&rt, arg("n1")),
                Err(ProvisionError::NotAuthorized { .. })
            ));
        }
        rt.caller.set(provider());
        sim_set_failure(&rt, arg("n1")).unwrap();
        assert_eq!(
            sim_set_failure(&rt, arg("nope")),
            Err(ProvisionError::ServerNotFound {
                server_id: "nope".into()
            })
        );
        rt.caller.set(admin());
        sim_set_failure(&rt, arg("n1")).unwrap();
        // The next deploy fails with Ironic's error in the message.
        let t0 = rt.time();
        provision(&rt, provider(), ask(Some("n1"))).unwrap();
        for s in 1..=4 {
            run_at(&rt, t0 + s * 10 * SECOND_NS);
        }
        let failed = status_as(&rt, provider(), "n1").unwrap();
        assert_eq!(failed.status, Failed);
        assert!(
            failed.message.contains("simulated failure"),
            "{}",
            failed.message
        );
    }

    /// The simulated Ironic, running `during` (another message) while a call is awaited.
    struct Interleaved<'a> {
        sim: SimIronic<'a, FakeRuntime>,
        during: RefCell<Option<Box<dyn FnOnce() + 'a>>>,
    }

    impl Interleaved<'_> {
        fn meddle(&self) {
            if let Some(during) = self.during.borrow_mut().take() {
                during();
            }
        }
    }

    impl Ironic for Interleaved<'_> {
        async fn list_available(&self, class: Option<&str>) -> Result<Vec<Node>, ClientError> {
            self.sim.list_available(class).await
        }

        async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
            let node = self.sim.node(uuid).await;
            self.meddle();
            node
        }

        async fn set_instance(
            &self,
            uuid: &str,
            image: &str,
            lessee: &str,
        ) -> Result<(), ClientError> {
            self.sim.set_instance(uuid, image, lessee).await
        }

        async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
            self.sim.clear_instance(uuid).await
        }

        async fn set_provision_state(
            &self,
            uuid: &str,
            target: Target,
            config_drive: Option<&str>,
        ) -> Result<(), ClientError> {
            self.sim
                .set_provision_state(uuid, target, config_drive)
                .await
        }
    }

    #[test]
    fn a_lease_cancelled_while_its_deploy_awaits_ironic_is_never_available() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
        begin_deploy(&rt, &lease);
        let t0 = rt.time();
        // The first step reads the node; the lessee cancels while it waits for the answer.
        let cancel = || {
            rt.caller.set(alice());
            let arg = CancelArg {
                execution_id: lease.id,
                reason: "changed my mind".into(),
            };
            market_lease::cancel(&rt, arg).unwrap();
        };
        let client = |rt, provider: &ProviderKey| Interleaved {
            sim: SimIronic {
                rt,
                provider: *provider,
            },
            during: RefCell::new(Some(Box::new(cancel))),
        };
        block_on(step_with(&rt, n1.id, client));
        // The deploy step found its operation replaced and asked nothing of Ironic.
        let operation = operations::get(n1.id).unwrap();
        assert_eq!((operation.kind, operation.generation), (Undeploy, 2));
        assert_eq!(operation.locked_until_ns, 0);
        assert_eq!(sim_node(&rt, &SECRET, "n1").lessee, None);
        assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Releasing);
        // The undeploy finds the node untouched: cleared at once, the lease CANCELLED.
        run_at(&rt, t0);
        let cancelled = store::execution(lease.id).unwrap();
        assert_eq!(cancelled.phase, Phase::Cancelled);
        assert_eq!(
            cancelled.reason.as_deref(),
            Some("cancelled: changed my mind")
        );
        assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Available);
        assert_eq!(operations::get(n1.id).unwrap().status, Completed);
    }

    #[test]
    fn a_step_lost_after_an_await_is_run_again_by_its_fallback() {
        use std::future::Future;
        use std::pin::pin;
        use std::task::{Context, Waker};

        /// An Ironic whose answer never comes: the message traps (or the upgrade drops the
        /// future) while it waits.
        struct Silent;
        impl Ironic for Silent {
            async fn list_available(&self, _: Option<&str>) -> Result<Vec<Node>, ClientError> {
                std::future::pending().await
            }
            async fn node(&self, _: &str) -> Result<Node, ClientError> {
                std::future::pending().await
            }
            async fn set_instance(&self, _: &str, _: &str, _: &str) -> Result<(), ClientError> {
                std::future::pending().await
            }
            async fn clear_instance(&self, _: &str) -> Result<(), ClientError> {
                std::future::pending().await
            }
            async fn set_provision_state(
                &self,
                _: &str,
                _: Target,
                _: Option<&str>,
            ) -> Result<(), ClientError> {
                std::future::pending().await
            }
        }

        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
        begin_deploy(&rt, &lease);
        let t0 = rt.time();
        {
            let mut future = pin!(step_with(&rt, n1.id, |_, _| Silent));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(future.as_mut().poll(&mut cx).is_pending());
        }
        // Locked until the fallback, which is queued: steps before it return at once.
        let locked = operations::get(n1.id).unwrap();
        assert_eq!(locked.locked_until_ns, t0 + FALLBACK_NS);
        run_at(&rt, t0 + FALLBACK_NS - SECOND_NS);
        assert_eq!(sim_node(&rt, &SECRET, "n1").provision_state, "available");
        // The fallback runs the step again.
        run_at(&rt, t0 + FALLBACK_NS);
        assert_eq!(sim_node(&rt, &SECRET, "n1").provision_state, "deploying");
        assert_eq!(operations::get(n1.id).unwrap().status, InProgress);
        for s in 1..=4 {
            run_at(&rt, t0 + FALLBACK_NS + s * 10 * SECOND_NS);
        }
        assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Available);
        assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Leased);
    }

    #[test]
    fn a_deploy_failing_after_its_patch_clears_the_lessee_it_set() {
        let rt = setup();
        let n1 = node_item(&rt, &SECRET, "n1");
        configure_http(&rt);
        let lease = lease_on(&rt, &n1, alice(), Phase::Preparing);
        begin_deploy(&rt, &lease);
        let t0 = rt.time();
        // The image and the lessee are set; the deploy request then fails for good (the IC
        // rejects Ironic's answer as too large: SYS_FATAL).
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        rt.reply(reject(1));
        // The cleanup finds the node available and clears what the deploy set.
        rt.reply(node_answer("n1", "available"));
        rt.reply(answer(200, "{}"));
        run_at(&rt, t0);
        run_at(&rt, t0 + SECOND_NS);
        let failed = store::execution(lease.id).unwrap();
        assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
        let sent = rt.requests.borrow().clone();
        assert_eq!(sent.len(), 5, "{sent:?}");
        let clear = String::from_utf8(sent[4].body.clone().unwrap()).unwrap();
        assert!(clear.contains(r#""path":"/lessee""#), "{clear}");
        assert!(clear.contains(r#""op":"remove""#), "{clear}");
        let cleanup = operations::get(n1.id).unwrap();
        assert_eq!(
            (cleanup.kind, cleanup.status, cleanup.execution_id),
            (Undeploy, Completed, Some(lease.id))
        );
        // Back on the market, not in Maintenance with the failed lease's lessee on the node.
        assert_eq!(store::item(n1.id).unwrap().status, ItemStatus::Available);
    }
}
