//! The Ironic client: the canister's view of the bare-metal provisioning service.
//!
//! API discovery (which microversions an Ironic speaks), and the node operations provisioning
//! needs behind one trait ([`client::Ironic`]) with two backends: the real service over HTTPS
//! outcalls ([`nodes::HttpIronic`]); the simulated one, which plays nodes from the market's
//! items, is provisioning's (`provision::sim`).

pub mod client;
pub(crate) mod endpoint;
pub mod nodes;
mod root;

use crate::counters::{self, Counter};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize, Func};
use ic_cdk_management_canister::{
    HttpHeader, HttpMethod, HttpRequestArgs, HttpRequestResult, TransformArgs, TransformContext,
    TransformFunc,
};

/// Largest root answer we accept; real ones are under 2 KiB, and the bound keeps outcalls cheap.
const ROOT_MAX_RESPONSE_BYTES: u64 = 16 * 1024;
/// The hidden query in `lib.rs` that applies [`transform_root`].
const TRANSFORM_ROOT_METHOD: &str = "transform_ironic_root";

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IronicDiscoverArg {
    /// Base URL of the Ironic API, e.g. `https://ironic.example:6385`.
    pub endpoint: String,
}

/// The range of API microversions an Ironic endpoint supports.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IronicApi {
    pub min_version: String,
    pub max_version: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum IronicError {
    /// Only controllers of the canister may do this.
    NotAuthorized,
    /// The argument could not be decoded or is not acceptable.
    InvalidArgument { message: String },
    /// The request did not get an HTTP answer; `code` is the IC reject code.
    Unreachable { code: u32, message: String },
    /// Ironic answered with a non-2xx status.
    HttpStatus { status: u16 },
    /// The answer is not what an Ironic API sends.
    InvalidResponse { message: String },
}

/// Asks the Ironic API at `arg.endpoint` which microversions it supports. The caller has been
/// authorized by the endpoint.
pub async fn discover(rt: &impl Runtime, arg: IronicDiscoverArg) -> Result<IronicApi, IronicError> {
    let request = root_request(rt.canister_id(), &arg.endpoint)?;
    // Counted once accepted, so refused input leaves every counter as it was.
    counters::bump(Counter::Outcalls);
    let result = match rt.http_request(request).await {
        Ok(response) => root::read(&response),
        Err(e) => Err(IronicError::Unreachable {
            code: e.code,
            message: e.message,
        }),
    };
    if result.is_err() {
        counters::bump(Counter::OutcallFailures);
    }
    result
}

/// `discover`'s request to `endpoint`'s root (the one place it is built; also used to price
/// the outcall without making it). `canister` serves the transform.
pub fn root_request(
    canister: candid::Principal,
    endpoint: &str,
) -> Result<HttpRequestArgs, IronicError> {
    let url =
        endpoint::root_url(endpoint).map_err(|message| IronicError::InvalidArgument { message })?;
    Ok(HttpRequestArgs {
        url,
        max_response_bytes: Some(ROOT_MAX_RESPONSE_BYTES),
        method: HttpMethod::GET,
        headers: vec![HttpHeader {
            name: "Accept".into(),
            value: "application/json".into(),
        }],
        transform: Some(TransformContext {
            function: TransformFunc(Func {
                principal: canister,
                method: TRANSFORM_ROOT_METHOD.into(),
            }),
            context: vec![],
        }),
        ..HttpRequestArgs::default()
    })
}

/// The transform of root answers. Only the system calls it with a well-formed argument; anyone
/// else sending garbage gets an empty answer with status 0 instead of a trap.
pub fn transform_root(args: Result<TransformArgs, String>) -> HttpRequestResult {
    args.map(|args| root::transform(args.response))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
