//! Who may call what.

use crate::runtime::Runtime;

/// Whether the caller controls this canister: the admins of the marketplace.
pub fn caller_is_controller(rt: &impl Runtime) -> bool {
    rt.is_controller(&rt.caller())
}

#[cfg(test)]
mod tests;
