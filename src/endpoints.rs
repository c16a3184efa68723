//! The canister's endpoints by area, beside the lifecycle and system ones in `lib.rs`: each
//! decodes, authorizes, calls the domain and encodes, nothing more.

mod catalog;
mod market;
mod provisioning;
