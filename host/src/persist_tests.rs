use super::*;
use candid::Principal;

fn probe() -> Host {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/wasm/probe.wasm");
    let wasm = fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/build.sh first"));
    let mut host = Host::new();
    host.install(&wasm, &candid::encode_one(Some("persist")).unwrap())
        .expect("install");
    host
}

fn set_stable(host: &mut Host, value: u64) {
    let caller = Principal::self_authenticating(b"a user");
    host.update(caller, "set_stable", &candid::encode_one(value).unwrap())
        .expect("set_stable");
}

fn get_stable(host: &mut Host) -> u64 {
    let caller = Principal::self_authenticating(b"a user");
    let reply = host
        .query(caller, "get_stable", &candid::encode_args(()).unwrap())
        .expect("get_stable");
    candid::decode_one(&reply).unwrap()
}

#[test]
fn a_second_save_writes_only_what_changed() {
    let dir = tempdir();
    let mut host = probe();
    // A canister with a large, mostly untouched stable memory, like the marketplace's.
    host.stable.resize(64 * 1024 * 1024, 0);
    host.save(dir.path()).unwrap();
    let full = host.last_save_bytes();
    assert!(
        full > 64 * 1024 * 1024,
        "the first save writes everything: {full}"
    );

    set_stable(&mut host, 42);
    host.save(dir.path()).unwrap();
    let incremental = host.last_save_bytes();
    assert!(
        incremental < 1024 * 1024,
        "a one-value change writes {incremental} bytes"
    );
    assert!(
        !dir.path().join(JOURNAL).exists(),
        "the journal is applied and removed"
    );

    let mut loaded = Host::load(dir.path()).unwrap();
    assert_eq!(get_stable(&mut loaded), 42);
    assert_eq!(loaded.stable, host.stable);

    // A host loaded from the directory saves incrementally too, and a save elsewhere is whole.
    set_stable(&mut loaded, 43);
    loaded.save(dir.path()).unwrap();
    assert!(loaded.last_save_bytes() < 1024 * 1024);
    let other = tempdir();
    loaded.save(other.path()).unwrap();
    assert!(loaded.last_save_bytes() > 64 * 1024 * 1024);
    assert_eq!(get_stable(&mut Host::load(other.path()).unwrap()), 43);
}

#[test]
fn a_save_interrupted_before_its_commit_leaves_the_old_state_and_after_it_the_new() {
    let dir = tempdir();
    let mut host = probe();
    host.save(dir.path()).unwrap();
    set_stable(&mut host, 1);
    host.save(dir.path()).unwrap();

    // After the commit marker: the next load finishes the save.
    set_stable(&mut host, 2);
    host.crash_at = Some("after the commit");
    assert!(host.save(dir.path()).is_err());
    assert!(dir.path().join(JOURNAL).exists() && dir.path().join(COMMIT).exists());
    assert_eq!(get_stable(&mut Host::load(dir.path()).unwrap()), 2);
    assert!(!dir.path().join(JOURNAL).exists() && !dir.path().join(COMMIT).exists());

    // A failed save makes the next one whole, whatever is on disk.
    host.crash_at = None;
    host.save(dir.path()).unwrap();
    assert!(
        host.last_save_bytes() > 1024 * 1024,
        "{}",
        host.last_save_bytes()
    );

    // Before the commit marker: the journal written is dropped by the next load.
    set_stable(&mut host, 3);
    host.crash_at = Some("before the commit");
    assert!(host.save(dir.path()).is_err());
    assert!(dir.path().join(JOURNAL).exists() && !dir.path().join(COMMIT).exists());
    assert_eq!(get_stable(&mut Host::load(dir.path()).unwrap()), 2);
    assert!(
        !dir.path().join(JOURNAL).exists(),
        "an uncommitted journal is removed"
    );
}

#[test]
fn one_commit_saves_every_canister_or_none() {
    let dir = tempdir();
    let caller = Principal::self_authenticating(b"a user");
    let mut host = probe();
    let second = host
        .install_canister(
            &probe_wasm(),
            &candid::encode_one(Some("second")).unwrap(),
            &[],
        )
        .unwrap();
    let set_second = |host: &mut Host, value: u64| {
        host.update_on(
            second,
            caller,
            "set_stable",
            &candid::encode_one(value).unwrap(),
        )
        .unwrap();
    };
    let both = |dir: &Path| {
        let mut loaded = Host::load(dir).unwrap();
        let reply = loaded
            .query_on(
                second,
                caller,
                "get_stable",
                &candid::encode_args(()).unwrap(),
            )
            .unwrap();
        (
            get_stable(&mut loaded),
            candid::decode_one::<u64>(&reply).unwrap(),
        )
    };
    host.save(dir.path()).unwrap();
    assert!(!dir
        .path()
        .join("canisters")
        .join(format!("{}.new", second.to_text()))
        .exists());

    set_stable(&mut host, 1);
    set_second(&mut host, 10);
    host.crash_at = Some("after the commit");
    assert!(host.save(dir.path()).is_err());
    assert_eq!(both(dir.path()), (1, 10), "both canisters are saved");

    host.crash_at = None;
    host.save(dir.path()).unwrap();
    set_stable(&mut host, 2);
    set_second(&mut host, 20);
    host.crash_at = Some("before the commit");
    assert!(host.save(dir.path()).is_err());
    assert_eq!(both(dir.path()), (1, 10), "neither canister moved ahead");
}

fn probe_wasm() -> Vec<u8> {
    fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/wasm/probe.wasm"
    ))
    .unwrap()
}

#[test]
fn every_canister_is_saved_and_loaded_under_its_id() {
    let dir = tempdir();
    let caller = Principal::self_authenticating(b"a user");
    let arg = candid::encode_one(Some("second")).unwrap();
    let mut host = probe();
    let second = host.install_canister(&probe_wasm(), &arg, &[]).unwrap();
    set_stable(&mut host, 1);
    let set = |host: &mut Host, value: u64| {
        host.update_on(
            second,
            caller,
            "set_stable",
            &candid::encode_one(value).unwrap(),
        )
        .unwrap()
    };
    set(&mut host, 2);
    host.save(dir.path()).unwrap();
    assert!(dir
        .path()
        .join("canisters")
        .join(second.to_text())
        .join("state.json")
        .is_file());

    // Incremental saves reach the other canister too.
    set(&mut host, 3);
    host.save(dir.path()).unwrap();
    assert!(
        host.last_save_bytes() < 1024 * 1024,
        "{}",
        host.last_save_bytes()
    );

    let mut loaded = Host::load(dir.path()).unwrap();
    assert_eq!(
        loaded.canister_ids(),
        vec![Host::default_canister_id(), second]
    );
    assert_eq!(get_stable(&mut loaded), 1);
    let reply = loaded
        .query_on(
            second,
            caller,
            "get_stable",
            &candid::encode_args(()).unwrap(),
        )
        .unwrap();
    assert_eq!(candid::decode_one::<u64>(&reply).unwrap(), 3);
    // A canister created after the load gets a new id, not the loaded one's.
    let third = loaded.install_canister(&probe_wasm(), &arg, &[]).unwrap();
    assert!(third != second && third != Host::default_canister_id());

    // A host made afresh in the same directory leaves no canister of the old one behind.
    let mut fresh = probe();
    fresh.save(dir.path()).unwrap();
    assert!(!dir.path().join("canisters").join(second.to_text()).exists());
    assert_eq!(Host::load(dir.path()).unwrap().canister_ids().len(), 1);
}

#[test]
fn patches_cover_exactly_the_changed_chunks() {
    let old = vec![0u8; 4 * CHUNK];
    let mut new = old.clone();
    new[CHUNK + 5] = 1;
    new[2 * CHUNK] = 1;
    new.extend_from_slice(&[9; 10]);
    let found = patches(&old, &new);
    let spans: Vec<(u64, usize)> = found.iter().map(|p| (p.offset, p.bytes.len())).collect();
    // Chunks 1 and 2 merge; the grown tail is its own patch.
    assert_eq!(
        spans,
        vec![(CHUNK as u64, 2 * CHUNK), (4 * CHUNK as u64, 10)]
    );
    assert!(patches(&new, &new).is_empty());

    let mut dirty = Default::default();
    mark_dirty(&mut dirty, CHUNK as u64 - 1, 2); // straddles chunks 0 and 1
    mark_dirty(&mut dirty, 3 * CHUNK as u64, 1);
    mark_dirty(&mut dirty, 0, 0); // an empty write marks nothing
    let spans: Vec<(u64, usize)> = dirty_patches(&new, Some(&dirty))
        .iter()
        .map(|p| (p.offset, p.bytes.len()))
        .collect();
    assert_eq!(spans, vec![(0, 2 * CHUNK), (3 * CHUNK as u64, CHUNK)]);
    assert_eq!(
        dirty_patches(&new, None)[0].bytes.len(),
        new.len(),
        "unknown: all of it"
    );
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}
