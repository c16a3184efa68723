//! HTTP outcalls: the responder, deferred outcalls, `max_response_bytes`, the transform query.

use super::{CallId, Deferred, Entry, Host, Work};
use crate::context::{Exec, Kind, Response};
use crate::http;
use crate::types::*;
use candid::Principal;

impl Host {
    pub(super) fn http_outcall(&mut self, call_id: CallId, cycles: u128, args: HttpRequestArgs) {
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
        let Some(awaiting) = self.awaiting.get(&deferred.call) else {
            return Ok(()); // its caller is gone (cannot happen while the outcall is pending)
        };
        let (cycles, caller) = (awaiting.call.cycles, awaiting.caller.clone());
        // The transform is a query of the canister that made the outcall.
        self.on(&caller, |host| {
            host.finish_outcall(deferred.call, cycles, &deferred.args, reply)
        });
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
}
