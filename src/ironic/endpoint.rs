//! Validation of an Ironic endpoint URL given by a caller.

const MAX_ENDPOINT_BYTES: usize = 2048;
const SCHEME: &str = "https://";

/// Checks that `endpoint` is an https URL we can append a path to, and returns the URL of the
/// API root (`{endpoint}/`).
pub fn root_url(endpoint: &str) -> Result<String, String> {
    if endpoint.len() > MAX_ENDPOINT_BYTES {
        return Err(format!(
            "endpoint is longer than {MAX_ENDPOINT_BYTES} bytes"
        ));
    }
    let Some(rest) = endpoint.strip_prefix(SCHEME) else {
        return Err("endpoint must start with https://".into());
    };
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("endpoint must not contain whitespace or control characters".into());
    }
    if endpoint.contains(['?', '#']) {
        return Err("endpoint must not have a query or a fragment".into());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err("endpoint has no host".into());
    }
    // Node operators see outcall URLs: credentials must never travel in one.
    if authority.contains('@') {
        return Err("endpoint must not contain credentials".into());
    }
    Ok(format!("{}/", endpoint.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
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
}
