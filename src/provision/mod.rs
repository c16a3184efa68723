//! Provisioning bare metal through Ironic (seed 004): provision a server with an image, follow
//! the operation through Ironic's provision states, and undeploy it; started and ended by
//! leases. Stateless in the seed's sense: the operation id is the node UUID and its status comes
//! from Ironic's `provision_state`; the canister keeps the last state it read, so a status query
//! answers without an outcall.
//!
//! | module       | what it holds                                                           |
//! |--------------|-------------------------------------------------------------------------|
//! | `types`      | the Candid types: request, response, status, errors, settings          |
//! | `state`      | Ironic provision states → status and progress, every state documented  |
//! | `settings`   | each provider's backend: simulated (default) or its Ironic endpoint     |
//! | `budget`     | each provider's outcall budget: granted by controllers, paid per outcall |
//! | `backend`    | a provider's Ironic: over HTTPS outcalls, or simulated                  |
//! | `sim`        | the simulated Ironic, playing nodes from the market's items             |
//! | `service`    | provision / status / refresh, who may, and the steps the timer runs  |

mod backend;
pub mod budget;
mod error;
pub mod service;
pub mod settings;
pub mod sim;
pub mod state;
pub mod types;

pub use backend::AnyIronic;
pub use error::ProvisionError;
pub use types::*;
