//! Ironic provision states → operation status and progress: every state Ironic has, mapped and
//! documented here (the table in `docs/provisioning.md` is this one). TODO(helper)

use super::types::{OperationKind, OperationStatus};

/// The status and progress an operation of `kind` is at when its node is in `provision_state`;
/// `seen_wait_callback` tells the second `deploying` (after the agent called back) from the first.
pub fn status(
    kind: OperationKind,
    provision_state: &str,
    seen_wait_callback: bool,
) -> (OperationStatus, Option<u8>) {
    todo!("{kind:?} {provision_state} {seen_wait_callback}")
}
