//! The Candid types of the public interface in one place, for Rust clients and the end-to-end
//! tests (`candid/marketplace.did` is the same interface in Candid).

pub use crate::config::{Config, InitArg};
pub use crate::counters::Counters;
pub use crate::ironic::{IronicApi, IronicDiscoverArg, IronicError};
pub use crate::status::Status;
