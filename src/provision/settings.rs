//! Each provider's Ironic backend: the simulated Ironic (the default) or its own endpoint, with
//! the microversion and credential sent to it. Set by the provider's delegates or a controller;
//! the endpoint, microversion and credential are never returned by any method, never logged.
//! TODO(helper)

use super::types::{IronicConfigureArg, IronicSettingsView, ProvisionError};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::ironic::AnyIronic;
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};

pub const DEFAULT_MICROVERSION: &str = "1.81";

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `None`: the simulated Ironic.
    pub endpoint: Option<String>,
    pub microversion: String,
    pub auth_token: Option<String>,
    pub images: Vec<String>,
}

pub fn configure(
    rt: &impl Runtime,
    arg: IronicConfigureArg,
) -> Result<IronicSettingsView, ProvisionError> {
    todo!("{} {arg:?}", rt.time())
}

pub fn view(provider: &ProviderKeyInput) -> Result<IronicSettingsView, ProvisionError> {
    todo!("{provider:?}")
}

pub fn get(provider: &ProviderKey) -> Settings {
    todo!("{provider:?}")
}

/// The provider's backend.
pub fn client<'a, R: Runtime>(rt: &'a R, provider: &ProviderKey) -> AnyIronic<'a, R> {
    todo!("{} {provider:?}", rt.time())
}
