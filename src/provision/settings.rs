//! Each provider's Ironic backend: the simulated Ironic (the default) or its own endpoint, with
//! the microversion and credential sent to it. Set by the provider's delegates or a controller;
//! the endpoint, microversion and credential are never returned by any method, never logged
//! (`Settings`' `Debug` redacts them, and operation messages are scrubbed of them).

use super::types::{Backend, IronicConfigureArg, IronicSettingsView};
use super::ProvisionError;
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::ironic::endpoint;
use crate::ironic::nodes::HttpIronic;
use crate::market::{delegation, store as market_store};
use crate::memory::{self, Memory};
use crate::provision::sim::SimIronic;
use crate::provision::AnyIronic;
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use ic_stable_structures::StableBTreeMap;
use std::cell::RefCell;

pub const DEFAULT_MICROVERSION: &str = "1.81";
/// Longest credential accepted: Keystone Fernet tokens are ~200 bytes, PKI ones a few KiB.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Most images one provider may list.
pub const MAX_IMAGES: usize = 100;
/// Longest image name or URL.
pub const MAX_IMAGE_BYTES: usize = 256;
/// Digits of the minor version in "1.NN".
const MAX_MINOR_DIGITS: usize = 3;

#[derive(CandidType, Deserialize, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `None`: the simulated Ironic.
    pub endpoint: Option<String>,
    pub microversion: String,
    pub auth_token: Option<String>,
    /// Images this provider deploys; empty allows any.
    pub images: Vec<String>,
    /// Cycles its outcalls may still attach (`ironic_budget_grant`); `None` is none. `opt`, so
    /// that settings stored before the budget existed still decode.
    pub outcall_budget_cycles: Option<u128>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoint: None,
            microversion: DEFAULT_MICROVERSION.into(),
            auth_token: None,
            images: vec![],
            outcall_budget_cycles: None,
        }
    }
}

/// Never prints the endpoint, the microversion or the credential, so no `{:?}` can leak them.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("backend", &self.backend())
            .field("credential_set", &self.auth_token.is_some())
            .field("images", &self.images)
            .field("outcall_budget_cycles", &self.outcall_budget_cycles)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn backend(&self) -> Backend {
        if self.endpoint.is_some() {
            Backend::Ironic
        } else {
            Backend::Simulated
        }
    }

    /// Whether the provider deploys `image`: any when it lists none.
    pub fn allows_image(&self, image: &str) -> bool {
        self.images.is_empty() || self.images.iter().any(|allowed| allowed == image)
    }

    /// `text` with the endpoint and the credential replaced, for messages callers read
    /// (an IC reject message may quote the URL it could not reach). Also a secret the text was
    /// cut short in: messages are cut to a length (Ironic's faultstring to 1 KiB, its
    /// `last_error` to 512 bytes, an unreadable answer's description to 256) before they get
    /// here, so a text may end, before an ellipsis, in the first bytes of the token or the
    /// endpoint.
    pub fn scrub(&self, text: &str) -> String {
        let secrets = self.secrets();
        let mut text = text.to_string();
        for (secret, mask) in &secrets {
            text = text.replace(secret, mask);
        }
        let (body, ellipsis) = match text.strip_suffix('…') {
            Some(body) => (body, "…"),
            None => (text.as_str(), ""),
        };
        for (secret, mask) in &secrets {
            // The longest start of the secret the text ends with; shorter than
            // MIN_PARTIAL_BYTES it tells nothing (and is likely a coincidence).
            let cut = (MIN_PARTIAL_BYTES..secret.len())
                .rev()
                .find(|&n| secret.is_char_boundary(n) && body.ends_with(&secret[..n]));
            if let Some(n) = cut {
                return format!("{}{mask}{ellipsis}", &body[..body.len() - n]);
            }
        }
        text
    }

    /// What messages must not quote, and what replaces it: the token, the endpoint, its bare
    /// host (which connection errors name) and its path (which a proxy's error may quote
    /// without the host).
    fn secrets(&self) -> Vec<(&str, &'static str)> {
        let mut secrets = vec![];
        if let Some(token) = self.auth_token.as_deref().filter(|t| !t.is_empty()) {
            secrets.push((token, "[redacted]"));
        }
        if let Some(endpoint) = &self.endpoint {
            let base = endpoint.trim_end_matches('/');
            let rest = base.strip_prefix("https://").unwrap_or_default();
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let host = authority
                .rsplit_once(':')
                .map_or(authority, |(name, _)| name);
            for part in [base, host, path] {
                if !part.is_empty() {
                    secrets.push((part, "[endpoint]"));
                }
            }
        }
        secrets
    }
}

/// The shortest start of a secret [`Settings::scrub`] removes from the end of a cut text.
const MIN_PARTIAL_BYTES: usize = 4;

crate::storable::candid_storable!(Settings);

thread_local! {
    static SETTINGS: RefCell<StableBTreeMap<ProviderKey, Settings, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::PROVISION_SETTINGS)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    SETTINGS.with(|_| ());
}

/// Sets the provider's backend: fields given replace the current ones. The provider's delegates
/// or controllers; anything refused changes nothing.
pub fn configure(
    rt: &impl Runtime,
    arg: IronicConfigureArg,
) -> Result<IronicSettingsView, ProvisionError> {
    let caller = rt.caller();
    let provider = if rt.is_controller(&caller) {
        // Controllers may configure a provider before it delegated anyone: check the key fully.
        ProviderKey::parse(&arg.provider).map_err(ProvisionError::invalid)?
    } else {
        delegation::acting_provider(rt, &arg.provider)
            .map(|(provider, _)| provider)
            .map_err(|e| match e {
                crate::market::MarketError::InvalidKey { message } => {
                    ProvisionError::invalid(message)
                }
                _ => ProvisionError::NotAuthorized {
                    message: "only the provider's delegates and controllers configure its Ironic"
                        .into(),
                },
            })?
    };
    let mut settings = get(&provider);
    if let Some(given) = arg.endpoint {
        settings.endpoint = if given.is_empty() {
            None
        } else {
            // The messages of `root_url` never quote the endpoint.
            endpoint::root_url(&given).map_err(ProvisionError::invalid)?;
            Some(given)
        };
    }
    if let Some(microversion) = arg.microversion {
        check_microversion(&microversion)?;
        settings.microversion = microversion;
    }
    if let Some(token) = arg.auth_token {
        settings.auth_token = if token.is_empty() {
            None
        } else {
            check_token(&token)?;
            Some(token)
        };
    }
    if let Some(images) = arg.images {
        check_images(&images)?;
        settings.images = images;
    }
    put(provider, settings.clone());
    Ok(view_of(&provider, &settings))
}

/// What anyone may know of the provider's settings.
pub fn view(provider: &ProviderKeyInput) -> Result<IronicSettingsView, ProvisionError> {
    let provider = ProviderKey::parse_for_lookup(provider).map_err(ProvisionError::invalid)?;
    Ok(view_of(&provider, &get(&provider)))
}

pub(super) fn view_of(provider: &ProviderKey, settings: &Settings) -> IronicSettingsView {
    IronicSettingsView {
        provider_pem: provider.to_pem(),
        backend: settings.backend(),
        credential_set: settings.auth_token.is_some(),
        images: settings.images.clone(),
        outcall_budget_cycles: settings.outcall_budget_cycles.unwrap_or(0),
    }
}

/// The provider's settings, or the defaults: simulated, [`DEFAULT_MICROVERSION`], no token,
/// any image.
pub fn get(provider: &ProviderKey) -> Settings {
    SETTINGS
        .with_borrow(|map| map.get(provider))
        .unwrap_or_default()
}

/// The settings of the provider whose stored PEM is `provider_pem`.
pub fn of_pem(provider_pem: &str) -> Settings {
    get(&market_store::provider_key(provider_pem))
}

/// Stores the provider's settings.
pub(super) fn put(provider: ProviderKey, settings: Settings) {
    SETTINGS.with_borrow_mut(|map| map.insert(provider, settings));
}

/// The provider's backend: its Ironic pays every outcall from the provider's budget.
pub fn client<'a, R: Runtime>(rt: &'a R, provider: &ProviderKey) -> AnyIronic<'a, R> {
    let settings = get(provider);
    let provider = *provider;
    match settings.endpoint {
        None => AnyIronic::Sim(SimIronic { rt, provider }),
        Some(endpoint) => AnyIronic::Http(HttpIronic {
            rt,
            endpoint,
            microversion: settings.microversion,
            auth_token: settings.auth_token,
            pay: Some(Box::new(move |cycles| {
                super::budget::debit(&provider, cycles)
            })),
        }),
    }
}

fn check_microversion(text: &str) -> Result<(), ProvisionError> {
    let minor = text.strip_prefix("1.").unwrap_or_default();
    if minor.is_empty()
        || minor.len() > MAX_MINOR_DIGITS
        || !minor.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ProvisionError::invalid(format!(
            "microversion must be \"1.N\" with 1 to {MAX_MINOR_DIGITS} digits, \
             e.g. \"{DEFAULT_MICROVERSION}\""
        )));
    }
    Ok(())
}

/// The token goes into a header: visible ASCII only (no line breaks to inject headers with).
/// The message never quotes it.
fn check_token(token: &str) -> Result<(), ProvisionError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(ProvisionError::invalid(format!(
            "auth_token must be at most {MAX_TOKEN_BYTES} bytes, got {}",
            token.len()
        )));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ProvisionError::invalid(
            "auth_token must be visible ASCII characters without spaces",
        ));
    }
    Ok(())
}

fn check_images(images: &[String]) -> Result<(), ProvisionError> {
    if images.len() > MAX_IMAGES {
        return Err(ProvisionError::invalid(format!(
            "at most {MAX_IMAGES} images, got {}",
            images.len()
        )));
    }
    for image in images {
        if image.is_empty() || image.len() > MAX_IMAGE_BYTES {
            return Err(ProvisionError::invalid(format!(
                "each image must be 1 to {MAX_IMAGE_BYTES} bytes, got {}",
                image.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
