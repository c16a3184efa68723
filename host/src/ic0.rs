//! The `ic0` system API as wasmi host functions.
//!
//! Each function checks that the current execution kind may use it (as the IC interface
//! specification's availability table says), bounds-checks every memory range, and charges
//! instructions as the IC does (its fixed fee, the bytes it moves, stable pages it dirties:
//! `cost.rs`), so counts and failures match the IC closely.

mod calls;
mod canister;
mod certified_data;
mod cycles;
mod debug;
mod memory_access;
mod message;
mod metering;
mod stable;
mod time;

use crate::context::Ctx;
use crate::cost;
use metering::charge;
use wasmi::errors::LinkerError;
use wasmi::{Caller, Error, IntoFunc, Linker};

type C<'a> = Caller<'a, Ctx>;

fn fail(caller: &mut C<'_>, message: impl Into<String>) -> Error {
    let message = message.into();
    caller.data_mut().exec.trap = Some(message.clone());
    Error::new(message)
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
    message::link(&mut api)?;
    cycles::link(&mut api)?;
    canister::link(&mut api)?;
    calls::link(&mut api)?;
    stable::link(&mut api)?;
    certified_data::link(&mut api)?;
    time::link(&mut api)?;
    debug::link(&mut api)?;
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
