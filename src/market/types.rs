//! The market's Candid types: what is stored and what callers send and receive.
//!
//! Times are nanoseconds since the Unix epoch (IC time), durations are seconds, prices are
//! per hour: in the ledger's base units when the market has a ledger, otherwise in hundredths
//! of a US dollar. Ids are assigned by the canister and never reused.

mod audit;
mod delegation;
mod execution;
mod inventory;
mod offers;
mod offerset;
mod payments;
mod policy;
mod projects;

pub use audit::*;
pub use delegation::*;
pub use execution::*;
pub use inventory::*;
pub use offers::*;
pub use offerset::*;
pub use payments::*;
pub use policy::*;
pub use projects::*;

use candid::{CandidType, Deserialize};

/// A free-form key/value pair (FLOCX `properties`, pez metadata).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
}
