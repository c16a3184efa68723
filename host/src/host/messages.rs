//! Ingress: queries, update calls and their results, ingress checks, `canister_inspect_message`.

use super::{Entry, Host, Origin};
use crate::context::{Exec, Kind, Response};
use crate::types::*;
use candid::Principal;

impl Host {
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
            data_certificate: self.data_certificate.clone(),
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
                "the message is still waiting for a deferred outcall or a held call; use submit_update, then answer_http or resume",
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

    /// The checks an update passes before it is executed (the module exports the method, the
    /// argument fits, `canister_inspect_message` accepts it): what the IC answers without a
    /// certificate (a non-replicated rejection) when it fails. `submit_update` runs them again.
    pub fn precheck_update(
        &mut self,
        caller: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<(), Reject> {
        self.check_ingress(method, arg, "canister_update")?;
        self.inspect(&caller, method, arg)
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
        if let Some(reject) = self.stopped_reject(&self.sys.canister_id) {
            return Err(reject);
        }
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
}
