//! Install and upgrade.

use crate::catalog::{index, store};
use crate::config::{self, InitArg};
use crate::manager;
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
    manager::start(rt, &config);
    Ok(())
}

/// Every stable structure, created once here: a structure made on first use writes its header
/// then, which would make a read-only or refused call change stable memory.
fn open_stable_structures() {
    config::open();
    crate::counters::open();
    crate::cycles::open();
    crate::manager::queue::open();
    store::open();
    crate::catalog::changes::open();
    crate::catalog::upload::open();
    crate::market::store::open();
    crate::market::audit::open();
    crate::provision::operations::open();
    crate::provision::settings::open();
    crate::ironic::sim::open();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FakeRuntime;

    #[test]
    fn post_upgrade_without_a_snapshot_rebuilds_the_index_from_stored_rows() {
        use crate::catalog::publish::{self, testing};
        use crate::catalog::signing::Operation;
        let rt = FakeRuntime::new();
        let csv = testing::csv(&[("a", "10"), ("b", "20")]);
        publish::replace(&rt, testing::publish_arg(Operation::ReplaceCatalog, 1, csv)).unwrap();
        let provider = store::provider(&crate::catalog::signing::provider_of(&testing::SECRET))
            .unwrap()
            .id;
        let before = index::provider_offerings(provider);
        assert_eq!(before.len(), 2);
        // A fresh heap after an upgrade whose pre_upgrade did not run: no index, no snapshot.
        index::rebuild(std::iter::empty());
        assert!(index::provider_offerings(provider).is_empty());
        post_upgrade(&rt, Ok(None)).unwrap();
        assert_eq!(index::provider_offerings(provider), before);
        let key = crate::catalog::signing::provider_of(&testing::SECRET);
        assert_eq!(index::with(|index| index.provider_id(&key)), Some(provider));
    }

    #[test]
    fn setup_applies_the_argument_and_starts_the_manager() {
        let rt = FakeRuntime::new();
        let arg = InitArg {
            cycles_history_len: Some(3),
            ..InitArg::default()
        };
        assert_eq!(setup(&rt, Ok(Some(arg))), Ok(()));
        assert_eq!(config::get().cycles_history_len, 3);
        assert_eq!(manager::queue_len(), 1);
        assert_eq!(rt.armed_timer.get(), Some(rt.time()));
        assert_eq!(rt.watchdog.get(), Some(manager::WATCHDOG_INTERVAL_NS));
        // An upgrade without argument keeps the stored configuration.
        assert_eq!(setup(&rt, Ok(None)), Ok(()));
        assert_eq!(config::get().cycles_history_len, 3);
        assert_eq!(manager::queue_len(), 1);
    }

    #[test]
    fn setup_rejects_bad_arguments_without_starting() {
        let rt = FakeRuntime::new();
        let arg = InitArg {
            cycles_sample_interval_seconds: Some(1),
            ..InitArg::default()
        };
        let err = setup(&rt, Ok(Some(arg))).unwrap_err();
        assert!(err.contains("cycles_sample_interval_seconds"), "{err}");
        assert_eq!(setup(&rt, Err("garbage".into())), Err("garbage".into()));
        assert_eq!(manager::queue_len(), 0);
        assert_eq!(rt.armed_timer.get(), None);
        assert_eq!(rt.watchdog.get(), None);
    }

    #[test]
    fn the_search_index_survives_an_upgrade() {
        use crate::catalog::index::testing::fixture;
        let rt = FakeRuntime::new();
        for (id, sample) in fixture().iter().enumerate() {
            index::insert(id as u64, 3, &sample.offering, &sample.values());
        }
        let before = index::provider_offerings(3);
        assert!(pre_upgrade().unwrap() > 0);
        index::remove_provider(3);
        assert_eq!(post_upgrade(&rt, Ok(None)), Ok(()));
        assert_eq!(index::provider_offerings(3), before);
        // A second upgrade without pre_upgrade finds no snapshot to load stale.
        index::remove_provider(3);
        assert_eq!(post_upgrade(&rt, Ok(None)), Ok(()));
        assert!(index::provider_offerings(3).is_empty());
    }
}
