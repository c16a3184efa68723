//! Each provider's outcall budget: the cycles its Ironic's outcalls may still attach.
//!
//! Anyone can mint a key, delegate to itself and point it at an endpoint of its own, so the
//! canister must not pay for a stranger's outcalls. Controllers grant a provider cycles
//! (`ironic_budget_grant`, adding to what is left); every outcall to the provider's Ironic
//! debits the cycles it attaches (`Runtime::outcall_cost` of the request) before it is sent, and
//! one the budget cannot pay is not sent ([`ClientError::OverBudget`]). The simulated Ironic
//! makes no outcall and needs no budget.
//!
//! The refund of what an answer did not use is not credited back: `http_request` reports it
//! only after the await, when other messages may have spent the budget meanwhile, and the
//! reservation is the bound a controller can reason about ("at most N outcalls of this kind").
//! The budget is kept in the provider's stored settings (`opt`, so older records decode).

use super::settings::{self, view_of};
use super::types::{IronicBudgetGrantArg, IronicSettingsView};
use super::ProvisionError;
use crate::catalog::provider::ProviderKey;
use crate::ironic::client::{ClientError, Target};
use crate::provision::AnyIronic;
use crate::runtime::Runtime;

/// The largest budget a provider may hold: a million T cycles, far above any real need, so
/// that a grant with a typo (or a sum of them) is refused rather than effectively unbounded.
pub const MAX_BUDGET_CYCLES: u128 = 1_000_000_000_000_000_000;

/// `ironic_budget_grant`: controllers only. Adds `cycles` to the provider's budget; refused
/// input changes nothing.
pub fn grant(
    rt: &impl Runtime,
    arg: IronicBudgetGrantArg,
) -> Result<IronicSettingsView, ProvisionError> {
    if !rt.is_controller(&rt.caller()) {
        return Err(ProvisionError::NotAuthorized {
            message: "only controllers grant outcall budgets".into(),
        });
    }
    // Controllers may fund a provider before it configured anything: check the key fully.
    let provider = ProviderKey::parse(&arg.provider).map_err(ProvisionError::invalid)?;
    let mut settings = settings::get(&provider);
    let total = settings
        .outcall_budget_cycles
        .unwrap_or(0)
        .checked_add(arg.cycles)
        .filter(|total| *total <= MAX_BUDGET_CYCLES);
    let Some(total) = total.filter(|_| arg.cycles > 0) else {
        return Err(ProvisionError::invalid(format!(
            "cycles must be at least 1 and the budget at most {MAX_BUDGET_CYCLES} cycles"
        )));
    };
    settings.outcall_budget_cycles = Some(total);
    settings::put(provider, settings.clone());
    Ok(view_of(&provider, &settings))
}

/// What the provider's outcalls may still attach.
pub fn remaining(provider: &ProviderKey) -> u128 {
    settings::get(provider).outcall_budget_cycles.unwrap_or(0)
}

/// Pays `cycles` for one outcall of the provider, or refuses it and changes nothing.
pub fn debit(provider: &ProviderKey, cycles: u128) -> Result<(), ClientError> {
    let mut settings = settings::get(provider);
    let remaining = settings.outcall_budget_cycles.unwrap_or(0);
    let Some(left) = remaining.checked_sub(cycles) else {
        return Err(ClientError::OverBudget {
            needed: cycles,
            remaining,
        });
    };
    settings.outcall_budget_cycles = Some(left);
    settings::put(*provider, settings);
    Ok(())
}

/// Refuses, before any outcall, a call whose outcalls would attach more than the provider has
/// left (`needed` is 0 on the simulated Ironic).
pub fn ensure(provider: &ProviderKey, needed: u128) -> Result<(), ProvisionError> {
    let remaining = remaining(provider);
    if needed > remaining {
        return Err(ProvisionError::OutcallBudgetExhausted {
            needed_cycles: needed,
            remaining_cycles: remaining,
        });
    }
    Ok(())
}

/// The node id priced before auto-selection has chosen one: Ironic's ids are UUIDs.
const PLACEHOLDER_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// What `provision_server` attaches before its deploy is polled: the first read (the node, or
/// a list page to auto-select), the PATCH and the PUT; 0 on the simulated Ironic. A request
/// that would not be sent costs nothing.
pub fn provision_price<R: Runtime>(
    rt: &R,
    ironic: &AnyIronic<'_, R>,
    server_id: Option<&str>,
    resource_class: Option<&str>,
    image: &str,
    lessee: &str,
    config_drive: Option<&str>,
) -> u128 {
    let AnyIronic::Http(http) = ironic else {
        return 0;
    };
    let uuid = server_id.unwrap_or(PLACEHOLDER_UUID);
    let first = match server_id {
        Some(id) => http.node_request(id),
        None => http.list_request(resource_class, None),
    };
    [
        first,
        http.set_instance_request(uuid, image, lessee),
        http.provision_request(uuid, Target::Active, config_drive),
    ]
    .iter()
    .filter_map(|request| request.as_ref().ok())
    .map(|request| rt.outcall_cost(request))
    .fold(0, u128::saturating_add)
}

#[cfg(test)]
mod tests;
