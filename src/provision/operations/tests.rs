use super::testing::deploy;
use super::*;

#[test]
fn operations_round_trip_by_item_and_are_replaced() {
    assert_eq!(get(1), None);
    let mut operation = deploy();
    put(&operation);
    assert_eq!(get(1), Some(operation.clone()));
    operation.kind = OperationKind::Undeploy;
    operation.release_to = Some(Phase::Cancelled);
    put(&operation);
    assert_eq!(get(1), Some(operation));
    assert_eq!(get(2), None);
}

#[test]
fn the_view_derives_progress_from_the_state_and_the_status() {
    let mut operation = deploy();
    let view = view(&operation);
    assert_eq!(view.operation_id, "node-1");
    assert_eq!(view.server_id, "node-1");
    assert_eq!(
        (view.status, view.progress_percent),
        (OperationStatus::Accepted, Some(0))
    );
    assert_eq!(view.execution_id, Some(3));
    operation.status = OperationStatus::InProgress;
    operation.provision_state = "wait call-back".into();
    assert_eq!(super::view(&operation).progress_percent, Some(50));
    operation.provision_state = "deploying".into();
    operation.seen_wait_callback = true;
    assert_eq!(super::view(&operation).progress_percent, Some(75));
    operation.status = OperationStatus::Completed;
    operation.provision_state = "active".into();
    operation.completed_at_ns = Some(99);
    let done = super::view(&operation);
    assert_eq!(
        (done.progress_percent, done.completed_at_ns),
        (Some(100), Some(99))
    );
    // Failed for a reason of the canister's (a timeout) while the node was deploying.
    operation.status = OperationStatus::Failed;
    operation.provision_state = "deploying".into();
    assert_eq!(super::view(&operation).progress_percent, None);
}
