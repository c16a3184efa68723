//! A simulated Ironic, the default backend: a provider's `ironic_node` items are its nodes,
//! kept in stable memory and moved through Ironic's real provision-state machine by the
//! manager's timer (task `SimAdvance`), one step at a time:
//!
//! ```text
//! available ─deploy─► deploying ─► wait call-back ─► deploying ─► active
//!                                                          └─(fail_deploy)─► deploy failed
//! active / deploy failed ─undeploy─► deleting ─► cleaning ─► clean wait ─► cleaning ─► available
//!                                                                └─(fail_clean)─► clean failed
//! ```
//! TODO(helper)

use super::client::{ClientError, Ironic, Node, Target};
use crate::catalog::provider::ProviderKey;
use crate::runtime::Runtime;

/// One provider's simulated Ironic.
pub struct SimIronic<'a, R: Runtime> {
    pub rt: &'a R,
    pub provider: ProviderKey,
}

impl<R: Runtime> Ironic for SimIronic<'_, R> {
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        todo!("{resource_class:?} {:?}", self.provider)
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

/// Makes the simulated node's next deploy or clean end in failure (or stop doing so).
pub fn set_failure(provider: &ProviderKey, uuid: &str, fail_deploy: bool, fail_clean: bool) {
    todo!("{provider:?} {uuid} {fail_deploy} {fail_clean}")
}

/// The manager's task: moves the item's simulated node one step along its state machine and,
/// unless it has arrived, schedules the next step.
pub fn advance(rt: &impl Runtime, item_id: u64) {
    todo!("{} {item_id}", rt.time())
}
