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
