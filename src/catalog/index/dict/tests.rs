use super::*;

#[test]
fn interns_each_key_once_with_dense_ids() {
    let mut dict = Dict::default();
    assert_eq!(dict.get(b"xeon"), None);
    let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
    for (i, word) in words.iter().enumerate() {
        assert_eq!(dict.intern(word.as_bytes()), i as u32);
    }
    for (i, word) in words.iter().enumerate() {
        assert_eq!(dict.intern(word.as_bytes()), i as u32);
        assert_eq!(dict.get(word.as_bytes()), Some(i as u32));
        assert_eq!(dict.entry(i as u32), word.as_bytes());
    }
    assert_eq!(dict.len(), 1000);
    assert_eq!(dict.get(b"w1000"), None);
    assert_eq!(dict.entry(5000), b"");
    assert!(dict.is_consistent());
}

#[test]
fn the_empty_key_is_a_key() {
    let mut dict = Dict::default();
    assert_eq!(dict.intern(b""), 0);
    assert_eq!(dict.intern(b"a"), 1);
    assert_eq!(dict.get(b""), Some(0));
    assert_eq!(dict.entry(0), b"");
}

#[test]
fn retain_renumbers_in_order() {
    let mut dict = Dict::default();
    for word in ["a", "b", "c", "d"] {
        dict.intern(word.as_bytes());
    }
    let (kept, remap) = dict.retain(|id| id % 2 == 1);
    assert_eq!(remap, [None, Some(0), None, Some(1)]);
    assert_eq!((kept.entry(0), kept.entry(1)), (&b"b"[..], &b"d"[..]));
    assert_eq!(kept.get(b"a"), None);
    assert!(kept.is_consistent());
}

#[test]
fn inconsistent_tables_are_detected() {
    let mut dict = Dict::default();
    dict.intern(b"a");
    assert!(dict.is_consistent());
    let mut bad = dict.clone();
    bad.table.pop();
    assert!(!bad.is_consistent());
    let mut bad = dict.clone();
    bad.ends[0] = 9;
    assert!(!bad.is_consistent());
    let mut bad = dict;
    bad.table[0] = 7;
    assert!(!bad.is_consistent());
}
