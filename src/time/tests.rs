use super::*;

#[test]
fn utc_formats_ic_time() {
    assert_eq!(utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(utc(1_700_000_000 * SECOND_NS), "2023-11-14T22:13:20Z");
    assert_eq!(utc(1_709_164_800 * SECOND_NS + 1), "2024-02-29T00:00:00Z");
    assert_eq!(utc(4_102_444_799 * SECOND_NS), "2099-12-31T23:59:59Z");
}
