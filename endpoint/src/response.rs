//! HTTP responses of the endpoint: CBOR (self-describing, as the IC sends it), plain text for
//! errors (as the IC's HTTP endpoint does), JSON for the endpoint's own admin routes.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;

pub type Response = hyper::Response<Full<Bytes>>;

fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn cbor(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    let encoded = serializer
        .self_describe()
        .and_then(|()| value.serialize(&mut serializer));
    match encoded {
        Ok(()) => with_type(status, "application/cbor", serializer.into_inner()),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        ),
    }
}

pub fn text(status: StatusCode, message: impl Into<String>) -> Response {
    with_type(
        status,
        "text/plain; charset=utf-8",
        message.into().into_bytes(),
    )
}

pub fn json(value: serde_json::Value) -> Response {
    with_type(
        StatusCode::OK,
        "application/json",
        value.to_string().into_bytes(),
    )
}

pub fn empty(status: StatusCode) -> Response {
    with_type(status, "text/plain; charset=utf-8", vec![])
}

/// The CORS headers the IC's API sends: any origin, the methods and headers agents use, and a
/// day's preflight cache.
pub fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, HEAD, OPTIONS"),
        ("access-control-allow-headers", "DNT, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, Cookie, X-Ic-Canister-Id"),
        ("access-control-expose-headers", "Content-Length, Content-Range, X-Request-Id"),
        ("access-control-max-age", "86400"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A request refused: the HTTP status and the plain-text reason, made into a response at the
/// end (small, so refusals travel cheaply through `?`).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<Refusal> for Response {
    fn from(refusal: Refusal) -> Self {
        text(refusal.status, refusal.message)
    }
}
