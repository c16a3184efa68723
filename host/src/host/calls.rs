//! Outgoing calls: dispatch to hosted canisters (the caller itself included), the management
//! canister or stand-ins; answers delivered to the caller's callbacks.

use super::{CallId, Entry, Host, Origin, Work};
use crate::context::{Exec, Kind, OutCall};
use crate::http;
use crate::types::*;
use candid::Principal;

/// What an injected trap says (`Fault::Trap`), after the IC's "Error from Canister ...: " prefix.
const INJECTED_TRAP: &str = "Canister trapped: injected fault (ic0-host fault drill)";

impl Host {
    pub(super) fn dispatch(&mut self, call_id: CallId) {
        let Some(awaiting) = self.awaiting.get(&call_id) else {
            return;
        };
        if awaiting.expired {
            return; // a best-effort request past its deadline is dropped, never run
        }
        let call = awaiting.call.clone();
        let deadline = awaiting.deadline;
        let caller = awaiting.caller.clone();
        let callee = Principal::from_slice(&call.callee);
        if callee == Principal::management_canister() {
            self.on(&caller, |host| host.management_call(call_id, call));
        } else if self.hosts(&call.callee) {
            self.dispatch_to_canister(call_id, call, deadline, caller);
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

    /// A call to a hosted canister: held while it is paused, refused while it is stopping or
    /// stopped, met by an injected fault, or run as the callee's message.
    fn dispatch_to_canister(
        &mut self,
        call_id: CallId,
        call: OutCall,
        deadline: u64,
        caller: Vec<u8>,
    ) {
        if self.paused.contains(&call.callee) {
            self.held.push(call_id);
            return;
        }
        let refused = match self.stopped_reject(&call.callee) {
            Some(reject) => Some(reject),
            None => match self.take_fault(call_id) {
                Some(Fault::Reject(reject)) => Some(reject),
                Some(Fault::Trap) => {
                    self.force_trap = Some(INJECTED_TRAP.into());
                    None
                }
                Some(Fault::Timeout) => {
                    if let Some(awaiting) = self.awaiting.get_mut(&call_id) {
                        awaiting.lose_response = true;
                    }
                    None
                }
                None => None,
            },
        };
        match refused {
            Some(reject) => self.queue.push_back(Work::Deliver {
                call: call_id,
                result: Err(reject),
                refund: call.cycles,
            }),
            None => {
                let callee = call.callee.clone();
                self.on(&callee, |host| {
                    host.canister_call(call_id, call, deadline, caller)
                });
            }
        }
        // Only the callee's method may meet an injected trap (none when it has no such method).
        self.force_trap = None;
    }

    /// Runs a call from `caller` (possibly the canister itself) as a message of the canister in place.
    fn canister_call(&mut self, call_id: CallId, call: OutCall, deadline: u64, caller: Vec<u8>) {
        let update = format!("canister_update {}", call.method);
        let query = format!("canister_query {}", call.method);
        let has = |export: &str| self.instance.as_ref().is_some_and(|i| i.has_export(export));
        // A query method called by a canister runs replicated, its changes discarded.
        let (kind, export) = if has(&update) {
            (Kind::Update, update)
        } else if has(&query) {
            (Kind::Query, query)
        } else {
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
        };
        let is_self_call = caller == self.sys.canister_id;
        let context =
            self.open_context(Origin::Call(call_id), caller.clone(), call.cycles, deadline);
        let exec = Exec {
            kind,
            arg: call.payload,
            caller,
            deadline,
            cycles_available: call.cycles,
            ..Exec::default()
        };
        let outcome = self.execute(exec, Entry::Export(&export));
        if is_self_call {
            self.self_call_instructions.push(outcome.instructions);
        }
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

    pub(super) fn deliver(
        &mut self,
        call_id: CallId,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    ) {
        let Some(awaiting) = self.awaiting.remove(&call_id) else {
            return;
        };
        let caller = awaiting.caller.clone();
        self.on(&caller, |host| {
            host.deliver_to_caller(awaiting, result, refund)
        });
    }

    fn deliver_to_caller(
        &mut self,
        awaiting: super::Awaiting,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    ) {
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
}
