//! What a reading or an answer of Ironic does to an operation and its lease: settle, retry, end.

use super::errors::describe;
use super::{DELETABLE, POLL_NS};
use crate::ironic::client::{ClientError, Node};
use crate::market::operations::{self, begin_cleanup, plan, Operation};
use crate::market::{lease, store};
use crate::provision::settings::{self, Settings};
use crate::provision::state;
use crate::provision::types::*;
use crate::queue;
use crate::runtime::Runtime;
use crate::time::SECOND_NS;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::{Accepted, Completed, Failed, InProgress};

/// Moves an active operation on from a reading of its node, when that needs no further call
/// to Ironic: completes or fails it, or leaves it as it is (the caller plans the next step).
pub(super) fn settle(rt: &impl Runtime, operation: &mut Operation, node: &Node) {
    let state_name = node.provision_state.as_str();
    let (status, _) = state::status(operation.kind, state_name, operation.seen_wait_callback);
    let known = state::STATES.contains(&state_name);
    // Ironic's `last_error` may quote its own URLs.
    let message = settings::of_pem(&operation.provider_pem)
        .scrub(&state::message(state_name, node.last_error.as_deref()));
    match (operation.kind, operation.status) {
        (Deploy, Accepted) => {
            let ours = node.lessee.as_deref() == Some(operation.lessee.as_str())
                && node.image_source.as_deref() == Some(operation.image.as_str());
            if ours && status != Accepted {
                // Asked by an earlier step whose answer was lost: follow it.
                operation.touched = true;
                operation.status = InProgress;
                return settle(rt, operation, node);
            }
            if state_name == "available" && !node.maintenance {
                // Ready: the next step asks Ironic (a refresh only looked).
            } else if (status == Accepted && state_name != "available") || !known {
                // Ironic is still bringing it here (cleaning), or a state we do not know.
                operation.message = format!("Waiting for the node to become available. {message}");
            } else {
                let reason = if node.maintenance {
                    format!("The node is in maintenance. {message}")
                } else {
                    message
                };
                let why = format!(
                    "Server {} is not available for provisioning: {reason}",
                    operation.server_id
                );
                fail(rt, operation, why, false);
            }
        }
        // The next step asks Ironic to tear it down (a refresh only looked).
        (Undeploy, Accepted) if DELETABLE.contains(&state_name) => {}
        (Undeploy, Accepted) => match status {
            // Already being torn down or cleaned: follow it.
            InProgress => {
                operation.status = InProgress;
                operation.touched = true;
                operation.message = message;
            }
            Failed => fail(rt, operation, message, true),
            // A deploy still running (undeployed once it ends), or arrived: the next step.
            Accepted | Completed => {
                operation.message = format!("Waiting for the node to settle. {message}");
            }
        },
        (_, InProgress) => match status {
            Completed if operation.kind == Deploy => complete(rt, operation, &message),
            // An undeploy completes in a step, once the lessee is cleared.
            Completed => operation.message = message,
            Failed => fail(rt, operation, message, true),
            Accepted | InProgress => operation.message = message,
        },
        _ => {}
    }
}

/// Ironic accepted the request: the operation is under way; its node is read in 10 s.
pub(super) fn asked(rt: &impl Runtime, operation: &mut Operation, what: &str) {
    operation.status = InProgress;
    operation.touched = true;
    operation.attempts = 0;
    operation.message = what.into();
    plan(rt, operation, rt.time().saturating_add(POLL_NS));
    operations::put(operation);
}

/// A transient Ironic error: the same step again after the backoff, the operation unchanged.
pub(super) fn retry(
    rt: &impl Runtime,
    operation: &mut Operation,
    settings: &Settings,
    e: &ClientError,
) {
    let now = rt.time();
    if let Some(why) = timed_out(operation, now) {
        let why = format!("{why} Last error: {}", describe(settings, e));
        return fail(rt, operation, why, true);
    }
    let wait = queue::backoff_ns(operation.attempts);
    operation.attempts = operation.attempts.saturating_add(1);
    operation.message = format!(
        "{} Retrying in {} s (attempt {}).",
        describe(settings, e),
        wait / SECOND_NS,
        operation.attempts
    );
    plan(rt, operation, now.saturating_add(wait));
    operations::put(operation);
}

/// The operation is done: its lease moves on.
pub(super) fn complete(rt: &impl Runtime, operation: &mut Operation, message: &str) {
    let now = rt.time();
    operation.status = Completed;
    operation.completed_at_ns = Some(now);
    operation.attempts = 0;
    operation.message = message.into();
    operations::put(operation);
    match operation.kind {
        Deploy => {
            let Some(execution_id) = operation.execution_id else {
                return;
            };
            let why = format!(
                "server {} deployed with {}",
                operation.server_id, operation.image
            );
            if !lease::provisioned(rt, execution_id, &why) {
                // The lease no longer wants it (it ended or failed meanwhile): clean the node.
                begin_cleanup(rt, operation);
            }
        }
        Undeploy => lease::released(
            rt,
            operation.item_id,
            operation.execution_id,
            operation.release_to,
            &operation.release_why,
            Ok(()),
        ),
    }
}

/// The operation failed with `why`: its lease FAILS (a deploy) or ends with its item in
/// Maintenance (an undeploy). `node_fault`: whether the failure concerns the node (an item
/// whose node Ironic was never asked to change goes back to the market only when it does
/// not).
pub(super) fn fail(rt: &impl Runtime, operation: &mut Operation, why: String, node_fault: bool) {
    let now = rt.time();
    operation.status = Failed;
    operation.completed_at_ns = Some(now);
    operation.message = why.clone();
    operations::put(operation);
    match operation.kind {
        Deploy => {
            let Some(execution_id) = operation.execution_id else {
                return;
            };
            if !lease::provisioning_failed(rt, execution_id, &why) {
                return;
            }
            if operation.touched {
                begin_cleanup(rt, operation);
            } else {
                let clean = if node_fault {
                    Err(why.as_str())
                } else {
                    Ok(())
                };
                lease::released(rt, operation.item_id, None, None, "", clean);
            }
        }
        Undeploy => lease::released(
            rt,
            operation.item_id,
            operation.execution_id,
            operation.release_to,
            &operation.release_why,
            Err(&why),
        ),
    }
}

/// When the market's stuck timeout fails the operation.
pub(super) fn deadline_ns(operation: &Operation) -> u64 {
    let timeout = store::policies().stuck_timeout_seconds;
    operation
        .started_at_ns
        .saturating_add(timeout.saturating_mul(SECOND_NS))
}

/// Why an operation is over its time, if it is: the market's stuck timeout.
pub(super) fn timed_out(operation: &Operation, now: u64) -> Option<String> {
    let timeout = store::policies().stuck_timeout_seconds;
    let due = deadline_ns(operation);
    (now >= due).then(|| {
        format!(
            "The operation did not finish within {timeout} s (node last seen in {:?}).",
            operation.provision_state
        )
    })
}
