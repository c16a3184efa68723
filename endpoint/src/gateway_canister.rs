//! The canister's side of the gateway: the HTTP request as the `http_request` interface's
//! Candid, the anonymous query, the upgrade to an `http_request_update` call through the
//! replica (as an ingress call would go), and rejects as the gateways turn them into statuses.

use crate::replica::{wall_clock, CallOutcome, Job};
use crate::response::Refusal;
use candid::{CandidType, Deserialize, Principal};
use hyper::http::request::Parts;
use hyper::StatusCode;
use ic0_host::{Reject, RejectCode};
use ic_certification::{Certificate, LookupResult};
use serde_bytes::ByteBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The gateway's `HttpRequest` (the `http_request` argument).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The path and query string, as the client sent them.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub certificate_version: Option<u16>,
}

/// The `http_request_update` argument: the request without a certificate version.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HttpUpdateRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
}

/// The canister's `HttpResponse`. A streaming strategy, if a canister sends one, is ignored
/// (Candid drops the extra field): the gateway serves the first chunk only.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub upgrade: Option<bool>,
}

/// An upgraded call polls for its outcome at most this long (the host answers at once unless
/// the canister awaits something that is answered later).
const UPDATE_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

/// The request as the canister sees it. Headers go as ic-http-gateway sends them: without
/// `x-request-id`, and with `identity` among the accepted encodings (a canister may then
/// answer uncompressed). A header value that is not text is a 400.
pub fn to_canister_request(parts: &Parts, body: Vec<u8>) -> Result<HttpRequest, Refusal> {
    let mut headers = Vec::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        if name.as_str() == "x-request-id" {
            continue;
        }
        let Ok(value) = value.to_str() else {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("header {name} is not text"),
            ));
        };
        let value = if name == hyper::header::ACCEPT_ENCODING
            && !value
                .split(',')
                .any(|e| e.trim().eq_ignore_ascii_case("identity"))
        {
            format!("{value}, identity")
        } else {
            value.to_string()
        };
        headers.push((name.as_str().to_string(), value));
    }
    let url = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    Ok(HttpRequest {
        method: parts.method.as_str().to_string(),
        url,
        headers,
        body: ByteBuf::from(body),
        certificate_version: Some(super::CERTIFICATE_VERSION),
    })
}

/// `http_request` as an anonymous query and, if the canister asks, `http_request_update` as
/// an anonymous call; the response and whether it came from the update.
pub async fn call_http_request(
    jobs: &mpsc::Sender<Job>,
    canister: Principal,
    request: &HttpRequest,
) -> Result<(HttpResponse, bool), Refusal> {
    let arg = encode(request)?;
    let (reply, answer) = oneshot::channel();
    send(
        jobs,
        Job::Query {
            canister,
            sender: Principal::anonymous(),
            method: "http_request".into(),
            arg,
            reply,
        },
    )?;
    let bytes = answer.await.map_err(|_| stopped())?.map_err(reject)?;
    let response = decode(&bytes)?;
    if response.upgrade != Some(true) {
        return Ok((response, false));
    }
    let update = HttpUpdateRequest {
        method: request.method.clone(),
        url: request.url.clone(),
        headers: request.headers.clone(),
        body: request.body.clone(),
    };
    let bytes = call(jobs, canister, "http_request_update", encode(&update)?).await?;
    Ok((decode(&bytes)?, true))
}

/// An anonymous ingress call, waited for: its reply, or the reject as the gateway serves it.
async fn call(
    jobs: &mpsc::Sender<Job>,
    canister: Principal,
    method: &str,
    arg: Vec<u8>,
) -> Result<Vec<u8>, Refusal> {
    // The id only names the request in the replica's status table, so a random one will do.
    let mut request_id = [0u8; 32];
    getrandom::fill(&mut request_id).map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness: {e}"),
        )
    })?;
    let (reply, answer) = oneshot::channel();
    send(
        jobs,
        Job::Call {
            request_id,
            canister,
            sender: Principal::anonymous(),
            management: false,
            method: method.into(),
            arg,
            expiry: wall_clock().saturating_add(UPDATE_TIMEOUT.as_nanos() as u64),
            reply,
        },
    )?;
    let started = Instant::now();
    let mut outcome = answer.await.map_err(|_| stopped())?;
    loop {
        match outcome {
            CallOutcome::NotAccepted(r) => return Err(reject(r)),
            CallOutcome::Certified(certificate) => {
                return match request_status(&certificate, &request_id) {
                    Some(result) => result.map_err(reject),
                    None => Err(bad_gateway("the call's certificate has no reply or reject")),
                }
            }
            CallOutcome::Pending if started.elapsed() > UPDATE_TIMEOUT => {
                return Err(Refusal::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("{method} did not answer within {UPDATE_TIMEOUT:?}"),
                ))
            }
            CallOutcome::Pending => {
                tokio::time::sleep(POLL).await;
                outcome = poll(jobs, &request_id).await?;
            }
        }
    }
}

/// The call's status by `read_state`: a certificate once it is done, else still pending.
async fn poll(jobs: &mpsc::Sender<Job>, request_id: &[u8; 32]) -> Result<CallOutcome, Refusal> {
    let (reply, answer) = oneshot::channel();
    let path = vec![b"request_status".to_vec(), request_id.to_vec()];
    send(
        jobs,
        Job::ReadState {
            sender: Principal::anonymous(),
            paths: vec![path],
            reply,
        },
    )?;
    let certificate = answer
        .await
        .map_err(|_| stopped())?
        .map_err(|(_, message)| bad_gateway(&message))?;
    let status = lookup(&certificate, request_id, b"status");
    Ok(match status.as_deref() {
        Some(b"replied" | b"rejected") => CallOutcome::Certified(certificate),
        _ => CallOutcome::Pending,
    })
}

/// The reply or reject a `request_status` certificate holds for `request_id`.
pub fn request_status(
    certificate: &[u8],
    request_id: &[u8; 32],
) -> Option<Result<Vec<u8>, Reject>> {
    match lookup(certificate, request_id, b"status")?.as_slice() {
        b"replied" => Some(Ok(lookup(certificate, request_id, b"reply")?)),
        b"rejected" => {
            let code = lookup(certificate, request_id, b"reject_code")?;
            let message = lookup(certificate, request_id, b"reject_message")?;
            Some(Err(Reject::new(
                reject_code(&code),
                String::from_utf8_lossy(&message).into_owned(),
            )))
        }
        _ => None,
    }
}

fn lookup(certificate: &[u8], request_id: &[u8; 32], field: &[u8]) -> Option<Vec<u8>> {
    let certificate: Certificate = serde_cbor::from_slice(certificate).ok()?;
    let path: [&[u8]; 3] = [b"request_status", request_id, field];
    match certificate.tree.lookup_path(&path) {
        LookupResult::Found(value) => Some(value.to_vec()),
        _ => None,
    }
}

/// A one-byte LEB128 reject code (all of the IC's are below 128).
fn reject_code(leb: &[u8]) -> RejectCode {
    match leb {
        [1] => RejectCode::SysFatal,
        [2] => RejectCode::SysTransient,
        [3] => RejectCode::DestinationInvalid,
        [4] => RejectCode::CanisterReject,
        [5] => RejectCode::CanisterError,
        _ => RejectCode::SysUnknown,
    }
}

/// A reject as ic-http-gateway serves it: `DestinationInvalid` (no such canister or method)
/// is a 404, anything else a 502 naming the reject.
pub fn reject(reject: Reject) -> Refusal {
    if reject.code == RejectCode::DestinationInvalid {
        return Refusal::new(StatusCode::NOT_FOUND, reject.message);
    }
    bad_gateway(&format!(
        "Replica Error: reject code {:?}, message {}, error code {}",
        reject.code,
        reject.message,
        crate::replica::error_code(reject.code)
    ))
}

fn bad_gateway(message: &str) -> Refusal {
    Refusal::new(StatusCode::BAD_GATEWAY, message.to_string())
}

fn encode(value: &impl CandidType) -> Result<Vec<u8>, Refusal> {
    candid::encode_one(value).map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the request: {e}"),
        )
    })
}

fn decode(bytes: &[u8]) -> Result<HttpResponse, Refusal> {
    candid::decode_one(bytes)
        .map_err(|e| bad_gateway(&format!("the canister's reply is not an HttpResponse: {e}")))
}

fn send(jobs: &mpsc::Sender<Job>, job: Job) -> Result<(), Refusal> {
    jobs.send(job).map_err(|_| stopped())
}

fn stopped() -> Refusal {
    Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the replica has stopped")
}
