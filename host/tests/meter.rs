//! Each rule of the IC's cost model (host/src/cost.rs), checked to the instruction on small
//! hand-written canisters whose every wasm instruction is known. The expected figures are the
//! IC's numbers written out here, so a change to the host's table fails a test.
//!
//! One charge is wasmi's, not the IC's: every basic block wasmi enters (a function body, each
//! turn of a loop, an `if` arm) costs 1 more (`ENTRY`, "at least 1 unit of fuel out of
//! caution"). The tests count it where it happens; `scripts/calibrate.sh` shows its weight.

use ic0_host::{Host, Principal};

/// The IC's prices these tests rely on.
const CALL: u64 = 5;
const REPLY: u64 = CALL + 500; // call ic0.msg_reply
const DIRTY_PAGE: u64 = 1_000;
/// wasmi's charge for entering a basic block.
const ENTRY: u64 = 1;

fn host(wat: &str) -> Host {
    let wasm = wat::parse_str(wat).expect("valid wat");
    let mut host = Host::new();
    host.install(&wasm, &[]).expect("install");
    host
}

fn user() -> Principal {
    Principal::self_authenticating(b"meter")
}

/// Runs update `method` and returns the instructions it took.
/// Runs update `method` and returns the instructions it took, less the entry into the method's
/// own body.
fn cost(host: &mut Host, method: &str) -> u64 {
    host.update(user(), method, &[])
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    host.last_instructions() - ENTRY
}

/// A canister with `ic0.msg_reply` at index 0, `body` as its functions, 40 pages of memory.
fn module(imports: &str, body: &str) -> String {
    format!(
        r#"(module
            (import "ic0" "msg_reply" (func $reply))
            {imports}
            (memory 40)
            {body})"#
    )
}

#[test]
fn an_empty_reply_costs_the_call_and_its_fee() {
    let mut h = host(&module(
        "",
        r#"(func (export "canister_update m") (call $reply))"#,
    ));
    assert_eq!(cost(&mut h, "m"), REPLY);
}

/// `n` turns of a loop: local.get, i32.const, `op`, local.tee, br_if = 1 + 1 + op + 1 + 2.
fn counting_loop(name: &str, op: &str, n: u32) -> String {
    format!(
        r#"(func (export "canister_update {name}") (local $i i32)
            (local.set $i (i32.const {n}))
            (loop $l
                (br_if $l (local.tee $i ({op} (local.get $i) (i32.const 1)))))
            (call $reply))"#
    )
}

#[test]
fn branches_cost_two_and_arithmetic_one() {
    let body = counting_loop("a", "i32.sub", 1_000) + &counting_loop("b", "i32.sub", 3_000);
    let mut h = host(&module("", &body));
    // Set-up: i32.const + local.set.
    assert_eq!(
        cost(&mut h, "a"),
        2 + 1_000 * (ENTRY + 1 + 1 + 1 + 1 + 2) + REPLY
    );
    assert_eq!(cost(&mut h, "b") - cost(&mut h, "a"), 2_000 * (ENTRY + 6));
}

#[test]
fn integer_division_costs_ten() {
    // i32.div_u by 1 never ends the loop on its own: count with sub, then divide once a turn.
    let body = r#"(func (export "canister_update m") (local $i i32)
        (local.set $i (i32.const 100))
        (loop $l
            (local.set $i (i32.div_u (local.get $i) (i32.const 1)))
            (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
        (call $reply))"#;
    let mut h = host(&module("", body));
    let turn = ENTRY + (1 + 1 + 10 + 1) + (1 + 1 + 1 + 1 + 2);
    assert_eq!(cost(&mut h, "m"), 2 + 100 * turn + REPLY);
}

#[test]
fn calls_globals_and_indirect_calls() {
    let body = r#"
        (global $g (mut i32) (i32.const 0))
        (type $t (func))
        (table 1 funcref)
        (elem (i32.const 0) $nothing)
        (func $nothing)
        (func (export "canister_update direct") (call $nothing) (call $reply))
        (func (export "canister_update indirect") (call_indirect (type $t) (i32.const 0)) (call $reply))
        (func (export "canister_update global") (global.set $g (global.get $g)) (call $reply))"#;
    let mut h = host(&module("", body));
    assert_eq!(cost(&mut h, "direct"), CALL + ENTRY + REPLY);
    assert_eq!(cost(&mut h, "indirect"), 1 + 10 + ENTRY + REPLY);
    assert_eq!(cost(&mut h, "global"), 2 + 2 + REPLY);
}

#[test]
fn bulk_memory_costs_one_hundred_plus_one_per_byte() {
    let mib = 1 << 20;
    let body = format!(
        r#"(func (export "canister_update copy")
            (memory.copy (i32.const 0) (i32.const {mib}) (i32.const {mib})) (call $reply))
        (func (export "canister_update fill")
            (memory.fill (i32.const 0) (i32.const 7) (i32.const {mib})) (call $reply))
        (func (export "canister_update empty")
            (memory.copy (i32.const 0) (i32.const 0) (i32.const 0)) (call $reply))"#
    );
    let mut h = host(&module("", &body));
    assert_eq!(cost(&mut h, "copy"), 3 + 100 + mib + REPLY);
    assert_eq!(cost(&mut h, "fill"), 3 + 100 + mib + REPLY);
    assert_eq!(cost(&mut h, "empty"), 3 + 100 + REPLY);
}

#[test]
fn memory_grow_costs_three_hundred_whatever_it_grows() {
    let body = r#"
        (func (export "canister_update one") (drop (memory.grow (i32.const 1))) (call $reply))
        (func (export "canister_update many") (drop (memory.grow (i32.const 100))) (call $reply))
        (func (export "canister_query size") (drop (memory.size)) (call $reply))"#;
    let mut h = host(&module("", body));
    assert_eq!(cost(&mut h, "one"), 1 + 300 + 1 + REPLY);
    assert_eq!(cost(&mut h, "many"), 1 + 300 + 1 + REPLY);
    assert_eq!(h.heap_bytes(), (40 + 1 + 100) << 16, "the growth happened");
    h.query(user(), "size", &[]).unwrap();
    assert_eq!(h.last_instructions(), ENTRY + 20 + 1 + REPLY);
}

const STABLE: &str = r#"
    (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
    (import "ic0" "stable64_write" (func $write (param i64 i64 i64)))
    (import "ic0" "stable64_read" (func $read (param i64 i64 i64)))"#;

#[test]
fn a_stable_page_first_written_in_a_message_costs_a_thousand_more() {
    let pages = 10u64;
    let len = pages * 4096;
    let body = format!(
        r#"(func (export "canister_init") (drop (call $grow (i64.const 1))))
        (func (export "canister_update once")
            (call $write (i64.const 0) (i64.const 0) (i64.const {len}))
            (call $reply))
        (func (export "canister_update twice")
            (call $write (i64.const 0) (i64.const 0) (i64.const {len}))
            (call $write (i64.const 0) (i64.const 0) (i64.const {len}))
            (call $reply))
        (func (export "canister_update straddle")
            (call $write (i64.const 4095) (i64.const 0) (i64.const 2))
            (call $reply))
        (func (export "canister_update read")
            (call $read (i64.const 0) (i64.const 0) (i64.const {len}))
            (call $reply))"#
    );
    let mut h = host(&module(STABLE, &body));
    let write = 3 + CALL + 20 + len;
    assert_eq!(cost(&mut h, "once"), write + pages * DIRTY_PAGE + REPLY);
    // Pages are fresh again in every message; within one, only the first write pays.
    assert_eq!(cost(&mut h, "once"), write + pages * DIRTY_PAGE + REPLY);
    assert_eq!(
        cost(&mut h, "twice"),
        2 * write + pages * DIRTY_PAGE + REPLY
    );
    // Two bytes across a page boundary dirty two pages.
    assert_eq!(
        cost(&mut h, "straddle"),
        3 + CALL + 20 + 2 + 2 * DIRTY_PAGE + REPLY
    );
    assert_eq!(cost(&mut h, "read"), 3 + CALL + 20 + len + REPLY);
}

#[test]
fn each_system_call_pays_its_fee_and_the_bytes_it_moves() {
    let imports = r#"
        (import "ic0" "time" (func $time (result i64)))
        (import "ic0" "performance_counter" (func $perf (param i32) (result i64)))
        (import "ic0" "debug_print" (func $print (param i32 i32)))
        (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
        (import "ic0" "is_controller" (func $is_controller (param i32 i32) (result i32)))
        (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
        (import "ic0" "canister_cycle_balance128" (func $balance (param i32)))
        (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
        (import "ic0" "call_perform" (func $call_perform (result i32)))
        (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))"#;
    let body = r#"
        (func (export "canister_update time") (drop (call $time)) (call $reply))
        (func (export "canister_update perf") (drop (call $perf (i32.const 0))) (call $reply))
        (func (export "canister_update print") (call $print (i32.const 0) (i32.const 10)) (call $reply))
        (func (export "canister_update append") (call $append (i32.const 0) (i32.const 100)) (call $reply))
        (func (export "canister_update controller")
            (drop (call $is_controller (i32.const 0) (i32.const 29))) (call $reply))
        (func (export "canister_update caller") (drop (call $caller_size)) (call $reply))
        (func (export "canister_update balance") (call $balance (i32.const 0)) (call $reply))
        (func (export "canister_update grow") (drop (call $grow (i64.const 1))) (call $reply))
        (func (export "canister_update call")
            (call $call_new (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 4)
                (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
            (drop (call $call_perform))
            (call $reply))"#;
    let mut h = host(&module(imports, body));
    assert_eq!(cost(&mut h, "time"), CALL + 500 + 1 + REPLY);
    assert_eq!(cost(&mut h, "perf"), 1 + CALL + 200 + 1 + REPLY);
    assert_eq!(cost(&mut h, "print"), 2 + CALL + 100 + 10 + REPLY);
    assert_eq!(cost(&mut h, "append"), 2 + CALL + 500 + 100 + REPLY);
    assert_eq!(
        cost(&mut h, "controller"),
        2 + CALL + 1_000 + 29 + 1 + REPLY
    );
    assert_eq!(cost(&mut h, "caller"), CALL + 500 + 1 + REPLY);
    assert_eq!(cost(&mut h, "balance"), 1 + CALL + 500 + REPLY);
    assert_eq!(cost(&mut h, "grow"), 1 + CALL + 100 + 1 + REPLY);
    let call = 8 + CALL + 1_500 + 10 + 4 + CALL + 5_000 + 1;
    assert_eq!(cost(&mut h, "call"), call + REPLY);
}

#[test]
fn the_limit_counts_the_same_instructions() {
    // One more instruction than the limit allows traps; exactly the limit passes.
    let body = counting_loop("m", "i32.sub", 1_000);
    let mut h = host(&module("", &body));
    let exact = cost(&mut h, "m") + ENTRY;
    h.set_instruction_limits(ic0_host::InstructionLimits {
        update: exact,
        ..Default::default()
    });
    assert_eq!(cost(&mut h, "m") + ENTRY, exact);
    h.set_instruction_limits(ic0_host::InstructionLimits {
        update: exact - 1,
        ..Default::default()
    });
    let err = h.update(user(), "m", &[]).unwrap_err();
    assert!(err.message.contains("instructions"), "{}", err.message);
}
