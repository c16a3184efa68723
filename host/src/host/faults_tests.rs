//! Which call an injected fault meets: the first armed one that matches callee, method and
//! kind of wait, each used once.

use super::super::{Awaiting, Host};
use crate::context::OutCall;
use crate::types::*;
use candid::Principal;

fn awaiting(host: &mut Host, callee: Principal, method: &str, deadline: u64) -> u64 {
    let id = host.fresh_id();
    let call = OutCall {
        callee: callee.as_slice().to_vec(),
        method: method.into(),
        ..OutCall::default()
    };
    host.awaiting.insert(
        id,
        Awaiting {
            caller: vec![],
            context: 0,
            call,
            deadline,
            expired: false,
            lose_response: false,
        },
    );
    id
}

fn reject(message: &str) -> Fault {
    Fault::Reject(Reject::new(RejectCode::SysTransient, message))
}

#[test]
fn a_fault_meets_the_first_matching_call_once() {
    let mut host = Host::new();
    let (b, c) = (Principal::from_slice(&[2]), Principal::from_slice(&[3]));
    host.inject_fault(b, Some("pay"), reject("pay"));
    host.inject_fault(b, None, reject("any"));
    let to_c = awaiting(&mut host, c, "pay", 0);
    assert_eq!(host.take_fault(to_c), None, "another callee");
    let other_method = awaiting(&mut host, b, "refund", 0);
    assert_eq!(host.take_fault(other_method), Some(reject("any")));
    let pay = awaiting(&mut host, b, "pay", 0);
    assert_eq!(host.take_fault(pay), Some(reject("pay")));
    assert_eq!(host.take_fault(pay), None, "each fault is used once");
}

#[test]
fn a_timeout_waits_for_a_bounded_wait_call() {
    let mut host = Host::new();
    let b = Principal::from_slice(&[2]);
    host.inject_fault(b, None, Fault::Timeout);
    let unbounded = awaiting(&mut host, b, "pay", 0);
    assert_eq!(host.take_fault(unbounded), None);
    let bounded = awaiting(&mut host, b, "pay", 42);
    assert_eq!(host.take_fault(bounded), Some(Fault::Timeout));
}

#[test]
fn one_clock_for_all_canisters() {
    let mut host = Host::new();
    let b = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 1]);
    host.others.insert(
        b.as_slice().to_vec(),
        super::super::canisters::Canister::empty_for_tests(b),
    );
    host.advance_time(std::time::Duration::from_secs(5));
    let now = host.time();
    assert_eq!(host.with_canister(b, |h| h.time()).unwrap(), now);
    host.with_canister(b, |h| h.advance_time(std::time::Duration::from_secs(1)))
        .unwrap();
    assert_eq!(host.time(), now + 1_000_000_000);
    assert_eq!(host.canister_id(), Host::default_canister_id());
}
