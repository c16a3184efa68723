//! A local endpoint speaking the Internet Computer's HTTP interface, in front of the
//! marketplace canister on the ic0 host: what `mkt serve` runs, so dfx, icp-cli, agent-js and
//! ic-agent reach the canister the way they reach the IC.
//!
//! Layers, lowest first: `keys` (the endpoint's BLS root key and Ed25519 node key),
//! `state_tree` (the certified state as a hash tree) and `certificate` (a tree signed by the
//! root key); `auth` (request envelopes: request ids, sender signatures, delegations, expiry);
//! then the replica (`replica`: one thread owning the canister) and the HTTP routes (`server`).

pub mod auth;
pub mod certificate;
pub mod gateway;
pub mod keys;
pub mod management;
pub mod metadata;
pub mod replica;
pub mod requests;
pub mod response;
pub mod serve;
pub mod server;
pub mod state_tree;
