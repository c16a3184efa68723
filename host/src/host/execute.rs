//! One execution: an entry point run against a snapshot, rolled back on a trap or for queries.

use super::{Entry, Host, Outcome};
use crate::context::Exec;
use candid::Principal;

impl Host {
    /// Runs one entry point against a snapshot and rolls everything back on a trap, or always
    /// for executions whose changes the IC discards (queries, inspect_message, transforms).
    pub(super) fn execute(&mut self, mut exec: Exec, entry: Entry<'_>) -> Outcome {
        let instance = self.instance.as_mut().expect("a module is installed");
        if !self.snapshot_synced {
            instance.snapshot_into(&mut self.snapshot);
            self.snapshot_synced = true;
        }
        let sys_before = self.sys.clone();
        let limit = match exec.instruction_limit {
            0 => exec.kind.instruction_limit(&self.limits),
            budget => budget,
        };
        exec.instruction_limit = limit;
        exec.stable_len_before = self.stable.len();
        {
            let ctx = instance.store.data_mut();
            ctx.sys = std::mem::take(&mut self.sys);
            ctx.stable = std::mem::take(&mut self.stable);
            ctx.exec = exec;
        }
        let (result, fuel_left) = match entry {
            Entry::Export(name) => instance.call_export(name, limit),
            Entry::Callback(fun, env) => instance.call_table(fun, env, limit),
        };
        let ctx = instance.store.data_mut();
        let exec = std::mem::take(&mut ctx.exec);
        self.sys = std::mem::take(&mut ctx.sys);
        self.stable = std::mem::take(&mut ctx.stable);
        self.debug_log.append(&mut ctx.debug_log);
        let instructions = limit - fuel_left;
        *self
            .executed
            .entry(self.sys.canister_id.clone())
            .or_default() += instructions;

        let trap = result.err().map(|error| {
            let out_of_fuel = exec.out_of_instructions || error.as_trap_code() == Some(wasmi::TrapCode::OutOfFuel);
            let detail = if out_of_fuel {
                format!("Canister exceeded the limit of {limit} instructions for single message execution.")
            } else if let Some(message) = &exec.trap {
                message.clone()
            } else {
                format!("Canister trapped: {error}")
            };
            format!("Error from Canister {}: {detail}", Principal::from_slice(&self.sys.canister_id))
        });
        // An injected trap strikes only an execution that got to its end.
        let injected = self.force_trap.take();
        let trap = trap.or_else(|| {
            injected.map(|detail| {
                format!(
                    "Error from Canister {}: {detail}",
                    Principal::from_slice(&self.sys.canister_id)
                )
            })
        });
        if trap.is_some() || exec.kind.discards_state() {
            instance
                .restore(&self.snapshot)
                .expect("a snapshot of this module can be restored");
            undo_stable(&mut self.stable, &exec.stable_undo, exec.stable_len_before);
            self.sys = sys_before;
        } else {
            instance.sync_snapshot(&mut self.snapshot);
            if let Some(dirty) = self.stable_dirty.as_mut() {
                for (offset, old) in &exec.stable_undo {
                    crate::persist::mark_dirty(dirty, *offset, old.len());
                }
            }
            if let Some(group) = self.group_undo.as_mut() {
                group.extend(exec.stable_undo);
            }
        }
        let failed = trap.is_some();
        Outcome {
            trap,
            response: if failed { None } else { exec.response },
            performed: if failed || exec.kind.discards_state() {
                vec![]
            } else {
                exec.performed
            },
            instructions,
            accepted: exec.accepted,
            cycles_accepted: (!failed).then_some(exec.cycles_accepted),
        }
    }
}

/// Undoes stable writes newest first, then drops pages grown since `len_before`.
pub(super) fn undo_stable(stable: &mut Vec<u8>, undo: &[(u64, Vec<u8>)], len_before: usize) {
    for (offset, old) in undo.iter().rev() {
        let start = *offset as usize;
        stable[start..start + old.len()].copy_from_slice(old);
    }
    stable.truncate(len_before);
}
