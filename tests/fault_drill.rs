//! The fault drill: Ironic misbehaves at every outcall step of provisioning, one fault at a
//! time, and every lease still ends in a documented final state with nothing left stuck.
//!
//! For each phase (a lease's deploy, its undeploy, a direct `provision_server`) a clean run on
//! one node records the outcalls the canister makes, in order (read, PATCH, PUT, each poll...):
//! the steps. The drill then gives every (step, fault kind) pair its own node and lease in one
//! canister, answers every outcall through the fake Ironic (`tests/common/ironic.rs`) and
//! injects the fault at exactly that node's step `k` (counted per node), runs the clock from
//! timer deadline to timer deadline until the canister is quiet, and checks each case against
//! [`expected`], the table of documented outcomes (`docs/provisioning.md`, README):
//!
//! - transient faults (500, 409 NodeLocked, 503, refused connection, timeout, an answer lost
//!   after Ironic did the work) are retried: the lease is AVAILABLE, then COMPLETED, the node
//!   clean and its lessee cleared, the item available again;
//! - permanent faults (malformed JSON, an answer over `max_response_bytes`) fail the operation:
//!   a deploy's lease is FAILED, and the node is cleaned if the canister had changed it (else
//!   the item goes to Maintenance); an undeploy's lease still ends and its item goes to
//!   Maintenance; a 2xx to a PATCH or PUT means Ironic did it, whatever its body;
//! - the node failing on its own (`deploy failed`, `clean failed`) fails the deploy (the lease
//!   is FAILED and the node cleaned) or the undeploy (the item goes to Maintenance).
//!
//! Writes `target/hardening/faults.txt` once all three phases passed in one run.

mod common;

use common::ironic::*;
use common::market::*;
use common::*;
use ic0_host::{HttpReply, HttpRequestArgs};
use ic_management_canister_types::HttpMethod;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// The clock runs until no timer is due within this long.
const QUIET_NS: u64 = 20 * MINUTE_NS;
/// Leases of the drill last this long (the undeploy starts at their end).
const LEASE_S: u64 = 3600;
/// A bound on timer runs per phase: far more than a drill needs.
const MAX_TICKS: usize = 3_000;
const DEPLOY_FAILED: &str = "Deploy step deploy.write_image failed: drill";
const CLEAN_FAILED: &str = "Clean step erase_devices failed: drill";

// --- the table ---

/// A fault the drill injects at one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    /// HTTP 500 with Ironic's error body.
    Http500,
    /// HTTP 409 NodeLocked.
    Locked409,
    /// HTTP 503 from the load balancer.
    Unavailable503,
    /// IC reject code 2: connection refused.
    Refused,
    /// IC reject code 6: timeout, Ironic did nothing.
    Timeout,
    /// IC reject code 6 after Ironic did the work.
    LostAnswer,
    /// A 2xx whose body is truncated JSON (a read: not served; a write: done, body garbled).
    MalformedJson,
    /// A 200 over the request's `max_response_bytes` (the IC rejects it; Ironic did nothing).
    Oversized,
    /// The node fails on its own: `deploy failed` in a deploy, `clean failed` in an undeploy
    /// (at once if it is on its way, or at the end of the operation if it has not started).
    NodeFailed,
}

const KINDS: [Kind; 9] = [
    Kind::Http500,
    Kind::Locked409,
    Kind::Unavailable503,
    Kind::Refused,
    Kind::Timeout,
    Kind::LostAnswer,
    Kind::MalformedJson,
    Kind::Oversized,
    Kind::NodeFailed,
];

impl Kind {
    /// Documented as retried with backoff.
    fn transient(self) -> bool {
        matches!(
            self,
            Kind::Http500
                | Kind::Locked409
                | Kind::Unavailable503
                | Kind::Refused
                | Kind::Timeout
                | Kind::LostAnswer
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Deploy,
    Undeploy,
    Direct,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Deploy => "deploy",
            Stage::Undeploy => "undeploy",
            Stage::Direct => "direct",
        }
    }
}

/// What a step is, from the clean run's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The read that decides what to ask (before any change).
    Read,
    /// `PATCH` setting the image and lessee.
    SetInstance,
    /// `PUT` target `active`.
    Deploy,
    /// `PUT` target `deleted`.
    Undeploy,
    /// A read while Ironic works.
    Poll,
    /// `PATCH` clearing the lessee and instance at the end.
    Clear,
}

/// How a case ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The lease was AVAILABLE and is COMPLETED; the node is clean, its lessee cleared, the
    /// item available.
    Completed,
    /// The lease is FAILED (never AVAILABLE); the node the canister changed is cleaned, its
    /// lessee cleared, and the item available.
    FailedCleaned,
    /// The lease is FAILED (never AVAILABLE); the canister never changed the node; the item is
    /// in Maintenance.
    FailedUntouched,
    /// The lease was AVAILABLE and is COMPLETED, but the undeploy failed: the item is in
    /// Maintenance for its operator.
    CompletedMaintenance,
    /// `provision_server` was accepted and the node is `active`, the item out of the market.
    DirectCompleted,
    /// The direct deploy's operation is Failed (typed message); the item out of the market.
    DirectFailed,
    /// `provision_server` answered a typed error before changing anything.
    DirectRefused,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Completed => "COMPLETED",
            Outcome::FailedCleaned => "FAILED/cleaned",
            Outcome::FailedUntouched => "FAILED/maintenance",
            Outcome::CompletedMaintenance => "COMPLETED/maintenance",
            Outcome::DirectCompleted => "direct:Completed",
            Outcome::DirectFailed => "direct:Failed",
            Outcome::DirectRefused => "direct:refused",
        }
    }
}

/// The documented final state of a case; `None` when the fault cannot happen at that step.
fn expected(stage: Stage, kind: Kind, role: Role) -> Option<Outcome> {
    use Outcome::*;
    let outcome = match stage {
        Stage::Deploy => match (kind, role) {
            (kind, _) if kind.transient() => Completed,
            (Kind::NodeFailed, _) => FailedCleaned,
            // A 2xx to a PATCH or PUT means Ironic did it; its body is not read.
            (Kind::MalformedJson, Role::SetInstance | Role::Deploy) => Completed,
            (Kind::MalformedJson | Kind::Oversized, Role::Read) => FailedUntouched,
            (Kind::Oversized, Role::SetInstance) => FailedUntouched,
            // The image and lessee are set: the node is the canister's to clean.
            (Kind::Oversized, Role::Deploy) => FailedCleaned,
            (_, _) => FailedCleaned,
        },
        Stage::Undeploy => match (kind, role) {
            // The clean is over and seen: the node cannot fail it any more.
            (Kind::NodeFailed, Role::Clear) => return None,
            (kind, _) if kind.transient() => Completed,
            (Kind::MalformedJson, Role::Undeploy | Role::Clear) => Completed,
            (_, _) => CompletedMaintenance,
        },
        Stage::Direct => match (kind, role) {
            // The read inside `provision_server`: its error is the answer.
            (kind, Role::Read) if kind != Kind::NodeFailed => DirectRefused,
            (kind, _) if kind.transient() => DirectCompleted,
            (Kind::MalformedJson, Role::SetInstance | Role::Deploy) => DirectCompleted,
            (_, _) => DirectFailed,
        },
    };
    Some(outcome)
}

// --- the fault injector in front of the fake Ironic ---

/// One case: the fault `kind` at the node's request number `at` (0-based, counted per node
/// from its first request).
#[derive(Clone, Debug)]
struct Case {
    uuid: String,
    at: usize,
    step: usize,
    role: Role,
    kind: Kind,
    expect: Outcome,
}

#[derive(Default)]
struct Injector {
    stage: Option<Stage>,
    planned: HashMap<String, (usize, Kind)>,
    counts: HashMap<String, usize>,
    /// Node → the request the fault was injected into.
    hit: HashMap<String, String>,
}

/// The node a request is about (`/v1/nodes/{uuid}...`).
fn node_of(url: &str) -> Option<String> {
    let rest = url.split_once("/v1/nodes/")?.1;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

fn describe(request: &HttpRequestArgs) -> String {
    let body = request
        .body
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    format!("{:?} {}", request.method, body)
}

/// A 2xx answer with its body cut in the middle of the JSON.
fn garbled(reply: HttpReply) -> HttpReply {
    match reply {
        HttpReply::Response(mut response)
            if u16::try_from(response.status.0.clone()).is_ok_and(|s| (200..300).contains(&s)) =>
        {
            response.body = br#"{"uuid": "1be26c0b", "provision_state": "deplo"#.to_vec();
            HttpReply::Response(response)
        }
        other => other,
    }
}

/// The node fails on its own, now if it is on the way, else at the end of what it is asked.
fn node_fails(fake: &FakeIronic, uuid: &str, stage: Stage) {
    fake.update_node(uuid, |node| {
        let state = node.provision_state.clone();
        match (stage, state.as_str()) {
            (Stage::Deploy | Stage::Direct, "available") => {
                node.fail_deploy = Some(DEPLOY_FAILED.into())
            }
            (Stage::Deploy | Stage::Direct, _) => {
                node.provision_state = "deploy failed".into();
                node.target_provision_state = Some("active".into());
                node.last_error = Some(DEPLOY_FAILED.into());
                node.history.push("deploy failed".into());
            }
            (Stage::Undeploy, "active") => node.fail_clean = Some(CLEAN_FAILED.into()),
            (Stage::Undeploy, _) => {
                node.provision_state = "clean failed".into();
                node.target_provision_state = None;
                node.last_error = Some(CLEAN_FAILED.into());
                node.maintenance = true;
                node.maintenance_reason = Some(CLEAN_FAILED.into());
                node.history.push("clean failed".into());
            }
        }
    });
}

/// Answers every outcall through `fake`, injecting the planned faults. The phase a stage does
/// not drill runs fast: a node asked to deploy (in the undeploy drill) or to undeploy (in the
/// deploy drill) is there at once, which saves the interpreter some hundred polls.
fn answer(fake: &FakeIronic, injector: &RefCell<Injector>, request: &HttpRequestArgs) -> HttpReply {
    let Some(uuid) = node_of(&request.url) else {
        return fake.answer(request);
    };
    let stage = injector.borrow().stage.expect("a stage");
    let reply = inject(fake, injector, request, &uuid, stage);
    let state = fake.node(&uuid).provision_state;
    let skipped = match stage {
        Stage::Undeploy => "deploying",
        Stage::Deploy => "deleting",
        Stage::Direct => "",
    };
    if state == skipped {
        fake.settle(&uuid);
    }
    reply
}

fn inject(
    fake: &FakeIronic,
    injector: &RefCell<Injector>,
    request: &HttpRequestArgs,
    uuid: &str,
    stage: Stage,
) -> HttpReply {
    let kind = {
        let mut injector = injector.borrow_mut();
        let count = injector.counts.entry(uuid.to_string()).or_insert(0);
        let n = *count;
        *count += 1;
        match injector.planned.get(uuid) {
            Some(&(at, kind)) if at == n => {
                injector.hit.insert(uuid.to_string(), describe(request));
                kind
            }
            _ => return fake.answer(request),
        }
    };
    let fault = match kind {
        Kind::Http500 => Fault::InternalError,
        Kind::Locked409 => Fault::NodeLocked,
        Kind::Unavailable503 => Fault::Unavailable,
        Kind::Refused => Fault::Refused,
        Kind::Timeout => Fault::Timeout,
        Kind::LostAnswer => Fault::LostAnswer,
        Kind::Oversized => Fault::Oversized,
        Kind::MalformedJson if request.method == HttpMethod::GET => Fault::MalformedJson,
        Kind::MalformedJson => return garbled(fake.answer(request)),
        Kind::NodeFailed => {
            node_fails(fake, uuid, stage);
            return fake.answer(request);
        }
    };
    // Injected right before this request: the fake's next matching request is this one.
    fake.inject(On::Any, 1, fault);
    fake.answer(request)
}

// --- the drill's canister ---

fn uuid(i: usize) -> String {
    format!(
        "{:08x}-d711-4c1e-9f00-{:012x}",
        0xd000_0000u32 + i as u32,
        i
    )
}

struct Drill {
    lab: Lab,
    injector: Rc<RefCell<Injector>>,
    /// Item id → node uuid.
    items: BTreeMap<u64, String>,
}

impl Drill {
    /// The fake Ironic with `nodes` nodes, their items offered for two days, and a stuck
    /// timeout (1 h) that only a case gone wrong would reach.
    fn new(stage: Stage, nodes: usize) -> Self {
        let mut lab = Lab::on_host();
        lab.configure();
        let injector = Rc::new(RefCell::new(Injector {
            stage: Some(stage),
            ..Injector::default()
        }));
        let (fake, inj) = (lab.ironic.clone(), injector.clone());
        lab.m
            .canister
            .driver
            .set_http_responder(Box::new(move |request| answer(&fake, &inj, request)));
        let controller = lab.controller();
        lab.m
            .canister
            .policies_set(
                controller,
                PoliciesUpdate {
                    stuck_timeout_seconds: Some(3600),
                    max_active_leases_per_principal: Some(1000),
                    ..PoliciesUpdate::default()
                },
            )
            .expect("policies_set");
        let inputs: Vec<ItemInput> = (0..nodes)
            .map(|i| {
                let id = uuid(i);
                lab.ironic
                    .add_node(FakeNode::new(&id, &format!("drill-{i:03}"), LARGE_CLASS));
                let attributes = Attributes {
                    resource_class: LARGE_CLASS.into(),
                    ..attributes(32, 128, 1000, 0)
                };
                Market::node_input(LARGE, &id, attributes)
            })
            .collect();
        let delegate = lab.delegate();
        let arg = lab.m.register_arg(inputs);
        let registered = lab
            .m
            .canister
            .inventory_register(delegate, arg)
            .expect("inventory_register");
        let now = lab.now();
        let offers = registered
            .iter()
            .map(|item| OfferInput {
                terms: None,
                item_id: item.id,
                start_ns: now,
                end_ns: now + 2 * DAY_NS,
                price_per_hour: 100,
                properties: vec![],
            })
            .collect();
        let provider = lab.m.provider.key();
        let created: MarketResult<Vec<Offer>> = lab.m.canister.market_update(
            delegate,
            "offers_create",
            OffersCreateArg { provider, offers },
        );
        created.expect("offers_create");
        let items = registered
            .into_iter()
            .map(|item| (item.id, item.resource_uuid))
            .collect();
        Self {
            lab,
            injector,
            items,
        }
    }

    fn host(&self) -> std::rc::Rc<RefCell<ic0_host::Host>> {
        self.lab.host.clone().expect("on the host")
    }

    /// Leases `n` nodes by SKU now, all in one round; returns their executions.
    fn lease(&mut self, first: usize, n: usize) -> Vec<Execution> {
        let host = self.host();
        let ids: Vec<_> = (first..first + n)
            .map(|i| {
                let arg = LeaseBySkuArg {
                    project: Some(format!("proj-{i}")),
                    ..by_sku(LARGE, LEASE_S, &lessee_key(1))
                };
                submit(&host, consumer("drill"), "lease_by_sku", arg)
            })
            .collect();
        ids.into_iter()
            .map(|id| take::<Execution>(&host, id).expect("lease_by_sku"))
            .collect()
    }

    /// Runs the clock from timer deadline to timer deadline until `until` is past and no timer
    /// is due within [`QUIET_NS`]; `each` after every run (true stops early). Returns the runs.
    fn run(&mut self, until: u64, mut each: impl FnMut(&mut Self) -> bool) -> usize {
        let host = self.host();
        for ticks in 0..MAX_TICKS {
            let now = self.lab.now();
            // The watchdog keeps the timer armed: quiet is the task queue's.
            let next_task = self.lab.m.canister.status().next_task_due;
            if now >= until && next_task.is_none_or(|due| due > now + QUIET_NS) {
                return ticks;
            }
            let deadline = host.borrow().timer_deadline();
            self.lab.advance(deadline.saturating_sub(now).max(1));
            if each(self) {
                return ticks + 1;
            }
        }
        panic!("the canister is never quiet after {MAX_TICKS} timer runs");
    }

    /// The requests on node `uuid`, described, in order.
    fn requests_on(&self, uuid: &str) -> Vec<Recorded> {
        self.lab.requests_on(uuid)
    }

    /// Global checks: no task overdue or failing.
    fn assert_quiet(&mut self) {
        let status = self.lab.m.canister.status();
        assert_eq!(
            (status.tasks_overdue, status.tasks_failing),
            (0, 0),
            "tasks overdue or failing: {status:?}"
        );
    }
}

/// The role of each request of a clean run's phase.
fn roles(requests: &[Recorded]) -> Vec<Role> {
    let mut changed = false;
    requests
        .iter()
        .map(|r| {
            let role = match r.method {
                HttpMethod::GET if changed => Role::Poll,
                HttpMethod::GET => Role::Read,
                HttpMethod::PATCH if changed => Role::Clear,
                HttpMethod::PATCH => Role::SetInstance,
                _ if r.is_target("active") => Role::Deploy,
                _ => Role::Undeploy,
            };
            if r.method == HttpMethod::PUT {
                changed = true;
            }
            role
        })
        .collect()
}

fn label(r: &Recorded) -> String {
    match r.method {
        HttpMethod::PUT => format!(
            "PUT {}",
            if r.is_target("active") {
                "active"
            } else {
                "deleted"
            }
        ),
        method => format!("{method:?}"),
    }
}

/// Every (step, kind) case of a phase whose steps are `steps`, starting at request `offset`
/// of each node, on nodes from 1 (node 0 ran clean).
fn plan(drill: &mut Drill, stage: Stage, steps: &[Role], offset: usize) -> Vec<Case> {
    let mut cases = vec![];
    for (step, role) in steps.iter().enumerate() {
        for kind in KINDS {
            if let Some(expect) = expected(stage, kind, *role) {
                cases.push(Case {
                    uuid: String::new(),
                    at: offset + step,
                    step,
                    role: *role,
                    kind,
                    expect,
                });
            }
        }
    }
    for (i, case) in cases.iter_mut().enumerate() {
        case.uuid = uuid(i + 1);
        drill
            .injector
            .borrow_mut()
            .planned
            .insert(case.uuid.clone(), (case.at, case.kind));
    }
    cases
}

/// Checks a case of a lease against its outcome; returns the failure, if any.
fn check_lease(drill: &mut Drill, case: &Case, execution: &Execution) -> Result<(), String> {
    let lab = &mut drill.lab;
    let done = lab.m.execution(execution.id);
    let phases = lab.m.history(Entity::Execution(execution.id));
    let was_available = phases.iter().any(|p| p == "AVAILABLE");
    let item = lab.m.item(execution.item_id);
    let node = lab.ironic.node(&case.uuid);
    let operation = lab.status(&case.uuid);
    let mut problems = vec![];
    if matches!(
        operation.status,
        OperationStatus::Accepted | OperationStatus::InProgress
    ) {
        problems.push(format!("operation still under way: {operation:?}"));
    }
    if matches!(item.status, ItemStatus::Reserving | ItemStatus::Leased) {
        problems.push(format!("item left {:?}", item.status));
    }
    let (phase, available, item_status) = match case.expect {
        Outcome::Completed => (Phase::Completed, true, ItemStatus::Available),
        Outcome::FailedCleaned => (Phase::Failed, false, ItemStatus::Available),
        Outcome::FailedUntouched => (Phase::Failed, false, ItemStatus::Maintenance),
        Outcome::CompletedMaintenance => (Phase::Completed, true, ItemStatus::Maintenance),
        other => unreachable!("{other:?} is not a lease's"),
    };
    if done.phase != phase {
        problems.push(format!(
            "lease {:?} ({:?}), expected {phase:?}",
            done.phase, done.reason
        ));
    }
    if was_available != available {
        problems.push(format!(
            "AVAILABLE {was_available}, expected {available}: {phases:?}"
        ));
    }
    if item.status != item_status {
        problems.push(format!("item {:?}, expected {item_status:?}", item.status));
    }
    if item_status == ItemStatus::Available {
        // Back on the market: the node is clean and nobody's.
        if (node.provision_state.as_str(), node.lessee.as_deref()) != ("available", None)
            || node.image_source().is_some()
        {
            problems.push(format!(
                "node {} lessee {:?} image {:?}, expected available and cleared",
                node.provision_state,
                node.lessee,
                node.image_source()
            ));
        }
    }
    if case.expect == Outcome::FailedUntouched && node.lessee.is_some() {
        problems.push(format!(
            "the failed lease's lessee is left on the node: {:?}",
            node.lessee
        ));
    }
    if done.phase == Phase::Failed && done.reason.as_deref().is_none_or(str::is_empty) {
        problems.push("FAILED without a reason".into());
    }
    if case.kind == Kind::NodeFailed && case.expect == Outcome::FailedCleaned {
        let reason = done.reason.clone().unwrap_or_default();
        if !reason.contains(DEPLOY_FAILED) {
            problems.push(format!("the reason lacks Ironic's last_error: {reason:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn case_name(stage: Stage, case: &Case, steps: &[Recorded]) -> String {
    format!(
        "{} step {} ({} {:?}) {:?}",
        stage.name(),
        case.step,
        label(&steps[case.step]),
        case.role,
        case.kind
    )
}

/// No two live executions of one item overlap (`Market::assert_no_double_booking` for every
/// item, reading the executions once).
fn assert_no_double_booking(drill: &mut Drill) {
    let now = drill.lab.now();
    let mut live: BTreeMap<u64, Vec<Execution>> = BTreeMap::new();
    for e in drill.lab.m.all_executions() {
        if e.phase.is_active_lease() || (e.phase == Phase::Offered && e.expires_at_ns > now) {
            live.entry(e.item_id).or_default().push(e);
        }
    }
    for (item, executions) in live {
        for (i, a) in executions.iter().enumerate() {
            for b in &executions[i + 1..] {
                assert!(
                    a.end_ns <= b.start_ns || b.end_ns <= a.start_ns,
                    "item {item} is booked twice: executions {} and {}",
                    a.id,
                    b.id
                );
            }
        }
    }
}

/// Every case's fault was injected exactly where planned.
fn assert_all_hit(drill: &Drill, cases: &[Case]) {
    let injector = drill.injector.borrow();
    let missed: Vec<String> = cases
        .iter()
        .filter(|c| !injector.hit.contains_key(&c.uuid))
        .map(|c| format!("step {} {:?} on {}", c.step, c.kind, c.uuid))
        .collect();
    assert!(missed.is_empty(), "faults never injected: {missed:#?}");
}

// --- the figures ---

/// This run's id: the same for every test of one `cargo nextest run` (or one test process).
fn run_id() -> String {
    std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| format!("pid-{}", std::process::id()))
}

const HARDENING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/hardening");

/// Records this phase's figures; once all three phases of this run are in, writes
/// `faults.txt`.
fn record(stage: Stage, steps: usize, cases: &[Case]) {
    std::fs::create_dir_all(HARDENING).expect("target/hardening");
    let mut ends: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        *ends.entry(case.expect.label()).or_default() += 1;
    }
    let ends: Vec<String> = ends.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let part = format!(
        "{}\n{}\n{}\n{}\n",
        run_id(),
        steps,
        cases.len(),
        ends.join(",")
    );
    let path = format!("{HARDENING}/faults.{}.part", stage.name());
    std::fs::write(format!("{path}.tmp"), part).unwrap();
    std::fs::rename(format!("{path}.tmp"), &path).unwrap();

    let mut parts = vec![];
    for stage in [Stage::Deploy, Stage::Undeploy, Stage::Direct] {
        let path = format!("{HARDENING}/faults.{}.part", stage.name());
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let lines: Vec<String> = text.lines().map(String::from).collect();
        if lines.len() != 4 || lines[0] != run_id() {
            return;
        }
        parts.push(lines);
    }
    let cases: usize = parts.iter().map(|p| p[2].parse::<usize>().unwrap()).sum();
    let steps: Vec<&str> = parts.iter().map(|p| p[1].as_str()).collect();
    let mut ends: BTreeMap<String, usize> = BTreeMap::new();
    for part in &parts {
        for pair in part[3].split(',') {
            let (k, v) = pair.split_once('=').unwrap();
            *ends.entry(k.to_string()).or_default() += v.parse::<usize>().unwrap();
        }
    }
    let ends: Vec<String> = ends.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let line = format!(
        "faults: cases={cases} steps={} kinds={} end_states={} stuck=0\n",
        steps.join("+"),
        KINDS.len(),
        ends.join(",")
    );
    let path = format!("{HARDENING}/faults.txt");
    std::fs::write(format!("{path}.tmp"), line).unwrap();
    std::fs::rename(format!("{path}.tmp"), path).unwrap();
}

// --- the phases ---

/// A clean lease on node 0: the requests of its deploy and of its undeploy.
fn clean_lease(drill: &mut Drill) -> (Vec<Recorded>, Vec<Recorded>) {
    let lease = drill.lease(0, 1).remove(0);
    assert_eq!(lease.resource_uuid, uuid(0));
    let mut deploy_len = None;
    let id = lease.id;
    drill.run(lease.end_ns, |d| {
        if deploy_len.is_none() && d.lab.m.phase(id) == Phase::Available {
            deploy_len = Some(d.requests_on(&uuid(0)).len());
        }
        false
    });
    let done = drill.lab.m.execution(id);
    assert_eq!(done.phase, Phase::Completed, "the clean run: {done:?}");
    let requests = drill.requests_on(&uuid(0));
    assert!(requests.iter().all(Recorded::succeeded));
    let deploy_len = deploy_len.expect("the clean lease was AVAILABLE");
    // A lease books only its window, so node 0's offer is still open and free from now on:
    // an as-soon-as-possible lease would take it. Withdrawn, so the cases' leases take the
    // nodes from 1 up.
    let delegate = drill.lab.delegate();
    let arg = OfferWithdrawArg {
        provider: drill.lab.m.provider.key(),
        offer_id: done.offer_id,
    };
    drill
        .lab
        .m
        .canister
        .offer_withdraw(delegate, arg)
        .expect("withdraw the clean node's offer");
    (
        requests[..deploy_len].to_vec(),
        requests[deploy_len..].to_vec(),
    )
}

/// Runs every case of a lease phase; panics with every case that ended wrong.
fn lease_phase(stage: Stage) {
    let max_cases = 9 * 12;
    let mut drill = Drill::new(stage, max_cases + 1);
    let (deploy, undeploy) = clean_lease(&mut drill);
    let (steps, offset) = match stage {
        Stage::Deploy => (deploy.clone(), 0),
        _ => (undeploy.clone(), deploy.len()),
    };
    let cases = plan(&mut drill, stage, &roles(&steps), offset);
    assert!(cases.len() <= max_cases, "more steps than nodes");
    let leases = drill.lease(1, cases.len());
    let by_uuid: HashMap<String, Execution> = leases
        .into_iter()
        .map(|e| (e.resource_uuid.clone(), e))
        .collect();
    let unleased: Vec<&str> = cases
        .iter()
        .map(|c| c.uuid.as_str())
        .filter(|uuid| !by_uuid.contains_key(*uuid))
        .collect();
    assert!(unleased.is_empty(), "cases' nodes not leased: {unleased:?}");
    let end = by_uuid.values().map(|e| e.end_ns).max().unwrap();
    drill.run(end, |_| false);
    assert_all_hit(&drill, &cases);
    drill.assert_quiet();
    let mut wrong = vec![];
    for case in &cases {
        let execution = &by_uuid[&case.uuid];
        if let Err(problem) = check_lease(&mut drill, case, execution) {
            wrong.push(format!(
                "{}: expected {}: {problem}",
                case_name(stage, case, &steps),
                case.expect.label()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases ended wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert_no_double_booking(&mut drill);
    record(stage, steps.len(), &cases);
}

#[test]
fn every_fault_at_every_step_of_a_leases_deploy_ends_in_a_documented_state() {
    lease_phase(Stage::Deploy);
}

#[test]
fn every_fault_at_every_step_of_a_leases_undeploy_ends_in_a_documented_state() {
    lease_phase(Stage::Undeploy);
}

#[test]
fn every_fault_at_every_step_of_a_direct_provision_ends_in_a_documented_state() {
    let stage = Stage::Direct;
    let max_cases = 9 * 10;
    let mut drill = Drill::new(stage, max_cases + 1);
    let host = drill.host();
    let delegate = drill.lab.delegate();
    // The clean run on node 0.
    let id = submit(
        &host,
        delegate,
        "provision_server",
        provision_node(&uuid(0), IMAGE),
    );
    let mut completed = None;
    let now = drill.lab.now();
    drill.run(now + MINUTE_NS, |d| {
        let status = d.lab.status(&uuid(0)).status;
        if status == OperationStatus::Completed {
            completed = Some(d.requests_on(&uuid(0)).len());
        }
        completed.is_some()
    });
    let reply: ProvisionResult<ProvisionResponse> = {
        let bytes = host
            .borrow_mut()
            .take_result(id)
            .expect("answered")
            .unwrap();
        candid::decode_one(&bytes).unwrap()
    };
    reply.expect("the clean provision_server");
    let steps = drill.requests_on(&uuid(0))[..completed.expect("completed")].to_vec();
    let cases = plan(&mut drill, stage, &roles(&steps), 0);
    assert!(cases.len() <= max_cases, "more steps than nodes");
    let calls: Vec<_> = cases
        .iter()
        .map(|case| {
            submit(
                &host,
                delegate,
                "provision_server",
                provision_node(&case.uuid, IMAGE),
            )
        })
        .collect();
    let now = drill.lab.now();
    drill.run(now + MINUTE_NS, |_| false);
    assert_all_hit(&drill, &cases);
    drill.assert_quiet();
    let mut wrong = vec![];
    let items: HashMap<String, u64> = drill
        .items
        .iter()
        .map(|(id, uuid)| (uuid.clone(), *id))
        .collect();
    for (case, call) in cases.iter().zip(calls) {
        let reply: ProvisionResult<ProvisionResponse> = {
            let bytes = host
                .borrow_mut()
                .take_result(call)
                .expect("provision_server answered")
                .expect("not rejected");
            candid::decode_one(&bytes).unwrap()
        };
        let item = drill.lab.m.item(items[&case.uuid]);
        let controller = drill.lab.controller();
        let operation = drill
            .lab
            .m
            .canister
            .provision_status(controller, &case.uuid);
        let node = drill.lab.ironic.node(&case.uuid);
        let mut problems = vec![];
        if let Ok(op) = &operation {
            if matches!(
                op.status,
                OperationStatus::Accepted | OperationStatus::InProgress
            ) {
                problems.push(format!("operation still under way: {op:?}"));
            }
        }
        match case.expect {
            Outcome::DirectRefused => {
                if !matches!(
                    reply,
                    Err(ProvisionError::IronicUnreachable { .. }
                        | ProvisionError::IronicFailed { .. })
                ) {
                    problems.push(format!("provision_server answered {reply:?}"));
                }
                if operation.is_ok() {
                    problems.push(format!("an operation was recorded: {operation:?}"));
                }
                if item.status != ItemStatus::Available {
                    problems.push(format!("item {:?}", item.status));
                }
                if node.lessee.is_some() || node.provision_state != "available" {
                    problems.push(format!("node changed: {:?}", node.history));
                }
            }
            Outcome::DirectCompleted | Outcome::DirectFailed => {
                let want = if case.expect == Outcome::DirectCompleted {
                    OperationStatus::Completed
                } else {
                    OperationStatus::Failed
                };
                match &operation {
                    Ok(op) if op.status == want => {
                        if want == OperationStatus::Failed && op.message.is_empty() {
                            problems.push("Failed without a message".into());
                        }
                        if case.kind == Kind::NodeFailed && !op.message.contains(DEPLOY_FAILED) {
                            problems.push(format!("no last_error: {}", op.message));
                        }
                    }
                    other => problems.push(format!("operation {other:?}, expected {want:?}")),
                }
                if want == OperationStatus::Completed {
                    if reply.is_err() {
                        problems.push(format!("provision_server answered {reply:?}"));
                    }
                    if (node.provision_state.as_str(), node.lessee.clone())
                        != ("active", Some(delegate.to_text()))
                    {
                        problems.push(format!(
                            "node {} lessee {:?}",
                            node.provision_state, node.lessee
                        ));
                    }
                }
                if item.status != ItemStatus::Maintenance {
                    problems.push(format!("item {:?}, expected Maintenance", item.status));
                }
            }
            other => unreachable!("{other:?}"),
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "{}: expected {}: {}",
                case_name(stage, case, &steps),
                case.expect.label(),
                problems.join("; ")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases ended wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    record(stage, steps.len(), &cases);
}
