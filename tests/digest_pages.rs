//! `state_digest_page` through the wasm (issue 12, M1): the paged walk covers every region's
//! pages once, is stable while nothing changes, sees a change, refuses bad pages with typed
//! errors and everyone but controllers, and survives an upgrade.

mod common;

use common::*;

fn page(
    canister: &mut Canister,
    caller: candid::Principal,
    arg: StateDigestPageArg,
) -> Result<StateDigestPage, DigestPageError> {
    let bytes = canister
        .driver
        .query(
            caller,
            "state_digest_page",
            candid::encode_one(arg).unwrap(),
        )
        .expect("state_digest_page answers");
    candid::decode_one(&bytes).expect("the reply decodes")
}

/// Every chunk of a walk from the start, `max_pages` a call.
fn walk(canister: &mut Canister, max_pages: u32) -> Vec<DigestChunk> {
    let controller = canister.controller();
    let (mut chunks, mut cursor) = (Vec::new(), None);
    loop {
        let arg = StateDigestPageArg {
            cursor,
            max_pages: Some(max_pages),
        };
        let page = page(canister, controller, arg).expect("a controller walks the state");
        let read: u64 = page.chunks.iter().map(|c| c.pages).sum();
        assert!(read <= u64::from(max_pages), "{read} pages in one call");
        chunks.extend(page.chunks);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return chunks,
        }
    }
}

/// Pages covered per region, in region order.
fn coverage(chunks: &[DigestChunk]) -> Vec<(String, u64, u64)> {
    let mut regions: Vec<(String, u64, u64)> = Vec::new();
    for chunk in chunks {
        match regions.last_mut() {
            Some((name, covered, _)) if *name == chunk.name => *covered += chunk.pages,
            _ => regions.push((chunk.name.clone(), chunk.pages, chunk.region_pages)),
        }
    }
    regions
}

#[test]
fn a_paged_walk_covers_the_state_sees_a_change_and_survives_an_upgrade() {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(1);
    canister
        .replace(&mut provider, FIXTURE)
        .expect("the fixture imports");

    let whole = walk(&mut canister, 256);
    for (name, covered, size) in coverage(&whole) {
        assert_eq!(covered, size, "{name}: every page once");
    }
    // Smaller pages read the same pages, cut differently.
    assert_eq!(coverage(&walk(&mut canister, 3)), coverage(&whole));
    assert_eq!(
        walk(&mut canister, 256),
        whole,
        "stable while nothing changes"
    );

    let mut changed = Provider::new(2);
    canister
        .replace(&mut changed, FIXTURE)
        .expect("a second catalog");
    let after = walk(&mut canister, 256);
    assert_ne!(after, whole, "a publish changes the digests");

    // An upgrade keeps every region but the snapshots pre_upgrade writes, the activity
    // counters, and what post_upgrade re-arms (the task queue, a cycles sample).
    canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    let upgraded = walk(&mut canister, 256);
    let kept = |chunks: &[DigestChunk]| -> Vec<DigestChunk> {
        chunks
            .iter()
            .filter(|c| {
                let rearmed = ["COUNTERS", "TASK_QUEUE", "TASK_SEQ", "CYCLES_HISTORY"];
                !c.name.ends_with("SNAPSHOT") && !rearmed.contains(&c.name.as_str())
            })
            .cloned()
            .collect()
    };
    assert_eq!(kept(&upgraded), kept(&after));
}

#[test]
fn bad_pages_and_strangers_get_typed_errors() {
    let mut canister = Canister::install(None);
    let controller = canister.controller();
    for max_pages in [0, 257] {
        let arg = StateDigestPageArg {
            cursor: None,
            max_pages: Some(max_pages),
        };
        let refused = page(&mut canister, controller, arg);
        assert!(
            matches!(refused, Err(DigestPageError::InvalidArgument { .. })),
            "{max_pages}: {refused:?}"
        );
    }
    let beyond = StateDigestPageArg {
        cursor: Some(DigestCursor {
            region: u8::MAX,
            page: 0,
        }),
        max_pages: None,
    };
    let refused = page(&mut canister, controller, beyond);
    assert!(
        matches!(refused, Err(DigestPageError::InvalidArgument { .. })),
        "{refused:?}"
    );
    let stranger = candid::Principal::self_authenticating(b"a stranger");
    let refused = page(&mut canister, stranger, StateDigestPageArg::default());
    assert_eq!(refused, Err(DigestPageError::NotAuthorized));
}
