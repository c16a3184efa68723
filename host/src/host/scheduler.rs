//! Running queued work: the canisters' global timers, best-effort timeouts, dispatched calls, answers.

use super::{CallId, Entry, Host, Origin, Work};
use crate::context::{Exec, Kind};
use crate::types::*;
use candid::Principal;

/// How often one `tick` may fire the global timer while time stands still.
const MAX_TIMER_FIRES_PER_RUN: usize = 1_000;

impl Host {
    /// Fires the timer if due and runs queued calls and answers until nothing more is ready.
    /// Returns how many steps ran.
    pub fn tick(&mut self) -> usize {
        self.run_until(|_| false)
    }

    /// Moves the clock forward by `by`, stopping at each timer deadline on the way to run what
    /// falls due there (as time passing on the IC would), then runs what is due at the end.
    /// Returns how many steps ran. After 100 000 deadlines it jumps to the end.
    pub fn advance_time_through_timers(&mut self, by: std::time::Duration) -> usize {
        const MAX_STOPS: usize = 100_000;
        let target = self
            .time()
            .saturating_add(by.as_nanos().min(u128::from(u64::MAX)) as u64);
        let mut steps = 0;
        for _ in 0..MAX_STOPS {
            let deadline = self.timer_deadline();
            if deadline == 0 || deadline > target {
                break;
            }
            self.set_time(deadline);
            let ran = self.tick();
            steps += ran;
            if ran == 0 {
                break; // the timer is due but cannot fire (no export, no cycles)
            }
        }
        self.set_time(target);
        steps + self.tick()
    }

    pub(super) fn run_until_idle(&mut self) {
        self.run_until(|_| false);
    }

    pub(super) fn run_until(&mut self, done: impl Fn(&Self) -> bool) -> usize {
        let mut steps = 0;
        let mut timer_fires = 0;
        loop {
            if done(self) {
                return steps;
            }
            self.expire_best_effort_calls();
            // A timer that keeps re-arming itself for "now" would fire forever while time stands
            // still; on the IC each firing takes a round, here the run stops and the next tick goes on.
            if timer_fires < MAX_TIMER_FIRES_PER_RUN && self.fire_a_due_timer() {
                timer_fires += 1;
                steps += 1;
                continue;
            }
            match self.queue.pop_front() {
                Some(Work::Dispatch(call)) => self.dispatch(call),
                Some(Work::Deliver {
                    call,
                    result,
                    refund,
                }) => self.deliver(call, result, refund),
                None => return steps,
            }
            steps += 1;
        }
    }

    /// Fires the first due timer of any canister, the one in place first.
    fn fire_a_due_timer(&mut self) -> bool {
        if self.fire_timer_if_due() {
            return true;
        }
        let now = self.sys.time;
        let due: Vec<Vec<u8>> = self
            .others
            .keys()
            .filter(|id| self.others[*id].timer_due(now))
            .cloned()
            .collect();
        due.iter()
            .any(|id| self.on(id, |host| host.fire_timer_if_due()))
    }

    fn fire_timer_if_due(&mut self) -> bool {
        let due = self.sys.timer != 0
            && self.sys.time >= self.sys.timer
            && !self.stopping.contains(&self.sys.canister_id);
        if !due
            || !self
                .instance
                .as_ref()
                .is_some_and(|i| i.has_export("canister_global_timer"))
        {
            return false;
        }
        // The IC switches the timer off when it fires; the canister re-arms it if it wants.
        self.sys.timer = 0;
        let context = self.open_context(Origin::System, self.sys.canister_id.clone(), 0, 0);
        let exec = Exec {
            kind: Kind::Timer,
            caller: self.sys.canister_id.clone(),
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export("canister_global_timer"));
        if let Some(trap) = &outcome.trap {
            self.debug_log
                .push(format!("[host] canister_global_timer trapped: {trap}"));
        }
        self.close_execution(context, outcome);
        true
    }

    /// Bounded-wait calls past their deadline get `SYS_UNKNOWN`: a deferred outcall is dropped
    /// (its cycles refunded, as before), a canister call's answer, if it comes, is dropped and
    /// its cycles are lost, as on the IC; a request not yet run is dropped.
    fn expire_best_effort_calls(&mut self) {
        let now = self.sys.time;
        let mut expired: Vec<CallId> = self
            .awaiting
            .iter()
            .filter(|(_, a)| !a.expired && a.deadline != 0 && a.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        expired.sort_unstable(); // in the order the calls were made
        for call in expired {
            let outcall = self
                .deferred
                .iter()
                .find(|(_, d)| d.call == call)
                .map(|(id, _)| *id);
            let awaiting = self.awaiting.get_mut(&call).expect("listed");
            if outcall.is_none()
                && Principal::from_slice(&awaiting.call.callee) == Principal::management_canister()
            {
                continue; // an outcall already answered: its answer is queued
            }
            awaiting.expired = true;
            let refund = match outcall {
                Some(id) => {
                    self.deferred.remove(&id);
                    awaiting.call.cycles
                }
                None => 0,
            };
            let timeout = Reject::new(RejectCode::SysUnknown, "Timeout expired");
            self.queue.push_back(Work::Deliver {
                call,
                result: Err(timeout),
                refund,
            });
        }
    }
}
