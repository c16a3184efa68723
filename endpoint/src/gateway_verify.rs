//! Response verification and the HTTP response served, as ic-http-gateway (the core of
//! ic-gateway) does them: DFINITY's `ic-response-verification` checks the `IC-Certificate`
//! header (the certificate's BLS signature by the root key, its time, that the certified data
//! covers the tree, and that the tree certifies this request's response), then what is served
//! depends on the verification version: v1 certifies only the body, so redirects are refused
//! and `Cache-Control` dropped; v2 serves the certified headers only (or all of them when the
//! canister certifiably skipped certification).

use super::canister::{HttpRequest, HttpResponse};
use crate::response::{Refusal, Response};
use bytes::Bytes;
use candid::Principal;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{Method, StatusCode};
use ic_response_verification::{verify_request_response_pair, MIN_VERIFICATION_VERSION};

/// How far a certificate's time may be from the gateway's clock (ic-http-gateway's 5 minutes).
pub const MAX_CERT_TIME_OFFSET_NS: u128 = 300_000_000_000;

/// The canister's response served as it is: the raw domain, or an upgraded call's reply.
pub fn unverified(response: &HttpResponse) -> Result<Response, Refusal> {
    build(response, response.headers.iter())
}

/// The canister's response if its certification holds for `request` under `root_key_der`
/// at `now_ns`; a 503 saying why otherwise.
pub fn verified(
    request: &HttpRequest,
    response: &HttpResponse,
    canister: Principal,
    root_key_der: &[u8],
    now_ns: u64,
) -> Result<Response, Refusal> {
    let info = verify(request, response, canister, root_key_der, now_ns).map_err(|e| {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Response verification failed: {e}. The canister's response is not certified \
                 for this request; uncertified responses are served only on the raw domain \
                 ({canister}.raw.localhost)."
            ),
        )
    })?;
    if info.verification_version < 2 {
        // v1 certifies the body alone: a redirect could send the client anywhere.
        if (300..400).contains(&response.status_code) {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Response verification failed: verification v1 does not allow redirects",
            ));
        }
        return build(
            response,
            response
                .headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case(CACHE_CONTROL.as_str())),
        );
    }
    match &info.response {
        // The canister certified that this response needs no certification.
        None => build(response, response.headers.iter()),
        Some(certified) => build(response, certified.headers.iter()),
    }
}

/// `ic-response-verification`'s verdict on the pair, with its error as text.
pub fn verify(
    request: &HttpRequest,
    response: &HttpResponse,
    canister: Principal,
    root_key_der: &[u8],
    now_ns: u64,
) -> Result<ic_response_verification::types::VerificationInfo, String> {
    let method = Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let status = StatusCode::from_u16(response.status_code).map_err(|e| e.to_string())?;
    let request = ic_http_certification::HttpRequest::builder()
        .with_method(method)
        .with_url(request.url.clone())
        .with_headers(request.headers.clone())
        .with_body(request.body.as_slice())
        .build();
    let response = ic_http_certification::HttpResponse::builder()
        .with_status_code(status)
        .with_headers(response.headers.clone())
        .with_body(response.body.as_slice())
        .build();
    verify_request_response_pair(
        request,
        response,
        canister.as_slice(),
        u128::from(now_ns),
        MAX_CERT_TIME_OFFSET_NS,
        root_key_der,
        MIN_VERIFICATION_VERSION,
    )
    .map_err(|e| e.to_string())
}

/// The HTTP response: the canister's status and body with `headers`. The body's length and
/// framing are the server's to set, so the canister's `Content-Length` and
/// `Transfer-Encoding` are left out; a status or header HTTP cannot carry is a 502.
fn build<'a>(
    response: &HttpResponse,
    headers: impl Iterator<Item = &'a (String, String)>,
) -> Result<Response, Refusal> {
    let bad = |what: String| {
        Refusal::new(
            StatusCode::BAD_GATEWAY,
            format!("the canister's response has {what}"),
        )
    };
    let status = StatusCode::from_u16(response.status_code)
        .map_err(|_| bad(format!("an invalid status code {}", response.status_code)))?;
    let mut out = hyper::Response::new(Full::new(Bytes::from(response.body.to_vec())));
    *out.status_mut() = status;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("an invalid header name {name:?}")))?;
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("an invalid value for header {name}")))?;
        out.headers_mut().append(name, value);
    }
    Ok(out)
}
