//! Install and upgrade.

use crate::catalog::{index, store};
use crate::config::{self, InitArg};
use crate::queue;
use crate::runtime::Runtime;

/// Saves the heap indexes (the catalog's search index, the market's open offers) to stable
/// memory for the next version; returns the bytes written. Loading them back is a bulk copy
/// (~600 instructions per offering), where rebuilding them would parse every stored row and
/// decode every item and offer again. Both are attempted whatever happens to the other.
pub fn pre_upgrade() -> Result<u64, String> {
    let catalog = index::save();
    let market = crate::market::index::save();
    Ok(catalog? + market?)
}

/// Rebuilds the heap state before the task queue or any call can read it, then applies the
/// argument as [`setup`] does.
pub fn post_upgrade(rt: &impl Runtime, arg: Result<Option<InitArg>, String>) -> Result<(), String> {
    rebuild_heap_state();
    setup(rt, arg)?;
    crate::market::retention::start_sweep(rt);
    Ok(())
}

/// Everything on the heap that caches stable memory, rebuilt after an upgrade: the catalog's
/// search index and the market's index of open offers, each loaded from the snapshot the
/// previous version saved, so no work here grows with the number of stored records.
pub fn rebuild_heap_state() {
    // Without a snapshot (pre_upgrade skipped, or a snapshot of another format) an index is
    // rebuilt from the stored records: slow, but search and matching stay complete.
    if index::load().is_err() {
        index::rebuild(store::offerings());
    }
    if crate::market::index::load().is_err() {
        crate::market::index::rebuild();
    }
}

/// Applies the init/upgrade argument, starts the task queue and certifies the web app (its
/// tree lives on the heap, so every upgrade builds it again). On a fresh install the argument
/// overrides the defaults; on upgrade it overrides the stored configuration. An error must abort
/// the install or upgrade, so the caller traps with it.
pub fn setup(rt: &impl Runtime, arg: Result<Option<InitArg>, String>) -> Result<(), String> {
    open_stable_structures();
    let arg = arg?.unwrap_or_default();
    let config = config::apply(arg).map_err(|e| format!("invalid init argument: {e}"))?;
    queue::start(rt, &config);
    if config.ledger.is_some() {
        // What the ledger says of itself may have changed with it: ask again.
        queue::schedule(rt, rt.time(), queue::Task::RefreshCurrency);
    }
    crate::http::assets::certify(rt, crate::http::assets::APP_FILES)
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

/// What install and upgrade register before anything runs: the timer's entry points (the
/// runtime knows nothing above it) and, in the `self-check` build, the market's rules.
pub fn register() {
    crate::runtime::IcRuntime::register(crate::tasks::ENTRY_POINTS);
    #[cfg(all(feature = "self-check", not(test)))]
    crate::candid_io::register_self_check(crate::market::invariants::self_check);
}

/// Builds the type tables of the replies the catalog methods encode with
/// `candid_io::encode_reply` (any value of each type will do): the heap every call starts from
/// then holds them.
pub fn prepare_replies() {
    use crate::api::{
        CatalogError, CatalogExport, ChangesPage, OfferingRecords, Receipt, SearchError, SearchPage,
    };
    use crate::candid_io::prepare_reply;
    prepare_reply::<Result<Receipt, CatalogError>>(&Err(CatalogError::UnknownProvider));
    prepare_reply::<Result<ChangesPage, CatalogError>>(&Err(CatalogError::UnknownProvider));
    prepare_reply::<Result<OfferingRecords, SearchError>>(&Err(SearchError::UnknownOffering));
    prepare_reply::<Result<SearchPage, SearchError>>(&Err(SearchError::UnknownOffering));
    prepare_reply::<Result<CatalogExport, SearchError>>(&Err(SearchError::UnknownOffering));
}
