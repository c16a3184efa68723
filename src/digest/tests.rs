use super::*;
use crate::counters::{self, Counter};
use crate::memory::MARKET_ITEMS;

#[test]
fn a_write_anywhere_changes_the_digest_and_counters_do_not() {
    let before = state_digest();
    assert_eq!(before.regions.len(), REGIONS.len());
    assert_eq!(state_digest(), before, "the digest is stable");

    counters::bump(Counter::Updates);
    let counted = state_digest();
    assert_eq!(counted.sha256, before.sha256);
    assert_ne!(counted.regions[1].sha256, before.regions[1].sha256);

    let items = memory::region(MARKET_ITEMS);
    if items.size() == 0 {
        items.grow(1);
    }
    items.write(100, &[1]);
    let written = state_digest();
    assert_ne!(written.sha256, counted.sha256);
    let changed: Vec<_> = (written.regions.iter().zip(&counted.regions))
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.name.as_str())
        .collect();
    assert_eq!(changed, ["MARKET_ITEMS"]);
}

/// Every chunk of a walk from the start with pages of `max_pages`.
fn walk(max_pages: u32) -> Vec<DigestChunk> {
    let mut chunks = Vec::new();
    let mut cursor = None;
    loop {
        let arg = StateDigestPageArg {
            cursor,
            max_pages: Some(max_pages),
        };
        let page = state_digest_page(arg).unwrap();
        let read: u64 = page.chunks.iter().map(|c| c.pages).sum();
        assert!(
            read <= u64::from(max_pages),
            "a page reads at most max_pages"
        );
        chunks.extend(page.chunks);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return chunks,
        }
    }
}

#[test]
fn a_paged_walk_covers_every_page_once_and_sees_every_write() {
    let items = memory::region(MARKET_ITEMS);
    items.grow(3 - items.size().min(3));
    items.write(0, &[7]);
    for max_pages in [1, 2, MAX_PAGES] {
        let chunks = walk(max_pages);
        for (position, (id, name)) in REGIONS.iter().enumerate() {
            let own: Vec<_> = chunks
                .iter()
                .filter(|c| usize::from(c.region) == position)
                .collect();
            assert!(own.iter().all(|c| c.name == *name));
            let covered: u64 = own.iter().map(|c| c.pages).sum();
            assert_eq!(
                covered,
                memory::region(*id).size(),
                "{name} with {max_pages}"
            );
            // Runs follow each other without a gap.
            let mut next = 0;
            for chunk in own {
                assert_eq!(chunk.first_page, next);
                next += chunk.pages;
            }
        }
    }
    let before = walk(2);
    assert_eq!(walk(2), before, "a walk is stable");
    // A write in the third page of MARKET_ITEMS changes its chunk and no other.
    items.write(2 * PAGE_BYTES + 5, &[1]);
    let after = walk(2);
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(_, b)| (b.name.as_str(), b.first_page))
        .collect();
    assert_eq!(changed, [("MARKET_ITEMS", 2)]);
}

#[test]
fn bad_pages_are_typed_errors() {
    for max_pages in [0, MAX_PAGES + 1] {
        let arg = StateDigestPageArg {
            cursor: None,
            max_pages: Some(max_pages),
        };
        assert!(matches!(
            state_digest_page(arg),
            Err(DigestPageError::InvalidArgument { .. })
        ));
    }
    let beyond = StateDigestPageArg {
        cursor: Some(DigestCursor {
            region: REGIONS.len() as u8,
            page: 0,
        }),
        max_pages: None,
    };
    assert!(matches!(
        state_digest_page(beyond),
        Err(DigestPageError::InvalidArgument { .. })
    ));
    // A page past a region's end reads nothing there and goes on.
    let past = StateDigestPageArg {
        cursor: Some(DigestCursor {
            region: 0,
            page: u64::MAX,
        }),
        max_pages: Some(1),
    };
    let page = state_digest_page(past).unwrap();
    assert_eq!(page.chunks[0].pages, 0);
}
