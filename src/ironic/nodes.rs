//! The real Ironic over HTTPS outcalls: reads are replicated GETs whose transform keeps only
//! the fields in [`Node`] (so every replica agrees); PATCH and PUT go non-replicated, the only
//! way the IC allows them. TODO(helper)

use super::client::{ClientError, Ironic, Node, Target};
use crate::runtime::Runtime;
use ic_cdk_management_canister::HttpRequestResult;

/// The hidden query in `lib.rs` that applies [`transform`].
pub const TRANSFORM_METHOD: &str = "transform_ironic_nodes";

/// The transform of every replicated read: keeps the status and, of a node or a node list,
/// only the fields of [`Node`] in canonical JSON; drops headers.
pub fn transform(response: HttpRequestResult) -> HttpRequestResult {
    todo!("{:?}", response.status)
}

/// One provider's Ironic, as its settings name it.
pub struct HttpIronic<'a, R: Runtime> {
    pub rt: &'a R,
    /// Base URL, e.g. `https://ironic.example:6385`.
    pub endpoint: String,
    /// `X-OpenStack-Ironic-API-Version`.
    pub microversion: String,
    /// `X-Auth-Token`, if the provider set one.
    pub auth_token: Option<String>,
}

impl<R: Runtime> Ironic for HttpIronic<'_, R> {
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        todo!("{resource_class:?} {}", self.endpoint)
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        todo!("{uuid}")
    }

    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        todo!("{uuid} {image} {lessee}")
    }

    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        todo!("{uuid}")
    }

    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        todo!("{uuid} {target:?} {config_drive:?}")
    }
}
