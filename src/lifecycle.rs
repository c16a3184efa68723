//! Install and upgrade.

use crate::catalog::{index, store};
use crate::config::{self, InitArg};
use crate::queue;
use crate::runtime::Runtime;

/// Saves the heap search index to stable memory for the next version; returns the bytes
/// written. Loading it back is a bulk copy (~600 instructions per offering), where rebuilding
/// it would parse every stored row again (the import's cost per offering).
pub fn pre_upgrade() -> Result<u64, String> {
    index::save()
}

/// Rebuilds the heap state before the manager or any call can read it, then applies the
/// argument as [`setup`] does.
pub fn post_upgrade(rt: &impl Runtime, arg: Result<Option<InitArg>, String>) -> Result<(), String> {
    rebuild_heap_state();
    setup(rt, arg)
}

/// Everything on the heap that caches stable memory, rebuilt after an upgrade: the catalog's
/// search index (loaded from the snapshot the previous version saved) and the market's index
/// of open offers (rebuilt from the stored offers).
pub fn rebuild_heap_state() {
    // Without a snapshot (pre_upgrade skipped, or a snapshot of another format) the index is
    // rebuilt from the stored rows: slow, but search stays complete.
    if index::load().is_err() {
        index::rebuild(store::offerings());
    }
    crate::market::index::rebuild();
}

/// Applies the init/upgrade argument and starts the manager. On a fresh install the argument
/// overrides the defaults; on upgrade it overrides the stored configuration. An error must abort
/// the install or upgrade, so the caller traps with it.
pub fn setup(rt: &impl Runtime, arg: Result<Option<InitArg>, String>) -> Result<(), String> {
    open_stable_structures();
    let arg = arg?.unwrap_or_default();
    let config = config::apply(arg).map_err(|e| format!("invalid init argument: {e}"))?;
    queue::start(rt, &config);
    Ok(())
}

/// Every stable structure, created once here: a structure made on first use writes its header
/// then, which would make a read-only or refused call change stable memory.
fn open_stable_structures() {
    config::open();
    crate::counters::open();
    crate::cycles::open();
    crate::queue::store::open();
    store::open();
    crate::catalog::changes::open();
    crate::catalog::upload::open();
    crate::market::store::open();
    crate::market::audit::open();
    crate::market::operations::open();
    crate::provision::settings::open();
    crate::provision::sim::open();
}

#[cfg(test)]
mod tests;
