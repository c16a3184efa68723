//! Executions once accepted: contracts and leases. Accept, cancel, extend, end early, the pez
//! lease-by-SKU shortcut, credentials, and the manager's start and end. TODO(helper)

use super::types::*;
use crate::runtime::Runtime;

pub fn accept(rt: &impl Runtime, arg: AcceptArg) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn cancel(rt: &impl Runtime, arg: CancelArg) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn extend(rt: &impl Runtime, arg: ExtendArg) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn end_now(rt: &impl Runtime, execution_id: u64) -> Result<Execution, MarketError> {
    let _ = (rt.time(), execution_id);
    todo!()
}

pub fn lease_by_sku(rt: &impl Runtime, arg: LeaseBySkuArg) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn set_consumer_meta(
    rt: &impl Runtime,
    arg: SetConsumerMetaArg,
) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn set_procurement_meta(
    rt: &impl Runtime,
    arg: SetProcurementMetaArg,
) -> Result<Execution, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn get(rt: &impl Runtime, id: u64) -> Result<Execution, MarketError> {
    let _ = (rt.time(), id);
    todo!()
}

pub fn list(rt: &impl Runtime, arg: ExecutionsListArg) -> Result<ExecutionPage, MarketError> {
    let _ = (rt.time(), arg);
    todo!()
}

pub fn contract(rt: &impl Runtime, id: u64) -> Result<Contract, MarketError> {
    let _ = (rt.time(), id);
    todo!()
}

pub fn lease(rt: &impl Runtime, id: u64) -> Result<Lease, MarketError> {
    let _ = (rt.time(), id);
    todo!()
}

/// The manager's task at a lease's start.
pub fn start(rt: &impl Runtime, execution_id: u64) {
    let _ = (rt.time(), execution_id);
    todo!()
}

/// The manager's task at a lease's end.
pub fn finish(rt: &impl Runtime, execution_id: u64) {
    let _ = (rt.time(), execution_id);
    todo!()
}

/// The manager's task some time after a lease entered PREPARING or RELEASING.
pub fn check_stuck(rt: &impl Runtime, execution_id: u64) {
    let _ = (rt.time(), execution_id);
    todo!()
}
