//! The host: one canister, its messages, call contexts, timer, outgoing calls and outcalls.
//!
//! Every execution (a method, a callback, the timer) runs against a snapshot: on a trap, or
//! always for queries, the wasm memory, globals, stable memory and system state go back to it.
//! A message that awaits a call ends its execution; the call becomes queued work, and other
//! messages may run before its answer is delivered to the callback, as on the IC.

use crate::context::{Exec, Kind, OutCall, Response, System};
use crate::http;
use crate::instance::{Instance, Snapshot};
use crate::types::*;
use candid::Principal;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

/// 2026-01-01T00:00:00Z, the default start time, so runs are reproducible.
pub const DEFAULT_TIME_NANOS: u64 = 1_767_225_600_000_000_000;
pub const DEFAULT_CYCLES: u128 = 100_000_000_000_000;

/// How often one `tick` may fire the global timer while time stands still.
const MAX_TIMER_FIRES_PER_RUN: usize = 1_000;

type ContextId = u64;
type CallId = u64;

#[derive(Clone, Copy, Debug)]
enum Origin {
    Ingress(MessageId),
    /// A call from the canister itself (self-call) awaiting this context's answer.
    Call(CallId),
    /// Timer and lifecycle executions answer nobody.
    System,
}

#[derive(Debug)]
struct CallContext {
    origin: Origin,
    caller: Vec<u8>,
    responded: bool,
    outstanding: u32,
    instructions: u64,
    cycles: u128,
    cycles_accepted: u128,
    deadline: u64,
}

/// A performed call waiting for its answer.
struct Awaiting {
    context: ContextId,
    call: OutCall,
    /// Best-effort calls time out at this time; 0 for unbounded waits.
    deadline: u64,
}

enum Work {
    Dispatch(CallId),
    Deliver {
        call: CallId,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    },
}

struct Deferred {
    call: CallId,
    args: HttpRequestArgs,
}

enum Entry<'a> {
    Export(&'a str),
    Callback(u32, u32),
}

struct Outcome {
    trap: Option<String>,
    response: Option<Response>,
    performed: Vec<OutCall>,
    instructions: u64,
    accepted: bool,
    /// Cycles the call context has accepted so far; `None` when the execution trapped.
    cycles_accepted: Option<u128>,
}

/// One canister on an ic0 host. See the crate documentation for the semantics it follows.
pub struct Host {
    pub(crate) sys: System,
    pub(crate) stable: Vec<u8>,
    pub(crate) instance: Option<Instance>,
    snapshot: Snapshot,
    debug_log: Vec<String>,
    contexts: HashMap<ContextId, CallContext>,
    awaiting: HashMap<CallId, Awaiting>,
    queue: VecDeque<Work>,
    deferred: BTreeMap<OutcallId, Deferred>,
    results: HashMap<MessageId, Result<Vec<u8>, Reject>>,
    http_responder: Option<HttpResponder>,
    callees: HashMap<Principal, CallHandler>,
    next_id: u64,
    last_instructions: u64,
    /// Instructions of each execution of a call the canister made to itself, until taken.
    self_call_instructions: Vec<u64>,
    /// Stable writes of successful executions, kept while an upgrade must be able to roll back.
    group_undo: Option<Vec<(u64, Vec<u8>)>>,
    limits: InstructionLimits,
    /// Whether ingress updates pass through `canister_inspect_message` first.
    inspect_ingress: bool,
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// The principal that installs the canister and is its only controller unless changed.
    pub fn default_controller() -> Principal {
        Principal::self_authenticating(b"ic0-host default controller")
    }

    /// The id of the hosted canister (the first id a local replica assigns).
    pub fn default_canister_id() -> Principal {
        Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    }

    pub fn new() -> Self {
        Self {
            sys: System {
                canister_id: Self::default_canister_id().as_slice().to_vec(),
                controllers: vec![Self::default_controller().as_slice().to_vec()],
                time: DEFAULT_TIME_NANOS,
                timer: 0,
                cycles: DEFAULT_CYCLES,
                certified_data: vec![],
                version: 0,
            },
            stable: vec![],
            instance: None,
            snapshot: Snapshot::default(),
            debug_log: vec![],
            contexts: HashMap::new(),
            awaiting: HashMap::new(),
            queue: VecDeque::new(),
            deferred: BTreeMap::new(),
            results: HashMap::new(),
            http_responder: None,
            callees: HashMap::new(),
            next_id: 1,
            last_instructions: 0,
            self_call_instructions: vec![],
            group_undo: None,
            limits: InstructionLimits::default(),
            inspect_ingress: true,
        }
    }

    // ----- configuration -----

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
    /// Installs a stand-in for another canister, answering calls made to `callee`.
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

    // ----- lifecycle -----

    /// Installs `wasm` (plain or gzipped) and runs `canister_init` with `arg`, called by the first controller.
    pub fn install(&mut self, wasm: &[u8], arg: &[u8]) -> Result<(), Reject> {
        if self.instance.is_some() {
            return Err(Reject::new(
                RejectCode::CanisterReject,
                "a module is already installed; upgrade it instead",
            ));
        }
        self.instance = Some(Instance::new(wasm).map_err(install_error)?);
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
            self.stable.clear();
            return Err(Reject::new(RejectCode::CanisterError, trap));
        }
        Ok(())
    }

    /// Stops the canister (runs queued work to completion), runs `canister_pre_upgrade`, swaps in
    /// the new module with a fresh heap and the same stable memory, and runs `canister_post_upgrade`.
    /// On any failure the canister is left exactly as before. The global timer is switched off.
    pub fn upgrade(&mut self, wasm: &[u8], arg: &[u8]) -> Result<(), Reject> {
        if self.instance.is_none() {
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                "no module is installed",
            ));
        }
        self.run_until_idle();
        if !self.is_idle() {
            return Err(Reject::new(
                RejectCode::SysTransient,
                format!(
                    "the canister cannot stop: {} calls are still awaiting answers",
                    self.awaiting.len()
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

    // ----- messages -----

    /// Runs a query: its reply is returned and every change it made is discarded.
    pub fn query(
        &mut self,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, Reject> {
        self.check_ingress(method, arg, "canister_query")?;
        let plain = format!("canister_query {method}");
        let export = if self.instance.as_ref().is_some_and(|i| i.has_export(&plain)) {
            plain
        } else {
            format!("canister_composite_query {method}")
        };
        let exec = Exec {
            kind: Kind::Query,
            arg: arg.to_vec(),
            caller: caller.as_slice().to_vec(),
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(&export));
        self.last_instructions = outcome.instructions;
        match (outcome.trap, outcome.response) {
            (Some(trap), _) => Err(Reject::new(RejectCode::CanisterError, trap)),
            (None, Some(Response::Reply(bytes))) => Ok(bytes),
            (None, Some(Response::Reject(message))) => {
                Err(Reject::new(RejectCode::CanisterReject, message))
            }
            (None, None) => Err(self.no_reply()),
        }
    }

    /// Submits an update call and runs everything that becomes ready until it is answered.
    pub fn update(
        &mut self,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Vec<u8>, Reject> {
        let id = self.submit_update(caller, method, arg);
        self.run_until(|host| host.results.contains_key(&id));
        self.take_result(id).unwrap_or_else(|| {
            Err(Reject::new(
                RejectCode::SysUnknown,
                "the message is still waiting for a deferred outcall; use submit_update and answer_http",
            ))
        })
    }

    /// Submits an update call and runs its first execution; the answer may come later
    /// (see [`Host::take_result`]) when the method awaits calls.
    pub fn submit_update(&mut self, caller: Principal, method: &str, arg: &[u8]) -> MessageId {
        let id = MessageId(self.fresh_id());
        if let Err(reject) = self.check_ingress(method, arg, "canister_update") {
            self.results.insert(id, Err(reject));
            return id;
        }
        if let Err(reject) = self.inspect(&caller, method, arg) {
            self.results.insert(id, Err(reject));
            return id;
        }
        let context = self.open_context(Origin::Ingress(id), caller.as_slice().to_vec(), 0, 0);
        let exec = Exec {
            kind: Kind::Update,
            arg: arg.to_vec(),
            caller: caller.as_slice().to_vec(),
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(&format!("canister_update {method}")));
        self.close_execution(context, outcome);
        id
    }

    /// The answer to a submitted update, once there is one (taken out of the host).
    pub fn take_result(&mut self, id: MessageId) -> Option<Result<Vec<u8>, Reject>> {
        self.results.remove(&id)
    }

    fn check_ingress(&self, method: &str, arg: &[u8], prefix: &str) -> Result<(), Reject> {
        let instance = self.instance.as_ref().ok_or_else(|| {
            Reject::new(
                RejectCode::DestinationInvalid,
                format!("canister {} is empty", self.canister_id()),
            )
        })?;
        if arg.len() > limits::INGRESS_BYTES {
            return Err(Reject::new(
                RejectCode::SysFatal,
                format!(
                    "ingress message of {} bytes exceeds the limit of {} bytes",
                    arg.len(),
                    limits::INGRESS_BYTES
                ),
            ));
        }
        let exported = instance.has_export(&format!("{prefix} {method}"))
            || (prefix == "canister_query"
                && instance.has_export(&format!("canister_composite_query {method}")));
        if !exported {
            let kind = if prefix == "canister_query" {
                "query"
            } else {
                "update"
            };
            return Err(Reject::new(
                RejectCode::DestinationInvalid,
                format!(
                    "Canister {} has no {kind} method '{method}'",
                    self.canister_id()
                ),
            ));
        }
        Ok(())
    }

    /// `canister_inspect_message` runs before an ingress update; it must accept the message.
    fn inspect(&mut self, caller: &Principal, method: &str, arg: &[u8]) -> Result<(), Reject> {
        if !self.inspect_ingress
            || !self
                .instance
                .as_ref()
                .expect("checked")
                .has_export("canister_inspect_message")
        {
            return Ok(());
        }
        let exec = Exec {
            kind: Kind::Inspect,
            arg: arg.to_vec(),
            caller: caller.as_slice().to_vec(),
            method: method.to_string(),
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export("canister_inspect_message"));
        match outcome.trap {
            Some(trap) => Err(Reject::new(
                RejectCode::CanisterReject,
                format!("inspect_message trapped: {trap}"),
            )),
            None if !outcome.accepted => Err(Reject::new(
                RejectCode::CanisterReject,
                format!(
                    "Canister {} rejected the message in inspect_message",
                    self.canister_id()
                ),
            )),
            None => Ok(()),
        }
    }

    // ----- running queued work -----

    /// Fires the timer if due and runs queued calls and answers until nothing more is ready.
    /// Returns how many steps ran.
    pub fn tick(&mut self) -> usize {
        self.run_until(|_| false)
    }

    fn run_until_idle(&mut self) {
        self.run_until(|_| false);
    }

    fn run_until(&mut self, done: impl Fn(&Self) -> bool) -> usize {
        let mut steps = 0;
        let mut timer_fires = 0;
        loop {
            if done(self) {
                return steps;
            }
            self.expire_best_effort_calls();
            // A timer that keeps re-arming itself for "now" would fire forever while time stands
            // still; on the IC each firing takes a round, here the run stops and the next tick goes on.
            if timer_fires < MAX_TIMER_FIRES_PER_RUN && self.fire_timer_if_due() {
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

    fn fire_timer_if_due(&mut self) -> bool {
        let due = self.sys.timer != 0 && self.sys.time >= self.sys.timer;
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

    fn expire_best_effort_calls(&mut self) {
        let now = self.sys.time;
        let expired: Vec<(OutcallId, CallId)> = self
            .deferred
            .iter()
            .filter(|(_, d)| {
                self.awaiting
                    .get(&d.call)
                    .is_some_and(|a| a.deadline != 0 && a.deadline <= now)
            })
            .map(|(id, d)| (*id, d.call))
            .collect();
        for (id, call) in expired {
            self.deferred.remove(&id);
            let refund = self.awaiting.get(&call).map_or(0, |a| a.call.cycles);
            let timeout = Reject::new(RejectCode::SysUnknown, "Timeout expired");
            self.queue.push_back(Work::Deliver {
                call,
                result: Err(timeout),
                refund,
            });
        }
    }

    // ----- outgoing calls -----

    fn dispatch(&mut self, call_id: CallId) {
        let Some(awaiting) = self.awaiting.get(&call_id) else {
            return;
        };
        let call = awaiting.call.clone();
        let deadline = awaiting.deadline;
        let callee = Principal::from_slice(&call.callee);
        if call.callee == self.sys.canister_id {
            self.self_call(call_id, call, deadline);
        } else if callee == Principal::management_canister() {
            self.management_call(call_id, call);
        } else if let Some(handler) = self.callees.get_mut(&callee) {
            let result = handler(&call.method, &call.payload, call.cycles);
            // Stand-ins accept no cycles: everything attached is refunded.
            self.queue.push_back(Work::Deliver {
                call: call_id,
                result,
                refund: call.cycles,
            });
        } else {
            let reject = Reject::new(
                RejectCode::DestinationInvalid,
                format!("Canister {callee} not found"),
            );
            self.queue.push_back(Work::Deliver {
                call: call_id,
                result: Err(reject),
                refund: call.cycles,
            });
        }
    }

    fn self_call(&mut self, call_id: CallId, call: OutCall, deadline: u64) {
        let export = format!("canister_update {}", call.method);
        if !self
            .instance
            .as_ref()
            .is_some_and(|i| i.has_export(&export))
        {
            let reject = Reject::new(
                RejectCode::DestinationInvalid,
                format!(
                    "Canister {} has no update method '{}'",
                    self.canister_id(),
                    call.method
                ),
            );
            self.queue.push_back(Work::Deliver {
                call: call_id,
                result: Err(reject),
                refund: call.cycles,
            });
            return;
        }
        let caller = self.sys.canister_id.clone();
        let context =
            self.open_context(Origin::Call(call_id), caller.clone(), call.cycles, deadline);
        let exec = Exec {
            kind: Kind::Update,
            arg: call.payload,
            caller,
            deadline,
            cycles_available: call.cycles,
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(&export));
        self.self_call_instructions.push(outcome.instructions);
        self.close_execution(context, outcome);
    }

    fn management_call(&mut self, call_id: CallId, call: OutCall) {
        let result = match call.method.as_str() {
            "http_request" => {
                match http::accept_request(&call.payload, call.cycles, &self.sys.canister_id) {
                    Ok(args) => return self.http_outcall(call_id, call.cycles, args),
                    Err(reject) => Err(reject),
                }
            }
            "raw_rand" => Ok(
                candid::encode_one(serde_bytes::ByteBuf::from(self.raw_rand())).expect("encodes"),
            ),
            other => Err(Reject::new(
                RejectCode::CanisterReject,
                format!("the ic0 host does not implement management canister method {other}"),
            )),
        };
        self.queue.push_back(Work::Deliver {
            call: call_id,
            result,
            refund: call.cycles,
        });
    }

    /// Deterministic randomness, different for every call.
    fn raw_rand(&mut self) -> Vec<u8> {
        let id = self.fresh_id();
        let mut seed = self.sys.time ^ id.rotate_left(32);
        (0..32)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect()
    }

    fn http_outcall(&mut self, call_id: CallId, cycles: u128, args: HttpRequestArgs) {
        let reply = match self.http_responder.as_mut() {
            Some(responder) => responder(&args),
            None => HttpReply::Reject(
                RejectCode::SysTransient,
                "no HTTP responder is installed on the ic0 host".into(),
            ),
        };
        match reply {
            HttpReply::Defer => {
                let id = OutcallId(self.fresh_id());
                self.deferred.insert(
                    id,
                    Deferred {
                        call: call_id,
                        args,
                    },
                );
            }
            reply => self.finish_outcall(call_id, cycles, &args, reply),
        }
    }

    /// Outcalls that a responder deferred, oldest first.
    pub fn pending_http(&self) -> Vec<(OutcallId, HttpRequestArgs)> {
        self.deferred
            .iter()
            .map(|(id, d)| (*id, d.args.clone()))
            .collect()
    }

    /// Answers a deferred outcall. Its callback runs at the next [`Host::tick`] (or when an update runs).
    pub fn answer_http(&mut self, id: OutcallId, reply: HttpReply) -> Result<(), String> {
        if matches!(reply, HttpReply::Defer) {
            return Err("an answer cannot be another deferral".into());
        }
        let deferred = self
            .deferred
            .remove(&id)
            .ok_or_else(|| format!("outcall {id:?} is not pending"))?;
        let cycles = self
            .awaiting
            .get(&deferred.call)
            .map_or(0, |a| a.call.cycles);
        self.finish_outcall(deferred.call, cycles, &deferred.args, reply);
        Ok(())
    }

    fn finish_outcall(
        &mut self,
        call_id: CallId,
        cycles: u128,
        args: &HttpRequestArgs,
        reply: HttpReply,
    ) {
        let result = match reply {
            HttpReply::Response(response) => self.transform(args, response),
            HttpReply::Reject(code, message) => Err(Reject::new(code, message)),
            HttpReply::Defer => unreachable!("deferrals are handled by the caller"),
        };
        let refund = match &result {
            Ok((response, instructions)) => {
                let raw = http::response_bytes(response);
                cycles.saturating_sub(http::charged_cycles(args, raw, raw, *instructions))
            }
            Err(_) => cycles,
        };
        let result = result.map(|(response, _)| candid::encode_one(response).expect("encodes"));
        self.queue.push_back(Work::Deliver {
            call: call_id,
            result,
            refund,
        });
    }

    /// Enforces `max_response_bytes` and runs the canister's transform query, as the IC does.
    fn transform(
        &mut self,
        args: &HttpRequestArgs,
        response: HttpRequestResult,
    ) -> Result<(HttpRequestResult, u64), Reject> {
        http::check_response_size(args, &response, "raw")?;
        let Some(transform) = &args.transform else {
            return Ok((response, 0));
        };
        let method = &transform.function.0.method;
        let export = format!("canister_query {method}");
        if !self
            .instance
            .as_ref()
            .is_some_and(|i| i.has_export(&export))
        {
            return Err(Reject::new(
                RejectCode::SysFatal,
                format!("transform function {method} is not a query of the canister"),
            ));
        }
        let arg = candid::encode_one(ic_management_canister_types::TransformArgs {
            response,
            context: transform.context.clone(),
        })
        .expect("encodes");
        let exec = Exec {
            kind: Kind::Transform,
            arg,
            caller: Principal::management_canister().as_slice().to_vec(),
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(&export));
        let bytes = match (outcome.trap, outcome.response) {
            (Some(trap), _) => {
                return Err(Reject::new(
                    RejectCode::SysFatal,
                    format!("transform trapped: {trap}"),
                ))
            }
            (None, Some(Response::Reply(bytes))) => bytes,
            (None, _) => return Err(Reject::new(RejectCode::SysFatal, "transform did not reply")),
        };
        let transformed: HttpRequestResult = candid::decode_one(&bytes).map_err(|e| {
            Reject::new(
                RejectCode::SysFatal,
                format!("transform returned an invalid response: {e}"),
            )
        })?;
        http::check_response_size(args, &transformed, "transformed")?;
        Ok((transformed, outcome.instructions))
    }

    fn deliver(&mut self, call_id: CallId, result: Result<Vec<u8>, Reject>, refund: u128) {
        let Some(awaiting) = self.awaiting.remove(&call_id) else {
            return;
        };
        self.sys.cycles += refund;
        let context_id = awaiting.context;
        let Some(context) = self.contexts.get_mut(&context_id) else {
            return;
        };
        context.outstanding -= 1;
        let (kind, (fun, env), arg, code, message) = match result {
            Ok(bytes) => (
                Kind::ReplyCallback,
                awaiting.call.reply,
                bytes,
                0,
                String::new(),
            ),
            Err(reject) => (
                Kind::RejectCallback,
                awaiting.call.reject,
                vec![],
                reject.code as u32,
                reject.message,
            ),
        };
        let exec = Exec {
            kind,
            arg,
            caller: context.caller.clone(),
            reject_code: code,
            reject_message: message,
            deadline: context.deadline,
            cycles_available: context.cycles,
            cycles_accepted: context.cycles_accepted,
            cycles_refunded: refund,
            already_responded: context.responded,
            context_instructions: context.instructions,
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Callback(fun, env));
        if outcome.trap.is_some() {
            if let Some((fun, env)) = awaiting.call.cleanup {
                let exec = Exec {
                    kind: Kind::Cleanup,
                    ..Exec::default()
                };
                let cleanup = self.execute(exec, Entry::Callback(fun, env));
                if let Some(trap) = cleanup.trap {
                    self.debug_log
                        .push(format!("[host] call cleanup trapped: {trap}"));
                }
            }
        }
        self.close_execution(context_id, outcome);
    }

    // ----- call contexts -----

    fn open_context(
        &mut self,
        origin: Origin,
        caller: Vec<u8>,
        cycles: u128,
        deadline: u64,
    ) -> ContextId {
        let id = self.fresh_id();
        self.contexts.insert(
            id,
            CallContext {
                origin,
                caller,
                responded: false,
                outstanding: 0,
                instructions: 0,
                cycles,
                cycles_accepted: 0,
                deadline,
            },
        );
        id
    }

    /// Applies an execution's effects to its call context and answers the context when it is done.
    fn close_execution(&mut self, context_id: ContextId, outcome: Outcome) {
        let now = self.sys.time;
        let Some(context) = self.contexts.get_mut(&context_id) else {
            return;
        };
        context.instructions += outcome.instructions;
        if let Some(accepted) = outcome.cycles_accepted {
            context.cycles_accepted = accepted;
        }
        let mut answer = None;
        if let Some(response) = outcome.response {
            context.responded = true;
            answer = Some(match response {
                Response::Reply(bytes) => Ok(bytes),
                Response::Reject(message) => Err(Reject::new(RejectCode::CanisterReject, message)),
            });
        }
        for call in outcome.performed {
            context.outstanding += 1;
            self.next_id += 1;
            let id = self.next_id;
            let deadline = call
                .timeout_seconds
                .map_or(0, |s| now + u64::from(s) * 1_000_000_000);
            self.awaiting.insert(
                id,
                Awaiting {
                    context: context_id,
                    call,
                    deadline,
                },
            );
            self.queue.push_back(Work::Dispatch(id));
        }
        if context.outstanding == 0 && !context.responded {
            context.responded = true;
            answer = Some(Err(match outcome.trap {
                Some(trap) => Reject::new(RejectCode::CanisterError, trap),
                None => self_no_reply(&self.sys.canister_id),
            }));
        }
        let (origin, instructions, unaccepted) = (
            context.origin,
            context.instructions,
            context.cycles - context.cycles_accepted,
        );
        if context.outstanding == 0 {
            self.contexts.remove(&context_id);
        }
        if let Some(answer) = answer {
            match origin {
                Origin::Ingress(id) => {
                    self.last_instructions = instructions;
                    self.results.insert(id, answer);
                }
                Origin::Call(call) => self.queue.push_back(Work::Deliver {
                    call,
                    result: answer,
                    refund: unaccepted,
                }),
                Origin::System => {}
            }
        }
    }

    fn no_reply(&self) -> Reject {
        self_no_reply(&self.sys.canister_id)
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    // ----- one execution -----

    /// Runs one entry point against a snapshot and rolls everything back on a trap, or always
    /// for executions whose changes the IC discards (queries, inspect_message, transforms).
    fn execute(&mut self, mut exec: Exec, entry: Entry<'_>) -> Outcome {
        let instance = self.instance.as_mut().expect("a module is installed");
        instance.snapshot_into(&mut self.snapshot);
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
        if trap.is_some() || exec.kind.discards_state() {
            instance
                .restore(&self.snapshot)
                .expect("a snapshot of this module can be restored");
            undo_stable(&mut self.stable, &exec.stable_undo, exec.stable_len_before);
            self.sys = sys_before;
        } else if let Some(group) = self.group_undo.as_mut() {
            group.extend(exec.stable_undo);
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

fn self_no_reply(canister: &[u8]) -> Reject {
    Reject::new(
        RejectCode::CanisterError,
        format!(
            "Error from Canister {}: Canister did not reply to the call",
            Principal::from_slice(canister)
        ),
    )
}

fn install_error(message: String) -> Reject {
    Reject::new(RejectCode::CanisterError, message)
}

/// Undoes stable writes newest first, then drops pages grown since `len_before`.
fn undo_stable(stable: &mut Vec<u8>, undo: &[(u64, Vec<u8>)], len_before: usize) {
    for (offset, old) in undo.iter().rev() {
        let start = *offset as usize;
        stable[start..start + old.len()].copy_from_slice(old);
    }
    stable.truncate(len_before);
}
