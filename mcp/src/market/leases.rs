//! The lease tools past the offer: extend a lease, cancel it, lease a SKU in one call (with the
//! kept lessee key, as accept_offer), and page through the caller's executions. Their router
//! joins the others in `ProvisionTools::new`.

use super::types::{ExecutionOut, PhaseOut};
use super::{decode, encode};
use crate::backend::Kind;
use crate::tools::ProvisionTools;
use marketplace::api::{
    CancelArg, Execution, ExecutionPage, ExecutionsListArg, ExtendArg, LeaseBySkuArg, MarketError,
    Role,
};
use marketplace::time::SECOND_NS;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `extend_lease`'s arguments: the lease, and either its new end or how much longer it runs.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendLeaseParams {
    /// The lease (an accepted execution).
    pub execution_id: u64,
    /// The new end (nanoseconds since the Unix epoch), after the current one; not with
    /// extend_by_seconds.
    #[serde(default)]
    pub new_end_ns: Option<u64>,
    /// How many seconds past its current end the lease runs; not with new_end_ns.
    #[serde(default)]
    pub extend_by_seconds: Option<u64>,
}

/// `cancel_execution`'s arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelExecutionParams {
    /// The lease (an accepted execution).
    pub execution_id: u64,
    /// Why (at most 256 bytes; may be left out): kept as the execution's reason.
    #[serde(default)]
    pub reason: String,
}

/// `lease_by_sku`'s arguments: what to lease from now, for how long, at most what price.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseBySkuParams {
    /// A SKU from the products tool, e.g. "4D.large".
    pub sku: String,
    /// The OS image to deploy on the server.
    pub image: String,
    /// How long the lease runs from now, in seconds.
    pub duration_seconds: u64,
    /// Highest price, hundredths of a US dollar per hour.
    #[serde(default)]
    pub max_price_per_hour: Option<u64>,
    /// The consumer's project; the caller's principal when absent.
    #[serde(default)]
    pub project: Option<String>,
}

/// `my_leases`' arguments: an optional phase, and the page.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MyLeasesParams {
    /// Only executions in this phase.
    #[serde(default)]
    pub phase: Option<PhaseOut>,
    /// A previous page's next_cursor, with the same phase.
    #[serde(default)]
    pub cursor: Option<u64>,
    /// Executions per page, 1 to 500 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One page of the caller's executions.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LeasesPage {
    /// By execution id, oldest first.
    pub executions: Vec<ExecutionOut>,
    /// Present when there may be more: call again with it as `cursor`. A page filtered by phase
    /// may be short, even empty, with this set.
    pub next_cursor: Option<u64>,
}

/// The lease's new end as `extend_lease` was given it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewEnd {
    At(u64),
    /// Seconds past the current end, which must be read first.
    By(u64),
}

impl ExtendLeaseParams {
    pub fn new_end(&self) -> Result<NewEnd, String> {
        match (self.new_end_ns, self.extend_by_seconds) {
            (Some(end), None) => Ok(NewEnd::At(end)),
            (None, Some(seconds)) => Ok(NewEnd::By(seconds)),
            (Some(_), Some(_)) => {
                Err("InvalidArgument: give new_end_ns or extend_by_seconds, not both".into())
            }
            (None, None) => Err("InvalidArgument: give new_end_ns or extend_by_seconds".into()),
        }
    }
}

/// `seconds` past `end_ns`.
pub fn later_by(end_ns: u64, seconds: u64) -> Result<u64, String> {
    seconds
        .checked_mul(SECOND_NS)
        .and_then(|ns| end_ns.checked_add(ns))
        .ok_or_else(|| "InvalidArgument: extend_by_seconds is too large".into())
}

impl LeaseBySkuParams {
    pub fn arg(&self, lessee_key: Vec<u8>) -> LeaseBySkuArg {
        LeaseBySkuArg {
            sku: self.sku.clone(),
            duration_seconds: self.duration_seconds,
            image: self.image.clone(),
            lessee_key: Some(lessee_key.into()),
            lessee_key_hex: None,
            max_price_per_hour: self.max_price_per_hour,
            project: self.project.clone(),
        }
    }
}

impl MyLeasesParams {
    pub fn arg(&self) -> ExecutionsListArg {
        ExecutionsListArg {
            role: Role::Consumer,
            provider: None,
            phase: self.phase.map(Into::into),
            after: self.cursor,
            limit: self.limit,
        }
    }
}

pub fn leases_reply(bytes: &[u8]) -> Result<LeasesPage, String> {
    decode::<ExecutionPage, MarketError>("executions_list", bytes).map(|page| LeasesPage {
        executions: page.executions.into_iter().map(Into::into).collect(),
        next_cursor: page.next,
    })
}

#[tool_router(router = lease_router, vis = "pub(crate)")]
impl ProvisionTools {
    /// Annotations: an update (not read-only) that only moves the end later (not destructive);
    /// with extend_by_seconds each call extends it again (not idempotent).
    #[tool(
        description = "Extend a lease (accepted, waiting or running): move its end later, to \
                       new_end_ns or by extend_by_seconds, within its offer and the market's \
                       longest lease, when nothing else is booked on the server until then. \
                       Returns the execution with its new end and total price. Only the lease's \
                       consumer may.",
        annotations(
            title = "Extend a lease",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn extend_lease(
        &self,
        Parameters(params): Parameters<ExtendLeaseParams>,
    ) -> Result<Json<ExecutionOut>, String> {
        let new_end_ns = match params.new_end()? {
            NewEnd::At(end_ns) => end_ns,
            NewEnd::By(seconds) => {
                later_by(self.execution(params.execution_id).await?.end_ns, seconds)?
            }
        };
        let arg = ExtendArg {
            execution_id: params.execution_id,
            new_end_ns,
        };
        let reply = self
            .call("lease_extend", Kind::Update, encode(&arg))
            .await?;
        decode::<Execution, MarketError>("lease_extend", &reply).map(|e| Json(e.into()))
    }

    /// Annotations: an update (not read-only) that ends the lease for good, releasing a started
    /// one's server (destructive); cancelling again is refused and changes nothing
    /// (idempotent).
    #[tool(
        description = "Cancel an accepted lease, with a reason: one not started yet (accepted, \
                       waiting) is cancelled; a running one is released (its server undeployed \
                       and cleaned) and cancelled. Only the lease's consumer may.",
        annotations(
            title = "Cancel a lease",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn cancel_execution(
        &self,
        Parameters(params): Parameters<CancelExecutionParams>,
    ) -> Result<Json<ExecutionOut>, String> {
        let arg = CancelArg {
            execution_id: params.execution_id,
            reason: params.reason,
        };
        let reply = self
            .call("execution_cancel", Kind::Update, encode(&arg))
            .await?;
        decode::<Execution, MarketError>("execution_cancel", &reply).map(|e| Json(e.into()))
    }

    /// Annotations: an update (not read-only) that only adds a lease, on a free window of an
    /// open offer: nothing already held or leased is rejected or overwritten (not
    /// destructive); each call leases another server (not idempotent).
    #[tool(
        description = "Lease one server of a SKU from now, for duration_seconds, at the \
                       cheapest open offer (at most max_price_per_hour), in one call: no \
                       offerset. The server's own lessee key (X25519, kept by mkt-mcp, never \
                       returned) is given, as with accept_offer; lease_status follows the lease \
                       and opens its credentials. NothingAvailable says why nothing matched.",
        annotations(
            title = "Lease by SKU",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn lease_by_sku(
        &self,
        Parameters(params): Parameters<LeaseBySkuParams>,
    ) -> Result<Json<ExecutionOut>, String> {
        let arg = params.arg(self.lessee_public_key().await?);
        let reply = self
            .call("lease_by_sku", Kind::Update, encode(&arg))
            .await?;
        decode::<Execution, MarketError>("lease_by_sku", &reply).map(|e| Json(e.into()))
    }

    /// Annotations: a query (read-only) of the caller's executions.
    #[tool(
        description = "The caller's executions as consumer (the offers made to it and its \
                       leases, in any phase or in one), oldest first, a page at a time: pass \
                       next_cursor back as cursor until it is null (a page filtered by phase \
                       may be short, even empty, before then).",
        annotations(
            title = "My leases",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn my_leases(
        &self,
        Parameters(params): Parameters<MyLeasesParams>,
    ) -> Result<Json<LeasesPage>, String> {
        let reply = self
            .call("executions_list", Kind::Query, encode(&params.arg()))
            .await?;
        leases_reply(&reply).map(Json)
    }
}

impl ProvisionTools {
    async fn execution(&self, execution_id: u64) -> Result<Execution, String> {
        let reply = self
            .call("execution_get", Kind::Query, encode(&execution_id))
            .await?;
        decode::<Execution, MarketError>("execution_get", &reply)
    }
}
