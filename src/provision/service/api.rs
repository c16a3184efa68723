//! The API entry points: provision a server, read or refresh its operation, simulated failures.

use super::access::{
    authorize, auto_select, check_free, check_image, check_request, check_text, find_item,
    find_operation, lessee_lease, take_for_provider,
};
use super::errors::{describe, not_authorized, response, typed};
use super::outcomes::{asked, fail, retry, settle};
use super::schedule::{lock, resume};
use super::steps::{observe, request_deploy};
use super::REFRESH_INTERVAL_NS;
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::Ironic;
use crate::market::operations::{self, new_operation, plan, Operation};
use crate::market::store;
use crate::provision::state;
use crate::provision::types::*;
use crate::provision::ProvisionError;
use crate::provision::{budget, settings};
use crate::runtime::Runtime;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::Completed;

thread_local! {
    /// When each node (by item id) was last read for a refresh. Heap only: an upgrade forgetting
    /// it allows one more read.
    static REFRESHED_AT: std::cell::RefCell<std::collections::BTreeMap<u64, u64>> =
        std::cell::RefCell::default();
}

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
            let provider = store::provider_key(&item.provider_pem);
            let ironic = settings::client(rt, &provider);
            // The whole call's outcalls, before the first: a budget that cannot pay them
            // refuses the call here, not halfway through.
            let lessee = lessee_lease(rt.caller(), &item)
                .map_or_else(|| rt.caller().to_text(), |lease| lease.project);
            let price = budget::provision_price(
                rt,
                &ironic,
                Some(server_id),
                None,
                &image,
                &lessee,
                request.config_drive.as_deref(),
            );
            budget::ensure(&provider, price)?;
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
    find_operation(rt, operation_id).map(|(_, operation)| view(&operation))
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
            return Ok(view(&operation));
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
            return Ok(view(&current));
        }
        let arrived = state::status(current.kind, &node.provision_state, false).0 == Completed;
        if current.kind == Undeploy && arrived {
            // Clearing the lessee is a call to Ironic: the step makes it, now.
            plan(rt, &mut current, now);
        }
    }
    operations::put(&current);
    Ok(view(&current))
}

/// `ironic_sim_set_failure`: the provider's delegates or controllers.
pub fn sim_set_failure(rt: &impl Runtime, arg: SimFailureArg) -> Result<(), ProvisionError> {
    let provider = ProviderKey::parse_for_lookup(&arg.provider).map_err(ProvisionError::invalid)?;
    check_text("server_id", &arg.server_id)?;
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !store::is_delegate(&provider, &caller, rt.time()) {
        return Err(not_authorized(
            "only the provider's delegates and controllers set simulated failures",
        ));
    }
    crate::provision::sim::set_failure(&provider, &arg.server_id, arg.fail_deploy, arg.fail_clean)
        .map_err(|_| ProvisionError::ServerNotFound {
            server_id: arg.server_id,
        })
}

/// The operation as callers see it; the progress comes from the provision state last read.
pub(super) fn view(operation: &Operation) -> ProvisionStatus {
    let progress_percent = match operation.status {
        OperationStatus::Completed => Some(100),
        OperationStatus::Failed => None,
        OperationStatus::Accepted | OperationStatus::InProgress => {
            crate::provision::state::status(
                operation.kind,
                &operation.provision_state,
                operation.seen_wait_callback,
            )
            .1
        }
    };
    ProvisionStatus {
        operation_id: operation.server_id.clone(),
        server_id: operation.server_id.clone(),
        item_id: operation.item_id,
        kind: operation.kind,
        status: operation.status,
        provision_state: operation.provision_state.clone(),
        progress_percent,
        message: operation.message.clone(),
        started_at_ns: operation.started_at_ns,
        completed_at_ns: operation.completed_at_ns,
        checked_at_ns: operation.checked_at_ns,
        execution_id: operation.execution_id,
    }
}
