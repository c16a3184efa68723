//! Several canisters on one host: the probe installed twice, A calling B through the probe's
//! `call` method, and the fault drills a payments test needs (held calls, injected rejects,
//! traps and timeouts, stopping). The probe wasm comes from `scripts/build.sh --probe-only`.

use candid::{CandidType, Deserialize, Nat, Principal};
use ic0_host::{CanisterStatus, Driver, Fault, Host, HttpReply, MessageId, Reject, RejectCode};
use serde_bytes::ByteBuf;
use std::time::Duration;

fn probe_wasm() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/wasm/probe.wasm");
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/build.sh first"))
}

#[derive(CandidType, Deserialize, Debug, PartialEq)]
struct CallError {
    code: u32,
    message: String,
}
type CallResult = Result<ByteBuf, CallError>;

fn user() -> Principal {
    Principal::self_authenticating(b"a user")
}

/// A host with the probe as its primary canister (A) and a second probe beside it (B).
fn two() -> (Host, Principal, Principal) {
    let mut host = Host::new();
    let none = candid::encode_one(None::<String>).unwrap();
    host.install(&probe_wasm(), &none).unwrap();
    let a = host.canister_id();
    let b = host.install_canister(&probe_wasm(), &none, &[]).unwrap();
    (host, a, b)
}

fn call_arg(
    callee: Principal,
    method: &str,
    arg: Vec<u8>,
    cycles: u128,
    timeout: Option<u32>,
) -> Vec<u8> {
    candid::encode_args((
        callee,
        method,
        ByteBuf::from(arg),
        Nat::from(cycles),
        timeout,
    ))
    .unwrap()
}

/// `from` calls `callee.method(arg)` through the probe's `call`, run until answered.
fn call(
    host: &mut Host,
    from: Principal,
    callee: Principal,
    method: &str,
    arg: Vec<u8>,
) -> CallResult {
    let bytes = host
        .update_on(
            from,
            user(),
            "call",
            &call_arg(callee, method, arg, 0, None),
        )
        .unwrap();
    candid::decode_one(&bytes).unwrap()
}

fn submit_call(
    host: &mut Host,
    from: Principal,
    callee: Principal,
    method: &str,
    cycles: u128,
    timeout: Option<u32>,
) -> MessageId {
    let arg = call_arg(
        callee,
        method,
        candid::encode_args(()).unwrap(),
        cycles,
        timeout,
    );
    host.submit_update_on(from, user(), "call", &arg).unwrap()
}

fn call_result(host: &mut Host, id: MessageId) -> Option<CallResult> {
    host.take_result(id)
        .map(|r| candid::decode_one(&r.expect("the probe's call replies")).unwrap())
}

fn get_heap(host: &mut Host, id: Principal) -> u64 {
    let bytes = host
        .query_on(id, user(), "get_heap", &candid::encode_args(()).unwrap())
        .unwrap();
    candid::decode_one(&bytes).unwrap()
}

fn incr(host: &mut Host, id: Principal) -> u64 {
    let bytes = host
        .update_on(id, user(), "incr", &candid::encode_args(()).unwrap())
        .unwrap();
    candid::decode_one(&bytes).unwrap()
}

fn cycles_of(host: &mut Host, id: Principal) -> u128 {
    host.with_canister(id, |h| h.cycles()).unwrap()
}

#[test]
fn a_call_runs_the_callee_method_with_the_caller_as_caller() {
    let (mut host, a, b) = two();
    assert_ne!(a, b);
    assert_eq!(host.canister_ids(), vec![a, b]);
    let set = |v: u64| candid::encode_one(v).unwrap();
    call(&mut host, a, b, "set_heap", set(7)).unwrap();
    assert_eq!(
        (get_heap(&mut host, a), get_heap(&mut host, b)),
        (0, 7),
        "only B changed"
    );

    // A query method called by a canister runs replicated and sees the calling canister.
    let who = call(&mut host, a, b, "whoami", candid::encode_args(()).unwrap()).unwrap();
    assert_eq!(candid::decode_one::<Principal>(&who).unwrap(), a);
    // ... and whatever it changes is discarded, as for any query.
    call(&mut host, a, b, "query_mutate", set(9)).unwrap();
    assert_eq!(get_heap(&mut host, b), 7);
    // The primary canister's own API still addresses A.
    assert_eq!(host.canister_id(), a);
}

#[test]
fn rejects_carry_the_ic_codes() {
    let (mut host, a, b) = two();
    let text = |s: &str| candid::encode_one(s).unwrap();
    let err = call(&mut host, a, b, "reject_with", text("no")).unwrap_err();
    assert_eq!(
        err,
        CallError {
            code: 4,
            message: "no".into()
        }
    );

    let err = call(&mut host, a, b, "trap_with", text("boom")).unwrap_err();
    assert_eq!(err.code, 5);
    assert!(
        err.message
            .starts_with(&format!("Error from Canister {b}: "))
            && err.message.contains("boom"),
        "{}",
        err.message
    );

    let err = call(&mut host, a, b, "nope", vec![]).unwrap_err();
    assert_eq!(err.code, 3);
    assert_eq!(
        err.message,
        format!("Canister {b} has no update method 'nope'")
    );

    let nobody = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
    let err = call(&mut host, a, nobody, "incr", vec![]).unwrap_err();
    assert_eq!(
        err,
        CallError {
            code: 3,
            message: format!("Canister {nobody} not found")
        }
    );
}

#[test]
fn a_trap_in_the_callee_rolls_back_the_callee_only() {
    let (mut host, a, b) = two();
    call(
        &mut host,
        a,
        b,
        "set_heap",
        candid::encode_one(1u64).unwrap(),
    )
    .unwrap();
    let a_before = host.cycles();
    let err = call(
        &mut host,
        a,
        b,
        "set_then_trap",
        candid::encode_one(9u64).unwrap(),
    );
    assert_eq!(err.unwrap_err().code, 5);
    assert_eq!(get_heap(&mut host, b), 1, "B's writes are rolled back");
    assert!(
        host.cycles() < a_before,
        "A's call fee stays spent: A is not rolled back"
    );

    // An injected trap: the method runs to its end, then everything it did is undone.
    host.inject_fault(b, Some("set_heap"), Fault::Trap);
    let err = call(
        &mut host,
        a,
        b,
        "set_heap",
        candid::encode_one(5u64).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.code, 5);
    assert!(
        err.message
            .starts_with(&format!("Error from Canister {b}: ")),
        "{}",
        err.message
    );
    assert_eq!(get_heap(&mut host, b), 1);
    assert_eq!(host.pending_faults(), 0);
}

#[test]
fn other_messages_interleave_while_a_call_to_b_is_held() {
    let (mut host, a, b) = two();
    host.pause(b);
    let id = submit_call(&mut host, a, b, "incr", 0, None);
    host.tick();
    assert!(call_result(&mut host, id).is_none());
    assert_eq!(host.held_calls(b), 1);
    // Meanwhile A and B both take other messages; ingress to B is not held.
    assert_eq!(incr(&mut host, a), 1);
    assert_eq!(incr(&mut host, b), 1);
    host.resume(b);
    host.tick();
    let reply = call_result(&mut host, id).unwrap().unwrap();
    assert_eq!(
        candid::decode_one::<u64>(&reply).unwrap(),
        2,
        "ran after the ingress incr"
    );
    assert!(host.is_idle());
}

#[test]
fn the_callee_may_itself_await_a_call_back_to_the_caller() {
    let (mut host, a, b) = two();
    // A → B.call(A.incr): A runs a second message while its first still awaits B.
    let inner = call_arg(a, "incr", candid::encode_args(()).unwrap(), 0, None);
    let outer = call(&mut host, a, b, "call", inner).unwrap();
    let inner: CallResult = candid::decode_one(&outer).unwrap();
    assert_eq!(candid::decode_one::<u64>(&inner.unwrap()).unwrap(), 1);
    assert_eq!(incr(&mut host, a), 2);
}

#[test]
fn the_callee_can_be_upgraded_while_a_call_to_it_is_held() {
    let (mut host, a, b) = two();
    host.pause(b);
    let id = submit_call(&mut host, a, b, "upgrades", 0, None);
    host.tick();
    // A awaits an answer: A cannot stop for an upgrade, B (no open context) can.
    let err = host.upgrade(&probe_wasm(), &candid::encode_one(None::<String>).unwrap());
    assert_eq!(err.unwrap_err().code, RejectCode::SysTransient);
    host.upgrade_canister(b, &probe_wasm(), &candid::encode_one(Some("v2")).unwrap())
        .unwrap();
    host.resume(b);
    host.tick();
    let reply = call_result(&mut host, id).unwrap().unwrap();
    assert_eq!(
        candid::decode_one::<u64>(&reply).unwrap(),
        1,
        "the new B answered"
    );
    assert_eq!(host.with_canister(b, |h| h.canister_version()).unwrap(), 2);
    assert_eq!(host.canister_version(), 1);
}

#[test]
fn an_injected_reject_never_reaches_the_callee() {
    let (mut host, a, b) = two();
    let drill = Reject::new(RejectCode::SysTransient, "drill");
    host.inject_fault(b, Some("incr"), Fault::Reject(drill));
    // Another method is not affected, and the fault waits for its call.
    call(
        &mut host,
        a,
        b,
        "set_heap",
        candid::encode_one(3u64).unwrap(),
    )
    .unwrap();
    assert_eq!(host.pending_faults(), 1);
    let err = call(&mut host, a, b, "incr", candid::encode_args(()).unwrap()).unwrap_err();
    assert_eq!(
        err,
        CallError {
            code: 2,
            message: "drill".into()
        }
    );
    assert_eq!(incr(&mut host, b), 1, "the rejected call never ran");
}

#[test]
fn an_injected_timeout_keeps_the_effect_but_the_caller_learns_sys_unknown() {
    let (mut host, a, b) = two();
    // Unbounded-wait calls cannot time out: the fault waits for a bounded-wait one.
    host.inject_fault(b, None, Fault::Timeout);
    let id = submit_call(&mut host, a, b, "incr", 0, None);
    host.tick();
    assert!(call_result(&mut host, id).unwrap().is_ok());
    assert_eq!(host.pending_faults(), 1);

    let (a_before, b_before) = (host.cycles(), cycles_of(&mut host, b));
    let id = submit_call(&mut host, a, b, "incr", 1_000_000, Some(10));
    host.tick();
    assert!(
        call_result(&mut host, id).is_none(),
        "nothing before the deadline"
    );
    assert_eq!(
        incr(&mut host, b),
        3,
        "B ran the call (1 + the timed-out one + this)"
    );
    host.advance_time(Duration::from_secs(10));
    host.tick();
    let err = call_result(&mut host, id).unwrap().unwrap_err();
    assert_eq!(err.code, 6);
    // The attached cycles went with the lost answer: A got no refund, B accepted none.
    assert!(a_before - host.cycles() >= 1_000_000);
    assert_eq!(cycles_of(&mut host, b), b_before);
    assert!(host.is_idle());
}

#[test]
fn a_held_bounded_wait_call_past_its_deadline_is_dropped() {
    let (mut host, a, b) = two();
    host.pause(b);
    let id = submit_call(&mut host, a, b, "incr", 0, Some(5));
    host.advance_time(Duration::from_secs(5));
    host.tick();
    assert_eq!(call_result(&mut host, id).unwrap().unwrap_err().code, 6);
    host.resume(b);
    host.tick();
    assert_eq!(incr(&mut host, b), 1, "the expired request never ran");
}

#[test]
fn attached_cycles_are_accepted_or_refunded() {
    let (mut host, a, b) = two();
    let (a_before, b_before) = (host.cycles(), cycles_of(&mut host, b));
    let arg = call_arg(
        b,
        "accept_cycles",
        candid::encode_one(Nat::from(400u32)).unwrap(),
        1_000,
        None,
    );
    let bytes = host.update_on(a, user(), "call", &arg).unwrap();
    let reply = candid::decode_one::<CallResult>(&bytes).unwrap().unwrap();
    assert_eq!(
        candid::decode_one::<Nat>(&reply).unwrap(),
        Nat::from(400u32)
    );
    assert_eq!(cycles_of(&mut host, b), b_before + 400);
    let spent = a_before - host.cycles();
    assert!(
        (400..10_000_000).contains(&spent),
        "400 accepted plus the call fee, spent {spent}"
    );

    // A reject refunds everything attached.
    let a_before = host.cycles();
    host.inject_fault(
        b,
        None,
        Fault::Reject(Reject::new(RejectCode::CanisterReject, "no")),
    );
    let arg = call_arg(b, "incr", vec![], 5_000_000_000, None);
    host.update_on(a, user(), "call", &arg).unwrap();
    assert!(a_before - host.cycles() < 10_000_000);
}

#[test]
fn a_stopped_canister_rejects_calls_and_ingress_until_started() {
    let (mut host, a, b) = two();
    // B awaits a held call to A: stopping waits for that context.
    host.pause(a);
    let id = submit_call(&mut host, b, a, "incr", 0, None);
    let err = host.stop_canister(b).unwrap_err();
    assert_eq!(err.code, RejectCode::SysTransient);
    assert_eq!(host.canister_status(b), Some(CanisterStatus::Stopping));
    let err = call(&mut host, a, b, "incr", vec![]).unwrap_err();
    assert_eq!(
        err,
        CallError {
            code: 5,
            message: format!("Canister {b} is stopping")
        }
    );

    host.resume(a);
    host.tick();
    assert!(
        call_result(&mut host, id).unwrap().is_ok(),
        "a stopping canister finishes its calls"
    );
    assert_eq!(host.canister_status(b), Some(CanisterStatus::Stopped));
    let err = host
        .update_on(b, user(), "incr", &candid::encode_args(()).unwrap())
        .unwrap_err();
    assert_eq!(err.code, RejectCode::CanisterError);
    assert_eq!(err.message, format!("Canister {b} is stopped"));

    host.start_canister(b).unwrap();
    assert_eq!(host.canister_status(b), Some(CanisterStatus::Running));
    assert_eq!(incr(&mut host, b), 1);
}

#[test]
fn each_canister_has_its_own_timer_on_one_clock() {
    let (mut host, _a, b) = two();
    let arg = candid::encode_args((1u64, "b-timer")).unwrap();
    host.update_on(b, user(), "schedule", &arg).unwrap();
    assert_eq!(host.timer_deadline(), 0, "A's timer is not B's");
    host.advance_time(Duration::from_secs(1));
    host.tick();
    let bytes = host
        .query_on(b, user(), "fired", &candid::encode_args(()).unwrap())
        .unwrap();
    let fired: Vec<(String, u64)> = candid::decode_one(&bytes).unwrap();
    assert_eq!(fired, vec![("b-timer".to_string(), host.time())]);
}

#[test]
fn the_driver_installs_calls_and_upgrades_a_second_canister() {
    let mut host = Host::new();
    let driver: &mut dyn Driver = &mut host;
    let none = candid::encode_one(None::<String>).unwrap();
    driver.install(&probe_wasm(), none.clone()).unwrap();
    let b = driver.install_canister(&probe_wasm(), none).unwrap();
    let unit = candid::encode_args(()).unwrap();
    driver
        .update_on(b, user(), "set_stable", candid::encode_one(4u64).unwrap())
        .unwrap();
    driver
        .upgrade_canister(b, &probe_wasm(), candid::encode_one(Some("v2")).unwrap())
        .unwrap();
    let bytes = driver
        .query_on(b, user(), "get_stable", unit.clone())
        .unwrap();
    assert_eq!(candid::decode_one::<u64>(&bytes).unwrap(), 4);
    let bytes = driver
        .query_on(driver.canister_id(), user(), "get_stable", unit)
        .unwrap();
    assert_eq!(candid::decode_one::<u64>(&bytes).unwrap(), 0);
    let err = driver
        .update_on(Principal::anonymous(), user(), "incr", vec![])
        .unwrap_err();
    assert_eq!(err.code, RejectCode::DestinationInvalid);
}

#[test]
fn an_outcall_of_another_canister_is_transformed_by_that_canister() {
    // The primary stays empty, so only B can run the transform query.
    let mut host = Host::new();
    let none = candid::encode_one(None::<String>).unwrap();
    let b = host.install_canister(&probe_wasm(), &none, &[]).unwrap();
    host.set_http_responder(|_| HttpReply::Defer);
    let arg = candid::encode_args(("https://example.com", None::<u64>, true, true)).unwrap();
    let id = host.submit_update_on(b, user(), "http", &arg).unwrap();
    host.tick();
    let (outcall, _) = host.pending_http().pop().expect("deferred");
    host.answer_http(outcall, HttpReply::status(200, "x"))
        .unwrap();
    host.tick();
    let bytes = host.take_result(id).unwrap().unwrap();
    let reply: Result<ProbeHttpReply, CallError> = candid::decode_one(&bytes).unwrap();
    assert_eq!(reply.unwrap().body.as_ref(), b"T:x");
}

#[derive(CandidType, Deserialize, Debug)]
struct ProbeHttpReply {
    #[allow(dead_code)]
    status: Nat,
    #[allow(dead_code)]
    headers: Vec<(String, String)>,
    body: ByteBuf,
}
