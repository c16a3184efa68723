//! Instruction charges: a message's remaining fuel, system API fees, dirtied stable pages.

use super::C;
use crate::cost;
use wasmi::Error;

/// Takes `cost` instructions from what the message has left.
pub(super) fn charge(caller: &mut C<'_>, cost: u64) -> Result<(), Error> {
    let fuel = caller.get_fuel().unwrap_or(u64::MAX);
    if fuel < cost {
        caller.data_mut().exec.out_of_instructions = true;
        return Err(Error::new("instruction limit exceeded"));
    }
    let _ = caller.set_fuel(fuel - cost);
    Ok(())
}

/// Charges a system API function's fixed fee (`cost::system_api_fee`) as it is entered.
pub(super) fn enter(caller: &mut C<'_>, api: &'static str) -> Result<(), Error> {
    let fee = cost::system_api_fee(api).expect("every system API function has a fee");
    charge(caller, fee)
}

/// Charges the stable-memory pages a write is the first in its message to touch.
pub(super) fn charge_dirty_pages(caller: &mut C<'_>, offset: u64, size: u64) -> Result<(), Error> {
    if size == 0 {
        return Ok(());
    }
    let pages = offset / cost::OS_PAGE..=(offset + size - 1) / cost::OS_PAGE;
    let dirty = &mut caller.data_mut().exec.dirty_stable_pages;
    let fresh = pages.filter(|page| dirty.insert(*page)).count() as u64;
    charge(caller, fresh * cost::DIRTY_PAGE)
}
