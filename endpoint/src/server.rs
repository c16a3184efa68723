//! The HTTP routes of the IC's interface, as the pinned clients use them: `/api/v2/status`;
//! `query` (v2, v3); `call` (v2 asynchronous, v3 and v4 synchronous); `read_state` for the
//! canister and the subnet (v2, v3). Requests are authenticated here (`auth`) and handed to the
//! replica thread; what the IC rejects is rejected with its HTTP status and a plain-text body.

use crate::auth::{self, Authenticated, Kind};
use crate::replica::{self, CallOutcome, Job};
use crate::response::{self, Refusal, Response};
use candid::Principal;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use ic_transport_types::{
    EnvelopeContent, NodeSignature, QueryResponse, ReadStateResponse, RejectResponse,
    ReplyResponse, TransportCallResponse,
};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::sync::oneshot;

/// The largest request body accepted (the IC's HTTP endpoint limit is 5 MB).
pub const MAX_BODY: usize = 5 * 1024 * 1024;

/// The endpoint's routes and what they need: the replica's job queue, the canisters' ids, the
/// keys' public halves.
pub struct Endpoint {
    pub jobs: mpsc::Sender<Job>,
    /// The primary canister: the one whose web app the gateway serves.
    pub canister_id: Principal,
    /// Every hosted canister (the primary first), each reachable by its id.
    pub canisters: Vec<Principal>,
    pub subnet_id: Principal,
    pub root_key_der: Vec<u8>,
    pub node_id: Principal,
    pub node: Arc<crate::keys::Keys>,
}

/// One route, from the request's method and path.
enum Route {
    Status,
    Query(Principal),
    Call { canister: Principal, version: u8 },
    ReadStateCanister(Principal),
    ReadStateSubnet(Principal),
    AdvanceTime,
}

fn route(method: &Method, path: &str) -> Result<Route, Refusal> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let id = |text: &str| {
        Principal::from_text(text)
            .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid id {text}: {e}")))
    };
    let post = |route: Route| {
        if method == Method::POST {
            Ok(route)
        } else {
            Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on {path}"),
            ))
        }
    };
    match parts.as_slice() {
        ["api", "v2", "status"] if method == Method::GET => Ok(Route::Status),
        ["api", "v2" | "v3", "canister", c, "query"] => post(Route::Query(id(c)?)),
        ["api", v @ ("v2" | "v3" | "v4"), "canister", c, "call"] => post(Route::Call {
            canister: id(c)?,
            version: v[1..].parse().unwrap_or(2),
        }),
        ["api", "v2" | "v3", "canister", c, "read_state"] => post(Route::ReadStateCanister(id(c)?)),
        ["api", "v2" | "v3", "subnet", s, "read_state"] => post(Route::ReadStateSubnet(id(s)?)),
        ["_", "advance_time"] => post(Route::AdvanceTime),
        _ => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no route for {method} {path}"),
        )),
    }
}

impl Endpoint {
    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response {
        // A web app served from another origin (a dev server, another canister) calls the API
        // across origins, as on the IC, whose API answers any origin.
        let api = request.uri().path().starts_with("/api/");
        if api && request.method() == Method::OPTIONS {
            return crate::response::cors(crate::response::empty(StatusCode::NO_CONTENT));
        }
        let mut response = self.dispatch(request).await.unwrap_or_else(Response::from);
        if api {
            response = crate::response::cors(response);
        }
        // The rest of an oversized body was never read: the connection cannot carry another
        // request, and the client must know not to reuse it.
        if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
            response.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
        }
        response
    }

    async fn dispatch(&self, request: Request<Incoming>) -> Result<Response, Refusal> {
        // Requests for the canister's own HTTP interface go to the gateway (`gateway::target`).
        let host = request.uri().host().map(str::to_string).or_else(|| {
            let host = request.headers().get(hyper::header::HOST)?;
            host.to_str().ok().map(str::to_string)
        });
        match crate::gateway::target(host.as_deref(), request.uri()) {
            Some(Ok(target)) => return Ok(crate::gateway::serve(self, target, request).await),
            Some(Err(message)) => return Err(Refusal::new(StatusCode::BAD_REQUEST, message)),
            None => {}
        }
        let route = route(request.method(), request.uri().path())?;
        let cbor = request
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/cbor"));
        if request.method() == Method::POST && !matches!(route, Route::AdvanceTime) && !cbor {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "Unexpected content-type, expected application/cbor.",
            ));
        }
        let body = Limited::new(request.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Refusal::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("request body larger than {MAX_BODY} bytes"),
                    )
                } else {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!("cannot read the body: {e}"),
                    )
                }
            })?
            .to_bytes();
        match route {
            Route::Status => Ok(self.status()),
            Route::Query(canister) => self.query(canister, &body).await,
            Route::Call { canister, version } => self.call(canister, version, &body).await,
            Route::ReadStateCanister(canister) => {
                self.check_canister(canister)?;
                self.read_state(Some(canister), &body).await
            }
            Route::ReadStateSubnet(subnet) => {
                if subnet != self.subnet_id {
                    return Err(Refusal::new(
                        StatusCode::NOT_FOUND,
                        format!("subnet {subnet} is not served here"),
                    ));
                }
                self.read_state(None, &body).await
            }
            Route::AdvanceTime => self.advance_time(&body).await,
        }
    }

    fn status(&self) -> Response {
        #[derive(serde::Serialize)]
        struct Status<'a> {
            ic_api_version: &'static str,
            impl_version: &'static str,
            #[serde(with = "serde_bytes")]
            root_key: &'a [u8],
            replica_health_status: &'static str,
        }
        response::cbor(
            StatusCode::OK,
            &Status {
                ic_api_version: "0.18.0",
                impl_version: concat!("mkt-serve ", env!("CARGO_PKG_VERSION")),
                root_key: &self.root_key_der,
                replica_health_status: "healthy",
            },
        )
    }

    fn check_canister(&self, canister: Principal) -> Result<(), Refusal> {
        if self.canisters.contains(&canister) {
            Ok(())
        } else {
            let served: Vec<String> = self.canisters.iter().map(Principal::to_text).collect();
            Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "canister {canister} not found: this endpoint serves {}",
                    served.join(", ")
                ),
            ))
        }
    }

    /// The effective canister must be ours and the message must be for it.
    fn check_target(&self, effective: Principal, auth: &Authenticated) -> Result<(), Refusal> {
        self.check_canister(effective)?;
        let (EnvelopeContent::Call { canister_id, .. }
        | EnvelopeContent::Query { canister_id, .. }) = &auth.content
        else {
            return Ok(());
        };
        // A message to the management canister names the canister it is about in the URL.
        if *canister_id != effective && *canister_id != Principal::management_canister() {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "Specified CanisterId {canister_id} does not match effective canister id in URL {effective}"
                ),
            ));
        }
        Ok(())
    }

    async fn query(&self, effective: Principal, body: &[u8]) -> Result<Response, Refusal> {
        let auth = authenticate(body, Kind::Query)?;
        self.check_target(effective, &auth)?;
        let EnvelopeContent::Query {
            method_name, arg, ..
        } = &auth.content
        else {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "not a query"));
        };
        let result = if auth.content_canister() == Some(Principal::management_canister()) {
            Err(ic0_host::Reject::new(
                ic0_host::RejectCode::DestinationInvalid,
                format!("the management canister's {method_name} is not offered as a query by mkt serve"),
            ))
        } else {
            let (reply, answer) = oneshot::channel();
            self.send(Job::Query {
                canister: effective,
                sender: auth.sender,
                method: method_name.clone(),
                arg: arg.clone(),
                reply,
            })?;
            receive(answer).await?
        };
        let mut query_response = match result {
            Ok(arg) => QueryResponse::Replied {
                reply: ReplyResponse { arg },
                signatures: vec![],
            },
            Err(reject) => QueryResponse::Rejected {
                reject: reject_response(reject),
                signatures: vec![],
            },
        };
        let timestamp = replica::wall_clock();
        let signature = self
            .node
            .sign_query_response(&query_response.signable(auth.request_id, timestamp));
        let signed = NodeSignature {
            timestamp,
            signature,
            identity: self.node_id,
        };
        match &mut query_response {
            QueryResponse::Replied { signatures, .. }
            | QueryResponse::Rejected { signatures, .. } => signatures.push(signed),
        }
        Ok(response::cbor(StatusCode::OK, &query_response))
    }

    async fn call(
        &self,
        effective: Principal,
        version: u8,
        body: &[u8],
    ) -> Result<Response, Refusal> {
        let auth = authenticate(body, Kind::Call)?;
        self.check_target(effective, &auth)?;
        let EnvelopeContent::Call {
            method_name,
            arg,
            ingress_expiry,
            ..
        } = &auth.content
        else {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "not a call"));
        };
        let (reply, answer) = oneshot::channel();
        self.send(Job::Call {
            request_id: *auth.request_id,
            canister: effective,
            sender: auth.sender,
            management: auth.content_canister() == Some(Principal::management_canister()),
            method: method_name.clone(),
            arg: arg.clone(),
            expiry: *ingress_expiry,
            reply,
        })?;
        let outcome = receive(answer).await?;
        Ok(match (version, outcome) {
            // v2 only acknowledges; the client polls `read_state` for the outcome.
            (2, CallOutcome::NotAccepted(reject)) => {
                response::text(StatusCode::BAD_REQUEST, reject.message)
            }
            (2, _) => response::empty(StatusCode::ACCEPTED),
            (_, CallOutcome::NotAccepted(reject)) => response::cbor(
                StatusCode::OK,
                &TransportCallResponse::NonReplicatedRejection(reject_response(reject)),
            ),
            (_, CallOutcome::Certified(certificate)) => response::cbor(
                StatusCode::OK,
                &TransportCallResponse::Replied { certificate },
            ),
            (_, CallOutcome::Pending) => {
                response::cbor(StatusCode::ACCEPTED, &TransportCallResponse::Accepted)
            }
        })
    }

    async fn read_state(
        &self,
        effective: Option<Principal>,
        body: &[u8],
    ) -> Result<Response, Refusal> {
        let auth = authenticate(body, Kind::ReadState)?;
        if let (Some(canister), Some(targets)) = (effective, &auth.targets) {
            if !targets.contains(&canister) {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "the delegations do not allow reading the state of canister {canister}"
                    ),
                ));
            }
        }
        let EnvelopeContent::ReadState { paths, .. } = &auth.content else {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "not a read_state"));
        };
        let paths: Vec<Vec<Vec<u8>>> = paths
            .iter()
            .map(|path| path.iter().map(|l| l.as_bytes().to_vec()).collect())
            .collect();
        if let Some(message) = self.forbidden_path(effective, &paths) {
            return Err(Refusal::new(StatusCode::FORBIDDEN, message));
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::ReadState {
            sender: auth.sender,
            paths,
            reply,
        })?;
        let certificate = receive(answer).await?.map_err(|(status, message)| {
            Refusal::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                message,
            )
        })?;
        Ok(response::cbor(
            StatusCode::OK,
            &ReadStateResponse { certificate },
        ))
    }

    /// Paths a read_state may not ask for here: canister paths of another canister than the
    /// effective one, and (on the subnet route) canister paths and request statuses at all.
    fn forbidden_path(
        &self,
        effective: Option<Principal>,
        paths: &[Vec<Vec<u8>>],
    ) -> Option<String> {
        for path in paths {
            let first = path.first().map(Vec::as_slice);
            match (effective, first) {
                (Some(canister), Some(b"canister"))
                    if path.get(1).map(Vec::as_slice) != Some(canister.as_slice()) =>
                {
                    return Some(format!(
                        "canister paths may only name the effective canister {canister}"
                    ));
                }
                (None, Some(b"canister" | b"request_status")) => {
                    return Some("the subnet read_state serves time and subnet paths only".into())
                }
                _ => {}
            }
        }
        None
    }

    async fn advance_time(&self, body: &[u8]) -> Result<Response, Refusal> {
        #[derive(serde::Deserialize)]
        struct Advance {
            nanos: u64,
        }
        let advance: Advance = serde_json::from_slice(body).map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"nanos\": N}}: {e}"),
            )
        })?;
        let (reply, answer) = oneshot::channel();
        self.send(Job::AdvanceTime {
            by: Duration::from_nanos(advance.nanos),
            reply,
        })?;
        let now = receive(answer)
            .await?
            .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        Ok(response::json(
            serde_json::json!({ "time_nanos": now.to_string() }),
        ))
    }

    fn send(&self, job: Job) -> Result<(), Refusal> {
        self.jobs.send(job).map_err(|_| stopped())
    }
}

fn authenticate(body: &[u8], kind: Kind) -> Result<Authenticated, Refusal> {
    auth::authenticate(body, kind, replica::wall_clock()).map_err(|r| {
        Refusal::new(
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
            r.message,
        )
    })
}

async fn receive<T>(answer: oneshot::Receiver<T>) -> Result<T, Refusal> {
    answer.await.map_err(|_| stopped())
}

fn stopped() -> Refusal {
    Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the replica has stopped")
}

fn reject_response(reject: ic0_host::Reject) -> RejectResponse {
    RejectResponse {
        reject_code: ic_transport_types::RejectCode::try_from(reject.code as u64)
            .unwrap_or(ic_transport_types::RejectCode::SysFatal),
        error_code: Some(replica::error_code(reject.code).to_string()),
        reject_message: reject.message,
    }
}
