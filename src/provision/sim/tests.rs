use super::*;
use crate::catalog::signing::provider_of;
use crate::market::{Attributes, ItemStatus};
use crate::runtime::{block_on, FakeRuntime};
use ic_stable_structures::Storable;

const UUID: &str = "2b1c8a4e-0000-4000-8000-000000000001";

fn provider() -> ProviderKey {
    provider_of(&[7; 32])
}

fn other_provider() -> ProviderKey {
    provider_of(&[8; 32])
}

fn put_node_item(id: u64, provider: &ProviderKey, resource_type: &str, uuid: &str, class: &str) {
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

/// Moves time one step on and runs what the task queue has due.
fn tick(rt: &FakeRuntime) {
    rt.time.set(rt.time() + STEP_NS);
    crate::tasks::run_due(rt, || true);
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
    crate::tasks::run_due(&rt, || true);
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
    assert_eq!(crate::tasks::run_due(&rt, || true), None);
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
    assert_eq!(crate::tasks::run_due(&rt, || true), None);
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
    assert_eq!(crate::tasks::run_due(&rt, || true), None);
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
    assert_eq!(crate::tasks::run_due(&rt, || true), None);

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
    assert_eq!(crate::tasks::run_due(&rt, || true), None);

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
    crate::tasks::run_due(&rt, || true);
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

#[test]
fn an_item_its_provider_brings_back_from_maintenance_has_its_failed_node_repaired() {
    let rt = setup();
    let delegate = candid::Principal::from_slice(&[9; 29]);
    store::set_delegate(&provider(), &delegate, true, None);
    rt.caller.set(delegate);
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
    assert_eq!(state(&rt), states("clean failed", None));
    let move_to = |status| InventorySetStatusArg {
        provider: crate::catalog::provider::ProviderKeyInput::Pem(provider().to_pem()),
        item_id: 1,
        status,
        reason: String::new(),
    };
    // Into maintenance: the node stays as it is.
    set_item_status(&rt, move_to(ItemStatus::Maintenance)).unwrap();
    assert_eq!(state(&rt), states("clean failed", None));
    // A refused move changes nothing either.
    assert!(set_item_status(&rt, move_to(ItemStatus::Rebuilding)).is_err());
    assert_eq!(state(&rt), states("clean failed", None));
    // Back to the market: repaired, its failure settings kept.
    set_failure(&provider(), UUID, true, false).unwrap();
    let item = set_item_status(&rt, move_to(ItemStatus::Available)).unwrap();
    assert_eq!(item.status, ItemStatus::Available);
    assert_eq!(state(&rt), states("available", None));
    assert!(get(1).fail_deploy);
}
