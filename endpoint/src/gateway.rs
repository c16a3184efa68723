//! The HTTP gateway, on the endpoint's own listener: what ic-gateway (and before it icx-proxy)
//! does in front of the IC, so a browser or `curl` reaches the canister's `http_request`.
//!
//! A request is for the canister when its host names it (`<id>.localhost[:port]`) or its query
//! string does (`?canisterId=<id>`), and its path is not the IC's API (`/api/…`) or the
//! endpoint's own (`/_/…`). The gateway calls `http_request` as an anonymous query, upgrades
//! to `http_request_update` when the canister asks (`upgrade = opt true`), and verifies the
//! response's certification against the endpoint's root key before serving it; a response
//! that fails is a 503, never passed on. The raw domain (`<id>.raw.localhost`, or
//! `raw.localhost?canisterId=<id>`) serves responses unverified, as `raw.icp0.io` does.

use crate::response::{Refusal, Response};
use crate::server::{Endpoint, MAX_BODY};
use candid::Principal;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, StatusCode, Uri};

#[path = "gateway_canister.rs"]
mod canister;
#[path = "gateway_verify.rs"]
pub mod verify;

pub use canister::{HttpRequest, HttpResponse, HttpUpdateRequest};

/// The verification version the gateway asks canisters for (`certificate_version`): the
/// highest the verifier knows, as ic-http-gateway asks.
pub const CERTIFICATE_VERSION: u16 = ic_response_verification::MAX_VERIFICATION_VERSION as u16;

/// Which canister a request is for, and whether its response goes unverified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub canister: Principal,
    /// The raw domain: served as the canister answered, certified or not.
    pub raw: bool,
}

/// The gateway's target for a request to `host` (without or with a port) at `uri`: `None`
/// when the request is not for a canister (an API path, or no canister named), `Err` with the
/// reason when it names one that is not a canister id. The host's canister wins over the
/// query string's, as in icx-proxy.
pub fn target(host: Option<&str>, uri: &Uri) -> Option<Result<Target, String>> {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") || path == "/_" || path.starts_with("/_/") {
        return None;
    }
    let host = host.map(|h| strip_port(h).to_ascii_lowercase());
    let labels: Vec<&str> = match host.as_deref().and_then(|h| h.strip_suffix("localhost")) {
        Some("") => vec![],
        Some(sub) => match sub.strip_suffix('.') {
            Some(sub) => sub.split('.').collect(),
            // `foolocalhost`: not a subdomain of localhost.
            None => return from_query(uri, false),
        },
        // Not a localhost name (an IP address, say): only the query string can name one.
        None => return from_query(uri, false),
    };
    match labels.as_slice() {
        [] => from_query(uri, false),
        ["raw"] => from_query(uri, true),
        [id] => Some(parse_id(id).map(|canister| Target {
            canister,
            raw: false,
        })),
        [id, "raw"] => Some(parse_id(id).map(|canister| Target {
            canister,
            raw: true,
        })),
        _ => Some(Err(format!(
            "cannot tell the canister from the host {}: expected <canister id>.localhost or \
             <canister id>.raw.localhost",
            host.as_deref().unwrap_or_default()
        ))),
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn parse_id(text: &str) -> Result<Principal, String> {
    Principal::from_text(text).map_err(|e| format!("{text} is not a canister id: {e}"))
}

/// `canisterId=<id>` in the query string (the old gateways' way, still dfx's for localhost).
fn from_query(uri: &Uri, raw: bool) -> Option<Result<Target, String>> {
    let id = uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("canisterId="))?;
    Some(parse_id(id).map(|canister| Target { canister, raw }))
}

/// Serves one gateway request: the canister's answer as an HTTP response, or the gateway's
/// error (400 bad request, 404 unknown canister, 502 a reject or broken answer, 503 a
/// response that fails verification).
pub async fn serve(endpoint: &Endpoint, target: Target, request: Request<Incoming>) -> Response {
    serve_inner(endpoint, target, request)
        .await
        .unwrap_or_else(Response::from)
}

async fn serve_inner(
    endpoint: &Endpoint,
    target: Target,
    request: Request<Incoming>,
) -> Result<Response, Refusal> {
    if target.canister != endpoint.canister_id {
        // What a gateway makes of the IC's `DestinationInvalid` reject.
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!(
                "canister {} not found: this endpoint serves {}",
                target.canister, endpoint.canister_id
            ),
        ));
    }
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            )
        })?
        .to_bytes();
    let request = canister::to_canister_request(&parts, body.to_vec())?;
    let (response, upgraded) =
        canister::call_http_request(&endpoint.jobs, target.canister, &request).await?;
    if target.raw || upgraded {
        // An upgraded call's reply comes in the replica's certificate of its request status
        // (ic-http-gateway verifies only queries); the raw domain takes the canister's word.
        return verify::unverified(&response);
    }
    verify::verified(
        &request,
        &response,
        endpoint.canister_id,
        &endpoint.root_key_der,
        crate::replica::wall_clock(),
    )
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "gateway_replica_tests.rs"]
mod replica_tests;
