//! The replica: one thread owns the canister (the ic0 host is single-threaded, as a canister
//! is) and runs the messages the HTTP routes hand it, one at a time, in arrival order. Between
//! messages it keeps the canister's clock on wall-clock time (unless time is manual), fires its
//! timers, and saves the state when something changed.

use crate::keys::Keys;
use crate::metadata;
use crate::requests::Requests;
use crate::state_tree::{self, CanisterView, RequestStatus, StateView};
use candid::Principal;
use ic0_host::{Host, Reject, RejectCode};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

/// How often an idle replica wakes to move the clock and fire timers.
const TICK: Duration = Duration::from_millis(100);
/// A changed state is saved at most this often (and always when the replica stops).
const SAVE_EVERY: Duration = Duration::from_secs(1);

pub struct Config {
    /// Where the canister's state lives (`Host::save` / `Host::load`).
    pub dir: PathBuf,
    /// Time moves only when told (`advance_time`), never with the wall clock.
    pub manual_time: bool,
}

/// What a call came to, for the routes to answer.
pub enum CallOutcome {
    /// Rejected before execution (unknown method, `canister_inspect_message`): no certificate.
    NotAccepted(Reject),
    /// Executed: a certificate of its `request_status` (and `time`).
    Certified(Vec<u8>),
    /// Still running (it awaits something): poll `read_state`.
    Pending,
}

pub enum Job {
    Query {
        /// The hosted canister queried.
        canister: Principal,
        sender: Principal,
        method: String,
        arg: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, Reject>>,
    },
    Call {
        request_id: [u8; 32],
        /// The effective canister: the one called, or the one a management call is about.
        canister: Principal,
        sender: Principal,
        /// For the management canister (about `canister`), not the canister itself.
        management: bool,
        method: String,
        arg: Vec<u8>,
        expiry: u64,
        reply: oneshot::Sender<CallOutcome>,
    },
    /// A certificate of `paths`; the sender may read only its own requests' statuses.
    ReadState {
        sender: Principal,
        paths: Vec<Vec<Vec<u8>>>,
        reply: oneshot::Sender<Result<Vec<u8>, (u16, String)>>,
    },
    AdvanceTime {
        by: Duration,
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// Save now and stop the thread.
    Stop {
        reply: oneshot::Sender<Result<(), String>>,
    },
}

struct Replica {
    host: Host,
    keys: Arc<Keys>,
    config: Config,
    requests: Requests,
    dirty: bool,
    last_save: Instant,
}

/// Starts the replica thread, which loads the canisters with `load` (the host lives and dies on
/// its thread); returns the channel to send it jobs and the canisters' ids, the primary first.
pub fn start(
    load: impl FnOnce() -> Result<Host, String> + Send + 'static,
    keys: Arc<Keys>,
    config: Config,
) -> Result<(mpsc::Sender<Job>, Vec<Principal>), String> {
    let (tx, rx) = mpsc::channel();
    let (loaded, started) = mpsc::channel();
    std::thread::Builder::new()
        .name("replica".into())
        .spawn(move || {
            let host = match load() {
                Ok(host) => host,
                Err(e) => {
                    let _ = loaded.send(Err(e));
                    return;
                }
            };
            let _ = loaded.send(Ok(host.canister_ids()));
            let mut replica = Replica {
                host,
                keys,
                config,
                requests: Requests::default(),
                dirty: false,
                last_save: Instant::now(),
            };
            replica.run(rx);
        })
        .map_err(|e| format!("cannot start the replica thread: {e}"))?;
    let canisters = started
        .recv()
        .map_err(|_| "the replica thread stopped while loading".to_string())??;
    Ok((tx, canisters))
}

/// Nanoseconds since the Unix epoch by the wall clock.
pub fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Replica {
    fn run(&mut self, jobs: mpsc::Receiver<Job>) {
        loop {
            match jobs.recv_timeout(TICK) {
                Ok(Job::Stop { reply }) => {
                    let _ = reply.send(self.save());
                    return;
                }
                Ok(job) => {
                    self.follow_clock();
                    self.handle(job);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.follow_clock(),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = self.save();
                    return;
                }
            }
            if self.dirty && self.last_save.elapsed() >= SAVE_EVERY {
                if let Err(e) = self.save() {
                    eprintln!("mkt serve: {e}");
                }
            }
        }
    }

    /// Moves the canister's clock to the wall clock (time never goes back) and runs what fell due.
    fn follow_clock(&mut self) {
        if !self.config.manual_time {
            self.host.set_time(wall_clock());
        }
        if self.host.tick() > 0 {
            self.dirty = true;
        }
        self.print_log();
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Query {
                canister,
                sender,
                method,
                arg,
                reply,
            } => {
                self.offer_data_certificate(canister);
                let result = self.host.query_on(canister, sender, &method, &arg);
                self.print_log();
                let _ = reply.send(result);
            }
            Job::Call {
                request_id,
                canister,
                sender,
                management,
                method,
                arg,
                expiry,
                reply,
            } => {
                let message = Message {
                    request_id,
                    canister,
                    sender,
                    method: &method,
                    arg: &arg,
                    expiry,
                };
                let outcome = if management {
                    self.manage(message)
                } else {
                    self.call(message)
                };
                let _ = reply.send(outcome);
            }
            Job::ReadState {
                sender,
                paths,
                reply,
            } => {
                let _ = reply.send(self.read_state(sender, &paths));
            }
            Job::AdvanceTime { by, reply } => {
                self.host.advance_time_through_timers(by);
                self.dirty = true;
                self.print_log();
                let _ = reply.send(Ok(self.host.time()));
            }
            Job::Stop { .. } => unreachable!("handled by run"),
        }
    }

    fn call(&mut self, message: Message) -> CallOutcome {
        let Message {
            request_id,
            canister,
            sender,
            method,
            arg,
            expiry,
        } = message;
        let now = wall_clock();
        self.requests.forget_expired(now);
        // A resubmission runs nothing again: it gets the first one's certified status.
        if self.requests.contains(&request_id) {
            return self.certified(&request_id);
        }
        let precheck = self
            .host
            .with_canister(canister, |host| host.precheck_update(sender, method, arg))
            .and_then(|checked| checked);
        if let Err(reject) = precheck {
            self.print_log();
            return CallOutcome::NotAccepted(reject);
        }
        self.requests
            .insert(request_id, sender, expiry, RequestStatus::Processing);
        // The precheck ran `canister_inspect_message` already; running it again would only
        // double its cost (and the heap copy each execution takes).
        self.host.set_inspect_ingress(false);
        let message = self.host.submit_update_on(canister, sender, method, arg);
        self.host.set_inspect_ingress(true);
        self.host.tick();
        self.dirty = true;
        self.print_log();
        let result = match message {
            Ok(message) => self.host.take_result(message),
            Err(reject) => Some(Err(reject)),
        };
        match result {
            Some(result) => {
                self.requests.set_status(&request_id, status_of(result));
                self.certified(&request_id)
            }
            // The host answers outcalls at once, so a message waits only on a deferred
            // answer; it stays `processing` and the client polls.
            None => CallOutcome::Pending,
        }
    }

    fn manage(&mut self, message: Message) -> CallOutcome {
        let Message {
            request_id,
            canister,
            sender,
            method,
            arg,
            expiry,
        } = message;
        self.requests.forget_expired(wall_clock());
        if !self.requests.contains(&request_id) {
            let result = crate::management::call(&mut self.host, canister, sender, method, arg);
            self.requests
                .insert(request_id, sender, expiry, status_of(result));
        }
        self.certified(&request_id)
    }

    fn certified(&mut self, request_id: &[u8; 32]) -> CallOutcome {
        if matches!(
            self.requests.status(request_id),
            Some(RequestStatus::Processing | RequestStatus::Received)
        ) {
            return CallOutcome::Pending;
        }
        let sender = self
            .requests
            .sender(request_id)
            .unwrap_or(Principal::anonymous());
        match self.certificate(None, &[request_status_path(request_id)], sender) {
            Ok(certificate) => CallOutcome::Certified(certificate),
            Err(e) => CallOutcome::NotAccepted(Reject::new(RejectCode::SysFatal, e.message())),
        }
    }

    /// A certificate of `paths`, or the HTTP status and reason of a refusal.
    fn read_state(
        &mut self,
        sender: Principal,
        paths: &[Vec<Vec<u8>>],
    ) -> Result<Vec<u8>, (u16, String)> {
        for path in paths {
            if path.first().map(Vec::as_slice) == Some(b"request_status") {
                let owner = path
                    .get(1)
                    .and_then(|id| <[u8; 32]>::try_from(id.as_slice()).ok())
                    .and_then(|id| self.requests.sender(&id));
                if owner.is_some_and(|owner| owner != sender) {
                    return Err((
                        403,
                        "Request IDs must be for requests signed by the caller.".to_string(),
                    ));
                }
            }
        }
        let canister = paths.iter().find_map(|path| match path.as_slice() {
            [root, id, ..] if root == b"canister" => Some(Principal::from_slice(id)),
            _ => None,
        });
        self.certificate(canister, paths, sender)
            .map_err(|e| (e.status(), e.message()))
    }

    /// A certificate of `paths` as `reader` may see them (private metadata for controllers
    /// only). `canister`: the hosted canister the paths read (the routes allow one at a time).
    fn certificate(
        &mut self,
        canister: Option<Principal>,
        paths: &[Vec<Vec<u8>>],
        reader: Principal,
    ) -> Result<Vec<u8>, state_tree::PathError> {
        let canisters = match canister {
            Some(id) => self
                .host
                .with_canister(id, |host| canister_view(host, reader))
                .map(|view| vec![view])
                .unwrap_or_default(),
            None => vec![],
        };
        let requests = &self.requests;
        let lookup = |id: &[u8]| requests.status(id);
        let view = StateView {
            time: wall_clock(),
            keys: &self.keys,
            canister_ranges: self.canister_ranges(),
            canisters,
            request_status: &lookup,
        };
        let tree = state_tree::tree_for(&view, paths)?;
        Ok(crate::certificate::certificate(&self.keys, tree))
    }

    /// Gives the next query a fresh certificate of `canister/<id>/certified_data` (and `time`),
    /// as the IC gives queries its latest certified state, so a canister can certify what it
    /// answers (HTTP gateways verify responses against it). Only that path is certified: the
    /// view holds it alone (no module hash or metadata to compute on every query).
    fn offer_data_certificate(&mut self, id: Principal) {
        let mut canister = CanisterView::new(id);
        canister.certified_data = self
            .host
            .with_canister(id, |host| host.certified_data().to_vec())
            .unwrap_or_default();
        let view = StateView {
            time: wall_clock(),
            keys: &self.keys,
            canister_ranges: self.canister_ranges(),
            canisters: vec![canister],
            request_status: &|_| None,
        };
        let path = vec![
            b"canister".to_vec(),
            id.as_slice().to_vec(),
            b"certified_data".to_vec(),
        ];
        let certificate = state_tree::tree_for(&view, &[path])
            .ok()
            .map(|tree| crate::certificate::certificate(&self.keys, tree));
        self.host.set_data_certificate(certificate);
    }

    /// The subnet's canister ranges: one per hosted canister, in id order.
    fn canister_ranges(&self) -> Vec<(Principal, Principal)> {
        let mut ids = self.host.canister_ids();
        ids.sort();
        ids.into_iter().map(|id| (id, id)).collect()
    }

    fn save(&mut self) -> Result<(), String> {
        self.last_save = Instant::now();
        if !self.dirty {
            return Ok(());
        }
        self.host.save(&self.config.dir).map_err(|e| {
            format!(
                "cannot save the canister to {}: {e}",
                self.config.dir.display()
            )
        })?;
        self.dirty = false;
        Ok(())
    }

    fn print_log(&mut self) {
        for entry in self.host.take_debug_log() {
            for line in entry.lines() {
                eprintln!("[canister] {line}");
            }
        }
    }
}

/// The state tree's view of the canister in place.
fn canister_view(host: &Host, reader: Principal) -> CanisterView {
    let module = host.module();
    let mut sections = module.map(metadata::sections).unwrap_or_default();
    let controllers = host.controllers();
    if controllers.contains(&reader) {
        sections.public.append(&mut sections.private);
    }
    CanisterView {
        id: host.canister_id(),
        module_hash: module.map(metadata::sha256),
        controllers,
        certified_data: host.certified_data().to_vec(),
        public_metadata: sections.public,
        private_metadata_names: sections.private.into_keys().collect(),
    }
}

/// An ingress call as the routes hand it over.
struct Message<'a> {
    request_id: [u8; 32],
    canister: Principal,
    sender: Principal,
    method: &'a str,
    arg: &'a [u8],
    expiry: u64,
}

fn request_status_path(request_id: &[u8; 32]) -> Vec<Vec<u8>> {
    vec![b"request_status".to_vec(), request_id.to_vec()]
}

fn status_of(result: Result<Vec<u8>, Reject>) -> RequestStatus {
    match result {
        Ok(reply) => RequestStatus::Replied(reply),
        Err(reject) => RequestStatus::Rejected {
            code: reject.code as u64,
            error_code: Some(error_code(reject.code).to_string()),
            message: reject.message,
        },
    }
}

/// The IC's error code for a reject of this kind (the most common cause of each).
pub fn error_code(code: RejectCode) -> &'static str {
    match code {
        RejectCode::SysFatal => "IC0204",
        RejectCode::SysTransient => "IC0201",
        RejectCode::DestinationInvalid => "IC0536",
        RejectCode::CanisterReject => "IC0406",
        RejectCode::CanisterError => "IC0503",
        RejectCode::SysUnknown => "IC0202",
    }
}
