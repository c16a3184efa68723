use super::*;

#[test]
fn cursors_round_trip_within_their_scope_only() {
    let key = SortKey {
        price: 9999,
        provider: 7,
        key: "DC2993-é".as_bytes().to_vec(),
    };
    let text = sorted(42, &key);
    assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(parse_sorted(&text, 42), Ok(key));
    assert_eq!(parse_sorted(&text, 43), Err(SearchError::InvalidCursor));
    assert_eq!(parse_keyed(&text, 42), Err(SearchError::InvalidCursor));
    let text = keyed(5, b"abc");
    assert_eq!(parse_keyed(&text, 5), Ok(b"abc".to_vec()));
    assert_eq!(parse_keyed(&keyed(5, b""), 5), Ok(vec![]));
}

#[test]
fn garbage_is_an_invalid_cursor() {
    let valid = sorted(
        1,
        &SortKey {
            price: 1,
            provider: 2,
            key: vec![],
        },
    );
    for text in [
        "",
        "zz",
        "abc",
        "é1",
        &valid[..valid.len() - 2],
        &"00".repeat(400),
        &valid.replacen("01", "02", 1),
    ] {
        assert_eq!(
            parse_sorted(text, 1),
            Err(SearchError::InvalidCursor),
            "{text}"
        );
    }
    assert!(parse_sorted(&valid, 1).is_ok());
}
