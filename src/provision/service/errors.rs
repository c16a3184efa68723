//! Responses and errors: an operation as a response, Ironic errors typed and described.

use crate::ironic::client::ClientError;
use crate::market::operations::Operation;
use crate::provision::settings::Settings;
use crate::provision::types::*;
use crate::provision::ProvisionError;

pub(super) fn response(operation: &Operation) -> ProvisionResponse {
    ProvisionResponse {
        operation_id: operation.server_id.clone(),
        server_id: operation.server_id.clone(),
        server_name: operation.server_name.clone(),
        item_id: operation.item_id,
        status: operation.status,
        message: operation.message.clone(),
        started_at_ns: operation.started_at_ns,
    }
}

/// An Ironic error as the seed's error table has it, scrubbed of the provider's secrets.
pub(super) fn typed(settings: &Settings, server_id: &str, e: ClientError) -> ProvisionError {
    match e {
        ClientError::NotFound { .. } => ProvisionError::ServerNotFound {
            server_id: server_id.into(),
        },
        ClientError::Unreachable { code, message } => ProvisionError::IronicUnreachable {
            message: format!(
                "Failed to communicate with Ironic (reject code {code}): {}",
                settings.scrub(&message)
            ),
        },
        ClientError::Http { status, message } => ProvisionError::IronicFailed {
            status: Some(status),
            message: settings.scrub(&message),
        },
        ClientError::InvalidResponse { message } => ProvisionError::IronicFailed {
            status: None,
            message: settings.scrub(&message),
        },
        ClientError::OverBudget { needed, remaining } => ProvisionError::OutcallBudgetExhausted {
            needed_cycles: needed,
            remaining_cycles: remaining,
        },
    }
}

/// An Ironic error as a sentence for an operation's message.
pub(super) fn describe(settings: &Settings, e: &ClientError) -> String {
    match e {
        ClientError::NotFound { uuid } => format!("Ironic does not know node {uuid}."),
        ClientError::Unreachable { code, message } => format!(
            "Failed to communicate with Ironic (reject code {code}): {}",
            settings.scrub(message)
        ),
        ClientError::Http { status, message } => {
            format!("Ironic answered HTTP {status}: {}", settings.scrub(message))
        }
        ClientError::InvalidResponse { message } => format!(
            "Ironic answered something it never sends: {}",
            settings.scrub(message)
        ),
        ClientError::OverBudget { needed, remaining } => format!(
            "The provider's outcall budget is exhausted: the next call to Ironic attaches \
             {needed} cycles and {remaining} are left. Nothing was sent; controllers grant \
             more with ironic_budget_grant."
        ),
    }
}

pub(super) fn not_authorized(message: &str) -> ProvisionError {
    ProvisionError::NotAuthorized {
        message: message.into(),
    }
}
