//! Debugging: `debug_print` and `trap`.

use super::memory_access::read;
use super::metering::enter;
use super::{fail, Api, C};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
}
