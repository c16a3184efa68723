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
