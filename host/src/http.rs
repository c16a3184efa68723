//! The management canister's `http_request` and the cycle prices of calls and outcalls.
//!
//! Prices follow the IC's published formulas for a 13-node application subnet (replicated
//! outcalls) or a single node (non-replicated); they are plausible, not a billing reference.

use crate::types::{limits, HttpRequestArgs, HttpRequestResult, Reject, RejectCode};
use candid::{CandidType, Deserialize, Reserved};
use ic_management_canister_types::HttpMethod;

const SUBNET_NODES: u128 = 13;

/// Fee for performing an inter-canister call.
pub(crate) fn cost_call(method_bytes: u64, payload_bytes: u64) -> u128 {
    260_000 + 1_000 * u128::from(method_bytes + payload_bytes)
}

fn base_fee(nodes: u128) -> u128 {
    (3_000_000 + 60_000 * nodes) * nodes
}

/// Pricing version 1: the response is paid for up to `max_response_bytes`.
pub(crate) fn cost_v1(request_bytes: u64, max_response_bytes: u64) -> u128 {
    let n = SUBNET_NODES;
    base_fee(n) + 400 * n * u128::from(request_bytes) + 800 * n * u128::from(max_response_bytes)
}

/// The argument of `ic0.cost_http_request_v2`.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub(crate) struct CostV2 {
    pub request_bytes: u64,
    pub http_roundtrip_time_ms: u64,
    pub raw_response_bytes: u64,
    pub transformed_response_bytes: u64,
    pub transform_instructions: u64,
    pub outcall_type: Option<OutcallType>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub(crate) enum OutcallType {
    #[serde(rename = "fully_replicated")]
    FullyReplicated(Reserved),
    #[serde(rename = "non_replicated")]
    NonReplicated(Reserved),
    #[serde(rename = "flexible")]
    Flexible(Reserved),
}

/// Pricing version 2: the resources the outcall actually uses.
pub(crate) fn cost_v2(args: &CostV2) -> u128 {
    let n = match args.outcall_type {
        Some(OutcallType::NonReplicated(_)) => 1,
        _ => SUBNET_NODES,
    };
    base_fee(n)
        + 400 * n * u128::from(args.request_bytes)
        + 800 * n * u128::from(args.raw_response_bytes)
        + 800 * n * u128::from(args.transformed_response_bytes)
        + n * u128::from(args.transform_instructions) / 10
        + n * 1_000 * u128::from(args.http_roundtrip_time_ms)
}

pub(crate) fn cost_v2_from_candid(bytes: &[u8]) -> Result<u128, String> {
    let mut config = candid::DecoderConfig::new();
    config.set_decoding_quota(100_000);
    let args: CostV2 = candid::decode_one_with_config(bytes, &config).map_err(|e| e.to_string())?;
    Ok(cost_v2(&args))
}

pub(crate) fn request_bytes(args: &HttpRequestArgs) -> u64 {
    let headers: usize = args
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    let transform = args
        .transform
        .as_ref()
        .map_or(0, |t| t.context.len() + t.function.0.method.len());
    (args.url.len() + headers + args.body.as_ref().map_or(0, Vec::len) + transform) as u64
}

pub(crate) fn response_bytes(response: &HttpRequestResult) -> u64 {
    let headers: usize = response
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    (response.body.len() + headers) as u64
}

fn non_replicated(args: &HttpRequestArgs) -> bool {
    args.is_replicated == Some(false)
}

/// The cycles an outcall must carry before it is made: its price with the response at its maximum.
fn required_cycles(args: &HttpRequestArgs) -> u128 {
    let max = max_response_bytes(args);
    if args.pricing_version == Some(2) {
        cost_v2(&CostV2 {
            request_bytes: request_bytes(args),
            raw_response_bytes: max,
            outcall_type: non_replicated(args).then_some(OutcallType::NonReplicated(Reserved)),
            ..CostV2::default()
        })
    } else {
        cost_v1(request_bytes(args), max)
    }
}

/// The price actually charged once the response is known; the rest of the attached cycles is refunded.
pub(crate) fn charged_cycles(
    args: &HttpRequestArgs,
    raw: u64,
    transformed: u64,
    transform_instructions: u64,
) -> u128 {
    if args.pricing_version == Some(2) {
        cost_v2(&CostV2 {
            request_bytes: request_bytes(args),
            raw_response_bytes: raw,
            transformed_response_bytes: transformed,
            transform_instructions,
            outcall_type: non_replicated(args).then_some(OutcallType::NonReplicated(Reserved)),
            ..CostV2::default()
        })
    } else {
        required_cycles(args)
    }
}

pub(crate) fn max_response_bytes(args: &HttpRequestArgs) -> u64 {
    args.max_response_bytes
        .unwrap_or(limits::HTTP_MAX_RESPONSE_BYTES)
}

fn refuse(message: impl Into<String>) -> Reject {
    Reject::new(RejectCode::CanisterReject, message)
}

/// Decodes and validates an `http_request` call as the management canister does.
pub(crate) fn accept_request(
    payload: &[u8],
    cycles: u128,
    self_id: &[u8],
) -> Result<HttpRequestArgs, Reject> {
    let mut config = candid::DecoderConfig::new();
    config.set_decoding_quota(10 * limits::HTTP_MAX_REQUEST_BYTES);
    let args: HttpRequestArgs = candid::decode_one_with_config(payload, &config)
        .map_err(|e| refuse(format!("http_request: invalid argument: {e}")))?;
    if args.url.len() > limits::HTTP_MAX_URL_BYTES {
        return Err(refuse(format!(
            "http_request: url longer than {} bytes",
            limits::HTTP_MAX_URL_BYTES
        )));
    }
    if request_bytes(&args) as usize > limits::HTTP_MAX_REQUEST_BYTES {
        return Err(refuse(format!(
            "http_request: request larger than {} bytes",
            limits::HTTP_MAX_REQUEST_BYTES
        )));
    }
    if let Some(max) = args.max_response_bytes {
        if max > limits::HTTP_MAX_RESPONSE_BYTES {
            return Err(refuse(format!(
                "http_request: max_response_bytes {max} exceeds the limit of {}",
                limits::HTTP_MAX_RESPONSE_BYTES
            )));
        }
    }
    let needs_non_replicated = matches!(
        args.method,
        HttpMethod::PUT | HttpMethod::PATCH | HttpMethod::DELETE
    );
    if needs_non_replicated && !non_replicated(&args) {
        return Err(refuse(format!(
            "http_request: method {:?} is only allowed in non-replicated outcalls (is_replicated = opt false)",
            args.method
        )));
    }
    if let Some(transform) = &args.transform {
        if transform.function.0.principal.as_slice() != self_id {
            return Err(refuse(
                "http_request: the transform function must be a query of the calling canister",
            ));
        }
    }
    let required = required_cycles(&args);
    if cycles < required {
        return Err(refuse(format!(
            "http_request request sent with {cycles} cycles, but {required} cycles are required."
        )));
    }
    Ok(args)
}

/// The IC refuses a raw response larger than `max_response_bytes` before any transform runs.
pub(crate) fn check_response_size(
    args: &HttpRequestArgs,
    response: &HttpRequestResult,
    stage: &str,
) -> Result<(), Reject> {
    let max = max_response_bytes(args);
    let size = response_bytes(response);
    if size > max {
        return Err(Reject::new(
            RejectCode::SysFatal,
            format!(
                "Http body exceeds size limit of {max} bytes ({stage} response has {size} bytes)."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
