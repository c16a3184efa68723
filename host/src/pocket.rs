//! The [`Driver`] on a PocketIC server (feature `pocket-ic`, server binary in `POCKET_IC_BIN`).

use crate::driver::Driver;
use crate::types::{HttpHeader, HttpReply, HttpRequestArgs, Reject, RejectCode};
use candid::Principal;
use ic_management_canister_types::HttpMethod;
use pocket_ic::common::rest::{
    CanisterHttpHeader, CanisterHttpMethod, CanisterHttpReject, CanisterHttpReplication,
    CanisterHttpReply, CanisterHttpRequest, CanisterHttpResponse, MockCanisterHttpResponse,
};
use pocket_ic::{PocketIc, RejectResponse};
use std::time::Duration;

pub struct PocketDriver {
    pic: PocketIc,
    canister: Principal,
    controller: Principal,
    responder: Option<crate::types::HttpResponder>,
}

impl PocketDriver {
    pub fn new() -> Self {
        let pic = PocketIc::new();
        let controller = crate::Host::default_controller();
        let canister = pic.create_canister_with_settings(Some(controller), None);
        pic.add_cycles(canister, crate::DEFAULT_CYCLES);
        Self {
            pic,
            canister,
            controller,
            responder: None,
        }
    }

    /// Answers the outcalls PocketIC holds with the installed responder; deferred ones stay pending.
    fn answer_outcalls(&mut self) -> bool {
        let Some(responder) = self.responder.as_mut() else {
            return false;
        };
        let mut answered = false;
        for request in self.pic.get_canister_http() {
            let response = match responder(&to_args(&request)) {
                HttpReply::Defer => continue,
                HttpReply::Response(r) => {
                    CanisterHttpResponse::CanisterHttpReply(CanisterHttpReply {
                        status: u16::try_from(&r.status.0).unwrap_or(500),
                        headers: r
                            .headers
                            .into_iter()
                            .map(|h| CanisterHttpHeader {
                                name: h.name,
                                value: h.value,
                            })
                            .collect(),
                        body: r.body,
                    })
                }
                HttpReply::Reject(code, message) => {
                    CanisterHttpResponse::CanisterHttpReject(CanisterHttpReject {
                        reject_code: code as u64,
                        message,
                    })
                }
            };
            self.pic
                .mock_canister_http_response(MockCanisterHttpResponse {
                    subnet_id: request.subnet_id,
                    request_id: request.request_id,
                    response,
                    additional_responses: vec![],
                });
            answered = true;
        }
        answered
    }
}

impl Default for PocketDriver {
    fn default() -> Self {
        Self::new()
    }
}

fn to_args(request: &CanisterHttpRequest) -> HttpRequestArgs {
    HttpRequestArgs {
        url: request.url.clone(),
        max_response_bytes: request.max_response_bytes,
        method: match request.http_method {
            CanisterHttpMethod::GET => HttpMethod::GET,
            CanisterHttpMethod::POST => HttpMethod::POST,
            CanisterHttpMethod::HEAD => HttpMethod::HEAD,
            CanisterHttpMethod::PUT => HttpMethod::PUT,
            CanisterHttpMethod::DELETE => HttpMethod::DELETE,
            CanisterHttpMethod::PATCH => HttpMethod::PATCH,
        },
        headers: request
            .headers
            .iter()
            .map(|h| HttpHeader {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        body: Some(request.body.clone()),
        transform: None,
        is_replicated: Some(!matches!(
            request.replication,
            CanisterHttpReplication::NonReplicated
        )),
        pricing_version: None,
    }
}

fn reject(r: RejectResponse) -> Reject {
    Reject::new(
        RejectCode::from_u32(r.reject_code as u32).unwrap_or(RejectCode::SysUnknown),
        r.reject_message,
    )
}

impl Driver for PocketDriver {
    fn canister_id(&self) -> Principal {
        self.canister
    }
    fn controller(&self) -> Principal {
        self.controller
    }
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        self.pic
            .install_canister(self.canister, wasm.to_vec(), arg, Some(self.controller));
        Ok(())
    }
    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        self.pic
            .upgrade_canister(self.canister, wasm.to_vec(), arg, Some(self.controller))
            .map_err(reject)
    }
    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        self.update_on(self.canister, caller, method, arg)
    }
    fn update_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        let message = self
            .pic
            .submit_call(canister, caller, method, arg)
            .map_err(reject)?;
        // Outcalls need answering before the call can finish.
        for _ in 0..100 {
            self.pic.tick();
            self.answer_outcalls();
            if self.pic.get_canister_http().is_empty() {
                break;
            }
        }
        self.pic.await_call(message).map_err(reject)
    }
    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        self.query_on(self.canister, caller, method, arg)
    }
    fn query_on(
        &mut self,
        canister: Principal,
        caller: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, Reject> {
        self.pic
            .query_call(canister, caller, method, arg)
            .map_err(reject)
    }
    fn install_canister(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal, Reject> {
        let canister = self
            .pic
            .create_canister_with_settings(Some(self.controller), None);
        self.pic.add_cycles(canister, crate::DEFAULT_CYCLES);
        self.pic
            .install_canister(canister, wasm.to_vec(), arg, Some(self.controller));
        Ok(canister)
    }
    fn upgrade_canister(
        &mut self,
        canister: Principal,
        wasm: &[u8],
        arg: Vec<u8>,
    ) -> Result<(), Reject> {
        self.pic
            .upgrade_canister(canister, wasm.to_vec(), arg, Some(self.controller))
            .map_err(reject)
    }
    fn time(&self) -> u64 {
        self.pic.get_time().as_nanos_since_unix_epoch()
    }
    fn advance_time(&mut self, by: Duration) {
        self.pic.advance_time(by);
    }
    fn tick(&mut self) {
        for _ in 0..10 {
            self.pic.tick();
            if !self.answer_outcalls() {
                break;
            }
        }
        self.pic.tick();
    }
    fn set_http_responder(&mut self, responder: Box<dyn FnMut(&HttpRequestArgs) -> HttpReply>) {
        self.responder = Some(responder);
    }
    /// PocketIC always runs inspect_message for ingress: tests that switch it off are for the
    /// embedded host.
    fn set_inspect_ingress(&mut self, on: bool) {
        assert!(on, "PocketIC cannot skip inspect_message for ingress");
    }
}
