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
