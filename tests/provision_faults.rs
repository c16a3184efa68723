//! Provisioning when Ironic misbehaves, end to end through the wasm against the fake Ironic
//! (`tests/common/ironic.rs`): 500, 409 NodeLocked, 503, refused connections and timeouts are
//! retried with a backoff until they clear; malformed JSON, answers over `max_response_bytes`
//! and failed deploys end in a typed error or a Failed operation; a lease never stays
//! PREPARING, never becomes AVAILABLE once cancelled, and its node is never booked twice.

mod common;

use common::ironic::*;
use common::market::*;
use common::*;
use ic_management_canister_types::HttpMethod;

const OPERATION_MAX_NS: u64 = 15 * MINUTE_NS;

/// The fake Ironic with one node, its item offered for a day, and a stuck timeout long enough
/// that only provisioning can end a lease in these tests.
fn lease_lab(lab: Lab) -> (Lab, Item) {
    let mut lab = lab;
    lab.configure();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let controller = lab.controller();
    lab.m
        .canister
        .policies_set(
            controller,
            PoliciesUpdate {
                stuck_timeout_seconds: Some(4 * 3600),
                ..PoliciesUpdate::default()
            },
        )
        .expect("policies_set");
    (lab, item)
}

/// The attempts of the faulted kind of request (same method and path), with when they came.
fn attempts_like(requests: &[Recorded], faulted: &Recorded) -> Vec<Recorded> {
    requests
        .iter()
        .filter(|r| r.method == faulted.method && r.path == faulted.path)
        .cloned()
        .collect()
}

/// Each faulted request was sent again later, and the waits between attempts never shrink.
fn assert_retried_with_backoff(requests: &[Recorded], fault: &Fault, times: usize) {
    let faulted: Vec<&Recorded> = requests
        .iter()
        .filter(|r| r.fault.as_ref() == Some(fault))
        .collect();
    assert_eq!(faulted.len(), times, "the faults were not all hit");
    for f in &faulted {
        let attempts = attempts_like(requests, f);
        let at = attempts
            .iter()
            .position(|r| r.at_ns == f.at_ns && r.fault.is_some())
            .unwrap();
        let retry = attempts
            .get(at + 1)
            .unwrap_or_else(|| panic!("never retried: {}", f.describe()));
        assert!(
            retry.at_ns > f.at_ns,
            "retried at once, without a backoff: {} then {}",
            f.describe(),
            retry.describe()
        );
    }
    // The first faulted request's kind: its attempts up to the first success.
    let first = faulted[0];
    let attempts = attempts_like(requests, first);
    let start = attempts.iter().position(|r| r.fault.is_some()).unwrap();
    let end = attempts[start..]
        .iter()
        .position(Recorded::succeeded)
        .map(|i| start + i)
        .expect("the request finally succeeded");
    let times: Vec<u64> = attempts[start..=end].iter().map(|r| r.at_ns).collect();
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[0] <= g[1]),
        "the backoff shrinks: gaps {gaps:?} ns"
    );
}

/// A lease whose deploy meets `times` faults on `on`: retried until AVAILABLE, never FAILED.
fn transient_fault_is_retried(on: On, fault: Fault, times: usize) {
    let (mut lab, item) = lease_lab(Lab::new());
    lab.ironic.inject(on, times, fault.clone());
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    lab.wait_until("the lease is AVAILABLE", OPERATION_MAX_NS, |lab| {
        let phase = lab.m.phase(lease.id);
        assert!(
            matches!(phase, Phase::Accepted | Phase::Preparing | Phase::Available),
            "{phase:?}"
        );
        if let Ok(status) = lab.m.canister.provision_status(a, NODE_A) {
            assert_ne!(status.status, OperationStatus::Failed, "{status:?}");
        }
        phase == Phase::Available
    });
    assert_eq!(lab.ironic.pending_faults(), 0);
    assert_retried_with_backoff(&lab.ironic.requests(), &fault, times);
    let node = lab.ironic.node(NODE_A);
    assert_eq!(
        (
            node.provision_state.as_str(),
            node.lessee.as_deref(),
            node.image_source().as_deref()
        ),
        ("active", Some("proj-a"), Some(IMAGE))
    );
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Leased);
    let counters = lab.m.canister.status().counters;
    assert!(
        counters.outcall_failures >= times as u64,
        "failed outcalls are counted: {counters:?}"
    );
    let status = lab.status(NODE_A);
    assert_eq!(
        (status.status, status.provision_state.as_str()),
        (OperationStatus::Completed, "active")
    );
}

#[test]
fn a_500_on_the_deploy_request_is_retried_with_backoff() {
    transient_fault_is_retried(On::Target("active"), Fault::InternalError, 2);
}

#[test]
fn a_409_node_locked_on_the_patch_is_retried_with_backoff() {
    transient_fault_is_retried(On::Patch, Fault::NodeLocked, 3);
}

#[test]
fn a_503_from_the_load_balancer_on_reads_is_retried_with_backoff() {
    transient_fault_is_retried(On::Get, Fault::Unavailable, 2);
}

#[test]
fn a_refused_connection_is_retried_with_backoff() {
    transient_fault_is_retried(On::Any, Fault::Refused, 2);
}

#[test]
fn a_timeout_is_retried_with_backoff() {
    transient_fault_is_retried(On::Any, Fault::Timeout, 2);
}

#[test]
fn a_deploy_whose_answer_was_lost_still_ends_available() {
    let (mut lab, item) = lease_lab(Lab::new());
    // Ironic starts the deploy, but its 202 never reaches the canister.
    lab.ironic
        .inject(On::Target("active"), 1, Fault::LostAnswer);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    lab.wait_until("the lease is AVAILABLE", OPERATION_MAX_NS, |lab| {
        let phase = lab.m.phase(lease.id);
        assert!(
            matches!(phase, Phase::Accepted | Phase::Preparing | Phase::Available),
            "the lost answer broke the lease: {phase:?}"
        );
        phase == Phase::Available
    });
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.provision_state, "active");
    assert_eq!(
        node.history
            .iter()
            .filter(|s| s.as_str() == "active")
            .count(),
        1,
        "deployed once: {:?}",
        node.history
    );
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Leased);
}

#[test]
fn a_transient_fault_while_following_a_direct_deploy_is_retried() {
    let mut lab = Lab::new();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    lab.ironic.inject(On::Get, 2, Fault::Timeout);
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (done.status, done.provision_state.as_str()),
        (OperationStatus::Completed, "active"),
        "{done:?}"
    );
    assert_eq!(lab.ironic.pending_faults(), 0);
    assert_retried_with_backoff(&lab.ironic.requests(), &Fault::Timeout, 2);
}

#[test]
fn a_refresh_that_gets_no_good_answer_is_a_typed_error_and_keeps_the_last_state() {
    let mut lab = Lab::new();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    let before = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(before.status, OperationStatus::Completed);
    let controller = lab.controller();

    lab.ironic.inject(On::Get, 1, Fault::Refused);
    let refused = lab.m.canister.provision_refresh(controller, NODE_A);
    assert!(
        matches!(refused, Err(ProvisionError::IronicUnreachable { .. })),
        "{refused:?}"
    );
    lab.ironic.inject(On::Get, 1, Fault::InternalError);
    let failed = lab.m.canister.provision_refresh(controller, NODE_A);
    assert!(
        matches!(
            failed,
            Err(ProvisionError::IronicFailed {
                status: Some(500),
                ..
            })
        ),
        "{failed:?}"
    );
    lab.ironic.inject(On::Get, 1, Fault::MalformedJson);
    let garbled = lab.m.canister.provision_refresh(controller, NODE_A);
    assert!(
        matches!(garbled, Err(ProvisionError::IronicFailed { .. })),
        "{garbled:?}"
    );
    lab.ironic.inject(On::Get, 1, Fault::Oversized);
    let oversized = lab.m.canister.provision_refresh(controller, NODE_A);
    assert!(
        matches!(
            oversized,
            Err(ProvisionError::IronicFailed { .. } | ProvisionError::IronicUnreachable { .. })
        ),
        "{oversized:?}"
    );
    let after = lab.status(NODE_A);
    assert_eq!(
        (after.status, after.provision_state.as_str(), after.kind),
        (before.status, "active", OperationKind::Deploy),
        "a failed read keeps the last known state"
    );
    // When Ironic answers again, so does the refresh.
    assert_eq!(lab.refresh(NODE_A).provision_state, "active");
}

/// A fault that is not worth retrying: provisioning directly is a typed error and writes
/// nothing; a lease meeting it (persistently) FAILS well before the stuck timeout.
fn permanent_fault_fails(
    fault: Fault,
    direct: impl Fn(&ProvisionResult<ProvisionResponse>) -> bool,
) {
    let (mut lab, item) = lease_lab(Lab::new());
    lab.ironic.inject(On::Get, 1, fault.clone());
    let result = lab.provision(provision_node(NODE_A, IMAGE));
    assert!(direct(&result), "{fault:?}: {result:?}");
    assert!(
        lab.ironic
            .requests()
            .iter()
            .all(|r| r.method == HttpMethod::GET),
        "nothing is written after a bad read"
    );
    lab.ironic.clear_faults();
    lab.ironic.clear_requests();

    // A lease whose reads all come back bad.
    lab.ironic.inject(On::Get, 10_000, fault.clone());
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    let failed = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
    assert!(failed.reason.as_deref().is_some_and(|r| !r.is_empty()));
    assert!(!lab
        .m
        .history(Entity::Execution(lease.id))
        .contains(&"AVAILABLE".to_string()));
    let status = lab.status(NODE_A);
    assert_eq!(status.execution_id, Some(lease.id));
    assert!(
        !(status.kind == OperationKind::Deploy && status.status == OperationStatus::Completed),
        "{status:?}"
    );
    let reads = lab
        .ironic
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(reads >= 1);
    lab.advance(5 * MINUTE_NS);
    let item_now = lab.m.item(item.id);
    assert_ne!(item_now.status, ItemStatus::Leased, "{item_now:?}");
    assert_ne!(item_now.lease_id, Some(lease.id), "{item_now:?}");
    lab.m.assert_no_double_booking(item.id);
}

#[test]
fn malformed_json_is_a_typed_error_and_fails_the_lease() {
    permanent_fault_fails(Fault::MalformedJson, |r| {
        matches!(r, Err(ProvisionError::IronicFailed { .. }))
    });
}

#[test]
fn an_answer_over_max_response_bytes_is_a_typed_error_and_fails_the_lease() {
    permanent_fault_fails(Fault::Oversized, |r| {
        matches!(
            r,
            Err(ProvisionError::IronicFailed { .. } | ProvisionError::IronicUnreachable { .. })
        )
    });
}

#[test]
fn a_failed_deploy_fails_the_lease_with_ironics_last_error_and_the_node_is_cleaned() {
    let (mut lab, item) = lease_lab(Lab::new());
    let last_error =
        "Deploy step deploy.write_image failed: Image checksum mismatch for ubuntu-24.04";
    lab.ironic.fail_deploy(NODE_A, last_error);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    let failed = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
    assert!(
        failed
            .reason
            .as_deref()
            .is_some_and(|r| r.contains(last_error)),
        "the lease says why: {:?}",
        failed.reason
    );
    let phases = lab.m.history(Entity::Execution(lease.id));
    assert!(!phases.contains(&"AVAILABLE".to_string()), "{phases:?}");
    assert_in_order(&phases, &["PREPARING", "FAILED"]);

    // The canister undeploys the failed node: Ironic cleans it, the lessee is cleared.
    lab.wait_until("the node is clean", OPERATION_MAX_NS, |lab| {
        lab.ironic.node(NODE_A).provision_state == "available"
    });
    lab.wait_until("the item is available", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.lessee, None);
    assert!(
        node.history.contains(&"deploy failed".to_string()),
        "{:?}",
        node.history
    );
    let cleanup = lab.status(NODE_A);
    assert_eq!(
        (cleanup.kind, cleanup.status, cleanup.execution_id),
        (
            OperationKind::Undeploy,
            OperationStatus::Completed,
            Some(lease.id)
        )
    );
    // The node is offered again.
    lab.offer_again(item.id);
    let b = consumer("b");
    let next = lab.lease_now(b, "proj-b", 1);
    lab.wait_phase(next.id, Phase::Available, OPERATION_MAX_NS);
    assert_eq!(lab.ironic.node(NODE_A).lessee.as_deref(), Some("proj-b"));
}

#[test]
fn a_failed_direct_deploy_is_a_failed_operation_with_ironics_last_error() {
    let mut lab = Lab::new();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let last_error = "Timeout reached while waiting for callback for node 1be26c0b";
    lab.ironic.fail_deploy(NODE_A, last_error);
    lab.provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (done.status, done.provision_state.as_str()),
        (OperationStatus::Failed, "deploy failed"),
        "{done:?}"
    );
    assert!(done.message.contains(last_error), "{done:?}");
    assert!(done.completed_at_ns.is_some());
    let refreshed = lab.refresh(NODE_A);
    assert_eq!(refreshed.status, OperationStatus::Failed);
    assert_eq!(lab.status(NODE_A), refreshed);
}

#[test]
fn an_unreachable_ironic_never_leaves_a_lease_stuck() {
    let (mut lab, item) = lease_lab(Lab::new());
    let controller = lab.controller();
    lab.m
        .canister
        .policies_set(
            controller,
            PoliciesUpdate {
                stuck_timeout_seconds: Some(600),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    lab.ironic.inject(On::Any, 100_000, Fault::Refused);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    let failed = lab.wait_final(lease.id, 20 * MINUTE_NS);
    assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
    assert!(!lab
        .m
        .history(Entity::Execution(lease.id))
        .contains(&"AVAILABLE".to_string()));
    let it = lab.m.item(item.id);
    assert!(
        !matches!(it.status, ItemStatus::Leased | ItemStatus::Reserving),
        "{it:?}"
    );
    let tries = lab.ironic.requests().len();
    assert!(tries >= 2, "retried: {tries} requests");
    // Backed off, not hammered: far fewer than one try per 5 s step over 10 minutes.
    assert!(tries < 60, "{tries} requests in 10 minutes");
    assert!(lab.m.canister.status().counters.outcall_failures >= tries as u64);
}

// --- cancel while an outcall is in flight ---

/// Answers every deferred outcall with what the fake Ironic held for it.
fn answer_deferred(lab: &mut Lab) {
    let host = lab.host.clone().expect("on the host");
    let pending = host.borrow().pending_http();
    assert!(!pending.is_empty(), "nothing is deferred");
    for (id, args) in pending {
        let reply = lab.ironic.answer_held(&args);
        host.borrow_mut()
            .answer_http(id, reply)
            .expect("answer_http");
    }
}

/// Another consumer asks for the node now: nothing may be offered or leased.
fn nobody_else_gets_it(lab: &mut Lab, item_id: u64, n: u32) {
    let other = consumer(&format!("other-{n}"));
    let now = lab.now();
    let view = lab.m.request(other, one_offer(now, 3600));
    assert!(
        view.offers.iter().all(|e| e.item_id != item_id),
        "the node is offered to {other} meanwhile: {view:?}"
    );
    let taken = lab
        .m
        .canister
        .lease_by_sku(other, by_sku(LARGE, 3600, &lessee_key(2)));
    assert!(
        matches!(taken, Err(MarketError::NothingAvailable { .. })),
        "the node is leased to {other} meanwhile: {taken:?}"
    );
    lab.m.assert_no_double_booking(item_id);
}

/// After a cancel: the lease ends CANCELLED without ever being AVAILABLE, the node is
/// undeployed and cleaned, nobody else gets it meanwhile, and then it is offered again.
fn cancelled_lease_releases_the_node(lab: &mut Lab, item: &Item, lease: &Execution) {
    let mut n = 0;
    lab.wait_until("the node is back", OPERATION_MAX_NS, |lab| {
        n += 1;
        let phase = lab.m.phase(lease.id);
        assert_ne!(phase, Phase::Available, "AVAILABLE after the cancel");
        let node = lab.ironic.node(NODE_A);
        let item_now = lab.m.item(item.id);
        let back = phase.is_final()
            && node.provision_state == "available"
            && item_now.status == ItemStatus::Available;
        if !back && node.provision_state != "available" && n % 4 == 1 {
            nobody_else_gets_it(lab, item.id, n);
        }
        back
    });
    let done = lab.m.execution(lease.id);
    assert_eq!(done.phase, Phase::Cancelled, "{done:?}");
    let phases = lab.m.history(Entity::Execution(lease.id));
    assert!(!phases.contains(&"AVAILABLE".to_string()), "{phases:?}");
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.lessee, None, "the lessee is cleared");
    assert!(
        node.history.contains(&"deleting".to_string()),
        "the node was undeployed: {:?}",
        node.history
    );
    lab.m.assert_no_double_booking(item.id);
    // Now someone else gets it.
    lab.offer_again(item.id);
    let b = consumer("b");
    let next = lab.lease_now(b, "proj-b", 1);
    lab.wait_phase(next.id, Phase::Available, OPERATION_MAX_NS);
    assert_eq!(lab.ironic.node(NODE_A).lessee.as_deref(), Some("proj-b"));
}

#[test]
fn cancel_while_the_deploy_request_is_in_flight_never_makes_the_lease_available() {
    let (mut lab, item) = lease_lab(Lab::on_host());
    // Ironic starts the deploy; its answer is held until after the cancel.
    lab.ironic.inject(On::Target("active"), 1, Fault::Defer);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    lab.wait_until("the deploy is in flight", 5 * MINUTE_NS, |lab| {
        lab.ironic.held() == 1
    });
    assert_eq!(lab.m.phase(lease.id), Phase::Preparing);
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Reserving);

    let cancelled = lab
        .m
        .canister
        .execution_cancel(
            a,
            CancelArg {
                execution_id: lease.id,
                reason: "changed my mind".into(),
            },
        )
        .expect("execution_cancel");
    assert!(
        matches!(cancelled.phase, Phase::Releasing | Phase::Cancelled),
        "{cancelled:?}"
    );
    nobody_else_gets_it(&mut lab, item.id, 0);

    answer_deferred(&mut lab);
    lab.advance(SECOND_NS);
    assert_ne!(lab.m.phase(lease.id), Phase::Available);
    nobody_else_gets_it(&mut lab, item.id, 1000);
    cancelled_lease_releases_the_node(&mut lab, &item, &lease);
}

#[test]
fn cancel_while_the_read_that_sees_active_is_in_flight_never_makes_the_lease_available() {
    let (mut lab, item) = lease_lab(Lab::on_host());
    lab.ironic.set_manual(true);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    lab.wait_until("the deploy is asked for", 5 * MINUTE_NS, |lab| {
        lab.ironic.node(NODE_A).provision_state == "deploying"
    });
    // Ironic finishes; the canister's next read of it is held until after the cancel.
    lab.ironic.settle(NODE_A);
    assert_eq!(lab.ironic.node(NODE_A).provision_state, "active");
    lab.ironic.inject(On::Get, 1, Fault::Defer);
    lab.wait_until("a read is in flight", 5 * MINUTE_NS, |lab| {
        lab.ironic.held() == 1 || lab.m.phase(lease.id) == Phase::Available
    });
    assert_eq!(
        lab.m.phase(lease.id),
        Phase::Preparing,
        "AVAILABLE from a read that was not held"
    );

    let cancelled = lab
        .m
        .canister
        .execution_cancel(
            a,
            CancelArg {
                execution_id: lease.id,
                reason: String::new(),
            },
        )
        .expect("execution_cancel");
    assert!(
        matches!(cancelled.phase, Phase::Releasing | Phase::Cancelled),
        "{cancelled:?}"
    );
    answer_deferred(&mut lab);
    lab.advance(SECOND_NS);
    assert_ne!(lab.m.phase(lease.id), Phase::Available);
    nobody_else_gets_it(&mut lab, item.id, 1000);
    lab.ironic.set_manual(false);
    cancelled_lease_releases_the_node(&mut lab, &item, &lease);
}

#[test]
fn a_lease_ending_while_its_deploy_is_locked_is_released_not_left_running() {
    let (mut lab, item) = lease_lab(Lab::new());
    // The node stays locked by another conductor for a while: every write is refused.
    lab.ironic.inject(On::Patch, 6, Fault::NodeLocked);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 1);
    lab.wait_until("the lease is PREPARING", MINUTE_NS, |lab| {
        lab.m.phase(lease.id) == Phase::Preparing
    });
    // The consumer gives up and ends the lease early.
    let ended = lab.m.canister.lease_end(a, lease.id);
    assert!(ended.is_ok(), "{ended:?}");
    lab.wait_until_by("the lease ends", 2 * HOUR_NS, 30 * SECOND_NS, |lab| {
        lab.m.phase(lease.id).is_final()
    });
    let done = lab.m.execution(lease.id);
    assert!(
        matches!(done.phase, Phase::Completed | Phase::Cancelled),
        "{done:?}"
    );
    assert!(!lab
        .m
        .history(Entity::Execution(lease.id))
        .contains(&"AVAILABLE".to_string()));
    lab.wait_until_by(
        "the item is available",
        2 * HOUR_NS,
        30 * SECOND_NS,
        |lab| lab.m.item(item.id).status == ItemStatus::Available,
    );
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.provision_state, "available", "{:?}", node.history);
    assert_eq!(node.lessee, None);
}

// --- races between provisioning calls and leases ---

fn take_provision(
    lab: &Lab,
    id: ic0_host::MessageId,
) -> Option<ProvisionResult<ProvisionResponse>> {
    let host = lab.host.clone().expect("on the host");
    let bytes = host.borrow_mut().take_result(id)?;
    let bytes = bytes.unwrap_or_else(|r| panic!("provision_server was rejected: {r}"));
    Some(candid::decode_one(&bytes).expect("reply decodes"))
}

fn tick(lab: &mut Lab) {
    lab.host.clone().expect("on the host").borrow_mut().tick();
}

/// Whether Ironic was asked (successfully) to set the node's lessee to `lessee`.
fn lessee_was_set(lab: &Lab, lessee: &str) -> bool {
    lab.requests_on(NODE_A).iter().any(|r| {
        r.method == HttpMethod::PATCH
            && r.applied
            && r.json().is_some_and(|ops| {
                ops.as_array().is_some_and(|ops| {
                    ops.iter().any(|op| {
                        op.get("path").and_then(|p| p.as_str()) == Some("/lessee")
                            && op.get("value").and_then(|v| v.as_str()) == Some(lessee)
                    })
                })
            })
    })
}

#[test]
fn two_interleaved_provisions_of_one_node_deploy_it_once() {
    let mut lab = Lab::on_host();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let host = lab.host.clone().unwrap();
    // Both reads of the node are held: both calls see it available.
    lab.ironic.inject(On::Get, 2, Fault::Defer);
    let delegate = lab.delegate();
    let controller = lab.controller();
    let first = submit(
        &host,
        delegate,
        "provision_server",
        provision_node(NODE_A, IMAGE),
    );
    let second = submit(
        &host,
        controller,
        "provision_server",
        provision_node(NODE_A, "debian-12"),
    );
    tick(&mut lab);
    assert_eq!(lab.ironic.held(), 2, "both reads are in flight");
    answer_deferred(&mut lab);
    tick(&mut lab);
    let first = take_provision(&lab, first).expect("answered");
    let second = take_provision(&lab, second).expect("answered");
    let ok = [&first, &second].iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{first:?} / {second:?}");
    for result in [&first, &second] {
        if let Err(e) = result {
            assert!(
                matches!(e, ProvisionError::ServerNotAvailable { .. }),
                "{e:?}"
            );
        }
    }
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(done.status, OperationStatus::Completed, "{done:?}");
    let deploys = lab
        .requests_on(NODE_A)
        .iter()
        .filter(|r| r.is_target("active"))
        .count();
    assert_eq!(deploys, 1, "the node was asked to deploy twice");
    let winner = if first.is_ok() { IMAGE } else { "debian-12" };
    assert_eq!(
        lab.ironic.node(NODE_A).image_source().as_deref(),
        Some(winner)
    );
}

#[test]
fn a_direct_provision_racing_a_lease_leaves_no_deployed_node_on_offer() {
    let (mut lab, item) = lease_lab(Lab::on_host());
    let host = lab.host.clone().unwrap();
    let delegate = lab.delegate();
    // The provider's operator provisions the node; its PATCH is held...
    lab.ironic.inject(On::Patch, 1, Fault::Defer);
    let direct = submit(
        &host,
        delegate,
        "provision_server",
        provision_node(NODE_A, "debian-12"),
    );
    tick(&mut lab);
    assert_eq!(lab.ironic.held(), 1, "the PATCH is in flight");
    // ...while a consumer tries to lease the same node: the provision took it out of the
    // market before its first call to Ironic, so there is nothing to lease.
    let a = consumer("a");
    let refused = lab
        .m
        .canister
        .lease_by_sku(a, by_sku(LARGE, 4 * 3600, &lessee_key(1)));
    assert!(
        matches!(refused, Err(MarketError::NothingAvailable { .. })),
        "{refused:?}"
    );
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Maintenance);
    lab.advance(SECOND_NS);
    answer_deferred(&mut lab);
    tick(&mut lab);
    let direct = take_provision(&lab, direct).expect("answered");
    assert!(direct.is_ok(), "{direct:?}");
    assert!(lessee_was_set(&lab, &delegate.to_text()));

    lab.run_for(OPERATION_MAX_NS, |_| {});
    let node = lab.ironic.node(NODE_A);
    assert_eq!(lab.status(NODE_A).status, OperationStatus::Completed);
    assert_eq!(node.provision_state, "active");
    assert_eq!(node.lessee.as_deref(), Some(delegate.to_text().as_str()));
    // Still out of the market while its provider's instance runs.
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Maintenance);
    lab.m.assert_no_double_booking(item.id);
}

#[test]
fn a_lease_ending_while_its_node_still_deploys_is_released_once_the_deploy_ends() {
    let (mut lab, item) = lease_lab(Lab::new());
    lab.ironic.set_manual(true);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 1);
    lab.wait_until("the deploy is asked for", 5 * MINUTE_NS, |lab| {
        lab.ironic.node(NODE_A).provision_state == "deploying"
    });
    lab.ironic.step(NODE_A);
    assert_eq!(lab.ironic.node(NODE_A).provision_state, "wait call-back");
    // The lease ends while Ironic waits for the agent.
    lab.advance(lease.end_ns - lab.now());
    lab.run_for(MINUTE_NS, |lab| {
        assert_ne!(lab.m.phase(lease.id), Phase::Available);
    });
    // Ironic finishes the deploy; the canister then undeploys and cleans the node.
    lab.ironic.set_manual(false);
    lab.ironic.settle(NODE_A);
    let done = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    let phases = lab.m.history(Entity::Execution(lease.id));
    assert!(!phases.contains(&"AVAILABLE".to_string()), "{phases:?}");
    lab.wait_until("the item is available", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    let node = lab.ironic.node(NODE_A);
    assert_eq!(
        (node.provision_state.as_str(), node.lessee.as_deref()),
        ("available", None),
        "{:?}",
        node.history
    );
    assert!(node.history.contains(&"deleting".to_string()));
}

#[test]
fn a_node_deployed_directly_is_not_leased_out_meanwhile() {
    let (mut lab, item) = lease_lab(Lab::new());
    // The provider's operator deploys its offered node outside the market.
    lab.provision(provision_node(NODE_A, "debian-12"))
        .expect("provision_server");
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(done.status, OperationStatus::Completed, "{done:?}");
    // A consumer asks for the node now.
    let a = consumer("a");
    let now = lab.now();
    let view = lab.m.request(a, one_offer(now, 3600));
    if view.offerset.result == OffersetResult::Yes {
        let lease = lab
            .m
            .accept(a, view.offerset.execution_ids[0], &lessee_key(1));
        let end = lab.wait_final(lease.id, OPERATION_MAX_NS).phase;
        let it = lab.m.item(item.id);
        let node = lab.ironic.node(NODE_A);
        panic!(
            "a node deployed for its provider was leased out: lease {end:?} (its offer spent), \
             item then {:?}, node {} with lessee {:?} and image {:?}",
            it.status,
            node.provision_state,
            node.lessee,
            node.image_source()
        );
    }
}
