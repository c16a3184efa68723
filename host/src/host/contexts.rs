//! Call contexts: opening them, applying each execution's effects, and answering them when done.

use super::{Awaiting, CallContext, ContextId, Host, Origin, Outcome, Work};
use crate::context::Response;
use crate::types::*;
use candid::Principal;

impl Host {
    pub(super) fn open_context(
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
                canister: self.sys.canister_id.clone(),
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
    pub(super) fn close_execution(&mut self, context_id: ContextId, outcome: Outcome) {
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
                    caller: self.sys.canister_id.clone(),
                    context: context_id,
                    call,
                    deadline,
                    expired: false,
                    lose_response: false,
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
                Origin::Call(call) if self.awaiting.get(&call).is_some_and(|a| a.lose_response) => {
                    // An injected timeout: the answer and its refund are lost; the caller
                    // learns SYS_UNKNOWN at the call's deadline.
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

    pub(super) fn no_reply(&self) -> Reject {
        self_no_reply(&self.sys.canister_id)
    }

    pub(super) fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
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
