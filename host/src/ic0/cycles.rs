//! Cycles: available, refunded, accepted and burned; the balance; call and outcall costs.

use super::memory_access::{read, write_u128};
use super::metering::enter;
use super::{fail, Api, C};
use crate::http;
use wasmi::errors::LinkerError;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
}
