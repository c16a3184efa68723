use super::*;

#[test]
fn parses_units() {
    assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
    assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse("3d"), Ok(Duration::from_secs(3 * 86_400)));
    assert_eq!(parse("42"), Ok(Duration::from_secs(42)));
    assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
    assert!(parse("2x").is_err());
    assert!(parse("h").is_err());
    assert!(parse("-1s").is_err());
}

#[test]
fn formats_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_767_225_600_000_000_000), "2026-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400_500_000_000), "2000-02-29T00:00:00.5Z");
    assert_eq!(
        rfc3339(1_709_251_199_000_000_001),
        "2024-02-29T23:59:59.000000001Z"
    );
}
