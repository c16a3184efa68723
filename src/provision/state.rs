//! Ironic provision states → operation status and progress: every state Ironic has, mapped and
//! documented here (the table in `docs/provisioning.md` is this one, and a test keeps them
//! equal).
//!
//! An operation of a given kind walks one path through Ironic's state machine:
//!
//! ```text
//! deploy:    available ─► deploying ─► wait call-back ─► deploying ─► active
//!            Accepted 0   25           50                75           Completed 100
//! undeploy:  active ─► deleting ─► cleaning ─► clean wait ─► cleaning ─► available
//!            Accepted 0 25         50          60            75          Completed 100
//! ```
//!
//! Where the node is relative to that path gives the status:
//!
//! - **before the path** — the node is not yet where the operation starts, and Ironic (or the
//!   tenant) brings it there without the canister: `Accepted`, 0. For a deploy, the node still
//!   being torn down or cleaned after the previous lease (`deleting`, `cleaning`, `clean wait`,
//!   `clean hold`); for an undeploy, anything with an instance on the node: a deploy still
//!   running (`deploying`, `wait call-back`, `deploy hold`, `rebuild`), `deploy failed` (Ironic
//!   undeploys from there), rescue and servicing states.
//! - **on the path** — `InProgress` with the progress above. A hold (`deploy hold`,
//!   `clean hold`) pauses between steps and reports the progress of the step it pauses
//!   (`deploying`, `cleaning`).
//! - **after the goal** — a deploy whose node went on from `active` into rescue or servicing
//!   has deployed: `Completed`, 100 (what happens next is the instance's life, not the deploy).
//! - **failed, or off the path for good** — the failure states of the path (`deploy failed`,
//!   `clean failed`, `error`) and every state only an operator puts a node in (enroll,
//!   verifying, manageable, inspection, adoption): `Failed`, no progress. Ironic will not bring
//!   the node to the goal by itself.
//!
//! A state this canister does not know (a newer Ironic's) is `InProgress` with no progress:
//! most states Ironic added over the years are transient, and a stuck one is caught by the
//! lease's stuck check rather than failed on a guess.
//!
//! The state alone cannot tell the first `deploying` from the second (or the first `cleaning`
//! from the second): the caller remembers whether the operation has seen its wait state
//! (`wait call-back` for a deploy, `clean wait` for an undeploy; see [`is_wait`]). Wait states
//! themselves report a fixed progress (50, 60), so the order in which the caller updates that
//! flag does not matter; when a real Ironic waits more than once in one operation the
//! progress goes back from 75 to the wait's number, which is harmless.

use super::types::{OperationKind, OperationStatus};

/// Every provision state Ironic reports, in the order of `docs/provisioning.md`.
pub const STATES: [&str; 31] = [
    "enroll",
    "verifying",
    "manageable",
    "inspecting",
    "inspect wait",
    "inspect failed",
    "cleaning",
    "clean wait",
    "clean hold",
    "clean failed",
    "available",
    "deploying",
    "wait call-back",
    "deploy hold",
    "deploy failed",
    "active",
    "deleting",
    "error",
    "rebuild",
    "rescuing",
    "rescue wait",
    "rescue failed",
    "rescue",
    "unrescuing",
    "unrescue failed",
    "adopting",
    "adopt failed",
    "servicing",
    "service wait",
    "service hold",
    "service failed",
];

/// Longest `last_error` [`message`] quotes, in bytes; Ironic's can be tracebacks.
pub const MAX_ERROR_BYTES: usize = 512;

/// Whether `provision_state` is the wait state of an operation of `kind` (`wait call-back`
/// for a deploy, `clean wait` for an undeploy): once seen, the caller passes
/// `seen_wait_callback = true` to [`status`] for the rest of the operation.
pub fn is_wait(kind: OperationKind, provision_state: &str) -> bool {
    match kind {
        OperationKind::Deploy => provision_state == "wait call-back",
        OperationKind::Undeploy => provision_state == "clean wait",
    }
}

/// The status and progress an operation of `kind` is at when its node is in `provision_state`;
/// `seen_wait_callback` tells the second `deploying` (after the agent called back) from the
/// first, and for an undeploy the second `cleaning` (after `clean wait`) from the first.
/// Progress is `None` for failures and for states this canister does not know.
pub fn status(
    kind: OperationKind,
    provision_state: &str,
    seen_wait_callback: bool,
) -> (OperationStatus, Option<u8>) {
    use OperationStatus::*;
    let after_wait = |before: u8| Some(if seen_wait_callback { 75 } else { before });
    match kind {
        OperationKind::Deploy => match provision_state {
            "available" | "deleting" | "cleaning" | "clean wait" | "clean hold" => {
                (Accepted, Some(0))
            }
            "deploying" | "deploy hold" => (InProgress, after_wait(25)),
            "rebuild" => (InProgress, Some(25)),
            "wait call-back" => (InProgress, Some(50)),
            "active" | "rescuing" | "rescue wait" | "rescue" | "rescue failed" | "unrescuing"
            | "unrescue failed" | "servicing" | "service wait" | "service hold"
            | "service failed" => (Completed, Some(100)),
            "deploy failed" | "error" | "clean failed" | "enroll" | "verifying" | "manageable"
            | "inspecting" | "inspect wait" | "inspect failed" | "adopting" | "adopt failed" => {
                (Failed, None)
            }
            _ => (InProgress, None),
        },
        OperationKind::Undeploy => match provision_state {
            "active" | "deploying" | "wait call-back" | "deploy hold" | "deploy failed"
            | "rebuild" | "rescuing" | "rescue wait" | "rescue" | "rescue failed"
            | "unrescuing" | "unrescue failed" | "servicing" | "service wait" | "service hold"
            | "service failed" => (Accepted, Some(0)),
            "deleting" => (InProgress, Some(25)),
            "cleaning" | "clean hold" => (InProgress, after_wait(50)),
            "clean wait" => (InProgress, Some(60)),
            "available" => (Completed, Some(100)),
            "clean failed" | "error" | "enroll" | "verifying" | "manageable" | "inspecting"
            | "inspect wait" | "inspect failed" | "adopting" | "adopt failed" => (Failed, None),
            _ => (InProgress, None),
        },
    }
}

/// A sentence saying where the node is, for an operation's `message`; Ironic's `last_error`
/// follows when it has one (at most [`MAX_ERROR_BYTES`] of it).
pub fn message(provision_state: &str, last_error: Option<&str>) -> String {
    let sentence = match provision_state {
        "enroll" => "The node is enrolled but not yet managed by Ironic.",
        "verifying" => "Ironic is verifying that it can manage the node.",
        "manageable" => "The node is out of the available pool, held by its operator.",
        "inspecting" => "Ironic is inspecting the node's hardware.",
        "inspect wait" => "Ironic is waiting for the node's hardware inspection to report.",
        "inspect failed" => "Inspecting the node's hardware failed.",
        "cleaning" => "The node is being cleaned.",
        "clean wait" => "The node is being cleaned; Ironic is waiting for its agent.",
        "clean hold" => "Cleaning the node is paused until its operator resumes it.",
        "clean failed" => "Cleaning the node failed.",
        "available" => "The node is available for deployment.",
        "deploying" => "The image is being deployed to the node.",
        "wait call-back" => "The image is being deployed; Ironic is waiting for the node's agent.",
        "deploy hold" => "Deploying the node is paused until its operator resumes it.",
        "deploy failed" => "Deploying the image to the node failed.",
        "active" => "The node is deployed and running its image.",
        "deleting" => "The node's instance is being torn down.",
        "error" => "Tearing down the node's instance failed.",
        "rebuild" => "The node is being redeployed with its image.",
        "rescuing" => "The node is being booted into rescue mode.",
        "rescue wait" => "The node is booting into rescue mode; Ironic is waiting for its agent.",
        "rescue failed" => "Booting the node into rescue mode failed.",
        "rescue" => "The node is in rescue mode.",
        "unrescuing" => "The node is leaving rescue mode.",
        "unrescue failed" => "Taking the node out of rescue mode failed.",
        "adopting" => "Ironic is adopting the instance already on the node.",
        "adopt failed" => "Adopting the instance already on the node failed.",
        "servicing" => "The deployed node is being serviced.",
        "service wait" => "The deployed node is being serviced; Ironic is waiting for its agent.",
        "service hold" => "Servicing the node is paused until its operator resumes it.",
        "service failed" => "Servicing the deployed node failed.",
        unknown => {
            return with_error(
                format!("The node is in provision state {unknown:?}, unknown to this canister."),
                last_error,
            )
        }
    };
    with_error(sentence.to_string(), last_error)
}

fn with_error(mut sentence: String, last_error: Option<&str>) -> String {
    let Some(error) = last_error.map(str::trim).filter(|error| !error.is_empty()) else {
        return sentence;
    };
    sentence.push_str(" Ironic reports: ");
    if error.len() <= MAX_ERROR_BYTES {
        sentence.push_str(error);
    } else {
        let mut end = MAX_ERROR_BYTES;
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        sentence.push_str(&error[..end]);
        sentence.push('…');
    }
    sentence
}

#[cfg(test)]
mod tests;
