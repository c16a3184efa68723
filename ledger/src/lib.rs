//! A test ledger canister implementing ICRC-1 and ICRC-2 as the standards specify, with the
//! reference ledger's choices where they leave room (dfinity/ic `rs/ledger_suite/icrc1`).
//!
//! `canister.rs` is the whole interface, one endpoint each: decode (with a quota, see
//! `candid_io`), call the logic in the modules, encode. All state is in stable memory
//! ([`memory`]), so upgrades keep it and `post_upgrade` does no per-record work. The checked-in
//! `ledger.did` equals the exported interface (a unit test).

// The canister's endpoints, in the wasm (and this crate's own tests) only: natively the crate
// is its logic, which the marketplace's payments tests run in-process without the exported
// symbols of a second canister.
#[cfg(any(target_arch = "wasm32", test))]
mod candid_io;
#[cfg(any(target_arch = "wasm32", test))]
mod canister;
pub mod errors;
pub mod lifecycle;
pub mod memory;
pub mod ops;
pub mod queries;
pub mod state;
mod storable;
pub mod types;

#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod state_tests;
