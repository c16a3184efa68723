use super::*;
use crate::catalog::signing::provider_of;

fn arg(since: u64, limit: Option<u32>) -> ChangesArg {
    ChangesArg { since, limit }
}

#[test]
fn pages_walk_every_change_once_in_order() {
    let (a, b) = (provider_of(&[1; 32]), provider_of(&[2; 32]));
    let (ida, idb) = (store::add_provider(&a, 0).id, store::add_provider(&b, 0).id);
    for i in 0..250u64 {
        let (id, kind) = if i % 3 == 0 {
            (idb, ChangeKind::Remove)
        } else {
            (ida, ChangeKind::Upsert)
        };
        assert_eq!(record(id, kind, &format!("k{i}"), 100 + i), i + 1);
    }
    let mut seen = vec![];
    let mut since = 0;
    loop {
        let page = page(&arg(since, Some(100))).unwrap();
        assert_eq!(page.latest, 250);
        if page.changes.is_empty() {
            assert_eq!(page.next, since);
            break;
        }
        since = page.next;
        seen.extend(page.changes);
    }
    assert_eq!(seen.len(), 250);
    assert!(seen.iter().enumerate().all(|(i, c)| c.seq == i as u64 + 1));
    assert_eq!(
        seen[3],
        Change {
            seq: 4,
            provider_pem: b.to_pem(),
            offering_key: "k3".into(),
            kind: ChangeKind::Remove,
            at_ns: 103,
        }
    );
    assert_eq!(seen[4].provider_pem, a.to_pem());
    assert_eq!(seen[4].kind, ChangeKind::Upsert);
}

#[test]
fn default_and_maximum_limits() {
    let id = store::add_provider(&provider_of(&[1; 32]), 0).id;
    for i in 0..1_001 {
        record(id, ChangeKind::Upsert, "k", i);
    }
    assert_eq!(page(&arg(0, None)).unwrap().changes.len(), 100);
    let full = page(&arg(1, Some(MAX_LIMIT))).unwrap();
    assert_eq!((full.changes.len(), full.next), (1_000, 1_001));
    assert_eq!(
        page(&arg(0, Some(MAX_LIMIT + 1))),
        Err(CatalogError::LimitTooLarge { max: MAX_LIMIT })
    );
    // Past the end: nothing, and `next` points at the newest change.
    let past = page(&arg(5_000, None)).unwrap();
    assert_eq!(
        (past.changes.len(), past.next, past.latest),
        (0, 1_001, 1_001)
    );
}

#[test]
fn the_feed_keeps_its_window_and_tells_a_reader_that_fell_behind() {
    let window = 25_000;
    crate::config::apply(crate::config::InitArg {
        change_feed_window: Some(window),
        ..Default::default()
    })
    .unwrap();
    let id = store::add_provider(&provider_of(&[1; 32]), 0).id;
    // Three changes from before the window existed, in the old log.
    for i in 0..3u64 {
        LEGACY.with(|log| {
            log.append(&Entry::encode(id, ChangeKind::Upsert, i, "old"))
                .unwrap()
        });
    }
    assert_eq!(latest(), 3);
    assert_eq!(page(&arg(0, None)).unwrap().changes[2].offering_key, "old");
    let total = window + 10;
    for i in 3..total {
        assert_eq!(record(id, ChangeKind::Upsert, &format!("k{i}"), i), i + 1);
    }
    // The window's map holds no more than the window (pruning keeps up).
    let oldest = total - window + 1;
    assert!(WINDOW.with_borrow(|w| w.len()) <= window);
    assert!(WINDOW.with_borrow(|w| w.first_key_value().unwrap().0) >= oldest);

    // A reader from the start fell behind: its page starts at the oldest kept change.
    let behind = page(&arg(0, Some(5))).unwrap();
    assert!(behind.fell_behind);
    assert_eq!((behind.oldest, behind.latest), (oldest, total));
    assert_eq!(behind.changes[0].seq, oldest);
    assert_eq!(behind.next, oldest + 4);
    // One polling from within the window did not.
    let current = page(&arg(oldest - 1, Some(5))).unwrap();
    assert!(!current.fell_behind);
    assert_eq!(current.changes[0].seq, oldest);
    let at_end = page(&arg(total, None)).unwrap();
    assert!(!at_end.fell_behind && at_end.changes.is_empty());
}

#[test]
fn a_lowered_window_is_caught_up_by_later_appends() {
    let id = store::add_provider(&provider_of(&[1; 32]), 0).id;
    for i in 0..30_000u64 {
        record(id, ChangeKind::Upsert, "k", i);
    }
    crate::config::apply(crate::config::InitArg {
        change_feed_window: Some(25_000),
        ..Default::default()
    })
    .unwrap();
    // Pruned changes stop being served at once, and go two per append (one net).
    assert_eq!(page(&arg(0, Some(1))).unwrap().changes[0].seq, 5_001);
    for i in 0..4_999u64 {
        record(id, ChangeKind::Remove, "k", i);
    }
    assert_eq!(WINDOW.with_borrow(|w| w.len()), 25_001);
    for i in 0..2u64 {
        record(id, ChangeKind::Remove, "k", i);
    }
    assert_eq!(WINDOW.with_borrow(|w| w.len()), 25_000);
}
