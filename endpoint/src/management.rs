//! The management canister (`aaaaa-aa`) as this endpoint offers it: the calls a client makes
//! about the one canister it serves. `canister_status` (what `dfx canister status` and
//! `icp canister status` show) answers its controllers; every other method is refused with a
//! reject saying so, since canisters are created, installed and upgraded with `mkt`.

use candid::{Decode, Encode, Nat, Principal};
use ic0_host::{Host, Reject, RejectCode};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterStatusResult, CanisterStatusType, DefiniteCanisterSettings,
    LogVisibility, MemoryMetrics, QueryStats, SnapshotVisibility, StatusVisibility,
};

/// The IC's defaults for the settings the host does not model.
const FREEZING_THRESHOLD_SECONDS: u64 = 2_592_000;
const RESERVED_CYCLES_LIMIT: u64 = 5_000_000_000_000;
const WASM_MEMORY_LIMIT: u64 = 3 << 30;
const LOG_MEMORY_LIMIT: u64 = 4096;
/// Storage on a 13-node subnet: cycles per GiB per second.
const STORAGE_FEE_PER_GIB_SECOND: u128 = 127_000;

/// Runs `method` of the management canister for `sender`, sent with `effective` as the
/// effective canister (the one the URL names).
pub fn call(
    host: &mut Host,
    effective: Principal,
    sender: Principal,
    method: &str,
    arg: &[u8],
) -> Result<Vec<u8>, Reject> {
    match method {
        "canister_status" => canister_status(host, effective, sender, arg),
        other => Err(Reject::new(
            RejectCode::DestinationInvalid,
            format!(
                "the management canister's {other} is not offered by mkt serve, whose canisters are \
                 installed with mkt deploy and upgraded with mkt upgrade"
            ),
        )),
    }
}

fn canister_status(
    host: &mut Host,
    effective: Principal,
    sender: Principal,
    arg: &[u8],
) -> Result<Vec<u8>, Reject> {
    let record = Decode!(arg, CanisterIdRecord).map_err(|e| {
        Reject::new(
            RejectCode::CanisterError,
            format!("canister_status: cannot decode the argument: {e}"),
        )
    })?;
    // As on the IC: a message about a canister goes to that canister's subnet, named in the URL.
    if record.canister_id != effective {
        return Err(Reject::new(
            RejectCode::CanisterReject,
            format!(
                "canister_status: the effective canister id {effective} is not the canister {} the \
                 argument names",
                record.canister_id
            ),
        ));
    }
    // An unknown canister is the host's `DestinationInvalid`, "Canister … not found".
    host.with_canister(record.canister_id, |host| status_of(host, sender))?
}

/// The status of the canister in place, for a controller.
fn status_of(host: &Host, sender: Principal) -> Result<Vec<u8>, Reject> {
    let id = host.canister_id();
    let controllers = host.controllers();
    if !controllers.contains(&sender) {
        return Err(Reject::new(
            RejectCode::CanisterError,
            format!(
                "Only the controllers of the canister {id} can control it. Canister's controllers: \
                 {}. Sender's ID: {sender}",
                controllers
                    .iter()
                    .map(Principal::to_text)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ));
    }
    let module = host.module().unwrap_or_default();
    let (heap, stable) = (host.heap_bytes() as u64, host.stable_memory().len() as u64);
    let memory = heap + stable + module.len() as u64;
    let per_day = u128::from(memory) * STORAGE_FEE_PER_GIB_SECOND * 86_400 / (1u128 << 30);
    let status = CanisterStatusResult {
        status: CanisterStatusType::Running,
        ready_for_migration: false,
        version: host.canister_version(),
        settings: DefiniteCanisterSettings {
            controllers,
            compute_allocation: Nat::from(0u8),
            memory_allocation: Nat::from(0u8),
            freezing_threshold: Nat::from(FREEZING_THRESHOLD_SECONDS),
            reserved_cycles_limit: Nat::from(RESERVED_CYCLES_LIMIT),
            minimum_incoming_canister_call_cycles: Nat::from(0u8),
            log_visibility: LogVisibility::Controllers,
            log_memory_limit: Nat::from(LOG_MEMORY_LIMIT),
            snapshot_visibility: SnapshotVisibility::Controllers,
            status_visibility: StatusVisibility::Controllers,
            wasm_memory_limit: Nat::from(WASM_MEMORY_LIMIT),
            wasm_memory_threshold: Nat::from(0u8),
            environment_variables: vec![],
        },
        module_hash: host.module().map(|m| crate::metadata::sha256(m).to_vec()),
        memory_size: Nat::from(memory),
        memory_metrics: MemoryMetrics {
            wasm_memory_size: Nat::from(heap),
            stable_memory_size: Nat::from(stable),
            global_memory_size: Nat::from(0u8),
            wasm_binary_size: Nat::from(module.len()),
            custom_sections_size: Nat::from(0u8),
            canister_history_size: Nat::from(0u8),
            wasm_chunk_store_size: Nat::from(0u8),
            snapshots_size: Nat::from(0u8),
            log_memory_store_size: Nat::from(0u8),
        },
        cycles: Nat::from(host.cycles()),
        reserved_cycles: Nat::from(0u8),
        idle_cycles_burned_per_day: Nat::from(per_day),
        query_stats: QueryStats {
            num_calls_total: Nat::from(0u8),
            num_instructions_total: Nat::from(0u8),
            request_payload_bytes_total: Nat::from(0u8),
            response_payload_bytes_total: Nat::from(0u8),
        },
    };
    Encode!(&status).map_err(|e| Reject::new(RejectCode::SysFatal, e.to_string()))
}
