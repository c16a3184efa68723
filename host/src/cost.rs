//! The IC's instruction cost model: the only place the host's meter takes a number from.
//!
//! Sources (dfinity/ic): the per-operator table is `instruction_to_cost` in
//! `rs/embedders/src/wasm_utils/instrumentation.rs` (Wasm32 memory); bulk memory operations add
//! their length at run time (the injected `update_available_memory`-style helper); system API
//! fees are `overhead::new` in `rs/embedders/src/wasmtime_embedder/system_api_complexity.rs`
//! (`MeteringType::New`, the default), each plus the bytes it moves; a stable-memory write pays
//! `dirty_page_overhead` (application subnet, `rs/config/src/subnet_config.rs`) for every
//! 4 KiB page it is the first in its message to write.
//!
//! wasmi charges operator costs per basic block, as the IC's instrumentation does, and bulk
//! memory per byte (`bytes_copied_per_fuel = 1`). Its table holds `u8`s, so the one operator a
//! canister uses whose cost is larger, `memory.grow` (300), is rewritten into a call to the
//! host (`rewrite.rs`), which charges the rest: `MEMORY_GROW - CALL`.

use wasmi::{CustomFuelCosts, OperatorCost};

/// `call` of any function, the host's own included.
pub const CALL: u64 = 5;
/// `memory.grow`, charged by the host function that replaces it.
pub const MEMORY_GROW: u64 = 300;
/// `memory.copy`, `memory.fill`, `memory.init`: this fixed part plus one per byte.
pub const BULK_MEMORY: u8 = 100;
/// A stable-memory page (4 KiB) first written in a message (application subnet).
pub const DIRTY_PAGE: u64 = 1_000;
/// The OS page size the IC tracks dirty stable memory in.
pub const OS_PAGE: u64 = 4096;

/// Per-operator costs of the IC (Wasm32). Every operator not named costs 1.
pub fn operator_costs() -> OperatorCost {
    let mut c = OperatorCost::default();
    // wasmi's defaults are 1 except for structural operators; set those the IC prices apart.
    (c.nop, c.drop, c.unreachable, c.return_) = (1, 1, 1, 1);
    (c.block, c.loop_, c.else_, c.end) = (0, 0, 0, 0);
    (c.br, c.br_if, c.br_table, c.if_) = (2, 2, 2, 2);
    (c.global_get, c.global_set) = (2, 2);
    (c.call, c.call_indirect) = (CALL as u8, 10);
    (c.return_call, c.return_call_indirect) = (3, 60);
    (c.i32_div_s, c.i32_div_u, c.i32_rem_s, c.i32_rem_u) = (10, 10, 10, 10);
    (c.i64_div_s, c.i64_div_u, c.i64_rem_s, c.i64_rem_u) = (10, 10, 10, 10);
    (c.memory_size, c.table_size) = (20, 100);
    (c.table_get, c.table_set) = (5, 5);
    (c.ref_null, c.ref_is_null, c.ref_func) = (1, 5, 130);
    (c.memory_copy, c.memory_fill, c.memory_init) = (BULK_MEMORY, BULK_MEMORY, BULK_MEMORY);
    (c.table_copy, c.table_fill, c.table_init) = (BULK_MEMORY, BULK_MEMORY, BULK_MEMORY);
    // The IC prices these 300, past a u8: 45 short. Rust canisters never emit them (their
    // table is fixed and their data segments active).
    (c.table_grow, c.data_drop, c.elem_drop) = (u8::MAX, u8::MAX, u8::MAX);
    // Replaced by a call to the host before wasmi sees it; priced there.
    c.memory_grow = 0;
    // Floating point, as benchmarked by the IC.
    (c.f32_add, c.f32_sub, c.f32_mul) = (2, 2, 2);
    (c.f64_add, c.f64_sub, c.f64_mul) = (2, 2, 2);
    (c.f32_ceil, c.f32_floor, c.f32_trunc, c.f32_nearest) = (2, 2, 2, 2);
    (c.f64_ceil, c.f64_floor, c.f64_trunc, c.f64_nearest) = (2, 2, 2, 2);
    (c.f32_div, c.f64_div) = (3, 5);
    (c.f32_min, c.f32_max, c.f64_min, c.f64_max) = (18, 18, 18, 18);
    (c.f32_copysign, c.f64_copysign) = (2, 3);
    (c.f32_sqrt, c.f64_sqrt) = (5, 8);
    (c.f32_eq, c.f32_ne, c.f32_lt, c.f32_gt, c.f32_le, c.f32_ge) = (3, 3, 3, 3, 3, 3);
    (c.f64_eq, c.f64_ne, c.f64_lt, c.f64_gt, c.f64_le, c.f64_ge) = (3, 3, 3, 3, 3, 3);
    (c.f32_convert_i32_s, c.f32_convert_i64_s) = (3, 3);
    (c.f64_convert_i32_s, c.f64_convert_i64_s) = (3, 3);
    (c.f32_convert_i32_u, c.f32_convert_i64_u) = (16, 16);
    (c.f64_convert_i32_u, c.f64_convert_i64_u) = (16, 16);
    (
        c.i32_trunc_f32_s,
        c.i32_trunc_f32_u,
        c.i32_trunc_f64_s,
        c.i32_trunc_f64_u,
    ) = (20, 20, 20, 20);
    (
        c.i64_trunc_f32_s,
        c.i64_trunc_f32_u,
        c.i64_trunc_f64_s,
        c.i64_trunc_f64_u,
    ) = (20, 20, 20, 20);
    (c.i32_trunc_sat_f32_s, c.i32_trunc_sat_f32_u) = (20, 20);
    (c.i32_trunc_sat_f64_s, c.i32_trunc_sat_f64_u) = (20, 20);
    (c.i64_trunc_sat_f32_s, c.i64_trunc_sat_f32_u) = (20, 20);
    (c.i64_trunc_sat_f64_s, c.i64_trunc_sat_f64_u) = (20, 20);
    c
}

/// Bulk memory costs one instruction per byte; eager compilation keeps translation uncharged.
pub fn byte_costs() -> CustomFuelCosts {
    CustomFuelCosts {
        bytes_copied_per_fuel: 1,
        fuel_per_bytes_translated: 0,
        fuel_per_bytes_validated: 0,
    }
}

/// The fixed fee of each system API function (`overhead::new`); the bytes it moves come on top.
pub fn system_api_fee(name: &str) -> Option<u64> {
    Some(match name {
        "debug_print" => 100,
        "performance_counter" => 200,
        "is_controller" => 1_000,
        "call_new" => 1_500,
        "call_perform" => 5_000,
        // Wasm-native stable memory (the default): `overhead_native::new`.
        "stable64_read" | "stable64_write" | "stable64_size" => 20,
        "stable64_grow" => 100,
        // Not in the IC's table (they are newer than it); priced like their neighbours.
        "msg_deadline"
        | "in_replicated_execution"
        | "canister_liquid_cycle_balance128"
        | "cost_call"
        | "cost_http_request"
        | "cost_http_request_v2"
        | "call_with_best_effort_response"
        | "cycles_burn128" => 500,
        "msg_arg_data_size"
        | "msg_arg_data_copy"
        | "msg_caller_size"
        | "msg_caller_copy"
        | "msg_method_name_size"
        | "msg_method_name_copy"
        | "accept_message"
        | "msg_reject_code"
        | "msg_reject_msg_size"
        | "msg_reject_msg_copy"
        | "msg_reply_data_append"
        | "msg_reply"
        | "msg_reject"
        | "msg_cycles_available128"
        | "msg_cycles_refunded128"
        | "msg_cycles_accept128"
        | "canister_cycle_balance128"
        | "canister_self_size"
        | "canister_self_copy"
        | "canister_status"
        | "canister_version"
        | "call_on_cleanup"
        | "call_data_append"
        | "call_cycles_add128"
        | "certified_data_set"
        | "data_certificate_present"
        | "data_certificate_size"
        | "data_certificate_copy"
        | "time"
        | "global_timer_set"
        | "trap" => 500,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
