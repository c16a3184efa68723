use super::*;

fn list(postings: &Postings, term: u32) -> Vec<u32> {
    let mut out = vec![];
    intersect(&mut [postings.cursor(term)], |slot| out.push(slot));
    assert_eq!(postings.cursor(term).collect::<Vec<_>>(), out);
    out
}

#[test]
fn places_follow_the_doubling_then_full_blocks() {
    assert_eq!(place(0), (0, 0));
    assert_eq!(place(1), (1, 0));
    assert_eq!(place(2), (1, 1));
    assert_eq!(place(3), (2, 0));
    assert_eq!(place(4094), (11, 2047));
    assert_eq!(place(4095), (12, 0));
    assert_eq!(place(8190), (12, 4095));
    assert_eq!(place(8191), (13, 0));
    assert_eq!(capacity(20), MAX_BLOCK);
}

#[test]
fn lists_keep_their_slots_in_order_across_many_blocks() {
    let mut postings = Postings::default();
    let evens: Vec<u32> = (0..10_000).map(|i| i * 2).collect();
    for &slot in &evens {
        postings.push(3, slot);
        if slot % 6 == 0 {
            postings.push(1, slot);
        }
    }
    assert_eq!(list(&postings, 3), evens);
    assert_eq!(postings.len(3), 10_000);
    assert_eq!(list(&postings, 1).len(), 3334);
    assert!(list(&postings, 0).is_empty());
    assert!(list(&postings, 99).is_empty());
    assert!(postings.is_consistent());
}

#[test]
fn seek_skips_to_the_first_slot_not_below_the_target() {
    let mut postings = Postings::default();
    for slot in (0..20_000).step_by(3) {
        postings.push(0, slot);
    }
    let mut cursor = postings.cursor(0);
    assert_eq!(cursor.seek(0), Some(0));
    assert_eq!(cursor.seek(0), Some(0));
    assert_eq!(cursor.seek(10), Some(12));
    assert_eq!(cursor.seek(12_001), Some(12_003));
    assert_eq!(cursor.seek(19_998), Some(19_998));
    assert_eq!(cursor.seek(19_999), None);
}

#[test]
fn intersection_is_every_slot_in_all_lists() {
    let mut postings = Postings::default();
    for slot in 0..30_000u32 {
        for (term, divisor) in [(0, 2), (1, 3), (2, 7)] {
            if slot % divisor == 0 {
                postings.push(term, slot);
            }
        }
    }
    let mut out = vec![];
    let mut cursors = [postings.cursor(2), postings.cursor(0), postings.cursor(1)];
    intersect(&mut cursors, |slot| out.push(slot));
    let expected: Vec<u32> = (0..30_000).filter(|s| s % 42 == 0).collect();
    assert_eq!(out, expected);
    let mut none = vec![];
    intersect(&mut [postings.cursor(0), postings.cursor(9)], |s| {
        none.push(s)
    });
    assert!(none.is_empty());
}

#[test]
fn broken_chains_are_detected() {
    let mut postings = Postings::default();
    for slot in 0..10 {
        postings.push(0, slot);
    }
    assert!(postings.is_consistent());
    let mut bad = postings.clone();
    bad.tails[0] = bad.pool.len() as u32;
    assert!(!bad.is_consistent());
    let mut bad = postings;
    bad.lens.push(1);
    assert!(!bad.is_consistent());
}
