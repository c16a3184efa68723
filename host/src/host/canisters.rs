//! Several canisters on one host: installing more, addressing them, stopping and starting them.
//!
//! The canister being executed lives in `Host`'s own fields, so all the single-canister code
//! runs unchanged; the others wait in `Host::others`. `with_canister` swaps a canister's state
//! in for the duration of a closure and the previous one back after, so outside of it the
//! primary canister is always the one in place.

use super::Host;
use crate::context::System;
use crate::instance::{Instance, Snapshot};
use crate::types::*;
use candid::Principal;
use std::collections::BTreeSet;

/// One canister's own state while another one is in place.
pub(super) struct Canister {
    sys: System,
    stable: Vec<u8>,
    instance: Option<Instance>,
    snapshot: Snapshot,
    snapshot_synced: bool,
    stable_dirty: Option<BTreeSet<u64>>,
    saved: Option<crate::persist::Saved>,
}

impl Canister {
    pub(super) fn timer_due(&self, now: u64) -> bool {
        self.sys.timer != 0 && now >= self.sys.timer
    }

    #[cfg(test)]
    pub(super) fn empty_for_tests(id: Principal) -> Self {
        Self::empty(System {
            canister_id: id.as_slice().to_vec(),
            ..System::default()
        })
    }

    fn empty(sys: System) -> Self {
        Self {
            sys,
            stable: vec![],
            instance: None,
            snapshot: Snapshot::default(),
            snapshot_synced: false,
            stable_dirty: None,
            saved: None,
        }
    }
}

impl Host {
    /// Creates a canister with the next free id (as a local replica assigns them), installs
    /// `wasm` and runs `canister_init` with `arg`. `controllers` empty: the default controller.
    /// The new canister starts with [`crate::DEFAULT_CYCLES`]. On failure nothing is left behind.
    pub fn install_canister(
        &mut self,
        wasm: &[u8],
        arg: &[u8],
        controllers: &[Principal],
    ) -> Result<Principal, Reject> {
        let id = loop {
            self.canisters_created += 1;
            let mut bytes = self.canisters_created.to_be_bytes().to_vec();
            bytes.extend([1, 1]);
            if !self.hosts(&bytes) {
                break Principal::from_slice(&bytes);
            }
        };
        self.install_canister_at(id, wasm, arg, controllers)?;
        Ok(id)
    }

    /// Like [`Host::install_canister`] with a chosen id (e.g. the ledger id a canister expects).
    pub fn install_canister_at(
        &mut self,
        id: Principal,
        wasm: &[u8],
        arg: &[u8],
        controllers: &[Principal],
    ) -> Result<(), Reject> {
        let key = id.as_slice().to_vec();
        if self.hosts(&key) || id == Principal::management_canister() {
            return Err(Reject::new(
                RejectCode::CanisterReject,
                format!("canister {id} already exists"),
            ));
        }
        let controllers = match controllers {
            [] => vec![Self::default_controller().as_slice().to_vec()],
            some => some.iter().map(|c| c.as_slice().to_vec()).collect(),
        };
        let sys = System {
            canister_id: key.clone(),
            controllers,
            time: self.sys.time,
            timer: 0,
            cycles: super::DEFAULT_CYCLES,
            certified_data: vec![],
            version: 0,
        };
        self.others.insert(key.clone(), Canister::empty(sys));
        let installed = self.with_canister(id, |host| host.install(wasm, arg))?;
        if installed.is_err() {
            self.others.remove(&key);
        }
        installed
    }

    /// Upgrades canister `id` as [`Host::upgrade`] does the primary one. Calls to it that are
    /// held ([`Host::pause`]) are not yet its call contexts and do not block the upgrade.
    pub fn upgrade_canister(
        &mut self,
        id: Principal,
        wasm: &[u8],
        arg: &[u8],
    ) -> Result<(), Reject> {
        self.with_canister(id, |host| host.upgrade(wasm, arg))?
    }

    /// An ingress update to canister `id`, run until answered (see [`Host::update`]).
    pub fn update_on(
        &mut self,
        id: Principal,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, Reject> {
        self.with_canister(id, |host| host.update(caller, method, arg))?
    }

    /// Submits an ingress update to canister `id` (see [`Host::submit_update`]); its answer is
    /// taken with [`Host::take_result`] like any other.
    pub fn submit_update_on(
        &mut self,
        id: Principal,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<MessageId, Reject> {
        self.with_canister(id, |host| host.submit_update(caller, method, arg))
    }

    /// A query to canister `id` (see [`Host::query`]).
    pub fn query_on(
        &mut self,
        id: Principal,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, Reject> {
        self.with_canister(id, |host| host.query(caller, method, arg))?
    }

    /// Runs `f` with canister `id` in place of the primary one: inside, every `Host` method
    /// (`cycles`, `stable_memory`, `set_controllers`, `update`, ...) addresses that canister.
    /// Queued work that runs meanwhile still reaches every canister.
    pub fn with_canister<R>(
        &mut self,
        id: Principal,
        f: impl FnOnce(&mut Self) -> R,
    ) -> Result<R, Reject> {
        let key = id.as_slice();
        if !self.hosts(key) {
            return Err(not_found(id));
        }
        Ok(self.on(key, f))
    }

    /// Every canister on the host, the primary first.
    pub fn canister_ids(&self) -> Vec<Principal> {
        std::iter::once(&self.sys.canister_id)
            .chain(self.others.keys())
            .map(|id| Principal::from_slice(id))
            .collect()
    }

    /// Asks canister `id` to stop, as the management canister's `stop_canister` does: from now
    /// on calls and ingress to it are rejected and its timer does not fire, while its open call
    /// contexts may still finish. Runs ready work until they have; `Ok` once it is stopped,
    /// otherwise (calls still awaited) it stays stopping and the error says so.
    pub fn stop_canister(&mut self, id: Principal) -> Result<(), Reject> {
        let key = id.as_slice().to_vec();
        if !self.hosts(&key) {
            return Err(not_found(id));
        }
        self.stopping.insert(key.clone());
        self.run_until(|host| host.open_contexts(&key) == 0);
        match self.open_contexts(&key) {
            0 => Ok(()),
            open => Err(Reject::new(
                RejectCode::SysTransient,
                format!("Canister {id} is stopping: {open} call contexts are still open"),
            )),
        }
    }

    /// Starts a stopping or stopped canister again.
    pub fn start_canister(&mut self, id: Principal) -> Result<(), Reject> {
        if !self.hosts(id.as_slice()) {
            return Err(not_found(id));
        }
        self.stopping.remove(id.as_slice());
        Ok(())
    }

    pub fn canister_status(&self, id: Principal) -> Option<CanisterStatus> {
        let key = id.as_slice();
        if !self.hosts(key) {
            None
        } else if !self.stopping.contains(key) {
            Some(CanisterStatus::Running)
        } else if self.open_contexts(key) > 0 {
            Some(CanisterStatus::Stopping)
        } else {
            Some(CanisterStatus::Stopped)
        }
    }

    /// The reject a call or ingress message to a stopping or stopped canister gets.
    pub(super) fn stopped_reject(&self, id: &[u8]) -> Option<Reject> {
        let status = match self.canister_status(Principal::from_slice(id))? {
            CanisterStatus::Running => return None,
            CanisterStatus::Stopping => "stopping",
            CanisterStatus::Stopped => "stopped",
        };
        Some(Reject::new(
            RejectCode::CanisterError,
            format!("Canister {} is {status}", Principal::from_slice(id)),
        ))
    }

    /// The installed canisters other than the one in place, in id order.
    pub(crate) fn installed_others(&self) -> Vec<Principal> {
        self.others
            .iter()
            .filter(|(_, canister)| canister.instance.is_some())
            .map(|(id, _)| Principal::from_slice(id))
            .collect()
    }

    /// Forgets what every canister last saved, so that each next save writes everything (after a
    /// save that failed halfway, what is on disk is unknown).
    pub(crate) fn forget_saves(&mut self) {
        self.saved = None;
        for canister in self.others.values_mut() {
            canister.saved = None;
        }
    }

    /// Fails a save at `point` when a test asked for it (`crash_at`), as a crash there would.
    #[cfg(test)]
    pub(crate) fn crash_point(&self, point: &str) -> Result<(), String> {
        match self.crash_at {
            Some(at) if at == point => Err(format!("crashed {point}")),
            _ => Ok(()),
        }
    }

    /// Takes `other`'s primary canister (loaded from its own directory) in as canister `id`.
    pub(crate) fn adopt(&mut self, id: Principal, other: Host) -> Result<(), String> {
        let key = id.as_slice().to_vec();
        if other.sys.canister_id != key {
            return Err(format!(
                "the canister saved as {id} is {}",
                Principal::from_slice(&other.sys.canister_id)
            ));
        }
        if self.hosts(&key) {
            return Err(format!("canister {id} is saved twice"));
        }
        // Ids handed out later must not repeat this one (ids count up, as a local replica's).
        if let [counter @ .., 1, 1] = key.as_slice() {
            if let Ok(bytes) = <[u8; 8]>::try_from(counter) {
                self.canisters_created = self.canisters_created.max(u64::from_be_bytes(bytes));
            }
        }
        let canister = Canister {
            sys: other.sys,
            stable: other.stable,
            instance: other.instance,
            snapshot: Snapshot::default(),
            snapshot_synced: false,
            stable_dirty: other.stable_dirty,
            saved: other.saved,
        };
        self.others.insert(key, canister);
        Ok(())
    }

    pub(super) fn hosts(&self, id: &[u8]) -> bool {
        self.sys.canister_id == id || self.others.contains_key(id)
    }

    pub(super) fn open_contexts(&self, id: &[u8]) -> usize {
        self.contexts.values().filter(|c| c.canister == id).count()
    }

    /// Runs `f` with hosted canister `id` in place, then puts the previous one back.
    pub(crate) fn on<R>(&mut self, id: &[u8], f: impl FnOnce(&mut Self) -> R) -> R {
        if self.sys.canister_id == id {
            return f(self);
        }
        let home = self.sys.canister_id.clone();
        self.swap_in(id);
        let result = f(self);
        self.swap_in(&home);
        result
    }

    fn swap_in(&mut self, id: &[u8]) {
        let mut other = self.others.remove(id).expect("a hosted canister");
        // One clock for all canisters: time moves only forward, so the later one is current.
        other.sys.time = other.sys.time.max(self.sys.time);
        std::mem::swap(&mut self.sys, &mut other.sys);
        std::mem::swap(&mut self.stable, &mut other.stable);
        std::mem::swap(&mut self.instance, &mut other.instance);
        std::mem::swap(&mut self.snapshot, &mut other.snapshot);
        std::mem::swap(&mut self.snapshot_synced, &mut other.snapshot_synced);
        std::mem::swap(&mut self.stable_dirty, &mut other.stable_dirty);
        std::mem::swap(&mut self.saved, &mut other.saved);
        self.others.insert(other.sys.canister_id.clone(), other);
    }
}

fn not_found(id: Principal) -> Reject {
    Reject::new(
        RejectCode::DestinationInvalid,
        format!("Canister {id} not found"),
    )
}
