//! Finding, checking, authorizing: argument validation, server selection and who may.

use super::errors::{not_authorized, typed};
use super::{MAX_CONFIG_DRIVE_BYTES, MAX_TEXT_BYTES};
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{Ironic, Node};
use crate::market::operations::{self, Operation};
use crate::market::{delegation, inventory, store, Actor, Execution, Item, ItemStatus, Phase};
use crate::provision::types::*;
use crate::provision::ProvisionError;
use crate::provision::{budget, settings};
use crate::runtime::Runtime;
use candid::Principal;

use OperationKind::{Deploy, Undeploy};

/// Most list pages one auto-selection reads (1,000 nodes at 50 a page).
const MAX_LIST_PAGES: usize = 20;

pub(super) fn check_request(request: &ProvisionRequest) -> Result<(), ProvisionError> {
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

pub(super) fn check_text(what: &str, text: &str) -> Result<(), ProvisionError> {
    let bounds = crate::text::TextBounds {
        max_bytes: MAX_TEXT_BYTES,
        allow_empty: false,
        allow_control: false,
    };
    crate::text::check(what, text, bounds).map_err(ProvisionError::invalid)
}

/// The item of the node `server_id`, of `provider` if given.
pub(super) fn find_item(
    server_id: &str,
    provider: Option<&ProviderKey>,
) -> Result<Item, ProvisionError> {
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
pub(super) async fn auto_select(
    rt: &impl Runtime,
    request: &ProvisionRequest,
    provider: Option<ProviderKey>,
) -> Result<(Item, Node), ProvisionError> {
    let provider = provider
        .ok_or_else(|| ProvisionError::invalid("provider is required to auto-select a server"))?;
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !store::is_delegate(&provider, &caller, rt.time()) {
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
    let ironic = settings::client(rt, &provider);
    let price = budget::provision_price(
        rt,
        &ironic,
        None,
        class,
        &request.image_id,
        &caller.to_text(),
        request.config_drive.as_deref(),
    );
    budget::ensure(&provider, price)?;
    // Page by page, as far as needed: each page is an outcall the provider's budget pays.
    let mut marker: Option<String> = None;
    for _ in 0..MAX_LIST_PAGES {
        let page = ironic
            .list_page(class, marker.as_deref())
            .await
            .map_err(|e| typed(&settings, "", e))?;
        let now = rt.time();
        for node in page.nodes {
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
        marker = page.next;
        if marker.is_none() {
            break;
        }
    }
    Err(ProvisionError::NoAvailableServers {
        resource_class: request.resource_class.clone(),
    })
}

pub(super) fn check_image(provider_pem: &str, image: &str) -> Result<(), ProvisionError> {
    if !settings::of_pem(provider_pem).allows_image(image) {
        return Err(ProvisionError::ImageNotFound {
            image_id: image.into(),
        });
    }
    Ok(())
}

/// Refuses a server with an operation under way, or booked now in the market by someone else
/// than the caller's active lease.
pub(super) fn check_free(rt: &impl Runtime, item: &Item) -> Result<(), ProvisionError> {
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
pub(super) fn take_for_provider(rt: &impl Runtime, item: &mut Item) -> Result<(), ProvisionError> {
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
            inventory::take_out_of_service(rt, &actor, item, why)
                .map_err(|e| not_available(format!("{e:?}")))
        }
        status => Err(not_available(status.name().into())),
    }
}

/// The caller's lease on the item, if it is active (PREPARING or AVAILABLE).
pub(super) fn lessee_lease(caller: Principal, item: &Item) -> Option<Execution> {
    if caller == Principal::anonymous() {
        return None;
    }
    item.lease_id
        .and_then(store::execution)
        .filter(|e| e.consumer == caller && matches!(e.phase, Phase::Preparing | Phase::Available))
}

/// Controllers, the provider's delegates, the lessee of an active lease on the item, and for an
/// existing `operation` the consumer of the lease it serves.
pub(super) fn authorize(
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
pub(super) fn find_operation(
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
