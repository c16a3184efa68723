//! Configuration and inspection: ids, controllers, clock, cycles, limits, stand-ins, logs.

use super::Host;
use crate::instance::Instance;
use crate::types::*;
use candid::Principal;
use std::time::Duration;

impl Host {
    pub fn canister_id(&self) -> Principal {
        Principal::from_slice(&self.sys.canister_id)
    }
    pub fn controllers(&self) -> Vec<Principal> {
        self.sys
            .controllers
            .iter()
            .map(|c| Principal::from_slice(c))
            .collect()
    }
    pub fn set_controllers(&mut self, controllers: &[Principal]) {
        self.sys.controllers = controllers.iter().map(|c| c.as_slice().to_vec()).collect();
    }
    /// The module as it was installed (plain or gzipped), if one is.
    pub fn module(&self) -> Option<&[u8]> {
        self.instance.as_ref().map(|i| i.original.as_slice())
    }
    /// The canister version (`ic0.canister_version`): one more with each install and upgrade.
    pub fn canister_version(&self) -> u64 {
        self.sys.version
    }
    /// What the canister last passed to `ic0.certified_data_set`.
    pub fn certified_data(&self) -> &[u8] {
        &self.sys.certified_data
    }
    /// The certificate queries get from `ic0.data_certificate_copy` (`None`: no certificate,
    /// `data_certificate_present` is 0). As on the IC, only queries called as such see it:
    /// updates, callbacks, timers and a query method run as an update never do. Whoever
    /// serves the canister sets a fresh one (covering `certified_data`) before each query.
    pub fn set_data_certificate(&mut self, certificate: Option<Vec<u8>>) {
        self.data_certificate = certificate;
    }
    /// Nanoseconds since the Unix epoch.
    pub fn time(&self) -> u64 {
        self.sys.time
    }
    /// Moves the clock; time never goes backwards, as on the IC.
    pub fn set_time(&mut self, nanos: u64) {
        self.sys.time = self.sys.time.max(nanos);
    }
    pub fn advance_time(&mut self, by: Duration) {
        self.sys.time = self.sys.time.saturating_add(by.as_nanos() as u64);
    }
    /// The global timer's deadline, 0 when it is off.
    pub fn timer_deadline(&self) -> u64 {
        self.sys.timer
    }
    pub fn cycles(&self) -> u128 {
        self.sys.cycles
    }
    pub fn set_cycles(&mut self, cycles: u128) {
        self.sys.cycles = cycles;
    }
    /// Replaces the IC's instruction limits (the default) with others, e.g. small ones in tests.
    pub fn set_instruction_limits(&mut self, limits: InstructionLimits) {
        self.limits = limits;
    }
    /// Whether ingress updates run `canister_inspect_message` first (the default, as on the
    /// IC). Off, updates arrive as a canister's call would, or ingress whose node skipped the
    /// check: the canister's own answer to what inspect_message would have dropped.
    pub fn set_inspect_ingress(&mut self, on: bool) {
        self.inspect_ingress = on;
    }
    pub fn set_http_responder(
        &mut self,
        responder: impl FnMut(&HttpRequestArgs) -> HttpReply + 'static,
    ) {
        self.http_responder = Some(Box::new(responder));
    }
    /// Installs a stand-in for another canister, answering calls made to `callee` (unless a
    /// canister with that id is installed on the host: that one answers).
    pub fn set_callee(
        &mut self,
        callee: Principal,
        handler: impl FnMut(&str, &[u8], u128) -> Result<Vec<u8>, Reject> + 'static,
    ) {
        self.callees.insert(callee, Box::new(handler));
    }
    /// Everything the canister printed with `ic0.debug_print`, and host notes such as timer traps.
    pub fn take_debug_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.debug_log)
    }
    /// Instructions used by the last completed ingress message or query, over all its executions.
    pub fn last_instructions(&self) -> u64 {
        self.last_instructions
    }
    /// Instructions of each execution of the canister's calls to itself since the last take,
    /// oldest first: ic-cdk-timers runs every timer in such a call, so these are the timer
    /// runs' messages (which `last_instructions` does not see: they answer no ingress).
    pub fn take_self_call_instructions(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.self_call_instructions)
    }
    /// Instructions used by every execution of canister `id` so far (messages, callbacks,
    /// timer runs, install and upgrade): the difference around some work is its whole cost,
    /// however many messages it took.
    pub fn instructions_executed(&self, id: Principal) -> u64 {
        self.executed.get(id.as_slice()).copied().unwrap_or(0)
    }

    pub fn stable_memory(&self) -> &[u8] {
        &self.stable
    }
    pub fn heap_bytes(&self) -> usize {
        self.instance.as_ref().map_or(0, Instance::memory_size)
    }
    pub fn is_installed(&self) -> bool {
        self.instance.is_some()
    }
    /// Whether nothing is queued, awaited or open.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.awaiting.is_empty() && self.contexts.is_empty()
    }
}
