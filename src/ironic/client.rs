//! Ironic's API as provisioning uses it, behind one trait with two implementations: the real
//! service over HTTPS outcalls (`nodes::HttpIronic`) and a simulated one in stable memory
//! (`sim::SimIronic`), the default, so a fresh deploy works with no external service.

use candid::{CandidType, Deserialize};
use serde::Serialize;

/// A node, reduced to the fields the canister uses (what the outcall transform keeps, so that
/// every replica sees the same bytes).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub uuid: String,
    pub name: Option<String>,
    pub resource_class: Option<String>,
    pub provision_state: String,
    pub target_provision_state: Option<String>,
    pub maintenance: bool,
    pub last_error: Option<String>,
    pub lessee: Option<String>,
    /// `instance_info.image_source`.
    pub image_source: Option<String>,
}

/// The provision-state change asked of Ironic (`PUT /v1/nodes/{id}/states/provision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Deploy the image set in `instance_info`.
    Active,
    /// Undeploy: tear the instance down, then clean the node.
    Deleted,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deleted => "deleted",
        }
    }
}

/// Why an Ironic call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No HTTP answer: `code` is the IC reject code (2 transient, 6 timeout, ...).
    Unreachable { code: u32, message: String },
    /// Ironic answered with an error status; `message` is its `faultstring` when it sent one.
    Http { status: u16, message: String },
    /// The node is not known to Ironic.
    NotFound { uuid: String },
    /// The answer is not what Ironic sends (malformed JSON, too large, missing fields).
    InvalidResponse { message: String },
    /// Not sent: the outcall attaches `needed` cycles and the provider's outcall budget has
    /// `remaining` left.
    OverBudget { needed: u128, remaining: u128 },
}

impl ClientError {
    /// Worth retrying later: the network or the IC hiccuped, Ironic is overloaded or failing
    /// (5xx), or the node is locked by another operation (409 NodeLocked).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { code, .. } => matches!(code, 2 | 6),
            Self::Http { status, .. } => *status == 409 || *status >= 500,
            // A budget only grows when a controller grants more: retrying would not help.
            Self::NotFound { .. } | Self::InvalidResponse { .. } | Self::OverBudget { .. } => false,
        }
    }
}

/// One page of a node list, and the marker of the next page if there may be one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Nodes in provision state `available`, not in maintenance, of the class asked for.
    pub nodes: Vec<Node>,
    /// The last node of a full page (Ironic's `marker` for the next); `None` at the end.
    pub next: Option<String>,
}

/// What provisioning asks of Ironic. Methods are async: the real backend makes HTTPS outcalls
/// (other messages run while one is awaited); the simulated one answers at once.
#[allow(async_fn_in_trait)]
pub trait Ironic {
    /// Nodes in provision state `available`, not in maintenance, of `resource_class` if given.
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError>;

    /// One page of [`Ironic::list_available`], after `marker` (a node UUID). A backend that
    /// costs nothing to ask answers everything on one page.
    async fn list_page(
        &self,
        resource_class: Option<&str>,
        marker: Option<&str>,
    ) -> Result<Page, ClientError> {
        if marker.is_some() {
            return Ok(Page::default());
        }
        let nodes = self.list_available(resource_class).await?;
        Ok(Page { nodes, next: None })
    }

    /// `GET /v1/nodes/{uuid}`.
    async fn node(&self, uuid: &str) -> Result<Node, ClientError>;

    /// `PATCH /v1/nodes/{uuid}`: `instance_info/image_source` and `lessee`.
    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError>;

    /// `PATCH /v1/nodes/{uuid}`: removes `lessee` (and the instance's image) at lease end.
    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError>;

    /// `PUT /v1/nodes/{uuid}/states/provision` with `target` (and the config drive, for
    /// `active`).
    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError>;
}
