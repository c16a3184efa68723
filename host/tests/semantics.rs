//! Each IC semantic the host promises, checked through the probe canister (real ic-cdk 0.20 code).
//! The probe wasm comes from `scripts/build.sh` (target/wasm/probe.wasm).

use candid::utils::{ArgumentDecoder, ArgumentEncoder};
use candid::{CandidType, Deserialize, Nat, Principal};
use ic0_host::{
    limits, Host, HttpReply, HttpRequestResult, InstructionLimits, Reject, RejectCode,
    DEFAULT_TIME_NANOS,
};
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

fn probe_wasm() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/wasm/probe.wasm");
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/build.sh first"))
}

fn install(arg: Option<&str>) -> Host {
    let mut host = Host::new();
    host.install(&probe_wasm(), &candid::encode_one(arg).unwrap())
        .expect("install");
    host
}

fn user() -> Principal {
    Principal::self_authenticating(b"a user")
}

fn query<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
    host: &mut Host,
    method: &str,
    args: A,
) -> R {
    let bytes = host
        .query(user(), method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_args(&bytes).unwrap()
}

fn update<A: ArgumentEncoder, R: for<'a> ArgumentDecoder<'a>>(
    host: &mut Host,
    method: &str,
    args: A,
) -> R {
    let bytes = host
        .update(user(), method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_args(&bytes).unwrap()
}

fn update_err<A: ArgumentEncoder>(host: &mut Host, method: &str, args: A) -> Reject {
    host.update(user(), method, &candid::encode_args(args).unwrap())
        .expect_err("the call must fail")
}

fn get_heap(host: &mut Host) -> u64 {
    query::<_, (u64,)>(host, "get_heap", ()).0
}
fn get_stable(host: &mut Host) -> u64 {
    query::<_, (u64,)>(host, "get_stable", ()).0
}

#[derive(CandidType, Deserialize, Debug, PartialEq)]
struct CallError {
    code: u32,
    message: String,
}

#[derive(CandidType, Deserialize, Debug)]
struct ProbeHttpReply {
    status: Nat,
    headers: Vec<(String, String)>,
    body: ByteBuf,
}

type HttpResult = (Result<ProbeHttpReply, CallError>,);
type CallResult = (Result<ByteBuf, CallError>,);

#[test]
fn install_passes_the_init_argument() {
    let mut host = install(Some("hello"));
    let (arg,): (Option<String>,) = query(&mut host, "init_arg", ());
    assert_eq!(arg.as_deref(), Some("hello"));
    assert!(
        host.install(&probe_wasm(), &candid::encode_one(None::<String>).unwrap())
            .is_err(),
        "a second install must be refused"
    );
}

#[test]
fn candid_bytes_in_and_out_for_queries_and_updates() {
    let mut host = install(None);
    let blob = ByteBuf::from(vec![0u8, 1, 2, 255]);
    let (q,): (ByteBuf,) = query(&mut host, "echo", (blob.clone(),));
    let (u,): (ByteBuf,) = update(&mut host, "echo_update", (blob.clone(),));
    assert_eq!((q, u), (blob.clone(), blob));
}

#[test]
fn caller_self_and_controllers() {
    let mut host = install(None);
    let (me,): (Principal,) = query(&mut host, "whoami", ());
    assert_eq!(me, user());
    let anonymous = host
        .query(
            Principal::anonymous(),
            "whoami",
            &candid::encode_args(()).unwrap(),
        )
        .unwrap();
    assert_eq!(
        candid::decode_one::<Principal>(&anonymous).unwrap(),
        Principal::anonymous()
    );
    let (id,): (Principal,) = query(&mut host, "self_id", ());
    assert_eq!(id, host.canister_id());
    let (yes,): (bool,) = query(&mut host, "is_controller", (Host::default_controller(),));
    let (no,): (bool,) = query(&mut host, "is_controller", (user(),));
    assert!(yes && !no);
    host.set_controllers(&[user()]);
    let (now_yes,): (bool,) = query(&mut host, "is_controller", (user(),));
    assert!(now_yes);
}

#[test]
fn rejects_carry_the_ic_codes_and_messages() {
    let mut host = install(None);
    let reject = update_err(&mut host, "reject_with", ("no thanks",));
    assert_eq!(reject.code, RejectCode::CanisterReject);
    assert_eq!(reject.message, "no thanks");

    let trap = update_err(&mut host, "trap_with", ("boom",));
    assert_eq!(trap.code, RejectCode::CanisterError);
    assert!(
        trap.message.contains("boom") && trap.message.contains("ic0.trap"),
        "{}",
        trap.message
    );

    let missing = update_err(&mut host, "no_such_method", ());
    assert_eq!(missing.code, RejectCode::DestinationInvalid);
    // A query is not an update method, and an update is not a query.
    assert_eq!(
        update_err(&mut host, "get_heap", ()).code,
        RejectCode::DestinationInvalid
    );
    let err = host
        .query(user(), "set_heap", &candid::encode_one(1u64).unwrap())
        .unwrap_err();
    assert_eq!(err.code, RejectCode::DestinationInvalid);
    // Not installed at all.
    let err = Host::new().update(user(), "incr", &[]).unwrap_err();
    assert_eq!(err.code, RejectCode::DestinationInvalid);
}

#[test]
fn queries_never_persist_changes() {
    let mut host = install(None);
    let (seen,): (u64,) = query(&mut host, "query_mutate", (7u64,));
    assert_eq!(seen, 7, "the query sees its own writes");
    assert_eq!((get_heap(&mut host), get_stable(&mut host)), (0, 0));
}

#[test]
fn a_trapping_update_rolls_back_heap_stable_memory_and_growth() {
    let mut host = install(None);
    let _: () = update(&mut host, "set_heap", (1u64,));
    let _: () = update(&mut host, "set_stable", (1u64,));
    let (pages,): (u64,) = query(&mut host, "stable_pages", ());
    let heap_before = host.heap_bytes();
    let stable_before = host.stable_memory().to_vec();

    let trap = update_err(&mut host, "set_then_trap", (9u64,));
    assert_eq!(trap.code, RejectCode::CanisterError);
    assert_eq!((get_heap(&mut host), get_stable(&mut host)), (1, 1));
    assert_eq!(query::<_, (u64,)>(&mut host, "stable_pages", ()).0, pages);
    assert_eq!(
        host.heap_bytes(),
        heap_before,
        "the grown wasm memory is gone"
    );
    assert_eq!(host.stable_memory(), &stable_before[..]);
    // The canister still works after the rollback.
    let _: () = update(&mut host, "set_heap", (3u64,));
    assert_eq!(get_heap(&mut host), 3);
}

#[test]
fn time_is_set_and_advanced_by_the_test() {
    let mut host = install(None);
    assert_eq!(
        query::<_, (u64,)>(&mut host, "now", ()).0,
        DEFAULT_TIME_NANOS
    );
    host.advance_time(Duration::from_secs(5));
    assert_eq!(
        query::<_, (u64,)>(&mut host, "now", ()).0,
        DEFAULT_TIME_NANOS + 5_000_000_000
    );
    host.set_time(0);
    assert_eq!(
        host.time(),
        DEFAULT_TIME_NANOS + 5_000_000_000,
        "time never goes backwards"
    );
}

#[test]
fn timers_fire_through_the_global_timer_and_ic_cdk_timers_self_calls() {
    let mut host = install(None);
    let _: () = update(&mut host, "schedule", (10u64, "a"));
    let _: () = update(&mut host, "schedule", (20u64, "b"));
    assert_eq!(host.timer_deadline(), DEFAULT_TIME_NANOS + 10_000_000_000);
    host.advance_time(Duration::from_secs(9));
    host.tick();
    assert!(
        query::<_, (Vec<(String, u64)>,)>(&mut host, "fired", ())
            .0
            .is_empty(),
        "not due yet"
    );
    host.advance_time(Duration::from_secs(1));
    host.tick();
    let (fired,): (Vec<(String, u64)>,) = query(&mut host, "fired", ());
    assert_eq!(
        fired,
        vec![("a".to_string(), DEFAULT_TIME_NANOS + 10_000_000_000)]
    );
    host.advance_time(Duration::from_secs(10));
    host.tick();
    assert_eq!(
        query::<_, (Vec<(String, u64)>,)>(&mut host, "fired", ())
            .0
            .len(),
        2
    );
    assert_eq!(host.timer_deadline(), 0, "nothing left to fire");
}

#[test]
fn timers_need_cycles_for_their_self_call() {
    let mut host = install(None);
    let _: () = update(&mut host, "schedule", (1u64, "a"));
    host.set_cycles(0);
    host.advance_time(Duration::from_secs(2));
    host.tick();
    assert!(query::<_, (Vec<(String, u64)>,)>(&mut host, "fired", ())
        .0
        .is_empty());
}

#[test]
fn self_calls_round_trip_through_callbacks() {
    let mut host = install(None);
    let (reply,): (ByteBuf,) = update(
        &mut host,
        "call_self_echo",
        (ByteBuf::from(b"ping".to_vec()),),
    );
    assert_eq!(reply.as_ref(), b"ping");
    assert!(host.last_instructions() > 0);
    assert!(host.is_idle());
}

#[test]
fn calls_to_other_canisters_reply_reject_and_refund_cycles() {
    let mut host = install(None);
    let other = Principal::from_slice(&[9; 10]);
    host.set_callee(other, |method, arg, _cycles| match method {
        "double" => Ok(arg.iter().chain(arg).copied().collect()),
        _ => Err(Reject::new(
            RejectCode::CanisterReject,
            format!("no method {method}"),
        )),
    });
    let (ok,): CallResult = update(
        &mut host,
        "call",
        (
            other,
            "double",
            ByteBuf::from(b"ab".to_vec()),
            Nat::from(0u8),
            None::<u32>,
        ),
    );
    assert_eq!(ok.unwrap().as_ref(), b"abab");
    let (err,): CallResult = update(
        &mut host,
        "call",
        (other, "nope", ByteBuf::new(), Nat::from(0u8), None::<u32>),
    );
    assert_eq!(
        err.unwrap_err(),
        CallError {
            code: 4,
            message: "no method nope".into()
        }
    );
    let nobody = Principal::from_slice(&[8; 10]);
    let (err,): CallResult = update(
        &mut host,
        "call",
        (nobody, "x", ByteBuf::new(), Nat::from(0u8), None::<u32>),
    );
    assert_eq!(err.unwrap_err().code, 3);

    // Attached cycles the callee does not accept come back; only the call fee is spent.
    let before = host.cycles();
    let (_,): CallResult = update(
        &mut host,
        "call",
        (
            other,
            "double",
            ByteBuf::new(),
            Nat::from(1_000_000_000u64),
            None::<u32>,
        ),
    );
    let spent = before - host.cycles();
    assert!(spent > 0 && spent < 10_000_000, "spent {spent}");
}

#[test]
fn other_messages_run_while_a_call_awaits_its_answer() {
    let mut host = install(None);
    host.set_http_responder(|_| HttpReply::Defer);
    let id = host.submit_update(
        user(),
        "http",
        &candid::encode_args(("https://slow.example/", None::<u64>, true, true)).unwrap(),
    );
    host.tick();
    assert!(host.take_result(id).is_none(), "still awaiting the outcall");
    assert_eq!(update::<_, (u64,)>(&mut host, "incr", ()).0, 1);
    assert_eq!(update::<_, (u64,)>(&mut host, "incr", ()).0, 2);

    let pending = host.pending_http();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1.url, "https://slow.example/");
    host.answer_http(pending[0].0, HttpReply::status(200, "late"))
        .unwrap();
    host.tick();
    let bytes = host.take_result(id).expect("answered").unwrap();
    let (reply,): HttpResult = candid::decode_args(&bytes).unwrap();
    assert_eq!(reply.unwrap().body.as_ref(), b"T:late");
    assert!(
        host.answer_http(pending[0].0, HttpReply::status(200, ""))
            .is_err(),
        "answered only once"
    );
}

#[test]
fn a_trap_after_an_await_keeps_what_was_committed_before_it() {
    let mut host = install(None);
    let other = Principal::from_slice(&[9; 10]);
    host.set_callee(other, |_, _, _| Ok(candid::encode_one(1u64).unwrap()));
    let err = host
        .update(
            user(),
            "await_then_trap",
            &candid::encode_one(other).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.code, RejectCode::CanisterError);
    assert!(
        err.message.contains("trapping after the await"),
        "{}",
        err.message
    );
    assert_eq!(
        get_heap(&mut host),
        1,
        "the part before the await committed, the callback's did not"
    );
    // The host ran the call's cleanup callback: ic-cdk dropped the trapped future there.
    assert_eq!(query::<_, (u64,)>(&mut host, "cleanups", ()).0, 1);
    assert_eq!(update::<_, (u64,)>(&mut host, "incr", ()).0, 1);
    assert!(host.is_idle());
}

#[test]
fn outcalls_run_the_transform_with_its_context_and_see_the_request() {
    let mut host = install(None);
    let seen = Rc::new(RefCell::new(vec![]));
    let log = seen.clone();
    host.set_http_responder(move |req| {
        log.borrow_mut()
            .push((req.url.clone(), req.is_replicated, req.max_response_bytes));
        HttpReply::Response(HttpRequestResult {
            status: 200u16.into(),
            headers: vec![ic0_host::HttpHeader {
                name: "date".into(),
                value: "Sun".into(),
            }],
            body: b"hello".to_vec(),
        })
    });
    let (r,): HttpResult = update(
        &mut host,
        "http",
        ("https://a.example/x", Some(1000u64), true, true),
    );
    let r = r.unwrap();
    assert_eq!(
        (r.status, r.headers.len(), r.body.as_ref()),
        (Nat::from(200u16), 0, &b"T:hello"[..])
    );
    let (raw,): HttpResult = update(
        &mut host,
        "http",
        ("https://a.example/y", Some(1000u64), false, false),
    );
    assert_eq!(
        raw.unwrap().headers.len(),
        1,
        "without a transform the headers arrive"
    );
    assert_eq!(
        *seen.borrow(),
        vec![
            ("https://a.example/x".to_string(), None, Some(1000)),
            ("https://a.example/y".to_string(), Some(false), Some(1000))
        ]
    );
}

#[test]
fn outcall_failures_and_limits() {
    let mut host = install(None);
    host.set_http_responder(|req| match req.url.as_str() {
        "https://down.example/" => {
            HttpReply::Reject(RejectCode::SysTransient, "connection refused".into())
        }
        "https://garbage.example/" => HttpReply::status(200, vec![0xff, 0x00, 0xfe]),
        _ => HttpReply::status(200, vec![b'x'; 5000]),
    });
    let (down,): HttpResult = update(
        &mut host,
        "http",
        ("https://down.example/", None::<u64>, true, true),
    );
    assert_eq!(
        down.unwrap_err(),
        CallError {
            code: 2,
            message: "connection refused".into()
        }
    );
    let (garbage,): HttpResult = update(
        &mut host,
        "http",
        ("https://garbage.example/", None::<u64>, false, true),
    );
    assert_eq!(garbage.unwrap().body.as_ref(), &[0xff, 0x00, 0xfe]);
    let (big,): HttpResult = update(
        &mut host,
        "http",
        ("https://big.example/", Some(4000u64), false, true),
    );
    let err = big.unwrap_err();
    assert_eq!(err.code, 1, "{err:?}");
    assert!(err.message.contains("exceeds size limit"), "{err:?}");
    // The transform's output is held to the same limit: 5000 raw bytes fit 5002 but "T:" + 5000 do not.
    let (grown,): HttpResult = update(
        &mut host,
        "http",
        ("https://big.example/", Some(5001u64), true, true),
    );
    assert_eq!(grown.unwrap_err().code, 1);
}

#[test]
fn outcalls_cost_plausible_cycles_and_refund_the_rest() {
    let mut host = install(None);
    host.set_http_responder(|_| HttpReply::status(200, "ok"));
    let before = host.cycles();
    let (_,): HttpResult = update(
        &mut host,
        "http",
        ("https://a.example/", Some(2000u64), true, true),
    );
    let replicated = before - host.cycles();
    let before = host.cycles();
    let (_,): HttpResult = update(
        &mut host,
        "http",
        ("https://a.example/", Some(2000u64), true, false),
    );
    let single = before - host.cycles();
    assert!(
        (10_000_000..1_000_000_000).contains(&replicated),
        "replicated outcall cost {replicated}"
    );
    assert!(
        single < replicated / 5,
        "non-replicated {single} vs replicated {replicated}"
    );
    let (balance,): (Nat,) = query(&mut host, "balance", ());
    assert_eq!(balance, Nat::from(host.cycles()));

    host.set_cycles(1_000);
    let (poor,): HttpResult = update(
        &mut host,
        "http",
        ("https://a.example/", None::<u64>, true, true),
    );
    assert!(
        poor.is_err(),
        "an outcall without the cycles to pay for it is refused"
    );
}

#[test]
fn best_effort_calls_time_out_when_no_answer_comes() {
    let mut host = install(None);
    host.set_http_responder(|_| HttpReply::Defer);
    let args = ic0_host::HttpRequestArgs {
        url: "https://slow.example/".into(),
        ..Default::default()
    };
    let payload = ByteBuf::from(candid::encode_one(args).unwrap());
    let call_args = (
        Principal::management_canister(),
        "http_request",
        payload,
        Nat::from(100_000_000_000u64),
        Some(5u32),
    );
    let id = host.submit_update(user(), "call", &candid::encode_args(call_args).unwrap());
    host.advance_time(Duration::from_secs(4));
    host.tick();
    assert!(host.take_result(id).is_none());
    host.advance_time(Duration::from_secs(1));
    host.tick();
    let (result,): CallResult =
        candid::decode_args(&host.take_result(id).unwrap().unwrap()).unwrap();
    assert_eq!(result.unwrap_err().code, 6);
}

#[test]
fn upgrade_keeps_stable_memory_replaces_the_heap_and_switches_the_timer_off() {
    let mut host = install(Some("v1"));
    let _: () = update(&mut host, "set_heap", (5u64,));
    let _: () = update(&mut host, "set_stable", (6u64,));
    let _: () = update(&mut host, "schedule", (100u64, "lost"));
    assert_ne!(host.timer_deadline(), 0);

    host.upgrade(&probe_wasm(), &candid::encode_one(Some("v2")).unwrap())
        .unwrap();
    assert_eq!(host.timer_deadline(), 0);
    assert_eq!(get_heap(&mut host), 0, "fresh heap");
    assert_eq!(get_stable(&mut host), 6);
    assert_eq!(query::<_, (u64,)>(&mut host, "upgrades", ()).0, 1);
    assert_eq!(
        query::<_, (Option<u64>,)>(&mut host, "pre_upgrade_marker", ()).0,
        Some(5)
    );
    assert_eq!(
        query::<_, (Option<String>,)>(&mut host, "init_arg", ())
            .0
            .as_deref(),
        Some("v2")
    );
    host.advance_time(Duration::from_secs(200));
    host.tick();
    assert!(query::<_, (Vec<(String, u64)>,)>(&mut host, "fired", ())
        .0
        .is_empty());
}

#[test]
fn a_failed_upgrade_leaves_the_canister_as_it_was() {
    let mut host = install(Some("v1"));
    let _: () = update(&mut host, "set_heap", (5u64,));
    let _: () = update(&mut host, "set_stable", (6u64,));
    let stable = host.stable_memory().to_vec();
    let err = host
        .upgrade(&probe_wasm(), &candid::encode_one(Some("trap")).unwrap())
        .unwrap_err();
    assert_eq!(err.code, RejectCode::CanisterError);
    assert!(err.message.contains("post_upgrade"), "{}", err.message);
    assert_eq!((get_heap(&mut host), get_stable(&mut host)), (5, 6));
    assert_eq!(query::<_, (u64,)>(&mut host, "upgrades", ()).0, 0);
    assert_eq!(
        host.stable_memory(),
        &stable[..],
        "pre_upgrade's stable writes are undone too"
    );
    assert!(host.upgrade(b"\0asm garbage", &[]).is_err());
    assert_eq!(get_heap(&mut host), 5);
}

#[test]
fn stable_memory_grows_and_reports_pages() {
    let mut host = install(None);
    let (before,): (u64,) = query(&mut host, "stable_pages", ());
    let (old,): (u64,) = update(&mut host, "grow_stable", (3u64,));
    assert_eq!(old, before);
    assert_eq!(
        query::<_, (u64,)>(&mut host, "stable_pages", ()).0,
        before + 3
    );
    assert_eq!(host.stable_memory().len() as u64, (before + 3) * 65536);
}

#[test]
fn instruction_counts_come_from_fuel_and_are_deterministic() {
    let mut host = install(None);
    let (small,): (u64,) = update(&mut host, "burn", (1_000u64,));
    let (large,): (u64,) = update(&mut host, "burn", (100_000u64,));
    assert!(small > 1_000 && large > 20 * small, "{small} {large}");
    assert!(host.last_instructions() >= large);
    // The same messages on a fresh canister count exactly the same.
    let mut twin = install(None);
    let (twin_small,): (u64,) = update(&mut twin, "burn", (1_000u64,));
    let (twin_large,): (u64,) = update(&mut twin, "burn", (100_000u64,));
    assert_eq!((twin_small, twin_large), (small, large));
    let (q,): (u64,) = query(&mut host, "burn_query", (1_000u64,));
    assert!(q > 1_000 && q <= small, "{q} {small}");
}

#[test]
fn queries_stop_at_five_billion_instructions() {
    let mut host = install(None);
    // About 9 instructions an iteration: 600 M iterations is past the 5 B query limit.
    let err = host
        .query(
            user(),
            "burn_query",
            &candid::encode_one(600_000_000u64).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.code, RejectCode::CanisterError);
    assert!(
        err.message.contains(&format!(
            "limit of {} instructions",
            limits::INSTRUCTIONS_QUERY
        )),
        "{}",
        err.message
    );
}

#[test]
fn reply_and_ingress_size_limits() {
    let mut host = install(None);
    let margin = 64;
    let fits_update = (limits::REPLY_BYTES_UPDATE - margin) as u64;
    let (r,): (ByteBuf,) = update(&mut host, "reply_of_size", (fits_update,));
    assert_eq!(r.len() as u64, fits_update);
    let err = update_err(
        &mut host,
        "reply_of_size",
        (limits::REPLY_BYTES_UPDATE as u64,),
    );
    assert_eq!(err.code, RejectCode::CanisterError);
    assert!(err.message.contains("payload size"), "{}", err.message);
    // Queries may answer up to 3 MiB.
    let (q,): (ByteBuf,) = query(
        &mut host,
        "reply_of_size_query",
        ((limits::REPLY_BYTES_QUERY - margin) as u64,),
    );
    assert_eq!(q.len(), limits::REPLY_BYTES_QUERY - margin);
    let err = host
        .query(
            user(),
            "reply_of_size_query",
            &candid::encode_one(limits::REPLY_BYTES_QUERY as u64).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.code, RejectCode::CanisterError);

    let too_big = candid::encode_one(ByteBuf::from(vec![0u8; limits::INGRESS_BYTES])).unwrap();
    let err = host.update(user(), "echo_update", &too_big).unwrap_err();
    assert_eq!(err.code, RejectCode::SysFatal);
}

#[test]
fn debug_print_is_captured() {
    let mut host = install(None);
    let _: () = update(&mut host, "print", ("hello from the probe",));
    assert!(host
        .take_debug_log()
        .iter()
        .any(|l| l == "hello from the probe"));
}

#[test]
fn an_import_the_host_lacks_fails_install_with_its_name() {
    use wasm_encoder::{EntityType, ImportSection, MemorySection, MemoryType, Module, TypeSection};
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import("ic0", "mint_cycles_for_free", EntityType::Function(0));
    module.section(&imports);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let err = Host::new().install(&module.finish(), &[]).unwrap_err();
    assert!(
        err.message.contains("ic0.mint_cycles_for_free"),
        "{}",
        err.message
    );
}

#[test]
fn a_saved_canister_loads_with_heap_stable_memory_time_and_timer() {
    let dir = std::env::temp_dir().join(format!("ic0-host-save-{}", std::process::id()));
    let mut host = install(Some("saved"));
    let _: () = update(&mut host, "set_heap", (3u64,));
    let _: () = update(&mut host, "set_stable", (4u64,));
    let _: () = update(&mut host, "schedule", (60u64, "after load"));
    host.advance_time(Duration::from_secs(1));
    host.save(&dir).unwrap();

    let mut loaded = Host::load(&dir).unwrap();
    assert_eq!((get_heap(&mut loaded), get_stable(&mut loaded)), (3, 4));
    assert_eq!(loaded.time(), host.time());
    assert_eq!(loaded.timer_deadline(), host.timer_deadline());
    loaded.advance_time(Duration::from_secs(60));
    loaded.tick();
    let (fired,): (Vec<(String, u64)>,) = query(&mut loaded, "fired", ());
    assert_eq!(fired.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(Host::load(&dir).is_err());
}

#[test]
fn inspect_message_filters_ingress_only() {
    let mut host = install(None);
    let err = update_err(&mut host, "not_accepted", ());
    assert_eq!(err.code, RejectCode::CanisterReject);
    assert!(err.message.contains("inspect_message"), "{}", err.message);
    // The same method called by a canister (here itself) is not inspected.
    let me = host.canister_id();
    let (reply,): CallResult = update(
        &mut host,
        "call",
        (
            me,
            "not_accepted",
            ByteBuf::from(candid::encode_args(()).unwrap()),
            Nat::from(0u8),
            None::<u32>,
        ),
    );
    assert_eq!(candid::decode_one::<u64>(&reply.unwrap()).unwrap(), 7);
    // Every other ingress update passes.
    assert_eq!(update::<_, (u64,)>(&mut host, "incr", ()).0, 1);
}

#[test]
fn the_default_instruction_limits_are_the_ics() {
    let limits = InstructionLimits::default();
    assert_eq!(
        (
            limits.query,
            limits.update,
            limits.install,
            limits.inspect_message
        ),
        (5_000_000_000, 40_000_000_000, 300_000_000_000, 200_000_000)
    );
}

#[test]
fn each_kind_of_execution_has_its_own_instruction_limit() {
    let mut host = install(Some("v1"));
    host.set_instruction_limits(InstructionLimits {
        query: 2_000_000,
        update: 4_000_000,
        install: 6_000_000,
        inspect_message: 3_000_000,
    });
    // ~24 instructions an iteration: 100 k iterations need ~2.4 M.
    let err = host
        .query(
            user(),
            "burn_query",
            &candid::encode_one(100_000u64).unwrap(),
        )
        .unwrap_err();
    assert!(
        err.message.contains("limit of 2000000 instructions"),
        "{}",
        err.message
    );
    let (used,): (u64,) = update(&mut host, "burn", (100_000u64,));
    assert!(
        used > 2_000_000,
        "updates are not held to the query limit: {used}"
    );
    // inspect_message ran within its own (larger) limit; now the update limit itself.
    let err = update_err(&mut host, "burn", (200_000u64,));
    assert_eq!(err.code, RejectCode::CanisterError);
    assert!(
        err.message.contains("limit of 4000000 instructions"),
        "{}",
        err.message
    );

    // Upgrades: pre_upgrade and post_upgrade share one budget; running out fails the upgrade.
    host.set_instruction_limits(InstructionLimits {
        install: 50_000,
        ..InstructionLimits::default()
    });
    let err = host
        .upgrade(&probe_wasm(), &candid::encode_one(Some("v2")).unwrap())
        .unwrap_err();
    assert!(err.message.contains("instructions"), "{}", err.message);
    assert_eq!(
        query::<_, (Option<String>,)>(&mut host, "init_arg", ())
            .0
            .as_deref(),
        Some("v1")
    );
    host.set_instruction_limits(InstructionLimits::default());
    host.upgrade(&probe_wasm(), &candid::encode_one(Some("v2")).unwrap())
        .unwrap();
    assert!(host.last_instructions() > 50_000);
}

#[test]
fn an_inspect_message_over_its_limit_refuses_the_message() {
    let mut host = install(None);
    host.set_instruction_limits(InstructionLimits {
        inspect_message: 10,
        ..InstructionLimits::default()
    });
    let err = update_err(&mut host, "incr", ());
    assert_eq!(err.code, RejectCode::CanisterReject);
    assert!(
        err.message.contains("limit of 10 instructions"),
        "{}",
        err.message
    );
}
