//! The provisioning calls on the canister, typed.

use super::super::*;
use super::ProvisionResult;

impl Canister {
    fn provision_update<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> ProvisionResult<T> {
        self.update(caller, method, (arg,))
    }

    fn provision_query<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> ProvisionResult<T> {
        let bytes = self
            .driver
            .query(caller, method, candid::encode_one(arg).unwrap())
            .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn provision_server(
        &mut self,
        caller: Principal,
        request: ProvisionRequest,
    ) -> ProvisionResult<ProvisionResponse> {
        self.provision_update(caller, "provision_server", request)
    }

    pub fn provision_status(
        &mut self,
        caller: Principal,
        operation_id: &str,
    ) -> ProvisionResult<ProvisionStatus> {
        self.provision_query(caller, "provision_status", operation_id.to_string())
    }

    pub fn provision_refresh(
        &mut self,
        caller: Principal,
        operation_id: &str,
    ) -> ProvisionResult<ProvisionStatus> {
        self.provision_update(caller, "provision_refresh", operation_id.to_string())
    }

    pub fn ironic_configure(
        &mut self,
        caller: Principal,
        arg: IronicConfigureArg,
    ) -> ProvisionResult<IronicSettingsView> {
        self.provision_update(caller, "ironic_configure", arg)
    }

    pub fn ironic_settings(
        &mut self,
        caller: Principal,
        provider: ProviderKeyInput,
    ) -> ProvisionResult<IronicSettingsView> {
        self.provision_query(caller, "ironic_settings", provider)
    }

    pub fn ironic_sim_set_failure(
        &mut self,
        caller: Principal,
        arg: SimFailureArg,
    ) -> ProvisionResult<()> {
        self.provision_update(caller, "ironic_sim_set_failure", arg)
    }
}

/// A request to provision `server_id` with `image`.
pub fn provision_node(server_id: &str, image: &str) -> ProvisionRequest {
    ProvisionRequest {
        server_id: Some(server_id.into()),
        image_id: image.into(),
        ..ProvisionRequest::default()
    }
}

impl Canister {
    /// `ironic_budget_grant`: adds cycles to a provider's outcall budget (controllers).
    pub fn ironic_budget_grant(
        &mut self,
        caller: Principal,
        arg: IronicBudgetGrantArg,
    ) -> ProvisionResult<IronicSettingsView> {
        self.update(caller, "ironic_budget_grant", (arg,))
    }
}
