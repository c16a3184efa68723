//! What the operations that make HTTPS outcalls attach, in cycles, so callers know the price.
//!
//! Every quote prices the very requests the operation sends: the requests come from the same
//! builders (`ironic::root_request`, `HttpIronic::*_request`) and are priced by
//! [`Runtime::outcall_cost`], on the IC `ic0.cost_http_request_v2` of the request's shape with
//! the response at `max_response_bytes`, which is what `http_request` attaches. The IC refunds
//! what an answer did not use, so the quotes are reservations: upper bounds of what is spent.
//!
//! | operation                 | outcalls (real Ironic)                                         |
//! |---------------------------|-----------------------------------------------------------------|
//! | `ironic_discover`         | GET root                                                       |
//! | `provision_server`        | GET node (or, to auto-select, GET list) + PATCH + PUT `active`  |
//! | `provision_refresh`       | GET node                                                       |
//! | a lease's deploy          | GET node + PATCH + PUT `active`, then a GET node per poll      |
//! | a lease's undeploy        | GET node + PUT `deleted`, a GET node per poll, GET node + PATCH |
//!
//! A provider on the simulated Ironic makes no outcall: every one of its quotes is 0.

use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::ironic::client::{ClientError, Target};
use crate::ironic::{self, IronicDiscoverArg};
use crate::market::{store, MAX_TEXT_BYTES};
use crate::provision::service::{polls_within, MAX_CONFIG_DRIVE_BYTES, POLL_NS};
use crate::provision::AnyIronic;
use crate::provision::{settings, Backend, ProvisionError};
use crate::runtime::{request_bytes, Runtime};
use crate::time::SECOND_NS;
use candid::{CandidType, Deserialize};
use ic_cdk_management_canister::HttpRequestArgs;

/// The node id priced when none is named (auto-selection): Ironic's ids are UUIDs.
const PLACEHOLDER_UUID: &str = "00000000-0000-0000-0000-000000000000";
/// Polls of a typical deploy: the simulated node takes three 10 s steps; a real Ironic
/// deploy (image write, reboots) about 10 minutes.
const SIM_DEPLOY_POLLS: u64 = 3;
const IRONIC_DEPLOY_NS: u64 = 600 * SECOND_NS;
/// Polls of a typical undeploy, including the one that sees the node clean: the simulated node
/// takes four steps; a real teardown with automated cleaning about 20 minutes.
const SIM_UNDEPLOY_POLLS: u64 = 4;
const IRONIC_UNDEPLOY_NS: u64 = 1200 * SECOND_NS;

/// What to price; each part given is answered.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcallCostsArg {
    /// `ironic_discover` of this endpoint.
    pub ironic_discover: Option<IronicDiscoverArg>,
    /// `provision_server`, `provision_refresh` and a lease's deploy and undeploy on a provider's
    /// backend.
    pub provision: Option<ProvisionCostsArg>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionCostsArg {
    /// Whose Ironic: its settings choose the backend (the simulated one costs nothing).
    pub provider: ProviderKeyInput,
    /// The node (UUID or name); absent prices auto-selection (the list of available nodes,
    /// then a node with a UUID).
    pub server_id: Option<String>,
    /// Auto-selection's resource class.
    pub resource_class: Option<String>,
    pub image_id: String,
    /// Bytes of cloud-init user data in `provision_server`'s config drive (absent or 0: none).
    /// Priced as plain text: each newline, quote or backslash is one byte more once escaped.
    pub config_drive_bytes: Option<u64>,
    /// The lessee the deploy sets on the node (default: the caller's principal as text).
    pub lessee: Option<String>,
}

/// Cycles each operation attaches at most (its reservations); unused cycles are refunded.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OutcallCosts {
    /// `ironic_discover`, when asked.
    pub ironic_discover: Option<u128>,
    pub provision: Option<ProvisionCosts>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionCosts {
    /// The provider's backend; every cost of `Simulated` is 0 (no outcall).
    pub backend: Backend,
    /// The call itself: the node read (or the list) + PATCH + PUT `active`. The deploy it
    /// starts is then polled like a lease's (`lease_deploy.per_poll` each).
    pub provision_server: u128,
    /// One node read.
    pub provision_refresh: u128,
    /// A lease's deploy (no config drive).
    pub lease_deploy: CostRange,
    /// A lease's undeploy: ask for `deleted`, poll through cleaning, clear the lessee.
    pub lease_undeploy: CostRange,
    /// Every distinct outcall priced, to see where the cycles go.
    pub outcalls: Vec<OutcallQuote>,
}

/// The cost of an operation that polls Ironic every 10 s until the node arrives. Transient
/// errors are retried with backoff: a retry repeats its step's calls.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CostRange {
    /// The calls made once, and the one poll that sees the node arrive.
    pub min: u128,
    /// One poll: a node read.
    pub per_poll: u128,
    /// Polls of the backend's typical run (simulated: its steps; real: an estimate).
    pub typical_polls: u64,
    /// The calls made once and `typical_polls` polls.
    pub typical: u128,
    /// Polls until the market's stuck timeout fails the operation.
    pub max_polls: u64,
    /// The calls made once and `max_polls` polls.
    pub max: u128,
}

/// One outcall and what it attaches.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OutcallQuote {
    /// `read_node`, `list_available`, `set_instance`, `provision_active`,
    /// `provision_deleted` or `clear_instance`.
    pub call: String,
    pub replicated: bool,
    /// URL, headers, body and transform, as the IC counts them.
    pub request_bytes: u64,
    pub max_response_bytes: u64,
    pub cycles: u128,
}

/// `outcall_costs`'s answer.
pub type OutcallCostsResult = Result<OutcallCosts, ProvisionError>;

/// `outcall_costs`: anyone (a query; quotes reveal no endpoint or credential).
pub fn outcall_costs(rt: &impl Runtime, arg: OutcallCostsArg) -> OutcallCostsResult {
    let ironic_discover = arg
        .ironic_discover
        .map(|discover| {
            ironic::root_request(rt.canister_id(), &discover.endpoint)
                .map(|request| rt.outcall_cost(&request))
                .map_err(|e| ProvisionError::invalid(format!("ironic_discover: {e:?}")))
        })
        .transpose()?;
    let provision = arg
        .provision
        .map(|provision| provision_costs(rt, provision))
        .transpose()?;
    Ok(OutcallCosts {
        ironic_discover,
        provision,
    })
}

fn provision_costs(
    rt: &impl Runtime,
    arg: ProvisionCostsArg,
) -> Result<ProvisionCosts, ProvisionError> {
    let provider = ProviderKey::parse_for_lookup(&arg.provider).map_err(ProvisionError::invalid)?;
    let config_drive = usize::try_from(arg.config_drive_bytes.unwrap_or(0))
        .ok()
        .filter(|bytes| *bytes <= MAX_CONFIG_DRIVE_BYTES)
        .ok_or_else(|| {
            ProvisionError::invalid(format!(
                "config_drive_bytes must be at most {MAX_CONFIG_DRIVE_BYTES}"
            ))
        })?;
    let lessee = arg.lessee.unwrap_or_else(|| rt.caller().to_text());
    for (what, text) in [("image_id", &arg.image_id), ("lessee", &lessee)] {
        if text.is_empty() || text.len() > MAX_TEXT_BYTES {
            return Err(ProvisionError::invalid(format!(
                "{what} must be 1 to {MAX_TEXT_BYTES} bytes"
            )));
        }
    }
    let stuck_ns = store::policies()
        .stuck_timeout_seconds
        .saturating_mul(SECOND_NS);
    let max_polls = stuck_ns / POLL_NS;
    let http = match settings::client(rt, &provider) {
        AnyIronic::Sim(_) => {
            let free = |typical_polls| CostRange::of(0, 0, 0, typical_polls, max_polls);
            return Ok(ProvisionCosts {
                backend: Backend::Simulated,
                provision_server: 0,
                provision_refresh: 0,
                lease_deploy: free(SIM_DEPLOY_POLLS),
                lease_undeploy: free(SIM_UNDEPLOY_POLLS),
                outcalls: vec![],
            });
        }
        AnyIronic::Http(http) => http,
    };
    // A real Ironic's polls back off (`provision::service::poll_interval_ns`).
    let max_polls = polls_within(Backend::Ironic, stuck_ns);
    let uuid = arg.server_id.as_deref().unwrap_or(PLACEHOLDER_UUID);
    let user_data = (config_drive > 0).then(|| "a".repeat(config_drive));
    let mut outcalls = vec![];
    let mut quote = |call: &str, request: Result<HttpRequestArgs, ClientError>| {
        let request =
            request.map_err(|e| ProvisionError::invalid(format!("{call}: {}", refusal(&e))))?;
        let cycles = rt.outcall_cost(&request);
        outcalls.push(OutcallQuote {
            call: call.into(),
            replicated: request.is_replicated != Some(false),
            request_bytes: request_bytes(&request),
            max_response_bytes: request.max_response_bytes.unwrap_or(0),
            cycles,
        });
        Ok::<u128, ProvisionError>(cycles)
    };
    let read = quote("read_node", http.node_request(uuid))?;
    let set_instance = quote(
        "set_instance",
        http.set_instance_request(uuid, &arg.image_id, &lessee),
    )?;
    let active = quote(
        "provision_active",
        http.provision_request(uuid, Target::Active, user_data.as_deref()),
    )?;
    let first = match arg.server_id {
        Some(_) => read,
        None => {
            let class = arg.resource_class.as_deref().filter(|c| !c.is_empty());
            quote("list_available", http.list_request(class, None))?
        }
    };
    // A lease's deploy sends no config drive: its PUT is priced on its own when one was asked.
    let lease_active = match user_data {
        Some(_) => quote(
            "provision_active",
            http.provision_request(uuid, Target::Active, None),
        )?,
        None => active,
    };
    let deleted = quote(
        "provision_deleted",
        http.provision_request(uuid, Target::Deleted, None),
    )?;
    let clear = quote("clear_instance", http.clear_instance_request(uuid))?;
    Ok(ProvisionCosts {
        backend: Backend::Ironic,
        provision_server: first + set_instance + active,
        provision_refresh: read,
        lease_deploy: CostRange::of(
            read + set_instance + lease_active,
            read,
            1,
            polls_within(Backend::Ironic, IRONIC_DEPLOY_NS),
            max_polls,
        ),
        // The last poll reads the node clean, then the lessee is cleared.
        lease_undeploy: CostRange::of(
            read + deleted + clear,
            read,
            1,
            polls_within(Backend::Ironic, IRONIC_UNDEPLOY_NS),
            max_polls,
        ),
        outcalls,
    })
}

impl CostRange {
    /// `fixed` once, and `min_polls`, `typical_polls` or `max_polls` polls of `per_poll`.
    fn of(fixed: u128, per_poll: u128, min_polls: u64, typical_polls: u64, max_polls: u64) -> Self {
        let with = |polls: u64| fixed.saturating_add(per_poll.saturating_mul(u128::from(polls)));
        let max_polls = max_polls.max(typical_polls);
        Self {
            min: with(min_polls),
            per_poll,
            typical_polls,
            typical: with(typical_polls),
            max_polls,
            max: with(max_polls),
        }
    }
}

/// Why a request would not be sent, without the credential (the builders never quote it).
fn refusal(e: &ClientError) -> String {
    match e {
        ClientError::NotFound { .. } => "server_id cannot name an Ironic node".into(),
        ClientError::Unreachable { message, .. } => message.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests;
