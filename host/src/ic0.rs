//! The `ic0` system API as wasmi host functions.
//!
//! Each function checks that the current execution kind may use it (as the IC interface
//! specification's availability table says), bounds-checks every memory range, and charges
//! instructions as the IC does (its fixed fee, the bytes it moves, stable pages it dirties:
//! `cost.rs`), so counts and failures match the IC closely.

use crate::context::{Ctx, Kind, OutCall, Response};
use crate::cost;
use crate::http;
use crate::types::{limits, RejectCode, WASM_PAGE};
use wasmi::errors::LinkerError;
use wasmi::{Caller, Error, IntoFunc, Linker};

type C<'a> = Caller<'a, Ctx>;

fn fail(caller: &mut C<'_>, message: impl Into<String>) -> Error {
    let message = message.into();
    caller.data_mut().exec.trap = Some(message.clone());
    Error::new(message)
}

/// Takes `cost` instructions from what the message has left.
fn charge(caller: &mut C<'_>, cost: u64) -> Result<(), Error> {
    let fuel = caller.get_fuel().unwrap_or(u64::MAX);
    if fuel < cost {
        caller.data_mut().exec.out_of_instructions = true;
        return Err(Error::new("instruction limit exceeded"));
    }
    let _ = caller.set_fuel(fuel - cost);
    Ok(())
}

/// Charges a system API function's fixed fee (`cost::system_api_fee`) as it is entered.
fn enter(caller: &mut C<'_>, api: &'static str) -> Result<(), Error> {
    let fee = cost::system_api_fee(api).expect("every system API function has a fee");
    charge(caller, fee)
}

/// Charges the stable-memory pages a write is the first in its message to touch.
fn charge_dirty_pages(caller: &mut C<'_>, offset: u64, size: u64) -> Result<(), Error> {
    if size == 0 {
        return Ok(());
    }
    let pages = offset / cost::OS_PAGE..=(offset + size - 1) / cost::OS_PAGE;
    let dirty = &mut caller.data_mut().exec.dirty_stable_pages;
    let fresh = pages.filter(|page| dirty.insert(*page)).count() as u64;
    charge(caller, fresh * cost::DIRTY_PAGE)
}

fn require(caller: &mut C<'_>, api: &str, allowed: bool) -> Result<(), Error> {
    if allowed {
        Ok(())
    } else {
        let kind = caller.data().exec.kind;
        Err(fail(
            caller,
            format!("\"ic0.{api}\" cannot be executed in {kind:?} mode"),
        ))
    }
}

fn read(caller: &mut C<'_>, src: u64, size: u64) -> Result<Vec<u8>, Error> {
    charge(caller, size)?;
    let memory = caller
        .data()
        .memory
        .expect("memory is set at instantiation");
    let data = memory.data(&*caller);
    match src.checked_add(size) {
        Some(end) if end <= data.len() as u64 => Ok(data[src as usize..end as usize].to_vec()),
        _ => Err(fail(
            caller,
            format!("memory access out of bounds: reading {size} bytes at {src}"),
        )),
    }
}

fn write(caller: &mut C<'_>, dst: u64, bytes: &[u8]) -> Result<(), Error> {
    charge(caller, bytes.len() as u64)?;
    write_uncharged(caller, dst, bytes)
}

/// Writes a fixed-size result, which the IC's fee already covers.
fn write_uncharged(caller: &mut C<'_>, dst: u64, bytes: &[u8]) -> Result<(), Error> {
    let memory = caller
        .data()
        .memory
        .expect("memory is set at instantiation");
    let data = memory.data_mut(&mut *caller);
    match dst.checked_add(bytes.len() as u64) {
        Some(end) if end <= data.len() as u64 => {
            data[dst as usize..end as usize].copy_from_slice(bytes);
            Ok(())
        }
        _ => Err(fail(
            caller,
            format!(
                "memory access out of bounds: writing {} bytes at {dst}",
                bytes.len()
            ),
        )),
    }
}

/// `*_copy(dst, offset, size)`: copies `source[offset..offset+size]` to `dst`.
fn copy_out(
    caller: &mut C<'_>,
    api: &str,
    source: &[u8],
    dst: u32,
    offset: u32,
    size: u32,
) -> Result<(), Error> {
    let (offset, size) = (offset as usize, size as usize);
    match offset.checked_add(size) {
        Some(end) if end <= source.len() => write(caller, dst as u64, &source[offset..end]),
        _ => Err(fail(
            caller,
            format!(
                "ic0.{api}: range {offset}+{size} is out of bounds of {} bytes",
                source.len()
            ),
        )),
    }
}

fn write_u128(caller: &mut C<'_>, dst: u32, value: u128) -> Result<(), Error> {
    write_uncharged(caller, dst as u64, &value.to_le_bytes())
}

fn reply_limit_check(caller: &mut C<'_>, extra: usize) -> Result<(), Error> {
    let exec = &caller.data().exec;
    let limit = exec.kind.reply_limit();
    let size = exec.reply_buf.len() + extra;
    if size > limit {
        return Err(fail(caller, format!("ic0.msg_reply_data_append: application payload size ({size}) cannot be larger than {limit}")));
    }
    Ok(())
}

fn check_can_respond(caller: &mut C<'_>, api: &str) -> Result<(), Error> {
    let kind = caller.data().exec.kind;
    require(caller, api, kind.may_respond())?;
    let exec = &caller.data().exec;
    if exec.already_responded || exec.response.is_some() {
        return Err(fail(
            caller,
            format!("ic0.{api}: the call was already answered"),
        ));
    }
    Ok(())
}

/// Defines functions in the linker's `ic0` module and remembers their names, since a wasmi
/// linker cannot be asked which host functions it holds.
struct Api<'a> {
    linker: &'a mut Linker<Ctx>,
    names: Vec<&'static str>,
}

impl Api<'_> {
    fn func<P, R>(
        &mut self,
        name: &'static str,
        func: impl IntoFunc<Ctx, P, R>,
    ) -> Result<(), LinkerError> {
        self.names.push(name);
        self.linker.func_wrap("ic0", name, func).map(|_| ())
    }
}

/// Defines the system API in `linker`; returns the names it provides.
pub(crate) fn link(linker: &mut Linker<Ctx>) -> Result<Vec<&'static str>, LinkerError> {
    let mut api = Api {
        linker,
        names: vec![],
    };
    // --- message arguments and caller ---
    api.func("msg_arg_data_size", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_arg_data_size")?;
        let kind = c.data().exec.kind;
        require(&mut c, "msg_arg_data_size", kind.has_arg())?;
        Ok(c.data().exec.arg.len() as u32)
    })?;
    api.func(
        "msg_arg_data_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_arg_data_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_arg_data_copy", kind.has_arg())?;
            let arg = std::mem::take(&mut c.data_mut().exec.arg);
            let result = copy_out(&mut c, "msg_arg_data_copy", &arg, dst, off, size);
            c.data_mut().exec.arg = arg;
            result
        },
    )?;
    api.func("msg_caller_size", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_caller_size")?;
        Ok(c.data().exec.caller.len() as u32)
    })?;
    api.func(
        "msg_caller_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_caller_copy")?;
            let caller = c.data().exec.caller.clone();
            copy_out(&mut c, "msg_caller_copy", &caller, dst, off, size)
        },
    )?;
    api.func(
        "msg_method_name_size",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "msg_method_name_size")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_method_name_size", kind == Kind::Inspect)?;
            Ok(c.data().exec.method.len() as u32)
        },
    )?;
    api.func(
        "msg_method_name_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_method_name_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_method_name_copy", kind == Kind::Inspect)?;
            let name = c.data().exec.method.clone().into_bytes();
            copy_out(&mut c, "msg_method_name_copy", &name, dst, off, size)
        },
    )?;
    api.func("accept_message", |mut c: C<'_>| -> Result<(), Error> {
        enter(&mut c, "accept_message")?;
        let kind = c.data().exec.kind;
        require(&mut c, "accept_message", kind == Kind::Inspect)?;
        if c.data().exec.accepted {
            return Err(fail(
                &mut c,
                "ic0.accept_message: the message was already accepted",
            ));
        }
        c.data_mut().exec.accepted = true;
        Ok(())
    })?;
    api.func("msg_deadline", |mut c: C<'_>| -> Result<u64, Error> {
        enter(&mut c, "msg_deadline")?;
        Ok(c.data().exec.deadline)
    })?;

    // --- reject information in callbacks ---
    api.func("msg_reject_code", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "msg_reject_code")?;
        let kind = c.data().exec.kind;
        require(
            &mut c,
            "msg_reject_code",
            matches!(kind, Kind::ReplyCallback | Kind::RejectCallback),
        )?;
        Ok(c.data().exec.reject_code)
    })?;
    api.func(
        "msg_reject_msg_size",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "msg_reject_msg_size")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_reject_msg_size", kind == Kind::RejectCallback)?;
            Ok(c.data().exec.reject_message.len() as u32)
        },
    )?;
    api.func(
        "msg_reject_msg_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "msg_reject_msg_copy")?;
            let kind = c.data().exec.kind;
            require(&mut c, "msg_reject_msg_copy", kind == Kind::RejectCallback)?;
            let message = c.data().exec.reject_message.clone().into_bytes();
            copy_out(&mut c, "msg_reject_msg_copy", &message, dst, off, size)
        },
    )?;

    // --- responding ---
    api.func(
        "msg_reply_data_append",
        |mut c: C<'_>, src: u32, size: u32| {
            enter(&mut c, "msg_reply_data_append")?;
            check_can_respond(&mut c, "msg_reply_data_append")?;
            reply_limit_check(&mut c, size as usize)?;
            let bytes = read(&mut c, src as u64, size as u64)?;
            c.data_mut().exec.reply_buf.extend_from_slice(&bytes);
            Ok(())
        },
    )?;
    api.func("msg_reply", |mut c: C<'_>| -> Result<(), Error> {
        enter(&mut c, "msg_reply")?;
        check_can_respond(&mut c, "msg_reply")?;
        let exec = &mut c.data_mut().exec;
        exec.response = Some(Response::Reply(std::mem::take(&mut exec.reply_buf)));
        Ok(())
    })?;
    api.func("msg_reject", |mut c: C<'_>, src: u32, size: u32| {
        enter(&mut c, "msg_reject")?;
        check_can_respond(&mut c, "msg_reject")?;
        let bytes = read(&mut c, src as u64, size as u64)?;
        c.data_mut().exec.response = Some(Response::Reject(
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
        Ok(())
    })?;

    // --- cycles ---
    api.func("msg_cycles_available128", |mut c: C<'_>, dst: u32| {
        enter(&mut c, "msg_cycles_available128")?;
        let exec = &c.data().exec;
        let available = exec.cycles_available - exec.cycles_accepted;
        write_u128(&mut c, dst, available)
    })?;
    api.func("msg_cycles_refunded128", |mut c: C<'_>, dst: u32| {
        enter(&mut c, "msg_cycles_refunded128")?;
        let refunded = c.data().exec.cycles_refunded;
        write_u128(&mut c, dst, refunded)
    })?;
    api.func(
        "msg_cycles_accept128",
        |mut c: C<'_>, high: u64, low: u64, dst: u32| {
            enter(&mut c, "msg_cycles_accept128")?;
            let max = ((high as u128) << 64) | low as u128;
            let ctx = c.data_mut();
            let amount = max.min(ctx.exec.cycles_available - ctx.exec.cycles_accepted);
            ctx.exec.cycles_accepted += amount;
            ctx.sys.cycles += amount;
            write_u128(&mut c, dst, amount)
        },
    )?;
    api.func(
        "cycles_burn128",
        |mut c: C<'_>, high: u64, low: u64, dst: u32| {
            enter(&mut c, "cycles_burn128")?;
            let max = ((high as u128) << 64) | low as u128;
            let ctx = c.data_mut();
            let amount = max.min(ctx.sys.cycles);
            ctx.sys.cycles -= amount;
            write_u128(&mut c, dst, amount)
        },
    )?;
    api.func("canister_cycle_balance128", |mut c: C<'_>, dst: u32| {
        enter(&mut c, "canister_cycle_balance128")?;
        let balance = c.data().sys.cycles;
        write_u128(&mut c, dst, balance)
    })?;
    api.func(
        "canister_liquid_cycle_balance128",
        |mut c: C<'_>, dst: u32| {
            enter(&mut c, "canister_liquid_cycle_balance128")?;
            let balance = c.data().sys.cycles;
            write_u128(&mut c, dst, balance)
        },
    )?;
    api.func(
        "cost_call",
        |mut c: C<'_>, method_size: u64, payload_size: u64, dst: u32| {
            enter(&mut c, "cost_call")?;
            write_u128(&mut c, dst, http::cost_call(method_size, payload_size))
        },
    )?;
    api.func(
        "cost_http_request",
        |mut c: C<'_>, request_size: u64, max_response: u64, dst: u32| {
            enter(&mut c, "cost_http_request")?;
            write_u128(&mut c, dst, http::cost_v1(request_size, max_response))
        },
    )?;
    api.func(
        "cost_http_request_v2",
        |mut c: C<'_>, src: u32, size: u32, dst: u32| {
            enter(&mut c, "cost_http_request_v2")?;
            let bytes = read(&mut c, src as u64, size as u64)?;
            let cost = http::cost_v2_from_candid(&bytes)
                .map_err(|e| fail(&mut c, format!("ic0.cost_http_request_v2: {e}")))?;
            write_u128(&mut c, dst, cost)
        },
    )?;

    // --- the canister itself ---
    api.func("canister_self_size", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "canister_self_size")?;
        Ok(c.data().sys.canister_id.len() as u32)
    })?;
    api.func(
        "canister_self_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "canister_self_copy")?;
            let id = c.data().sys.canister_id.clone();
            copy_out(&mut c, "canister_self_copy", &id, dst, off, size)
        },
    )?;
    api.func("canister_status", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "canister_status")?;
        Ok(1)
    })?;
    api.func("canister_version", |mut c: C<'_>| -> Result<u64, Error> {
        enter(&mut c, "canister_version")?;
        Ok(c.data().sys.version)
    })?;
    api.func(
        "is_controller",
        |mut c: C<'_>, src: u32, size: u32| -> Result<u32, Error> {
            enter(&mut c, "is_controller")?;
            let id = read(&mut c, src as u64, size as u64)?;
            if id.len() > 29 {
                return Err(fail(
                    &mut c,
                    "ic0.is_controller: argument is not a valid principal",
                ));
            }
            Ok(c.data().sys.controllers.contains(&id) as u32)
        },
    )?;
    api.func(
        "in_replicated_execution",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "in_replicated_execution")?;
            Ok((!c.data().exec.kind.discards_state()) as u32)
        },
    )?;

    // --- calls ---
    api.func(
        "call_new",
        |mut c: C<'_>,
         callee_src: u32,
         callee_size: u32,
         name_src: u32,
         name_size: u32,
         reply_fun: u32,
         reply_env: u32,
         reject_fun: u32,
         reject_env: u32| {
            enter(&mut c, "call_new")?;
            let kind = c.data().exec.kind;
            require(&mut c, "call_new", kind.may_call())?;
            let callee = read(&mut c, callee_src as u64, callee_size as u64)?;
            let method = read(&mut c, name_src as u64, name_size as u64)?;
            let method = String::from_utf8(method)
                .map_err(|_| fail(&mut c, "ic0.call_new: method name is not UTF-8"))?;
            // A call under construction that was never performed is discarded, as on the IC.
            c.data_mut().exec.building = Some(OutCall {
                callee,
                method,
                reply: (reply_fun, reply_env),
                reject: (reject_fun, reject_env),
                ..OutCall::default()
            });
            Ok(())
        },
    )?;
    api.func("call_on_cleanup", |mut c: C<'_>, fun: u32, env: u32| {
        enter(&mut c, "call_on_cleanup")?;
        let call = building(&mut c, "call_on_cleanup")?;
        if call.cleanup.is_some() {
            return Err(fail(&mut c, "ic0.call_on_cleanup: cleanup was already set"));
        }
        call.cleanup = Some((fun, env));
        Ok(())
    })?;
    api.func("call_data_append", |mut c: C<'_>, src: u32, size: u32| {
        enter(&mut c, "call_data_append")?;
        building(&mut c, "call_data_append")?;
        let bytes = read(&mut c, src as u64, size as u64)?;
        let call = building(&mut c, "call_data_append")?;
        call.payload.extend_from_slice(&bytes);
        let len = call.payload.len();
        if len > limits::INTER_CANISTER_BYTES {
            return Err(fail(
                &mut c,
                format!(
                    "ic0.call_data_append: payload of {len} bytes exceeds {}",
                    limits::INTER_CANISTER_BYTES
                ),
            ));
        }
        Ok(())
    })?;
    api.func(
        "call_with_best_effort_response",
        |mut c: C<'_>, timeout: u32| {
            enter(&mut c, "call_with_best_effort_response")?;
            let call = building(&mut c, "call_with_best_effort_response")?;
            if call.timeout_seconds.is_some() {
                return Err(fail(
                    &mut c,
                    "ic0.call_with_best_effort_response: already set for this call",
                ));
            }
            // The IC caps best-effort timeouts at 300 seconds.
            call.timeout_seconds = Some(timeout.clamp(1, 300));
            Ok(())
        },
    )?;
    api.func("call_cycles_add128", |mut c: C<'_>, high: u64, low: u64| {
        enter(&mut c, "call_cycles_add128")?;
        building(&mut c, "call_cycles_add128")?;
        let amount = ((high as u128) << 64) | low as u128;
        if c.data().sys.cycles < amount {
            return Err(fail(
                &mut c,
                "ic0.call_cycles_add128: insufficient cycles balance",
            ));
        }
        c.data_mut().sys.cycles -= amount;
        building(&mut c, "call_cycles_add128")?.cycles += amount;
        Ok(())
    })?;
    api.func("call_perform", |mut c: C<'_>| -> Result<u32, Error> {
        enter(&mut c, "call_perform")?;
        let call = building(&mut c, "call_perform")?.clone();
        let ctx = c.data_mut();
        ctx.exec.building = None;
        let fee = http::cost_call(call.method.len() as u64, call.payload.len() as u64);
        if ctx.sys.cycles < fee {
            // Refused locally: the attached cycles go back to the balance.
            ctx.sys.cycles += call.cycles;
            return Ok(RejectCode::SysTransient as u32);
        }
        ctx.sys.cycles -= fee;
        ctx.exec.performed.push(call);
        Ok(0)
    })?;

    // --- stable memory ---
    api.func("stable64_size", |mut c: C<'_>| -> Result<u64, Error> {
        enter(&mut c, "stable64_size")?;
        Ok(c.data().stable.len() as u64 / WASM_PAGE)
    })?;
    api.func(
        "stable64_grow",
        |mut c: C<'_>, pages: u64| -> Result<u64, Error> {
            enter(&mut c, "stable64_grow")?;
            let ctx = c.data_mut();
            let old = ctx.stable.len() as u64 / WASM_PAGE;
            Ok(match old.checked_add(pages) {
                Some(new) if new <= limits::STABLE_PAGES_MAX => {
                    ctx.stable.resize((new * WASM_PAGE) as usize, 0);
                    old
                }
                _ => u64::MAX,
            })
        },
    )?;
    api.func(
        "stable64_write",
        |mut c: C<'_>, offset: u64, src: u64, size: u64| {
            enter(&mut c, "stable64_write")?;
            let bytes = read(&mut c, src, size)?;
            match offset.checked_add(size) {
                Some(end) if end <= c.data().stable.len() as u64 => {
                    charge_dirty_pages(&mut c, offset, size)?;
                    let ctx = c.data_mut();
                    let range = offset as usize..end as usize;
                    let old = ctx.stable[range.clone()].to_vec();
                    ctx.exec.stable_undo.push((offset, old));
                    ctx.stable[range].copy_from_slice(&bytes);
                    Ok(())
                }
                _ => Err(fail(
                    &mut c,
                    format!("stable memory out of bounds: writing {size} bytes at {offset}"),
                )),
            }
        },
    )?;
    api.func(
        "stable64_read",
        |mut c: C<'_>, dst: u64, offset: u64, size: u64| {
            enter(&mut c, "stable64_read")?;
            let ctx = c.data();
            match offset.checked_add(size) {
                Some(end) if end <= ctx.stable.len() as u64 => {
                    let bytes = ctx.stable[offset as usize..end as usize].to_vec();
                    write(&mut c, dst, &bytes)
                }
                _ => Err(fail(
                    &mut c,
                    format!("stable memory out of bounds: reading {size} bytes at {offset}"),
                )),
            }
        },
    )?;

    // --- certified data ---
    api.func("certified_data_set", |mut c: C<'_>, src: u32, size: u32| {
        enter(&mut c, "certified_data_set")?;
        let kind = c.data().exec.kind;
        require(&mut c, "certified_data_set", !kind.discards_state())?;
        if size > 32 {
            return Err(fail(&mut c, "ic0.certified_data_set: at most 32 bytes"));
        }
        let bytes = read(&mut c, src as u64, size as u64)?;
        c.data_mut().sys.certified_data = bytes;
        Ok(())
    })?;
    // The host has no subnet key, so it never offers a certificate.
    api.func(
        "data_certificate_present",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "data_certificate_present")?;
            Ok(0)
        },
    )?;

    // --- time, timer, counters ---
    api.func("time", |mut c: C<'_>| -> Result<u64, Error> {
        enter(&mut c, "time")?;
        Ok(c.data().sys.time)
    })?;
    api.func(
        "global_timer_set",
        |mut c: C<'_>, deadline: u64| -> Result<u64, Error> {
            enter(&mut c, "global_timer_set")?;
            let kind = c.data().exec.kind;
            require(&mut c, "global_timer_set", kind.may_set_timer())?;
            Ok(std::mem::replace(&mut c.data_mut().sys.timer, deadline))
        },
    )?;
    api.func(
        "performance_counter",
        |mut c: C<'_>, counter: u32| -> Result<u64, Error> {
            enter(&mut c, "performance_counter")?;
            let exec = &c.data().exec;
            let used = exec
                .instruction_limit
                .saturating_sub(c.get_fuel().unwrap_or(0));
            Ok(match counter {
                0 => used,
                _ => exec.context_instructions + used,
            })
        },
    )?;

    // --- debugging ---
    api.func("debug_print", |mut c: C<'_>, src: u32, size: u32| {
        enter(&mut c, "debug_print")?;
        let bytes = read(&mut c, src as u64, size as u64)?;
        let line = String::from_utf8_lossy(&bytes).into_owned();
        c.data_mut().debug_log.push(line);
        Ok(())
    })?;
    api.func(
        "trap",
        |mut c: C<'_>, src: u32, size: u32| -> Result<(), Error> {
            enter(&mut c, "trap")?;
            let bytes = read(&mut c, src as u64, size as u64)?;
            let message = format!(
                "Canister called `ic0.trap` with message: '{}'",
                String::from_utf8_lossy(&bytes)
            );
            Err(fail(&mut c, message))
        },
    )?;
    // What the module rewrite puts in place of `memory.grow` (see rewrite.rs).
    api.linker.func_wrap(
        crate::rewrite::HOST_MODULE,
        crate::rewrite::MEMORY_GROW_IMPORT,
        |mut c: C<'_>, pages: u32| -> Result<u32, Error> {
            charge(&mut c, cost::MEMORY_GROW - cost::CALL)?;
            let memory = c.data().memory.expect("memory is set at instantiation");
            Ok(match memory.grow(&mut c, u64::from(pages)) {
                Ok(old) => old as u32,
                Err(_) => u32::MAX,
            })
        },
    )?;
    Ok(api.names)
}

fn building<'a>(c: &'a mut C<'_>, api: &str) -> Result<&'a mut OutCall, Error> {
    if c.data().exec.building.is_none() {
        return Err(fail(
            c,
            format!("ic0.{api}: no call under construction (call ic0.call_new first)"),
        ));
    }
    Ok(c.data_mut().exec.building.as_mut().expect("checked above"))
}
