use super::page_of;

fn walk(
    ids: &[u64],
    keep: impl Fn(&u64) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<u64>, Option<u64>) {
    page_of(ids.iter().map(|&id| (id, id)), keep, limit, scan)
}

#[test]
fn a_page_stops_when_full_or_when_its_scan_budget_is_spent() {
    let ids: Vec<u64> = (1..=10).collect();
    // Full: next is the last kept.
    assert_eq!(walk(&ids, |_| true, 3, 100), (vec![1, 2, 3], Some(3)));
    // A filter that matches little: a short page, and next where the budget ran out.
    assert_eq!(walk(&ids, |id| id % 5 == 0, 3, 4), (vec![], Some(4)));
    assert_eq!(walk(&ids, |id| id % 5 == 0, 3, 6), (vec![5], Some(6)));
    // The end reached with room and budget left: no next.
    assert_eq!(walk(&ids, |id| id % 5 == 0, 3, 100), (vec![5, 10], None));
    assert_eq!(walk(&[], |_| true, 3, 100), (vec![], None));
}

#[test]
fn pages_resumed_from_next_visit_every_match_once() {
    let ids: Vec<u64> = (1..=50).collect();
    let (mut seen, mut after) = (vec![], 0);
    loop {
        let rest: Vec<u64> = ids.iter().copied().filter(|&id| id > after).collect();
        let (page, next) = walk(&rest, |id| id % 7 == 0, 2, 5);
        seen.extend(page);
        match next {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, vec![7, 14, 21, 28, 35, 42, 49]);
}
