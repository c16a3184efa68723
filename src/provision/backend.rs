//! The backend a provider's operations run against: its Ironic over HTTPS outcalls, or the
//! simulation (the default), behind the one `Ironic` trait.

use super::sim::SimIronic;
use crate::ironic::client::{ClientError, Ironic, Node, Page, Target};
use crate::ironic::nodes::HttpIronic;
use crate::runtime::Runtime;

/// A provider's backend, chosen by its settings.
pub enum AnyIronic<'a, R: Runtime> {
    Http(HttpIronic<'a, R>),
    Sim(SimIronic<'a, R>),
}

impl<R: Runtime> Ironic for AnyIronic<'_, R> {
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        match self {
            Self::Http(ironic) => ironic.list_available(resource_class).await,
            Self::Sim(ironic) => ironic.list_available(resource_class).await,
        }
    }

    async fn list_page(
        &self,
        resource_class: Option<&str>,
        marker: Option<&str>,
    ) -> Result<Page, ClientError> {
        match self {
            Self::Http(ironic) => ironic.list_page(resource_class, marker).await,
            Self::Sim(ironic) => ironic.list_page(resource_class, marker).await,
        }
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        match self {
            Self::Http(ironic) => ironic.node(uuid).await,
            Self::Sim(ironic) => ironic.node(uuid).await,
        }
    }

    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        match self {
            Self::Http(ironic) => ironic.set_instance(uuid, image, lessee).await,
            Self::Sim(ironic) => ironic.set_instance(uuid, image, lessee).await,
        }
    }

    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        match self {
            Self::Http(ironic) => ironic.clear_instance(uuid).await,
            Self::Sim(ironic) => ironic.clear_instance(uuid).await,
        }
    }

    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        match self {
            Self::Http(ironic) => ironic.set_provision_state(uuid, target, config_drive).await,
            Self::Sim(ironic) => ironic.set_provision_state(uuid, target, config_drive).await,
        }
    }
}
