//! Stable memory: its size, growth, reads and writes (with undo records and dirty-page charges).

use super::memory_access::{read, write};
use super::metering::{charge_dirty_pages, enter};
use super::{fail, Api, C};
use crate::types::{limits, WASM_PAGE};
use wasmi::errors::LinkerError;
use wasmi::Error;

pub(super) fn link(api: &mut Api<'_>) -> Result<(), LinkerError> {
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
    Ok(())
}
