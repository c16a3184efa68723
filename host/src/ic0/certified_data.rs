//! Certified data: setting it; the host never offers a data certificate.

use super::memory_access::read;
use super::metering::enter;
use super::{fail, require, Api, C};
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
    // The host has no subnet key, so it never offers a certificate.
    api.func(
        "data_certificate_present",
        |mut c: C<'_>| -> Result<u32, Error> {
            enter(&mut c, "data_certificate_present")?;
            Ok(0)
        },
    )?;
    Ok(())
}
