//! The canister itself: its id, status, version, controllers and replicated execution.

use super::memory_access::{copy_out, read};
use super::metering::enter;
use super::{fail, Api, C};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
}
