//! A simulated Ironic, the default backend: a provider's `ironic_node` items are its nodes,
//! kept in stable memory and moved through Ironic's real provision-state machine by the
//! manager's timer (task `SimAdvance`), one step every [`STEP_NS`]:
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

use super::client::{ClientError, Ironic, Node, Target};
use crate::catalog::provider::ProviderKey;
use crate::manager::{self, Task};
use crate::market::store::{self, IRONIC_NODE};
use crate::market::Item;
use crate::memory::{self, Memory};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableBTreeMap, Storable};
use std::borrow::Cow;
use std::cell::RefCell;

/// Time between two steps of a simulated node: a deploy takes three, an undeploy four.
pub const STEP_NS: u64 = 10 * 1_000_000_000;

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

impl Storable for SimNode {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(candid::encode_one(self).expect("a simulated node always encodes"))
    }

    fn into_bytes(self) -> Vec<u8> {
        candid::encode_one(&self).expect("a simulated node always encodes")
    }

    // Only this canister writes these: an undecodable one is corrupted state.
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        candid::decode_one(&bytes).expect("stored simulated node is not valid Candid")
    }

    const BOUND: Bound = Bound::Unbounded;
}

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
        manager::schedule(self.rt, due, Task::SimAdvance { item_id });
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
        let items = store::provider_items_after(&self.provider, 0, keep, usize::MAX);
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

/// A person repaired a node that failed to clean (`manage` then `provide` on a real Ironic):
/// the item's provider moved it from maintenance back to available, so its simulated node is
/// `available` again, failure settings kept.
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

/// The manager's task: moves the item's simulated node one step along its state machine and,
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
        manager::schedule(rt, due, Task::SimAdvance { item_id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::signing::provider_of;
    use crate::market::{Attributes, ItemStatus};
    use crate::runtime::{block_on, FakeRuntime};

    const UUID: &str = "2b1c8a4e-0000-4000-8000-000000000001";

    fn provider() -> ProviderKey {
        provider_of(&[7; 32])
    }

    fn other_provider() -> ProviderKey {
        provider_of(&[8; 32])
    }

    fn put_node_item(
        id: u64,
        provider: &ProviderKey,
        resource_type: &str,
        uuid: &str,
        class: &str,
    ) {
        store::put_item(&Item {
            id,
            provider_pem: provider.to_pem(),
            resource_type: resource_type.into(),
            resource_uuid: uuid.into(),
            sku: "4D.large".into(),
            attributes: Attributes {
                resource_class: class.into(),
                ..Attributes::default()
            },
            offering_key: None,
            status: ItemStatus::Available,
            lease_id: None,
            created_at_ns: 0,
            updated_at_ns: 0,
        });
    }

    /// A runtime and the provider's one node, item 1, uuid [`UUID`].
    fn setup() -> FakeRuntime {
        put_node_item(1, &provider(), IRONIC_NODE, UUID, "baremetal.large");
        FakeRuntime::new()
    }

    fn sim(rt: &FakeRuntime) -> SimIronic<'_, FakeRuntime> {
        SimIronic {
            rt,
            provider: provider(),
        }
    }

    fn node(rt: &FakeRuntime, uuid: &str) -> Node {
        block_on(sim(rt).node(uuid)).unwrap()
    }

    fn state(rt: &FakeRuntime) -> (String, Option<String>) {
        let node = node(rt, UUID);
        (node.provision_state, node.target_provision_state)
    }

    fn states(state: &str, target: Option<&str>) -> (String, Option<String>) {
        (state.into(), target.map(Into::into))
    }

    /// Moves time one step on and runs what the manager has due.
    fn tick(rt: &FakeRuntime) {
        rt.time.set(rt.time() + STEP_NS);
        manager::run_due(rt, || true);
    }

    fn deploy(rt: &FakeRuntime) -> Result<(), ClientError> {
        block_on(sim(rt).set_provision_state(UUID, Target::Active, Some("#cloud-config")))
    }

    fn undeploy(rt: &FakeRuntime) -> Result<(), ClientError> {
        block_on(sim(rt).set_provision_state(UUID, Target::Deleted, None))
    }

    fn set_instance(rt: &FakeRuntime) -> Result<(), ClientError> {
        block_on(sim(rt).set_instance(UUID, "ubuntu-22.04", "project-1"))
    }

    fn status_of(error: Result<(), ClientError>) -> u16 {
        match error {
            Err(ClientError::Http { status, .. }) => status,
            other => panic!("not an HTTP error: {other:?}"),
        }
    }

    /// Puts the node straight into `state`, stable.
    fn force(state: &str) {
        put(
            1,
            SimNode {
                provision_state: state.into(),
                ..SimNode::default()
            },
        );
    }

    #[test]
    fn an_untouched_node_is_available_and_unrecorded() {
        let rt = setup();
        assert_eq!(
            node(&rt, UUID),
            Node {
                uuid: UUID.into(),
                name: Some("node-1".into()),
                resource_class: Some("baremetal.large".into()),
                provision_state: "available".into(),
                target_provision_state: None,
                maintenance: false,
                last_error: None,
                lessee: None,
                image_source: None,
            }
        );
        assert!(NODES.with_borrow(|nodes| nodes.is_empty()));
    }

    #[test]
    fn a_full_deploy_and_undeploy_walk_on_the_timer() {
        let rt = setup();
        set_instance(&rt).unwrap();
        let t0 = rt.time();
        deploy(&rt).unwrap();
        assert_eq!(state(&rt), states("deploying", Some("active")));
        assert_eq!(rt.armed_timer.get(), Some(t0 + STEP_NS));

        // Nothing moves before the step is due.
        manager::run_due(&rt, || true);
        assert_eq!(state(&rt), states("deploying", Some("active")));

        let mut walk = vec![];
        for _ in 0..3 {
            tick(&rt);
            walk.push(state(&rt));
        }
        assert_eq!(
            walk,
            [
                states("wait call-back", Some("active")),
                states("deploying", Some("active")),
                states("active", None),
            ]
        );
        let deployed = node(&rt, UUID);
        assert_eq!(deployed.image_source.as_deref(), Some("ubuntu-22.04"));
        assert_eq!(deployed.lessee.as_deref(), Some("project-1"));
        assert_eq!(deployed.last_error, None);
        // Arrived: nothing more is queued.
        assert_eq!(manager::run_due(&rt, || true), None);
        tick(&rt);
        assert_eq!(state(&rt), states("active", None));

        undeploy(&rt).unwrap();
        assert_eq!(state(&rt), states("deleting", Some("available")));
        let mut walk = vec![];
        for _ in 0..4 {
            tick(&rt);
            walk.push(state(&rt));
        }
        assert_eq!(
            walk,
            [
                states("cleaning", Some("available")),
                states("clean wait", Some("available")),
                states("cleaning", Some("available")),
                states("available", None),
            ]
        );
        // The tear-down emptied the image; the lessee stays until cleared.
        let cleaned = node(&rt, UUID);
        assert_eq!(cleaned.image_source, None);
        assert_eq!(cleaned.lessee.as_deref(), Some("project-1"));
        block_on(sim(&rt).clear_instance(UUID)).unwrap();
        assert_eq!(node(&rt, UUID).lessee, None);
        assert_eq!(manager::run_due(&rt, || true), None);
        assert_eq!(get(1).updated_at_ns, rt.time());

        // Available again: deployable again.
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
    }

    #[test]
    fn every_state_the_simulation_visits_is_a_known_ironic_state() {
        let rt = setup();
        let mut seen = vec![state(&rt).0];
        set_failure(&provider(), UUID, true, true).unwrap();
        for round in 0..2 {
            set_instance(&rt).unwrap();
            deploy(&rt).unwrap();
            seen.push(state(&rt).0);
            while state(&rt).1.is_some() {
                tick(&rt);
                seen.push(state(&rt).0);
            }
            undeploy(&rt).unwrap();
            seen.push(state(&rt).0);
            while state(&rt).1.is_some() {
                tick(&rt);
                seen.push(state(&rt).0);
            }
            if round == 0 {
                assert_eq!(state(&rt).0, "clean failed");
                force("available");
            }
        }
        for state in &seen {
            assert!(
                crate::provision::state::STATES.contains(&state.as_str()),
                "{state}"
            );
        }
        assert!(seen.contains(&"deploy failed".to_string()));
        assert!(seen.contains(&"clean failed".to_string()));
    }

    #[test]
    fn a_failing_deploy_ends_in_deploy_failed_once_and_can_be_undeployed() {
        let rt = setup();
        set_failure(&provider(), UUID, true, false).unwrap();
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        for _ in 0..3 {
            tick(&rt);
        }
        let failed = node(&rt, UUID);
        assert_eq!(failed.provision_state, "deploy failed");
        assert_eq!(failed.target_provision_state, None);
        assert!(failed.last_error.unwrap().contains("simulated failure"));
        assert!(!get(1).fail_deploy);

        // Undeploy from deploy failed: cleaned back to available, the error gone.
        undeploy(&rt).unwrap();
        assert_eq!(node(&rt, UUID).last_error, None);
        for _ in 0..4 {
            tick(&rt);
        }
        assert_eq!(state(&rt), states("available", None));

        // The flag was used up: the next deploy succeeds.
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        for _ in 0..3 {
            tick(&rt);
        }
        assert_eq!(state(&rt), states("active", None));
    }

    #[test]
    fn a_failing_clean_ends_in_clean_failed_for_good() {
        let rt = setup();
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        for _ in 0..3 {
            tick(&rt);
        }
        set_failure(&provider(), UUID, false, true).unwrap();
        undeploy(&rt).unwrap();
        for _ in 0..4 {
            tick(&rt);
        }
        let failed = node(&rt, UUID);
        assert_eq!(failed.provision_state, "clean failed");
        assert_eq!(failed.target_provision_state, None);
        assert!(failed
            .last_error
            .unwrap()
            .contains("erase_devices_metadata"));
        assert!(!get(1).fail_clean);
        assert!(block_on(sim(&rt).list_available(None)).unwrap().is_empty());
        assert_eq!(status_of(deploy(&rt)), 400);
        assert_eq!(status_of(undeploy(&rt)), 400);
        assert_eq!(status_of(set_instance(&rt)), 409);
        assert_eq!(manager::run_due(&rt, || true), None);
    }

    #[test]
    fn refused_transitions_answer_as_ironic() {
        let rt = setup();
        // No image yet: Ironic's validation refuses the deploy.
        let error = deploy(&rt).unwrap_err();
        assert!(matches!(
            &error,
            ClientError::Http { status: 400, message } if message.contains("image_source")
        ));
        assert_eq!(
            undeploy(&rt),
            Err(ClientError::Http {
                status: 400,
                message: format!(
                    "The requested action \"deleted\" can not be performed on node \"{UUID}\" \
                     while it is in state \"available\"."
                ),
            })
        );
        // Refusals write nothing and queue nothing.
        assert!(NODES.with_borrow(|nodes| nodes.is_empty()));
        assert_eq!(manager::run_due(&rt, || true), None);

        // Stable states other than the allowed ones refuse both actions with 400.
        for stable in [
            "active",
            "deploy failed",
            "error",
            "clean failed",
            "manageable",
        ] {
            force(stable);
            let deploy_status = status_of(deploy(&rt));
            assert_eq!(deploy_status, 400, "deploy from {stable}");
            assert_eq!(status_of(set_instance(&rt)), 409, "instance in {stable}");
            let allowed = ["active", "deploy failed", "error"].contains(&stable);
            if !allowed {
                assert_eq!(status_of(undeploy(&rt)), 400, "undeploy from {stable}");
            }
        }
        for from in ["deploy failed", "error"] {
            force(from);
            undeploy(&rt).unwrap();
            assert_eq!(state(&rt), states("deleting", Some("available")));
        }

        // Under way: every action is 409, and a retryable one.
        let rt = FakeRuntime::new();
        force("available");
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        for _ in 0..3 {
            let error = deploy(&rt).unwrap_err();
            assert!(error.is_transient());
            assert_eq!(status_of(Err(error)), 409);
            assert_eq!(status_of(undeploy(&rt)), 409);
            assert_eq!(status_of(set_instance(&rt)), 409);
            assert_eq!(status_of(block_on(sim(&rt).clear_instance(UUID))), 409);
            tick(&rt);
        }
        assert_eq!(state(&rt), states("active", None));
        undeploy(&rt).unwrap();
        for _ in 0..4 {
            assert_eq!(status_of(deploy(&rt)), 409);
            assert_eq!(status_of(undeploy(&rt)), 409);
            assert_eq!(status_of(set_instance(&rt)), 409);
            // Clearing the lessee is fine while the node is torn down and cleaned.
            block_on(sim(&rt).clear_instance(UUID)).unwrap();
            tick(&rt);
        }
        assert_eq!(state(&rt), states("available", None));
    }

    #[test]
    fn unknown_nodes_are_not_found() {
        let rt = setup();
        put_node_item(
            2,
            &other_provider(),
            IRONIC_NODE,
            "theirs",
            "baremetal.large",
        );
        put_node_item(3, &provider(), "vm", "not-a-node", "baremetal.large");
        for uuid in ["nope", "theirs", "not-a-node"] {
            let not_found = ClientError::NotFound { uuid: uuid.into() };
            let ironic = sim(&rt);
            assert_eq!(block_on(ironic.node(uuid)), Err(not_found.clone()));
            assert_eq!(
                block_on(ironic.set_instance(uuid, "img", "p")),
                Err(not_found.clone())
            );
            assert_eq!(
                block_on(ironic.clear_instance(uuid)),
                Err(not_found.clone())
            );
            for target in [Target::Active, Target::Deleted] {
                assert_eq!(
                    block_on(ironic.set_provision_state(uuid, target, None)),
                    Err(not_found.clone())
                );
            }
            assert_eq!(
                set_failure(&provider(), uuid, true, true),
                Err(not_found.clone())
            );
            assert!(!not_found.is_transient());
        }
        // The other provider's node is its own.
        assert!(set_failure(&other_provider(), "theirs", true, false).is_ok());
        assert!(NODES.with_borrow(|nodes| nodes.get(&1).is_none() && nodes.get(&3).is_none()));
    }

    #[test]
    fn a_uuid_two_providers_share_is_one_node_each() {
        let rt = setup();
        put_node_item(2, &other_provider(), IRONIC_NODE, UUID, "baremetal.small");
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        let theirs = SimIronic {
            rt: &rt,
            provider: other_provider(),
        };
        let their_node = block_on(theirs.node(UUID)).unwrap();
        assert_eq!(their_node.provision_state, "available");
        assert_eq!(their_node.name.as_deref(), Some("node-2"));
        assert_eq!(
            their_node.resource_class.as_deref(),
            Some("baremetal.small")
        );
        assert_eq!(state(&rt), states("deploying", Some("active")));
    }

    #[test]
    fn advance_is_idempotent_and_harmless_when_stray() {
        let rt = setup();
        // Unknown item, and a known one never touched: nothing written, nothing queued.
        advance(&rt, 99);
        advance(&rt, 1);
        assert!(NODES.with_borrow(|nodes| nodes.is_empty()));
        assert_eq!(manager::run_due(&rt, || true), None);

        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        // Early: nothing moves.
        advance(&rt, 1);
        assert_eq!(state(&rt), states("deploying", Some("active")));
        // Due: one step, however many times it runs.
        rt.time.set(rt.time() + STEP_NS);
        advance(&rt, 1);
        let after_one = get(1);
        advance(&rt, 1);
        advance(&rt, 1);
        assert_eq!(get(1), after_one);
        assert_eq!(after_one.provision_state, "wait call-back");
        // The queued task for this step is now stray; it moves nothing either.
        manager::run_due(&rt, || true);
        assert_eq!(get(1), after_one);
        // Stable: stray runs change nothing.
        for _ in 0..2 {
            tick(&rt);
        }
        assert_eq!(state(&rt), states("active", None));
        let active = get(1);
        for _ in 0..3 {
            rt.time.set(rt.time() + STEP_NS);
            advance(&rt, 1);
        }
        assert_eq!(get(1), active);

        // A gone item loses its record.
        store::remove_item(1);
        advance(&rt, 1);
        assert!(NODES.with_borrow(|nodes| nodes.is_empty()));
    }

    #[test]
    fn list_available_filters_by_state_class_type_and_provider() {
        let rt = FakeRuntime::new();
        let me = provider();
        put_node_item(1, &me, IRONIC_NODE, "n1", "baremetal.large");
        put_node_item(2, &me, IRONIC_NODE, "n2", "baremetal.small");
        put_node_item(3, &me, IRONIC_NODE, "n3", "baremetal.large");
        put_node_item(4, &me, "vm", "v4", "baremetal.large");
        put_node_item(5, &other_provider(), IRONIC_NODE, "o5", "baremetal.large");
        put_node_item(6, &me, IRONIC_NODE, "n6", "");
        put_node_item(7, &me, IRONIC_NODE, "n7", "baremetal.large");
        put_node_item(8, &me, IRONIC_NODE, "n8", "baremetal.large");
        let ironic = sim(&rt);
        let uuids = |class: Option<&str>| -> Vec<String> {
            block_on(ironic.list_available(class))
                .unwrap()
                .into_iter()
                .map(|node| node.uuid)
                .collect()
        };
        assert_eq!(uuids(None), ["n1", "n2", "n3", "n6", "n7", "n8"]);
        assert_eq!(uuids(Some("baremetal.large")), ["n1", "n3", "n7", "n8"]);
        assert_eq!(uuids(Some("baremetal.small")), ["n2"]);
        assert!(uuids(Some("gpu")).is_empty());

        // Deploying, deployed, in maintenance: not available.
        block_on(ironic.set_instance("n3", "img", "p")).unwrap();
        block_on(ironic.set_provision_state("n3", Target::Active, None)).unwrap();
        put(
            7,
            SimNode {
                maintenance: true,
                ..SimNode::default()
            },
        );
        put(
            8,
            SimNode {
                provision_state: "active".into(),
                ..SimNode::default()
            },
        );
        assert_eq!(uuids(Some("baremetal.large")), ["n1"]);
        let listed = block_on(ironic.list_available(None)).unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[2].resource_class, None);
        assert!(listed
            .iter()
            .all(|node| node.provision_state == "available" && !node.maintenance));
        // The instance set on an available node shows in the list.
        block_on(ironic.set_instance("n1", "img", "p")).unwrap();
        let n1 = &block_on(ironic.list_available(None)).unwrap()[0];
        assert_eq!(n1.lessee.as_deref(), Some("p"));
    }

    #[test]
    fn set_failure_sets_and_unsets_the_flags() {
        let rt = setup();
        set_failure(&provider(), UUID, true, true).unwrap();
        let node = get(1);
        assert!(node.fail_deploy && node.fail_clean);
        assert_eq!(node.provision_state, "available");
        set_failure(&provider(), UUID, false, false).unwrap();
        let node = get(1);
        assert!(!node.fail_deploy && !node.fail_clean);
        // Unset before the deploy: it succeeds.
        set_instance(&rt).unwrap();
        deploy(&rt).unwrap();
        for _ in 0..3 {
            tick(&rt);
        }
        assert_eq!(state(&rt), states("active", None));
    }

    #[test]
    fn sim_nodes_round_trip_through_storable() {
        let node = SimNode {
            provision_state: "clean wait".into(),
            target_provision_state: Some("available".into()),
            last_error: Some("x".into()),
            lessee: Some("p".into()),
            image_source: Some("img".into()),
            fail_clean: true,
            passed_wait: true,
            next_step_at_ns: Some(5),
            updated_at_ns: 4,
            ..SimNode::default()
        };
        assert_eq!(SimNode::from_bytes(node.to_bytes()), node);
    }
}
