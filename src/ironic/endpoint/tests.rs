use super::*;

#[test]
fn accepts_https_urls_and_appends_one_slash() {
    assert_eq!(
        root_url("https://ironic.example").unwrap(),
        "https://ironic.example/"
    );
    assert_eq!(
        root_url("https://ironic.example:6385/baremetal/").unwrap(),
        "https://ironic.example:6385/baremetal/"
    );
    let longest = format!("https://{}", "a".repeat(MAX_ENDPOINT_BYTES - SCHEME.len()));
    assert!(root_url(&longest).is_ok());
}

#[test]
fn rejects_what_we_cannot_or_must_not_call() {
    for bad in [
        "",
        "http://ironic.example",
        "HTTPS://ironic.example",
        "ftp://ironic.example",
        "https://",
        "https:///path",
        "https://ironic .example",
        "https://ironic.example/\n",
        "https://ironic.example/\u{0}",
        "https://ironic.example/?x=1",
        "https://ironic.example/#top",
        "https://admin:secret@ironic.example",
    ] {
        assert!(root_url(bad).is_err(), "{bad:?} was accepted");
    }
    let too_long = format!("https://{}", "a".repeat(MAX_ENDPOINT_BYTES));
    assert!(root_url(&too_long).unwrap_err().contains("2048"));
}
