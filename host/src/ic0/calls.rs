//! Outgoing calls: building a call, its payload, cleanup, timeout and cycles, and performing it.

use super::memory_access::read;
use super::metering::enter;
use super::{fail, require, Api, C};
use crate::context::OutCall;
use crate::http;
use crate::types::{limits, RejectCode};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
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
