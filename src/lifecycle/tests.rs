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
    assert_eq!(queue::queue_len(), 1);
    assert_eq!(rt.armed_timer.get(), Some(rt.time()));
    assert_eq!(rt.watchdog.get(), Some(queue::WATCHDOG_INTERVAL_NS));
    // An upgrade without argument keeps the stored configuration.
    assert_eq!(setup(&rt, Ok(None)), Ok(()));
    assert_eq!(config::get().cycles_history_len, 3);
    assert_eq!(queue::queue_len(), 1);
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
    assert_eq!(queue::queue_len(), 0);
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
