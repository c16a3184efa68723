//! Time, the global timer and the performance counters.

use super::metering::enter;
use super::{require, Api, C};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
}
