//! The Ironic API root document (`GET /`): the reduction every replica applies in the transform
//! so that they agree, and the reading of the reduced answer.
//!
//! The root looks like `{"name": "OpenStack Ironic API", "default_version": {"id": "v1",
//! "min_version": "1.1", "version": "1.87", "links": [...], ...}, "versions": [...]}`. The
//! transform keeps only the status and, for a 2xx answer, the canonical JSON of
//! `Result<Versions, String>`: headers and every other field may differ between replicas.

use super::{IronicApi, IronicError};
use ic_cdk_management_canister::HttpRequestResult;
use serde::{Deserialize, Serialize};

/// Longest microversion we accept ("major.minor").
const MAX_VERSION_LEN: usize = 16;

/// What we use of the root document.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct Versions {
    min_version: String,
    version: String,
}

#[derive(Deserialize)]
struct Root {
    default_version: Versions,
}

/// The supported microversion range advertised by a root document.
fn reduce(body: &[u8]) -> Result<Versions, String> {
    let root: Root = serde_json::from_slice(body)
        .map_err(|e| format!("not an Ironic API root document: {e}"))?;
    let versions = root.default_version;
    let min = microversion(&versions.min_version)?;
    let max = microversion(&versions.version)?;
    if min > max {
        return Err(format!(
            "min_version {} is above version {}",
            versions.min_version, versions.version
        ));
    }
    Ok(versions)
}

/// Parses "major.minor" into a comparable pair.
fn microversion(text: &str) -> Result<(u32, u32), String> {
    if text.len() > MAX_VERSION_LEN {
        return Err(format!("microversion longer than {MAX_VERSION_LEN} bytes"));
    }
    let invalid = || format!("invalid microversion {text:?}");
    let (major, minor) = text.split_once('.').ok_or_else(invalid)?;
    let number = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
            .ok_or_else(invalid)
    };
    Ok((number(major)?, number(minor)?))
}

/// The HTTP status, if it is one.
fn status(response: &HttpRequestResult) -> Option<u16> {
    u16::try_from(&response.status.0).ok()
}

fn is_success(response: &HttpRequestResult) -> bool {
    matches!(status(response), Some(200..=299))
}

/// The transform: drops headers, keeps the status, and for a 2xx answer replaces the body by
/// the canonical JSON of what [`reduce`] makes of it.
pub fn transform(response: HttpRequestResult) -> HttpRequestResult {
    let body = if is_success(&response) {
        // Serializing strings cannot fail; an empty body would read as invalid anyway.
        serde_json::to_vec(&reduce(&response.body)).unwrap_or_default()
    } else {
        vec![]
    };
    HttpRequestResult {
        status: response.status,
        headers: vec![],
        body,
    }
}

/// Reads a transformed response.
pub fn read(response: &HttpRequestResult) -> Result<IronicApi, IronicError> {
    match status(response) {
        Some(200..=299) => {}
        Some(status) => return Err(IronicError::HttpStatus { status }),
        None => {
            return Err(IronicError::InvalidResponse {
                message: format!("HTTP status {} out of range", response.status),
            })
        }
    }
    let reduced: Result<Versions, String> =
        serde_json::from_slice(&response.body).map_err(|e| IronicError::InvalidResponse {
            message: format!("unexpected transformed body: {e}"),
        })?;
    let versions = reduced.map_err(|message| IronicError::InvalidResponse { message })?;
    Ok(IronicApi {
        min_version: versions.min_version,
        max_version: versions.version,
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use candid::Nat;
    use ic_cdk_management_canister::HttpHeader;

    pub const IRONIC_ROOT: &str = r#"{
        "name": "OpenStack Ironic API",
        "description": "Ironic is an OpenStack project which enables the provision and management of baremetal machines.",
        "default_version": {
            "id": "v1",
            "links": [{"href": "https://ironic.example/v1/", "rel": "self"}],
            "status": "CURRENT",
            "min_version": "1.1",
            "version": "1.87"
        },
        "versions": [{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.87"}]
    }"#;

    pub fn response(status: u16, body: &str) -> HttpRequestResult {
        HttpRequestResult {
            status: Nat::from(status),
            headers: vec![HttpHeader {
                name: "x-openstack-request-id".into(),
                value: "req-1234".into(),
            }],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn transform_keeps_only_the_versions_in_canonical_json() {
        let out = transform(response(200, IRONIC_ROOT));
        assert!(out.headers.is_empty());
        assert_eq!(out.status, Nat::from(200u16));
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            r#"{"Ok":{"min_version":"1.1","version":"1.87"}}"#
        );
    }

    #[test]
    fn transform_is_identical_for_answers_that_differ_in_unused_fields() {
        let other = IRONIC_ROOT
            .replace("req-1234", "req-5678")
            .replace("\"status\": \"CURRENT\",", "")
            .replace("baremetal machines", "bare metal");
        let mut b = response(200, &other);
        b.headers[0].value = "req-5678".into();
        assert_eq!(transform(response(200, IRONIC_ROOT)), transform(b));
    }

    #[test]
    fn transform_drops_the_body_of_errors() {
        let out = transform(response(503, "<html>busy, request 42</html>"));
        assert_eq!(out.status, Nat::from(503u16));
        assert!(out.body.is_empty() && out.headers.is_empty());
    }

    #[test]
    fn read_gives_the_supported_range() {
        let api = read(&transform(response(200, IRONIC_ROOT))).unwrap();
        assert_eq!(
            api,
            IronicApi {
                min_version: "1.1".into(),
                max_version: "1.87".into()
            }
        );
    }

    #[test]
    fn read_reports_http_errors_and_bad_documents() {
        assert_eq!(
            read(&transform(response(404, ""))),
            Err(IronicError::HttpStatus { status: 404 })
        );
        for body in [
            "not json",
            "{}",
            r#"{"default_version": {"min_version": "1.1"}}"#,
            r#"{"default_version": {"min_version": "1.1", "version": "one"}}"#,
            r#"{"default_version": {"min_version": "1.9", "version": "1.1"}}"#,
            r#"{"default_version": {"min_version": "1.1", "version": "1.99999999999999999"}}"#,
            r#"{"default_version": {"min_version": "+1.1", "version": "1.2"}}"#,
        ] {
            let result = read(&transform(response(200, body)));
            assert!(
                matches!(result, Err(IronicError::InvalidResponse { .. })),
                "{body}: {result:?}"
            );
        }
        let mut huge_status = response(200, "");
        huge_status.status = Nat::from(70_000u32);
        assert!(matches!(
            read(&huge_status),
            Err(IronicError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn microversions_compare_numerically() {
        assert_eq!(microversion("1.87"), Ok((1, 87)));
        assert!(microversion("1.9") < microversion("1.10"));
        assert!(microversion("1").is_err());
        assert!(microversion("1.2.3").is_err());
        assert!(microversion("").is_err());
        assert!(microversion(&"9".repeat(17)).is_err());
    }
}
