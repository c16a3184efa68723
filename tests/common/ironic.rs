//! A fake OpenStack Ironic for the provisioning tests, and the provisioning calls.
//!
//! [`FakeIronic`] is an HTTP responder for the ic0 host over shared state: nodes shaped like the
//! Ironic API reference (`GET /v1/nodes`, `GET /v1/nodes/{ident}`, `PATCH /v1/nodes/{ident}`,
//! `PUT /v1/nodes/{ident}/states/provision`), Ironic's provision-state machine, Ironic's error
//! bodies (`{"error_message": "{\"faultstring\": ...}"}`), and the checks a real Ironic makes
//! (microversion header, token, JSON content type, JSON patch rules, allowed transitions). It
//! records every request it is sent, and injects faults on the next matching requests.
//!
//! Nodes in a transitional state move one step each time the canister reads them (after the
//! answer), so the canister sees every state of the way once:
//!
//! ```text
//! available ─PUT active─► deploying ─► wait call-back ─► deploying ─► active
//!                                                              └─(fail_deploy)─► deploy failed
//! active / deploy failed ─PUT deleted─► deleting ─► cleaning ─► clean wait ─► cleaning ─► available
//!                                                                      └─(fail_clean)─► clean failed
//! ```
//!
//! [`FakeIronic::set_manual`] stops that: nodes then move only on [`FakeIronic::step`].

mod calls;
mod control;
mod lab;
mod node;
mod record;
mod responder;

pub use calls::provision_node;
pub use lab::{Lab, LAB_BUDGET_CYCLES};
pub use node::FakeNode;
pub use record::{Fault, On, Recorded};

use super::*;
use ic0_host::HttpReply;
use ic_management_canister_types::HttpMethod;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// The provider's Ironic in these tests.
pub const ENDPOINT: &str = "https://ironic.test:6385";
/// The provider's Keystone token: must never come back in any reply.
pub const TOKEN: &str = "gAAAAABnX-secret-keystone-token-4e1f9d2c7a";
/// A microversion other than the default, to see it is the one sent.
pub const MICROVERSION: &str = "1.78";
/// The canister's default microversion.
pub const DEFAULT_MICROVERSION: &str = "1.81";
/// The oldest microversion with everything provisioning uses (`lessee` is 1.65).
const MIN_USABLE_MINOR: u32 = 65;
/// What the fake Ironic supports.
const MAX_MINOR: u32 = 87;
pub const LARGE_CLASS: &str = "baremetal.large";
pub const SMALL_CLASS: &str = "baremetal.small";
/// The name of the canister's transform of node reads.
pub const TRANSFORM_NODES: &str = "transform_ironic_nodes";

pub const NODE_A: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
pub const NODE_B: &str = "3d48e82d-25b4-4f40-80a9-e24f9155e345";
pub const NODE_C: &str = "6d85703a-565d-469a-96ce-30b6de53079d";
pub const NODE_D: &str = "2c37d71c-14a3-4e3f-bf98-d13e8044d234";
/// A node no Ironic knows.
pub const NODE_UNKNOWN: &str = "0f0f0f0f-dead-4bee-8f00-000000000000";

pub type ProvisionResult<T> = Result<T, ProvisionError>;

struct State {
    nodes: Vec<FakeNode>,
    requests: Vec<Recorded>,
    faults: VecDeque<(On, Fault)>,
    manual: bool,
    now_ns: u64,
    /// Requests must carry this `X-Auth-Token` (when set).
    token: Option<String>,
    /// Answers of deferred requests, oldest first: (url, method, body, reply).
    held: Vec<(String, HttpMethod, Option<Vec<u8>>, HttpReply)>,
}

/// The fake Ironic: clone it freely, every clone is the same Ironic.
#[derive(Clone)]
pub struct FakeIronic {
    state: Rc<RefCell<State>>,
}

impl Default for FakeIronic {
    fn default() -> Self {
        Self::new()
    }
}
