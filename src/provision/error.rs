//! Why a provisioning call was refused: the seed's error table.

use candid::{CandidType, Deserialize};

/// The seed's error table as typed variants.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum ProvisionError {
    InvalidArgument {
        message: String,
    },
    /// The caller made too many update calls lately; it may call again after this long.
    RateLimited {
        retry_after_seconds: u64,
    },
    NotAuthorized {
        message: String,
    },
    /// 404 "Server {id} not found".
    ServerNotFound {
        server_id: String,
    },
    /// 409 "Server {id} is not available for provisioning".
    ServerNotAvailable {
        server_id: String,
        provision_state: String,
    },
    /// 404 "No available servers matching criteria".
    NoAvailableServers {
        resource_class: Option<String>,
    },
    /// 400 "Image {id} not found".
    ImageNotFound {
        image_id: String,
    },
    /// 502 "Failed to communicate with Ironic": no answer.
    IronicUnreachable {
        message: String,
    },
    /// The provider's outcall budget cannot pay the call: `needed_cycles` is what its next
    /// outcalls attach, `remaining_cycles` what is left. Controllers grant more
    /// (`ironic_budget_grant`). Nothing was sent.
    OutcallBudgetExhausted {
        needed_cycles: u128,
        remaining_cycles: u128,
    },
    /// 502: Ironic answered with an error or with something it never sends.
    IronicFailed {
        status: Option<u16>,
        message: String,
    },
}

crate::candid_io::argument_errors!(ProvisionError);
