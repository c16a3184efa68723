//! Outgoing calls: dispatch to the canister itself, the management canister or stand-ins; answers.

use super::{CallId, Entry, Host, Origin, Work};
use crate::context::{Exec, Kind, OutCall};
use crate::http;
use crate::types::*;
use candid::Principal;

impl Host {
    pub(super) fn dispatch(&mut self, call_id: CallId) {
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

    pub(super) fn deliver(
        &mut self,
        call_id: CallId,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    ) {
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
}
