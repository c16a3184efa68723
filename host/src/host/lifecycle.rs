//! Installing and upgrading the canister, and running its lifecycle hooks.

use super::execute::undo_stable;
use super::{Entry, Host, Outcome};
use crate::context::{Exec, Kind};
use crate::instance::{Instance, Snapshot};
use crate::types::*;

impl Host {
    /// Installs `wasm` (plain or gzipped) and runs `canister_init` with `arg`, called by the first controller.
    pub fn install(&mut self, wasm: &[u8], arg: &[u8]) -> Result<(), Reject> {
        // Lifecycle hooks may rewrite stable memory wholesale: the next save writes all of it.
        self.stable_dirty = None;
        if self.instance.is_some() {
            return Err(Reject::new(
                RejectCode::CanisterReject,
                "a module is already installed; upgrade it instead",
            ));
        }
        self.instance = Some(Instance::new(wasm).map_err(install_error)?);
        self.snapshot_synced = false;
        self.sys.timer = 0;
        self.sys.version += 1;
        let outcome = self.run_lifecycle(
            Kind::Init,
            "canister_init",
            arg,
            self.sys.controllers.first().cloned().unwrap_or_default(),
        );
        if let Some(trap) = outcome.and_then(|o| o.trap) {
            self.instance = None;
            self.snapshot_synced = false;
            self.stable.clear();
            return Err(Reject::new(RejectCode::CanisterError, trap));
        }
        Ok(())
    }

    /// Stops the canister (runs queued work to completion), runs `canister_pre_upgrade`, swaps in
    /// the new module with a fresh heap and the same stable memory, and runs `canister_post_upgrade`.
    /// On any failure the canister is left exactly as before. The global timer is switched off.
    pub fn upgrade(&mut self, wasm: &[u8], arg: &[u8]) -> Result<(), Reject> {
        // Lifecycle hooks may rewrite stable memory wholesale: the next save writes all of it.
        self.stable_dirty = None;
        if self.instance.is_none() {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                "no module is installed",
            ));
        }
        self.run_until_idle();
        // Only this canister's own open call contexts keep it from stopping; calls to it
        // not yet delivered (held) and other canisters' work do not.
        let open = self.open_contexts(&self.sys.canister_id);
        if open > 0 {
            let awaited = self
                .awaiting
                .values()
                .filter(|a| a.caller == self.sys.canister_id)
                .count();
            return Err(Reject::new(
                RejectCode::SysTransient,
                format!(
                    "the canister cannot stop: {awaited} calls are still awaiting answers ({open} call contexts open)"
                ),
            ));
        }
        let new = Instance::new(wasm).map_err(install_error)?;
        let installer = self.sys.controllers.first().cloned().unwrap_or_default();
        let mut before = Snapshot::default();
        self.instance
            .as_ref()
            .expect("installed")
            .snapshot_into(&mut before);
        let sys_before = self.sys.clone();
        let stable_len_before = self.stable.len();
        self.group_undo = Some(vec![]);

        let pre = self.run_lifecycle(
            Kind::PreUpgrade,
            "canister_pre_upgrade",
            &[],
            installer.clone(),
        );
        let pre_instructions = pre.as_ref().map_or(0, |o| o.instructions);
        if let Some(trap) = pre.and_then(|o| o.trap) {
            self.group_undo = None;
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("pre_upgrade failed: {trap}"),
            ));
        }
        let old = self.instance.replace(new).expect("installed");
        self.snapshot_synced = false;
        self.sys.timer = 0;
        self.sys.version += 1;
        let post = self.run_lifecycle_with_limit(
            Kind::PostUpgrade,
            "canister_post_upgrade",
            arg,
            installer,
            self.limits.install.saturating_sub(pre_instructions).max(1),
        );
        let undo = self.group_undo.take().unwrap_or_default();
        let post_instructions = post.as_ref().map_or(0, |o| o.instructions);
        if let Some(trap) = post.and_then(|o| o.trap) {
            let mut old = old;
            old.restore(&before).map_err(install_error)?;
            self.instance = Some(old);
            self.snapshot_synced = false;
            undo_stable(&mut self.stable, &undo, stable_len_before);
            self.sys = sys_before;
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("post_upgrade failed: {trap}"),
            ));
        }
        self.last_instructions = pre_instructions + post_instructions;
        Ok(())
    }

    /// Installs `wasm` on an existing stable memory, as an upgrade would leave it: a fresh
    /// instance whose `canister_post_upgrade` runs with `arg` (no `pre_upgrade`, so the stable
    /// memory is taken as some earlier version saved it). For drills that build the state
    /// elsewhere, e.g. natively through the canister's own code, and measure the upgrade.
    pub fn install_on_stable(
        &mut self,
        wasm: &[u8],
        stable: Vec<u8>,
        arg: &[u8],
    ) -> Result<(), Reject> {
        if self.instance.is_some() {
            return Err(Reject::new(
                RejectCode::CanisterReject,
                "a module is already installed; upgrade it instead",
            ));
        }
        self.instance = Some(Instance::new(wasm).map_err(install_error)?);
        self.snapshot_synced = false;
        self.stable = stable;
        self.stable_dirty = None;
        self.sys.timer = 0;
        self.sys.version += 1;
        let installer = self.sys.controllers.first().cloned().unwrap_or_default();
        let outcome =
            self.run_lifecycle(Kind::PostUpgrade, "canister_post_upgrade", arg, installer);
        if let Some(trap) = outcome.and_then(|o| o.trap) {
            self.instance = None;
            self.snapshot_synced = false;
            self.stable.clear();
            return Err(Reject::new(
                RejectCode::CanisterError,
                format!("post_upgrade failed: {trap}"),
            ));
        }
        Ok(())
    }

    fn run_lifecycle(
        &mut self,
        kind: Kind,
        export: &str,
        arg: &[u8],
        caller: Vec<u8>,
    ) -> Option<Outcome> {
        self.run_lifecycle_with_limit(kind, export, arg, caller, self.limits.install)
    }

    fn run_lifecycle_with_limit(
        &mut self,
        kind: Kind,
        export: &str,
        arg: &[u8],
        caller: Vec<u8>,
        limit: u64,
    ) -> Option<Outcome> {
        if !self
            .instance
            .as_ref()
            .expect("installed")
            .has_export(export)
        {
            return None;
        }
        let exec = Exec {
            kind,
            arg: arg.to_vec(),
            caller,
            instruction_limit: limit,
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(export));
        self.last_instructions = outcome.instructions;
        if let Some(trap) = &outcome.trap {
            self.debug_log
                .push(format!("[host] {export} trapped: {trap}"));
        }
        // Lifecycle hooks may make calls only from timers they set; performed calls are impossible here.
        Some(outcome)
    }
}

fn install_error(message: String) -> Reject {
    Reject::new(RejectCode::CanisterError, message)
}
