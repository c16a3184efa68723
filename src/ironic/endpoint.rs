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
mod tests;
