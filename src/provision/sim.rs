//! A simulated Ironic, the default backend: a provider's `ironic_node` items are its nodes,
//! kept in stable memory and moved through Ironic's real provision-state machine by the
//! task queue's timer (task `SimAdvance`), one step every [`STEP_NS`]:
//!
//! ```text
//! available ─deploy─► deploying ─► wait call-back ─► deploying ─► active
//!                                                          └─(fail_deploy)─► deploy failed
//! active / deploy failed / error ─undeploy─► deleting ─► cleaning ─► clean wait ─► cleaning ─► available
//!                                                                                     └─(fail_clean)─► clean failed
//! ```
//!
//! - A node is the provider's item of type `ironic_node`: uuid = the item's `resource_uuid`,
//!   name `node-<item id>`, resource class the item's. Its [`SimNode`] record is written the
//!   first time something changes it; until then it is `available`, not in maintenance.
//! - Ironic's refusals, as Ironic words them: a provision action the current state does not
//!   allow is 400; a node with an operation under way (a target state set) is 409 (like
//!   NodeLocked, so callers retry); setting the instance of a node that is not `available` is
//!   409; a uuid that is not one of the provider's nodes is `NotFound`.
//! - Deploying needs an `image_source` (400 otherwise, as Ironic's validation). Tearing down
//!   (leaving `deleting`) empties `image_source`, as Ironic empties `instance_info`; the lessee
//!   stays until [`clear_instance`](Ironic::clear_instance).
//! - `fail_deploy` / `fail_clean` ([`set_failure`]) make the next deploy / clean end in
//!   `deploy failed` / `clean failed` with a `last_error`, once: the flag resets when used.
//!   Nothing leaves `clean failed` in the simulation (a real Ironic needs its operator there:
//!   `manage`, then `provide`).
//! - [`advance`] is idempotent: a step is taken only when it is due (`next_step_at_ns`), so a
//!   task run twice, or a stray task, moves nothing; an item that is gone loses its record.

use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{ClientError, Ironic, Node, Target};
use crate::market::store::{self, IRONIC_NODE};
use crate::market::{InventorySetStatusArg, Item, ItemStatus, MarketError};
use crate::memory::{self, Memory};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use ic_stable_structures::StableBTreeMap;
use std::cell::RefCell;

/// Time between two steps of a simulated node: a deploy takes three, an undeploy four.
pub const STEP_NS: u64 = 10 * crate::time::SECOND_NS;

/// A simulated node's Ironic state, by item id in `memory::SIM_NODES` (Candid, so new optional
/// fields keep old records readable).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SimNode {
    pub provision_state: String,
    /// Set while an operation is under way (`active` or `available`), `None` once stable.
    pub target_provision_state: Option<String>,
    pub maintenance: bool,
    pub last_error: Option<String>,
    pub lessee: Option<String>,
    pub image_source: Option<String>,
    /// The next deploy ends in `deploy failed` (then this resets).
    pub fail_deploy: bool,
    /// The next clean ends in `clean failed` (then this resets).
    pub fail_clean: bool,
    /// The operation under way has passed its wait state (`wait call-back`, `clean wait`):
    /// the next `deploying` / `cleaning` step ends it.
    pub passed_wait: bool,
    /// When the next step is due; `None` when the node is stable.
    pub next_step_at_ns: Option<u64>,
    /// When the provision state or the instance last changed; 0: never.
    pub updated_at_ns: u64,
}

impl Default for SimNode {
    /// An untouched node: available, not in maintenance, nothing set.
    fn default() -> Self {
        Self {
            provision_state: AVAILABLE.into(),
            target_provision_state: None,
            maintenance: false,
            last_error: None,
            lessee: None,
            image_source: None,
            fail_deploy: false,
            fail_clean: false,
            passed_wait: false,
            next_step_at_ns: None,
            updated_at_ns: 0,
        }
    }
}

crate::storable::candid_storable!(SimNode);

const AVAILABLE: &str = "available";
const ACTIVE: &str = "active";
const DEPLOYING: &str = "deploying";
const WAIT_CALL_BACK: &str = "wait call-back";
const DEPLOY_FAILED: &str = "deploy failed";
const DELETING: &str = "deleting";
const CLEANING: &str = "cleaning";
const CLEAN_WAIT: &str = "clean wait";
const CLEAN_FAILED: &str = "clean failed";
const ERROR: &str = "error";

thread_local! {
    static NODES: RefCell<StableBTreeMap<u64, SimNode, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::SIM_NODES)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    NODES.with(|_| ());
}

/// The item's simulated node, as written or as an untouched node is.
fn get(item_id: u64) -> SimNode {
    NODES
        .with_borrow(|nodes| nodes.get(&item_id))
        .unwrap_or_default()
}

fn put(item_id: u64, node: SimNode) {
    NODES.with_borrow_mut(|nodes| nodes.insert(item_id, node));
}

/// The provider's `ironic_node` item whose resource uuid is `uuid`.
fn find(provider: &ProviderKey, uuid: &str) -> Result<Item, ClientError> {
    store::node_items(uuid)
        .into_iter()
        .filter_map(store::item)
        .find(|item| {
            item.resource_type == IRONIC_NODE
                && store::provider_key(&item.provider_pem) == *provider
        })
        .ok_or_else(|| ClientError::NotFound { uuid: uuid.into() })
}

fn view(item: &Item, node: SimNode) -> Node {
    let class = &item.attributes.resource_class;
    Node {
        uuid: item.resource_uuid.clone(),
        name: Some(format!("node-{}", item.id)),
        resource_class: (!class.is_empty()).then(|| class.clone()),
        provision_state: node.provision_state,
        target_provision_state: node.target_provision_state,
        maintenance: node.maintenance,
        last_error: node.last_error,
        lessee: node.lessee,
        image_source: node.image_source,
    }
}

/// Ironic's 409 for a node with an operation under way.
fn locked(uuid: &str) -> ClientError {
    ClientError::Http {
        status: 409,
        message: format!(
            "Node {uuid} is locked by host ironic-sim, please retry after the current operation \
             is completed."
        ),
    }
}

fn refused(uuid: &str, target: Target, state: &str) -> ClientError {
    ClientError::Http {
        status: 400,
        message: format!(
            "The requested action \"{}\" can not be performed on node \"{uuid}\" while it is in \
             state \"{state}\".",
            target.as_str()
        ),
    }
}

/// One provider's simulated Ironic.
pub struct SimIronic<'a, R: Runtime> {
    pub rt: &'a R,
    pub provider: ProviderKey,
}

impl<R: Runtime> SimIronic<'_, R> {
    /// Starts an operation: the node goes to `state` towards `target`, and its first step is
    /// queued.
    fn start(&self, item_id: u64, mut node: SimNode, state: &str, target: &str) {
        let now = self.rt.time();
        let due = now.saturating_add(STEP_NS);
        node.provision_state = state.into();
        node.target_provision_state = Some(target.into());
        node.last_error = None;
        node.passed_wait = false;
        node.next_step_at_ns = Some(due);
        node.updated_at_ns = now;
        put(item_id, node);
        queue::schedule(self.rt, due, Task::SimAdvance { item_id });
    }
}

impl<R: Runtime> Ironic for SimIronic<'_, R> {
    /// The provider's `ironic_node` items whose node is available and not in maintenance, of
    /// `resource_class` if given, in item id order.
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        let keep = |item: &Item| {
            item.resource_type == IRONIC_NODE
                && resource_class.is_none_or(|class| item.attributes.resource_class == class)
                && {
                    let node = get(item.id);
                    node.provision_state == AVAILABLE && !node.maintenance
                }
        };
        let (items, _) =
            store::provider_items_after(&self.provider, 0, keep, usize::MAX, usize::MAX);
        Ok(items.iter().map(|item| view(item, get(item.id))).collect())
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        let item = find(&self.provider, uuid)?;
        Ok(view(&item, get(item.id)))
    }

    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        let item = find(&self.provider, uuid)?;
        let mut node = get(item.id);
        if node.target_provision_state.is_some() {
            return Err(locked(uuid));
        }
        if node.provision_state != AVAILABLE {
            return Err(ClientError::Http {
                status: 409,
                message: format!(
                    "Node {uuid} is in state \"{}\": its instance can only be set while it is \
                     \"available\".",
                    node.provision_state
                ),
            });
        }
        node.image_source = Some(image.into());
        node.lessee = Some(lessee.into());
        node.updated_at_ns = self.rt.time();
        put(item.id, node);
        Ok(())
    }

    /// Removes the lessee and the image in any state but a deploy under way (409 there: the
    /// deploy reads the image).
    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        let item = find(&self.provider, uuid)?;
        let mut node = get(item.id);
        if node.target_provision_state.as_deref() == Some(ACTIVE) {
            return Err(locked(uuid));
        }
        if node.lessee.is_none() && node.image_source.is_none() {
            return Ok(());
        }
        node.image_source = None;
        node.lessee = None;
        node.updated_at_ns = self.rt.time();
        put(item.id, node);
        Ok(())
    }

    /// `active` from `available` (with an image set); `deleted` from `active`, `deploy failed`
    /// or `error`. The config drive is accepted and not kept.
    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        _config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        let item = find(&self.provider, uuid)?;
        let node = get(item.id);
        if node.target_provision_state.is_some() {
            return Err(locked(uuid));
        }
        let state = node.provision_state.as_str();
        match target {
            Target::Active if state == AVAILABLE => {
                if node.image_source.is_none() {
                    return Err(ClientError::Http {
                        status: 400,
                        message: format!(
                            "Cannot validate image information for node {uuid} because one or \
                             more parameters are missing from its instance_info and \
                             insufficient information is present to boot from a remote volume. \
                             Missing are: ['image_source']"
                        ),
                    });
                }
                self.start(item.id, node, DEPLOYING, ACTIVE);
            }
            Target::Deleted if [ACTIVE, DEPLOY_FAILED, ERROR].contains(&state) => {
                self.start(item.id, node, DELETING, AVAILABLE);
            }
            _ => return Err(refused(uuid, target, state)),
        }
        Ok(())
    }
}

/// Makes the simulated node's next deploy or clean end in failure (or stop doing so);
/// `NotFound` when `uuid` is not one of the provider's nodes.
pub fn set_failure(
    provider: &ProviderKey,
    uuid: &str,
    fail_deploy: bool,
    fail_clean: bool,
) -> Result<(), ClientError> {
    let item = find(provider, uuid)?;
    let mut node = get(item.id);
    node.fail_deploy = fail_deploy;
    node.fail_clean = fail_clean;
    put(item.id, node);
    Ok(())
}

/// `inventory_set_status`: the market moves the item; one its provider brings back from
/// maintenance to available has had its node repaired (`manage` then `provide` on a real
/// Ironic), so its simulated node follows ([`repaired`]).
pub fn set_item_status(rt: &impl Runtime, arg: InventorySetStatusArg) -> Result<Item, MarketError> {
    let before = store::item(arg.item_id).map(|item| item.status);
    let item = crate::market::inventory::set_status(rt, arg)?;
    if before == Some(ItemStatus::Maintenance) && item.status == ItemStatus::Available {
        repaired(item.id);
    }
    Ok(item)
}

/// A person repaired a node that failed to clean: its simulated node is `available` again,
/// failure settings kept.
pub fn repaired(item_id: u64) {
    NODES.with_borrow_mut(|nodes| {
        if let Some(node) = nodes.get(&item_id) {
            if node.provision_state == "clean failed" {
                let fresh = SimNode {
                    fail_deploy: node.fail_deploy,
                    fail_clean: node.fail_clean,
                    ..SimNode::default()
                };
                nodes.insert(item_id, fresh);
            }
        }
    });
}

/// The queue's task: moves the item's simulated node one step along its state machine and,
/// unless it has arrived, schedules the next step. Does nothing when no step is due (a task
/// run twice, a stray one), nor for an item never touched; drops the record of an item gone.
pub fn advance(rt: &impl Runtime, item_id: u64) {
    let Some(mut node) = NODES.with_borrow(|nodes| nodes.get(&item_id)) else {
        return;
    };
    let Some(item) = store::item(item_id) else {
        NODES.with_borrow_mut(|nodes| nodes.remove(&item_id));
        return;
    };
    let now = rt.time();
    if node.next_step_at_ns.is_none_or(|due| now < due) {
        return;
    }
    let uuid = &item.resource_uuid;
    let next = match (node.provision_state.as_str(), node.passed_wait) {
        (DEPLOYING, false) => WAIT_CALL_BACK,
        (WAIT_CALL_BACK, _) => {
            node.passed_wait = true;
            DEPLOYING
        }
        (DEPLOYING, true) if node.fail_deploy => {
            node.fail_deploy = false;
            node.last_error = Some(format!(
                "Deploy step deploy.write_image failed on node {uuid}: simulated failure \
                 (ironic_sim_set_failure)."
            ));
            DEPLOY_FAILED
        }
        (DEPLOYING, true) => ACTIVE,
        (DELETING, _) => {
            // The tear-down: Ironic empties instance_info.
            node.image_source = None;
            CLEANING
        }
        (CLEANING, false) => CLEAN_WAIT,
        (CLEAN_WAIT, _) => {
            node.passed_wait = true;
            CLEANING
        }
        (CLEANING, true) if node.fail_clean => {
            node.fail_clean = false;
            node.last_error = Some(format!(
                "Clean step deploy.erase_devices_metadata failed on node {uuid}: simulated \
                 failure (ironic_sim_set_failure)."
            ));
            CLEAN_FAILED
        }
        (CLEANING, true) => AVAILABLE,
        // A stable state with a step due cannot be written; clear it rather than loop.
        _ => {
            node.next_step_at_ns = None;
            node.target_provision_state = None;
            put(item_id, node);
            return;
        }
    };
    node.provision_state = next.into();
    node.updated_at_ns = now;
    if [ACTIVE, DEPLOY_FAILED, AVAILABLE, CLEAN_FAILED].contains(&next) {
        node.target_provision_state = None;
        node.passed_wait = false;
        node.next_step_at_ns = None;
        put(item_id, node);
    } else {
        let due = now.saturating_add(STEP_NS);
        node.next_step_at_ns = Some(due);
        put(item_id, node);
        queue::schedule(rt, due, Task::SimAdvance { item_id });
    }
}

#[cfg(test)]
mod tests;
