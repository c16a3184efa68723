//! Bounds-checked reads and writes of the module's memory, charged per byte.

use super::metering::charge;
use super::{fail, C};
use wasmi::Error;

pub(super) fn read(caller: &mut C<'_>, src: u64, size: u64) -> Result<Vec<u8>, Error> {
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

pub(super) fn write(caller: &mut C<'_>, dst: u64, bytes: &[u8]) -> Result<(), Error> {
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
pub(super) fn copy_out(
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

pub(super) fn write_u128(caller: &mut C<'_>, dst: u32, value: u128) -> Result<(), Error> {
    write_uncharged(caller, dst as u64, &value.to_le_bytes())
}
