//! The two provisioning MCP tools (`provision_server`, `check_provision_status`): their
//! parameters, the Candid arguments built from them, and the canister's replies as tool results.

use crate::backend::{Backend, Kind};
use crate::market::keys::LesseeKeys;
use marketplace::api::{
    OperationKind, OperationStatus, ProviderKeyInput, ProvisionError, ProvisionRequest,
    ProvisionResponse, ProvisionStatus,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_handler, tool_router, Json, ServerHandler};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// `provision_server`'s arguments: the three it was specified with (`image_id`, `server_id`,
/// `resource_class`), and what the canister needs besides.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionServerParams {
    /// The OS image ID or name to deploy (a Glance image id or name, or an image URL Ironic
    /// can fetch).
    pub image_id: String,
    /// Specific server to provision: its Ironic node UUID (optional).
    #[serde(default)]
    pub server_id: Option<String>,
    /// Auto-select an available server of this resource class if server_id is not provided.
    #[serde(default)]
    pub resource_class: Option<String>,
    /// Whose servers: the provider's Ed25519 public key as PEM ("-----BEGIN PUBLIC KEY-----").
    /// Required to auto-select, and to name a server that several providers have.
    #[serde(default)]
    pub provider_pem: Option<String>,
    /// Cloud-init user data for the config drive (optional).
    #[serde(default)]
    pub config_drive: Option<String>,
}

/// `check_provision_status`'s arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckProvisionStatusParams {
    /// The operation ID returned from provision_server (the Ironic node UUID).
    pub operation_id: String,
    /// Read the node from Ironic now (an update call) instead of returning the last known
    /// state (a query).
    #[serde(default)]
    pub refresh: bool,
}

/// An operation's status: accepted (recorded, Ironic not asked yet), in_progress, completed or
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    // Recorded; Ironic has not been asked yet.
    Accepted,
    InProgress,
    Completed,
    Failed,
}

/// What the operation does to the node: deploy (set the image, then deploy to `active`) or
/// undeploy (to `deleted`, then Ironic cleans).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OperationKind")]
pub enum OperationKindOut {
    // Set the image and lessee, then deploy (target `active`).
    Deploy,
    // Undeploy (target `deleted`, then Ironic cleans) and clear the lessee.
    Undeploy,
}

/// The canister's `ProvisionResponse`, with the start time also in RFC 3339.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProvisionResult {
    /// Track the operation with check_provision_status (the node UUID).
    pub operation_id: String,
    pub server_id: String,
    pub server_name: String,
    /// The market item of the node.
    pub item_id: u64,
    pub status: Status,
    pub message: String,
    /// Nanoseconds since the Unix epoch.
    pub started_at_ns: u64,
    /// `started_at_ns` in RFC 3339 (UTC).
    pub started_at: String,
}

/// The canister's `ProvisionStatus`, with the times also in RFC 3339.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProvisionStatusResult {
    pub operation_id: String,
    pub server_id: String,
    /// The market item of the node.
    pub item_id: u64,
    pub kind: OperationKindOut,
    pub status: Status,
    /// Ironic's `provision_state` when last read.
    pub provision_state: String,
    pub progress_percent: Option<u8>,
    pub message: String,
    /// Nanoseconds since the Unix epoch.
    pub started_at_ns: u64,
    pub started_at: String,
    pub completed_at_ns: Option<u64>,
    pub completed_at: Option<String>,
    /// When Ironic was last read (0: not yet).
    pub checked_at_ns: u64,
    /// `checked_at_ns` in RFC 3339; null while Ironic has not been read.
    pub checked_at: Option<String>,
    /// The lease this operation serves, if any.
    pub execution_id: Option<u64>,
}

impl ProvisionServerParams {
    pub fn request(&self) -> ProvisionRequest {
        ProvisionRequest {
            server_id: self.server_id.clone(),
            resource_class: self.resource_class.clone(),
            image_id: self.image_id.clone(),
            config_drive: self.config_drive.clone(),
            provider: self.provider_pem.clone().map(ProviderKeyInput::Pem),
        }
    }
}

/// The Candid argument of `provision_server`.
pub fn encode_provision(params: &ProvisionServerParams) -> Vec<u8> {
    candid::encode_one(params.request()).expect("a ProvisionRequest always encodes")
}

/// The Candid argument of `provision_status` and `provision_refresh`.
pub fn encode_operation(operation_id: &str) -> Vec<u8> {
    candid::encode_one(operation_id).expect("text always encodes")
}

/// A reply of `provision_server`: the response, or the tool error's text.
pub fn provision_reply(bytes: &[u8]) -> Result<ProvisionResult, String> {
    decode::<ProvisionResponse>("provision_server", bytes).map(|r| ProvisionResult {
        started_at: runner::duration::rfc3339(r.started_at_ns),
        operation_id: r.operation_id,
        server_id: r.server_id,
        server_name: r.server_name,
        item_id: r.item_id,
        status: status(r.status),
        message: r.message,
        started_at_ns: r.started_at_ns,
    })
}

/// A reply of `provision_status` or `provision_refresh`.
pub fn status_reply(method: &str, bytes: &[u8]) -> Result<ProvisionStatusResult, String> {
    decode::<ProvisionStatus>(method, bytes).map(|s| ProvisionStatusResult {
        started_at: runner::duration::rfc3339(s.started_at_ns),
        completed_at: s.completed_at_ns.map(runner::duration::rfc3339),
        checked_at: (s.checked_at_ns != 0).then(|| runner::duration::rfc3339(s.checked_at_ns)),
        operation_id: s.operation_id,
        server_id: s.server_id,
        item_id: s.item_id,
        kind: match s.kind {
            OperationKind::Deploy => OperationKindOut::Deploy,
            OperationKind::Undeploy => OperationKindOut::Undeploy,
        },
        status: status(s.status),
        provision_state: s.provision_state,
        progress_percent: s.progress_percent,
        message: s.message,
        started_at_ns: s.started_at_ns,
        completed_at_ns: s.completed_at_ns,
        checked_at_ns: s.checked_at_ns,
        execution_id: s.execution_id,
    })
}

fn decode<T: candid::CandidType + serde::de::DeserializeOwned>(
    method: &str,
    bytes: &[u8],
) -> Result<T, String> {
    match candid::decode_one::<Result<T, ProvisionError>>(bytes) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error_text(&error)),
        Err(e) => Err(format!(
            "CallFailed: cannot decode the reply of {method}: {e}"
        )),
    }
}

fn status(status: OperationStatus) -> Status {
    match status {
        OperationStatus::Accepted => Status::Accepted,
        OperationStatus::InProgress => Status::InProgress,
        OperationStatus::Completed => Status::Completed,
        OperationStatus::Failed => Status::Failed,
    }
}

/// The variant's name, then a short sentence saying what went wrong.
pub fn error_text(error: &ProvisionError) -> String {
    use ProvisionError::*;
    match error {
        InvalidArgument { message } => format!("InvalidArgument: {message}"),
        RateLimited {
            retry_after_seconds,
        } => format!("RateLimited: too many calls, retry in {retry_after_seconds} s"),
        NotAuthorized { message } => format!("NotAuthorized: {message}"),
        ServerNotFound { server_id } => format!("ServerNotFound: Server {server_id} not found"),
        ServerNotAvailable {
            server_id,
            provision_state,
        } => format!(
            "ServerNotAvailable: Server {server_id} is not available for provisioning \
             (provision_state {provision_state})"
        ),
        NoAvailableServers { resource_class } => match resource_class {
            Some(class) => format!(
                "NoAvailableServers: No available servers matching criteria (resource_class \
                 {class})"
            ),
            None => "NoAvailableServers: No available servers matching criteria".into(),
        },
        ImageNotFound { image_id } => format!("ImageNotFound: Image {image_id} not found"),
        IronicUnreachable { message } => {
            format!("IronicUnreachable: Failed to communicate with Ironic: {message}")
        }
        IronicFailed {
            status: Some(status),
            message,
        } => format!("IronicFailed: Ironic answered HTTP {status}: {message}"),
        IronicFailed {
            status: None,
            message,
        } => format!("IronicFailed: {message}"),
        OutcallBudgetExhausted {
            needed_cycles,
            remaining_cycles,
        } => format!(
            "OutcallBudgetExhausted: the provider's outcall budget is exhausted (needs \
             {needed_cycles} cycles, {remaining_cycles} left; controllers grant more with \
             ironic_budget_grant)"
        ),
    }
}

/// The MCP server: the tools, and where their calls go.
#[derive(Clone)]
pub struct ProvisionTools {
    backend: Arc<Backend>,
    lessee_keys: Arc<LesseeKeys>,
    tool_router: ToolRouter<Self>,
}

impl ProvisionTools {
    /// The provisioning tools and the market tools (`crate::market`), the lessee key kept in
    /// `keys_dir`.
    pub fn new(backend: Backend, keys_dir: PathBuf) -> Self {
        Self {
            backend: Arc::new(backend),
            lessee_keys: Arc::new(LesseeKeys::new(keys_dir)),
            tool_router: Self::tool_router()
                + Self::market_router()
                + Self::lease_router()
                + Self::availability_router(),
        }
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    pub(crate) fn lessee_keys(&self) -> &LesseeKeys {
        &self.lessee_keys
    }
}

#[tool_router]
impl ProvisionTools {
    /// Provision a server with an operating system image.
    ///
    /// Annotations (MCP's tool hints): it changes the world (a server is deployed and taken
    /// out of the market), additively (an available server gets an image; nothing in use is
    /// overwritten or removed), not idempotently (with a resource_class each call may take
    /// another server), and in an open world (the canister, and through it Ironic).
    #[tool(
        description = "Provision a server with an operating system image: a specific server \
                       (server_id), or any available one of resource_class among the provider's \
                       servers (provider_pem). Returns the operation details, including the \
                       operation_id for status tracking with check_provision_status.",
        annotations(
            title = "Provision a server",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn provision_server(
        &self,
        Parameters(params): Parameters<ProvisionServerParams>,
    ) -> Result<Json<ProvisionResult>, String> {
        let reply = self
            .backend
            .call("provision_server", Kind::Update, encode_provision(&params))
            .await
            .map_err(call_failed)?;
        provision_reply(&reply).map(Json)
    }

    /// Check the status of a server provisioning operation.
    ///
    /// Annotations: not read-only only because `refresh` reads Ironic now (an update call that
    /// records what it read and may pay an outcall); it never deploys, undeploys or removes
    /// anything (not destructive), and asking again changes nothing more (idempotent).
    #[tool(
        description = "Check the status of a server provisioning operation. Returns the current \
                       provisioning status (accepted, in_progress, completed, failed), Ironic's \
                       provision_state and the progress.",
        annotations(
            title = "Check a provisioning operation",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn check_provision_status(
        &self,
        Parameters(params): Parameters<CheckProvisionStatusParams>,
    ) -> Result<Json<ProvisionStatusResult>, String> {
        let (method, kind) = if params.refresh {
            ("provision_refresh", Kind::Update)
        } else {
            ("provision_status", Kind::Query)
        };
        let reply = self
            .backend
            .call(method, kind, encode_operation(&params.operation_id))
            .await
            .map_err(call_failed)?;
        status_reply(method, &reply).map(Json)
    }
}

/// The call did not reach the method's reply (a reject, a trap, no replica, no state).
pub(crate) fn call_failed(message: String) -> String {
    format!("CallFailed: {message}")
}

#[tool_handler(
    router = self.tool_router,
    name = "mkt-mcp",
    instructions = "The compute marketplace canister. The market: search_offerings and \
                    products to find servers, request_offerset to get offers, accept_offer to \
                    lease one (the server keeps the lessee key credentials are sealed to), \
                    lease_status to follow it and read its credentials, extend_lease, \
                    cancel_execution or end_lease to change or end it; lease_by_sku leases a \
                    SKU from now in one call, my_leases lists the caller's leases. \
                    Bare-metal provisioning (OpenStack Ironic): provision_server starts an \
                    operation, check_provision_status follows it until it is completed or \
                    failed."
)]
impl ServerHandler for ProvisionTools {}

#[cfg(test)]
mod tests;
