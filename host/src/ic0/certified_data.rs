//! Certified data: setting it, and reading the data certificate a query is given.

use super::memory_access::{copy_out, read};
use super::metering::enter;
use super::{fail, require, Api, C};
use crate::context::Kind;
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    // A certificate exists only in a query given one (`Host::set_data_certificate`); the IC
    // answers 0 everywhere else, since replicated executions cannot have one.
    api.func(
        "data_certificate_present",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "data_certificate_present")?;
            let exec = &c.data().exec;
            Ok(u32::from(
                exec.kind == Kind::Query && exec.data_certificate.is_some(),
            ))
        },
    )?;
    // Size and copy trap when there is no certificate, as the interface specification says.
    api.func(
        "data_certificate_size",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "data_certificate_size")?;
            let size = certificate(&mut c, "data_certificate_size")?.len();
            Ok(size as u32)
        },
    )?;
    api.func(
        "data_certificate_copy",
        |mut c: C<'_>, dst: u32, off: u32, size: u32| {
            enter(&mut c, "data_certificate_copy")?;
            let certificate = certificate(&mut c, "data_certificate_copy")?;
            copy_out(
                &mut c,
                "data_certificate_copy",
                &certificate,
                dst,
                off,
                size,
            )
        },
    )?;
    Ok(())
}

/// The query's certificate, or the trap of an execution that has none.
fn certificate(c: &mut C<'_>, api: &str) -> Result<Vec<u8>, Error> {
    let exec = &c.data().exec;
    match (&exec.data_certificate, exec.kind) {
        (Some(certificate), Kind::Query) => Ok(certificate.clone()),
        _ => Err(fail(
            c,
            format!("ic0.{api}: no data certificate is available"),
        )),
    }
}
