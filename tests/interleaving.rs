//! Messages that run while another awaits an outcall, on the ic0 host: several updates submitted
//! in one round, with a deploy step of another lease parked on a held Ironic answer.
//!
//! 1. Accepting one execution twice in one round, two principals accepting their executions of
//!    disjoint windows of one offer (each also trying the other's), an accept racing a cancel,
//!    an offer withdrawal and the offerset's expiry: one contract per window (a lease books
//!    only its window of the offer), typed errors for the others, no window booked twice.
//! 2. A lease's consumer cancelling, ending or extending it while its deploy or its undeploy
//!    awaits Ironic at each await point (the read, the PATCH, the PUT, a poll, the final clear):
//!    the lease never becomes AVAILABLE once cancelled or ended, an extension holds, a lease
//!    being released refuses all three, and the node always ends clean with nothing stuck.
//! 3. Catalog changes (upsert, remove, replace, provider removal) between the pages of an
//!    `offerings_search` and a `provider_offerings` walk: no duplicates, pages in order, removed
//!    offerings never returned after their removal, every untouched offering returned once,
//!    stale cursors continue after their position and cursors of another query are refused.
//!
//! Writes `target/hardening/interleaving.txt`.

mod common;

use candid::Principal;
use common::ironic::*;
use common::market::*;
use common::*;
use ic0_host::{HttpReply, HttpRequestArgs};
use ic_management_canister_types::HttpMethod;
use marketplace::catalog::encode::Offerings;
use marketplace::catalog::offering::COLUMNS;
use marketplace::catalog::search::query::{Format, SearchQuery, SortOrder};
use marketplace::catalog::search::{ProviderOfferingsArg, SearchError, SearchPage};
use marketplace::catalog::signing::{self, Operation};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// Scenarios run and interleaving rounds (several messages, or a change between two pages).
#[derive(Default)]
struct Tally {
    scenarios: usize,
    rounds: usize,
}

const HARDENING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/hardening");

fn run_id() -> String {
    std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| format!("pid-{}", std::process::id()))
}

/// Records one test's tally; once all three tests of this run are in, writes the figures.
fn record(name: &str, tally: &Tally) {
    std::fs::create_dir_all(HARDENING).unwrap();
    let path = format!("{HARDENING}/interleaving.{name}.part");
    let text = format!("{}\n{}\n{}\n", run_id(), tally.scenarios, tally.rounds);
    std::fs::write(format!("{path}.tmp"), text).unwrap();
    std::fs::rename(format!("{path}.tmp"), &path).unwrap();
    let (mut scenarios, mut rounds) = (0, 0);
    for name in ["accepts", "provisioning", "catalog"] {
        let Ok(text) = std::fs::read_to_string(format!("{HARDENING}/interleaving.{name}.part"))
        else {
            return;
        };
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() != 3 || lines[0] != run_id() {
            return;
        }
        scenarios += lines[1].parse::<usize>().unwrap();
        rounds += lines[2].parse::<usize>().unwrap();
    }
    let path = format!("{HARDENING}/interleaving.txt");
    let line = format!("interleaving: scenarios={scenarios} rounds={rounds} violations=0\n");
    std::fs::write(format!("{path}.tmp"), line).unwrap();
    std::fs::rename(format!("{path}.tmp"), path).unwrap();
}

fn tick(host: &Rc<RefCell<ic0_host::Host>>) {
    host.borrow_mut().tick();
}

/// Moves the clock to the next timer deadline (at most 5 minutes on) and runs what is due.
fn jump(lab: &mut Lab) {
    let host = lab.host.clone().expect("on the host");
    let now = lab.now();
    let deadline = host.borrow().timer_deadline();
    lab.advance(deadline.saturating_sub(now).clamp(1, 5 * MINUTE_NS));
}

/// Answers every deferred outcall with what the fake Ironic held for it.
fn answer_held(lab: &mut Lab) {
    let host = lab.host.clone().expect("on the host");
    let pending = host.borrow().pending_http();
    for (id, args) in pending {
        let reply = lab.ironic.answer_held(&args);
        host.borrow_mut()
            .answer_http(id, reply)
            .expect("answer_http");
    }
}

fn assert_quiet(lab: &mut Lab) {
    let status = lab.m.canister.status();
    assert_eq!(
        (status.tasks_overdue, status.tasks_failing),
        (0, 0),
        "tasks overdue or failing: {status:?}"
    );
}

/// Contracts of one offer book disjoint windows, and no item is booked twice.
fn assert_contracts_of_an_offer_never_overlap(m: &mut Market) {
    let executions = m.all_executions();
    let mut by_offer: BTreeMap<u64, Vec<&Execution>> = BTreeMap::new();
    let mut items = BTreeSet::new();
    for e in &executions {
        items.insert(e.item_id);
        // A contract still booking its window; cancelled ones gave their window back.
        if e.phase.is_active_lease() || e.phase == Phase::Completed {
            by_offer.entry(e.offer_id).or_default().push(e);
        }
    }
    for (offer, contracts) in by_offer {
        for (i, a) in contracts.iter().enumerate() {
            for b in &contracts[i + 1..] {
                assert!(
                    a.end_ns <= b.start_ns || b.end_ns <= a.start_ns,
                    "offer {offer} made overlapping contracts: {} ({}..{}) and {} ({}..{})",
                    a.id,
                    a.start_ns,
                    a.end_ns,
                    b.id,
                    b.start_ns,
                    b.end_ns
                );
            }
        }
    }
    for item in items {
        m.assert_no_double_booking(item);
    }
}

// --- 1. accepts ---

/// A lease of node A whose deploy request is held: its step awaits Ironic meanwhile.
fn deploy_in_flight(lab: &mut Lab) -> Execution {
    lab.ironic.inject(On::Target("active"), 1, Fault::Defer);
    let lease = lab.lease_now(consumer("holder"), "proj-holder", 2);
    lab.wait_until("the deploy is in flight", 5 * MINUTE_NS, |lab| {
        lab.ironic.held() == 1
    });
    assert_eq!(lab.m.phase(lease.id), Phase::Preparing);
    lease
}

/// An offerset of one offer of `item` for `[start, start + 1 h)`, for `who`.
fn offer_for(lab: &mut Lab, who: Principal, start: u64, class: &str) -> OffersetView {
    let view = lab.m.request(
        who,
        ResourceRequest {
            resource_class: Some(class.into()),
            ..one_offer(start, 3600)
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    view
}

fn wrong_phase(result: &MarketResult<Execution>) -> bool {
    matches!(result, Err(MarketError::WrongPhase { .. }))
}

#[test]
fn racing_accepts_make_one_contract_per_window_while_a_deploy_awaits_ironic() {
    let mut tally = Tally::default();
    let mut lab = Lab::on_host();
    lab.configure();
    let host = lab.host.clone().unwrap();
    let node_a = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let node_b = lab.node(NODE_B, "rack1-node02", SMALL_CLASS);
    let now = lab.now();
    lab.m.offer(node_a.id, now, now + DAY_NS, 100);
    let holder = deploy_in_flight(&mut lab);
    let now = lab.now();
    let offer_b = lab.m.offer(node_b.id, now, now + DAY_NS, 100);
    let later = now + 6 * HOUR_NS;

    // The same execution accepted twice in one round.
    tally.scenarios += 1;
    let x = consumer("x");
    let view = offer_for(&mut lab, x, later, SMALL_CLASS);
    let e1 = view.offerset.execution_ids[0];
    let first = submit(&host, x, "execution_accept", accept_arg(e1, &lessee_key(1)));
    let second = submit(&host, x, "execution_accept", accept_arg(e1, &lessee_key(2)));
    tick(&host);
    tally.rounds += 1;
    let (first, second) = (
        take::<Execution>(&host, first),
        take::<Execution>(&host, second),
    );
    assert!(first.is_ok(), "{first:?}");
    assert!(wrong_phase(&second), "{second:?}");
    assert_eq!(lab.m.execution(e1).lessee_key, Some(lessee_key(1)));
    assert_eq!(lab.ironic.held(), 1, "the deploy still awaits");
    // Release the offer for the next scenarios: cancel before its start.
    lab.m
        .canister
        .execution_cancel(
            x,
            CancelArg {
                execution_id: e1,
                reason: String::new(),
            },
        )
        .expect("cancel");
    let offer_b = lab
        .m
        .offer(node_b.id, offer_b.end_ns, offer_b.end_ns + DAY_NS, 90);

    // Two principals, each with an execution of the same offer (disjoint windows), and each
    // also trying the other's execution, all in one round: each accepts only its own.
    tally.scenarios += 1;
    let (y, z) = (consumer("y"), consumer("z"));
    let start = offer_b.start_ns;
    let ey = offer_for(&mut lab, y, start, SMALL_CLASS)
        .offerset
        .execution_ids[0];
    let ez = offer_for(&mut lab, z, start + 2 * HOUR_NS, SMALL_CLASS)
        .offerset
        .execution_ids[0];
    assert_eq!(lab.m.execution(ey).offer_id, lab.m.execution(ez).offer_id);
    let ids = [
        submit(&host, z, "execution_accept", accept_arg(ey, &lessee_key(3))),
        submit(&host, y, "execution_accept", accept_arg(ey, &lessee_key(4))),
        submit(&host, z, "execution_accept", accept_arg(ez, &lessee_key(5))),
        submit(&host, y, "execution_accept", accept_arg(ez, &lessee_key(6))),
    ];
    tick(&host);
    tally.rounds += 1;
    let results: Vec<MarketResult<Execution>> =
        ids.iter().map(|id| take::<Execution>(&host, *id)).collect();
    assert!(
        matches!(results[0], Err(MarketError::NotAuthorized { .. })),
        "{:?}",
        results[0]
    );
    // A lease books only its window: both consumers' windows of the one offer become
    // contracts, the offer stays open, and the two never overlap.
    assert!(results[1].is_ok(), "{:?}", results[1]);
    assert!(results[2].is_ok(), "{:?}", results[2]);
    assert!(
        matches!(results[3], Err(MarketError::NotAuthorized { .. })),
        "{:?}",
        results[3]
    );
    assert_eq!(lab.m.phase(ey), Phase::Waiting);
    assert_eq!(lab.m.phase(ez), Phase::Waiting);
    assert_eq!(lab.m.execution(ey).lessee_key, Some(lessee_key(4)));
    assert_eq!(lab.m.execution(ez).lessee_key, Some(lessee_key(5)));
    let (wy, wz) = (lab.m.execution(ey), lab.m.execution(ez));
    assert!(wy.end_ns <= wz.start_ns || wz.end_ns <= wy.start_ns);
    assert_contracts_of_an_offer_never_overlap(&mut lab.m);
    for (who, e) in [(y, ey), (z, ez)] {
        lab.m
            .canister
            .execution_cancel(
                who,
                CancelArg {
                    execution_id: e,
                    reason: String::new(),
                },
            )
            .expect("cancel");
    }

    // An accept racing a cancel of the same execution, in both orders.
    for (n, accept_first) in [(0u64, true), (1, false)] {
        tally.scenarios += 1;
        let offer = lab.m.offer(
            node_b.id,
            offer_b.end_ns + n * DAY_NS,
            offer_b.end_ns + (n + 1) * DAY_NS,
            80,
        );
        let w = consumer(&format!("w{n}"));
        let e = offer_for(&mut lab, w, offer.start_ns, SMALL_CLASS)
            .offerset
            .execution_ids[0];
        let cancel = CancelArg {
            execution_id: e,
            reason: "race".into(),
        };
        let (accept, cancel) = if accept_first {
            let a = submit(&host, w, "execution_accept", accept_arg(e, &lessee_key(7)));
            (a, submit(&host, w, "execution_cancel", cancel))
        } else {
            let c = submit(&host, w, "execution_cancel", cancel);
            (
                submit(&host, w, "execution_accept", accept_arg(e, &lessee_key(7))),
                c,
            )
        };
        tick(&host);
        tally.rounds += 1;
        let (accept, cancel) = (
            take::<Execution>(&host, accept),
            take::<Execution>(&host, cancel),
        );
        assert!(accept.is_ok(), "{accept:?}");
        if accept_first {
            assert!(cancel.is_ok(), "{cancel:?}");
            assert_eq!(lab.m.phase(e), Phase::Cancelled);
        } else {
            // An offered execution is not a contract yet: nothing to cancel.
            assert!(wrong_phase(&cancel), "{cancel:?}");
            assert!(matches!(lab.m.phase(e), Phase::Waiting));
            lab.m
                .canister
                .execution_cancel(
                    w,
                    CancelArg {
                        execution_id: e,
                        reason: String::new(),
                    },
                )
                .expect("cancel");
        }
    }

    // An accept racing the offer's withdrawal, in one round.
    tally.scenarios += 1;
    let offer = lab.m.offer(
        node_b.id,
        offer_b.end_ns + 3 * DAY_NS,
        offer_b.end_ns + 4 * DAY_NS,
        70,
    );
    let v = consumer("v");
    let e = offer_for(&mut lab, v, offer.start_ns, SMALL_CLASS)
        .offerset
        .execution_ids[0];
    let withdraw = OfferWithdrawArg {
        provider: lab.m.provider.key(),
        offer_id: offer.id,
    };
    let w = submit(&host, lab.delegate(), "offer_withdraw", withdraw);
    let a = submit(&host, v, "execution_accept", accept_arg(e, &lessee_key(8)));
    tick(&host);
    tally.rounds += 1;
    let (w, a) = (take::<Offer>(&host, w), take::<Execution>(&host, a));
    assert!(w.is_ok(), "{w:?}");
    assert!(
        matches!(
            a,
            Err(MarketError::OfferClosed { .. } | MarketError::WrongPhase { .. })
        ),
        "accepted a withdrawn offer: {a:?}"
    );

    // Accepts at the offerset's expiry: one just before (it holds), one at it (refused), the
    // expiry task running in the same round.
    tally.scenarios += 1;
    let base = offer_b.end_ns + 5 * DAY_NS;
    let offer_s = lab.m.offer(node_b.id, base, base + DAY_NS, 60);
    let offer_t = lab.m.offer(node_b.id, base + DAY_NS, base + 2 * DAY_NS, 60);
    let (s, t) = (consumer("s"), consumer("t"));
    let es = offer_for(&mut lab, s, offer_s.start_ns, SMALL_CLASS)
        .offerset
        .execution_ids[0];
    let et = offer_for(&mut lab, t, offer_t.start_ns, SMALL_CLASS)
        .offerset
        .execution_ids[0];
    assert_ne!(lab.m.execution(es).offer_id, lab.m.execution(et).offer_id);
    let expires = lab.m.execution(et).expires_at_ns;
    let deadline_s = lab.m.execution(es).expires_at_ns;
    host.borrow_mut().set_time(deadline_s - 1);
    lab.ironic.set_now(lab.now());
    let before = submit(&host, s, "execution_accept", accept_arg(es, &lessee_key(9)));
    host.borrow_mut().set_time(expires);
    let at = submit(&host, t, "execution_accept", accept_arg(et, &lessee_key(9)));
    tick(&host);
    tally.rounds += 1;
    let (before, at) = (
        take::<Execution>(&host, before),
        take::<Execution>(&host, at),
    );
    assert!(before.is_ok(), "{before:?}");
    assert!(wrong_phase(&at), "accepted at its expiry: {at:?}");
    assert!(matches!(
        lab.m.phase(et),
        Phase::Expired | Phase::Rejected | Phase::Offered
    ));
    assert_ne!(lab.m.phase(es), Phase::Expired);

    // Through all of it the deploy awaited Ironic: it now ends, the lease AVAILABLE.
    assert_eq!(lab.ironic.held(), 1);
    answer_held(&mut lab);
    lab.wait_phase(holder.id, Phase::Available, 5 * MINUTE_NS);
    assert_contracts_of_an_offer_never_overlap(&mut lab.m);
    assert_quiet(&mut lab);
    record("accepts", &tally);
}

// --- 2. cancel, end and extend at every await point ---

/// What the consumer does while a step awaits Ironic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Cancel,
    End,
    Extend,
}

/// Holds the answer of the node's request number `at` (counted per node).
#[derive(Default)]
struct Holds {
    at: HashMap<String, usize>,
    counts: HashMap<String, usize>,
}

fn node_of(url: &str) -> Option<String> {
    let rest = url.split_once("/v1/nodes/")?.1;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

fn hold_answer(fake: &FakeIronic, holds: &RefCell<Holds>, request: &HttpRequestArgs) -> HttpReply {
    if let Some(uuid) = node_of(&request.url) {
        let mut holds = holds.borrow_mut();
        let count = holds.counts.entry(uuid.clone()).or_insert(0);
        let n = *count;
        *count += 1;
        if holds.at.get(&uuid) == Some(&n) {
            drop(holds);
            fake.inject(On::Any, 1, Fault::Defer);
        }
    }
    fake.answer(request)
}

fn node_uuid(i: usize) -> String {
    format!(
        "{:08x}-1e7a-4b0c-8d00-{:012x}",
        0x1e00_0000u32 + i as u32,
        i
    )
}

struct Point {
    uuid: String,
    item_id: u64,
    at: usize,
    /// The request held, from the clean run ("GET", "PATCH", "PUT active"...).
    what: String,
    undeploy: bool,
    action: Action,
}

#[test]
fn cancel_end_or_extend_at_every_await_point_of_a_deploy_and_an_undeploy() {
    let mut tally = Tally::default();
    let mut lab = Lab::on_host();
    lab.configure();
    let holds = Rc::new(RefCell::new(Holds::default()));
    let (fake, h) = (lab.ironic.clone(), holds.clone());
    lab.m
        .canister
        .driver
        .set_http_responder(Box::new(move |request| hold_answer(&fake, &h, request)));
    let host = lab.host.clone().unwrap();
    let controller = lab.controller();
    lab.m
        .canister
        .policies_set(
            controller,
            PoliciesUpdate {
                max_active_leases_per_principal: Some(500),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    let delegate = lab.delegate();
    // Registers `n` nodes from number `first`, each offered for two days; their items.
    let register = |lab: &mut Lab, first: usize, n: usize| -> Vec<Item> {
        let inputs = (first..first + n)
            .map(|i| {
                lab.ironic
                    .add_node(FakeNode::new(&node_uuid(i), &format!("n{i}"), LARGE_CLASS));
                Market::node_input(LARGE, &node_uuid(i), attributes(32, 128, 1000, 0))
            })
            .collect();
        let arg = lab.m.register_arg(inputs);
        let items = lab.m.canister.inventory_register(delegate, arg).unwrap();
        let now = lab.now();
        for item in &items {
            lab.m.offer(item.id, now, now + 2 * DAY_NS, 100);
        }
        items
    };
    let lease_of = |lab: &mut Lab, i: usize| -> Execution {
        let arg = LeaseBySkuArg {
            project: Some(format!("proj-{i}")),
            ..by_sku(LARGE, 3600, &lessee_key(1))
        };
        lab.m
            .canister
            .lease_by_sku(consumer("c"), arg)
            .expect("lease_by_sku")
    };

    // A clean lease: its requests are the await points.
    let clean_item = register(&mut lab, 0, 1).remove(0);
    let clean = lease_of(&mut lab, 0);
    let uuid0 = clean.resource_uuid.clone();
    let mut deploy_len = None;
    while !(lab.m.phase(clean.id).is_final()
        && lab.m.item(clean_item.id).status == ItemStatus::Available)
    {
        assert!(
            lab.now() < clean.end_ns + HOUR_NS,
            "the clean lease never ends"
        );
        jump(&mut lab);
        if deploy_len.is_none() && lab.m.phase(clean.id) == Phase::Available {
            deploy_len = Some(lab.requests_on(&uuid0).len());
        }
    }
    let requests = lab.requests_on(&uuid0);
    let deploy_len = deploy_len.unwrap();
    let what = |r: &Recorded| match r.method {
        HttpMethod::PUT if r.is_target("active") => "PUT active".to_string(),
        HttpMethod::PUT => "PUT deleted".to_string(),
        m => format!("{m:?}"),
    };

    // Every await point, each with every action, each on a node of its own; all at once.
    const ACTIONS: [Action; 3] = [Action::Cancel, Action::End, Action::Extend];
    // Every action at every await point of the deploy; at those of the undeploy (where all
    // three are refused alike) one action each, in turn.
    let actions_at = |at: usize| -> Vec<Action> {
        if at < deploy_len {
            ACTIONS.to_vec()
        } else {
            vec![ACTIONS[at % ACTIONS.len()]]
        }
    };
    let count: usize = (0..requests.len()).map(|at| actions_at(at).len()).sum();
    // A lease books only its window, so the clean item's offer is still open and free from now
    // on: an as-soon-as-possible lease would take it. Withdrawn, so each new node gets one.
    let arg = OfferWithdrawArg {
        provider: lab.m.provider.key(),
        offer_id: clean.offer_id,
    };
    lab.m
        .canister
        .offer_withdraw(delegate, arg)
        .expect("withdraw the clean item's offer");
    let items = register(&mut lab, 1, count);
    let mut leases: HashMap<u64, Execution> = HashMap::new();
    for i in 0..items.len() {
        let lease = lease_of(&mut lab, i + 1);
        leases.insert(lease.item_id, lease);
    }
    assert!(
        items.iter().all(|item| leases.contains_key(&item.id)),
        "every new node is leased once"
    );
    let mut points: Vec<Point> = vec![];
    let mut items = items.into_iter();
    for (at, r) in requests.iter().enumerate() {
        for action in actions_at(at) {
            let item = items.next().unwrap();
            holds.borrow_mut().at.insert(item.resource_uuid.clone(), at);
            points.push(Point {
                item_id: item.id,
                uuid: item.resource_uuid,
                at,
                what: what(r),
                undeploy: at >= deploy_len,
                action,
            });
        }
    }
    let mut acted: BTreeSet<usize> = BTreeSet::new();
    let mut results: HashMap<usize, MarketResult<Execution>> = HashMap::new();
    let mut extended: HashMap<usize, u64> = HashMap::new();
    // Runs the clock; whenever a point's request is held, its consumer acts, in one round with
    // every other point held at that moment, then the answers are released.
    let end = leases.values().map(|e| e.end_ns).max().unwrap() + HOUR_NS;
    while acted.len() < points.len() && lab.now() < end {
        jump(&mut lab);
        let pending = host.borrow().pending_http();
        if pending.is_empty() {
            continue;
        }
        let mut submitted = vec![];
        for (i, p) in points.iter().enumerate() {
            let held = pending
                .iter()
                .any(|(_, args)| node_of(&args.url).as_deref() == Some(p.uuid.as_str()));
            if !held || acted.contains(&i) {
                continue;
            }
            acted.insert(i);
            let lease = &leases[&p.item_id];
            let id = match p.action {
                Action::Cancel => submit(
                    &host,
                    consumer("c"),
                    "execution_cancel",
                    CancelArg {
                        execution_id: lease.id,
                        reason: format!("at {}", p.what),
                    },
                ),
                Action::End => submit(&host, consumer("c"), "lease_end", lease.id),
                Action::Extend => {
                    let new_end = lease.end_ns + HOUR_NS;
                    extended.insert(i, new_end);
                    submit(
                        &host,
                        consumer("c"),
                        "lease_extend",
                        ExtendArg {
                            execution_id: lease.id,
                            new_end_ns: new_end,
                        },
                    )
                }
            };
            submitted.push((i, id));
        }
        tally.rounds += 1;
        // The held answers arrive after the actions, in the same round.
        answer_held(&mut lab);
        tick(&host);
        for (i, id) in submitted {
            results.insert(i, take::<Execution>(&host, id));
        }
    }
    // Then until every lease (extended ones too) is over and the canister is quiet.
    let until = end + HOUR_NS;
    loop {
        let now = lab.now();
        let next = lab.m.canister.status().next_task_due;
        if now >= until && next.is_none_or(|due| due > now + 20 * MINUTE_NS) {
            break;
        }
        jump(&mut lab);
    }
    let missed: Vec<String> = (0..points.len())
        .filter(|i| !acted.contains(i))
        .map(|i| {
            let p = &points[i];
            let e = lab.m.execution(leases[&p.item_id].id);
            format!(
                "{} at {} ({}) {:?}: lease {} {:?}, {} requests",
                p.uuid,
                p.at,
                p.what,
                p.action,
                e.id,
                e.phase,
                lab.requests_on(&p.uuid).len()
            )
        })
        .collect();
    assert!(
        missed.is_empty(),
        "points never held and acted at: {missed:#?}"
    );
    let mut wrong = vec![];
    for (i, p) in points.iter().enumerate() {
        tally.scenarios += 1;
        let lease = &leases[&p.item_id];
        let result = &results[&i];
        let done = lab.m.execution(lease.id);
        let phases = lab.m.history(Entity::Execution(lease.id));
        let was_available = phases.iter().any(|s| s == "AVAILABLE");
        let item = lab.m.item(p.item_id);
        let node = lab.ironic.node(&p.uuid);
        let operation = lab.status(&p.uuid);
        let mut problems = vec![];
        let (ok, phase, available) = match (p.undeploy, p.action) {
            // Being released: nothing more to cancel, end or extend.
            (true, _) => (false, Phase::Completed, true),
            (false, Action::Cancel) => (true, Phase::Cancelled, false),
            (false, Action::End) => (true, Phase::Completed, false),
            (false, Action::Extend) => (true, Phase::Completed, true),
        };
        if result.is_ok() != ok || (!ok && !wrong_phase(result)) {
            problems.push(format!("answered {result:?}"));
        }
        if done.phase != phase {
            problems.push(format!("ended {:?} ({:?})", done.phase, done.reason));
        }
        if was_available != available {
            problems.push(format!("AVAILABLE {was_available}: {phases:?}"));
        }
        if let Some(new_end) = extended.get(&i).filter(|_| !p.undeploy) {
            if done.end_ns != *new_end {
                problems.push(format!("end {} not the extension {new_end}", done.end_ns));
            }
        }
        if item.status != ItemStatus::Available {
            problems.push(format!("item {:?}", item.status));
        }
        if (node.provision_state.as_str(), node.lessee.as_deref()) != ("available", None) {
            problems.push(format!(
                "node {} lessee {:?}",
                node.provision_state, node.lessee
            ));
        }
        if matches!(
            operation.status,
            OperationStatus::Accepted | OperationStatus::InProgress
        ) {
            problems.push(format!("operation under way: {operation:?}"));
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "{:?} while request {} ({}) of the {} was in flight: {}",
                p.action,
                p.at,
                p.what,
                if p.undeploy { "undeploy" } else { "deploy" },
                problems.join("; ")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_contracts_of_an_offer_never_overlap(&mut lab.m);
    assert_quiet(&mut lab);
    record("provisioning", &tally);
}

// --- 3. catalog pages under change ---

fn row(key: &str, price: u32) -> String {
    format!("Server {key},A test server.,{key},https://example.com/{key},EUR,{price},0,Visible,Dedicated,None,Monthly,In stock,Intel,1,4,3.2 GHz,Intel Xeon E3,ECC,DDR4,32 GB,0,0,2,480 GB,Unmetered inbound,1000 mbit,10240,DE,Frankfurt,\"50.11,8.68\",Native IPv6,Debian,,,\"Credit card, PayPal\"\n")
}

fn csv(rows: &[(String, u32)]) -> Vec<u8> {
    let mut out = format!("{}\n", COLUMNS.join(","));
    for (key, price) in rows {
        out.push_str(&row(key, *price));
    }
    out.into_bytes()
}

fn remove(canister: &mut Canister, provider: &mut Provider, keys: &[String]) {
    provider.seq += 1;
    let payload = signing::remove_offerings_payload(keys);
    let arg = RemoveOfferingsArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(
            canister.id(),
            Operation::RemoveOfferings,
            provider.seq,
            &payload,
        ),
        keys: keys.to_vec(),
    };
    let receipt: Result<Receipt, CatalogError> =
        canister.update(user(), "catalog_remove_offerings", (arg,));
    receipt.expect("catalog_remove_offerings");
}

fn remove_provider(canister: &mut Canister, provider: &mut Provider) {
    provider.seq += 1;
    let arg = RemoveProviderArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(canister.id(), Operation::RemoveProvider, provider.seq, &[]),
    };
    let receipt: Result<Receipt, CatalogError> = canister.update(user(), "provider_remove", (arg,));
    receipt.expect("provider_remove");
}

fn query<A: CandidType, R: for<'a> Deserialize<'a> + CandidType>(
    canister: &mut Canister,
    method: &str,
    arg: A,
) -> R {
    let bytes = canister
        .driver
        .query(user(), method, candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("{method} trapped or was rejected: {r}"));
    candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

use candid::{CandidType, Deserialize};

/// (provider PEM, key, monthly price in cents) of a page's rows, in order.
fn rows_of(page: &SearchPage) -> Vec<(String, String, u64)> {
    let Offerings::Records(records) = &page.offerings else {
        panic!("records were asked for");
    };
    records
        .offerings
        .iter()
        .map(|o| {
            (
                records.providers[o.provider as usize].clone(),
                o.key.clone(),
                o.price_minor,
            )
        })
        .collect()
}

/// A catalog change between two pages of a walk.
type Change = Box<dyn Fn(&mut Canister, &mut Provider, &mut Provider) -> Vec<(String, String)>>;

/// One page of a walk, from a cursor.
type PageFn<'a> = dyn FnMut(&mut Canister, Option<String>) -> Result<SearchPage, SearchError> + 'a;

/// What a walk saw: the rows (provider PEM, key, price) in order, the cursor after the first
/// page, and the (provider PEM, key) the changes removed.
type Walked = (
    Vec<(String, String, u64)>,
    Option<String>,
    BTreeSet<(String, String)>,
);

/// Walks pages of `page(cursor)`, making `changes[i]` after page `i`, and checks every page:
/// no row twice, none after its removal, rows in the walk's order.
fn walk(
    canister: &mut Canister,
    p1: &mut Provider,
    p2: &mut Provider,
    changes: &[Change],
    keyed: bool,
    page: &mut PageFn<'_>,
    tally: &mut Tally,
) -> Walked {
    let mut seen: Vec<(String, String, u64)> = vec![];
    let mut removed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cursor = None;
    let mut first_cursor = None;
    for n in 0..1000 {
        let got = page(canister, cursor.clone()).expect("a page");
        let rows = rows_of(&got);
        for (pem, key, price) in &rows {
            assert!(
                !removed.contains(&(pem.clone(), key.clone())),
                "page {n}: {key} returned after its removal"
            );
            assert!(
                !seen.iter().any(|(p, k, _)| p == pem && k == key),
                "page {n}: {key} returned twice"
            );
            if let Some((_, last_key, last_price)) = seen.last() {
                if keyed {
                    assert!(key > last_key, "page {n}: {key} after {last_key}");
                } else {
                    assert!(price >= last_price, "page {n}: {price} after {last_price}");
                }
            }
            seen.push((pem.clone(), key.clone(), *price));
        }
        if n == 0 {
            first_cursor = got.next_cursor.clone();
        }
        let Some(next) = got.next_cursor else {
            return (seen, first_cursor, removed);
        };
        cursor = Some(next);
        if let Some(change) = changes.get(n) {
            removed.extend(change(canister, p1, p2));
            tally.rounds += 1;
        }
    }
    panic!("the walk never ends");
}

#[test]
fn catalog_changes_between_pages_never_repeat_skip_or_resurrect_an_offering() {
    let mut tally = Tally::default();
    let mut canister = Canister::install(None);
    let (mut p1, mut p2) = (Provider::new(31), Provider::new(32));
    let key = |p: &str, i: u32| format!("{p}{i:03}");
    let p1_rows: Vec<(String, u32)> = (0..40).map(|i| (key("a", i), 1000 + 100 * i)).collect();
    let p2_rows: Vec<(String, u32)> = (0..20).map(|i| (key("b", i), 1050 + 200 * i)).collect();
    let (pem1, pem2) = (p1.pem(), p2.pem());

    // The changes made between pages, each returning what it removed.
    let changes = |pem1: String, pem2: String| -> Vec<Change> {
        vec![
            // New rows behind and ahead of the cursor, and a price moved from ahead to behind.
            Box::new(|c: &mut Canister, p1: &mut Provider, _: &mut Provider| {
                let rows = vec![
                    ("a900".to_string(), 1001),
                    ("a901".to_string(), 4500),
                    ("a030".to_string(), 1002),
                ];
                c.upsert(p1, &csv(&rows)).expect("upsert");
                vec![]
            }),
            // Two offerings ahead removed.
            {
                let pem1 = pem1.clone();
                Box::new(
                    move |c: &mut Canister, p1: &mut Provider, _: &mut Provider| {
                        let keys = vec!["a025".to_string(), "a035".to_string()];
                        remove(c, p1, &keys);
                        keys.into_iter().map(|k| (pem1.clone(), k)).collect()
                    },
                )
            },
            // The second provider leaves.
            {
                let pem2 = pem2.clone();
                Box::new(
                    move |c: &mut Canister, _: &mut Provider, p2: &mut Provider| {
                        remove_provider(c, p2);
                        (0..20)
                            .map(|i| (pem2.clone(), format!("b{i:03}")))
                            .collect()
                    },
                )
            },
            // The first replaces its catalog: the odd rows from a020 on leave, new rows come.
            {
                let pem1 = pem1.clone();
                Box::new(
                    move |c: &mut Canister, p1: &mut Provider, _: &mut Provider| {
                        let mut rows: Vec<(String, u32)> = (0..40)
                            .filter(|i| (*i < 20 || i % 2 == 0) && *i != 25 && *i != 35 && *i != 30)
                            .map(|i| (format!("a{i:03}"), 1000 + 100 * i))
                            .collect();
                        rows.push(("a030".into(), 1002));
                        rows.push(("a900".into(), 1001));
                        rows.push(("a901".into(), 4500));
                        rows.push(("a950".into(), 4800));
                        c.replace(p1, &csv(&rows)).expect("replace");
                        (20..40)
                            .filter(|i| i % 2 == 1 && *i != 25 && *i != 35)
                            .map(|i| (pem1.clone(), format!("a{i:03}")))
                            .collect()
                    },
                )
            },
        ]
    };

    // Offerings untouched by every change: each must be returned exactly once.
    let untouched_search = |seen: &[(String, String, u64)]| {
        let keys: BTreeSet<&str> = seen.iter().map(|(_, k, _)| k.as_str()).collect();
        let must: Vec<String> = (0..40)
            .filter(|i| (*i < 20 || i % 2 == 0) && ![25, 30, 35].contains(i))
            .map(|i| format!("a{i:03}"))
            .collect();
        for k in &must {
            assert!(keys.contains(k.as_str()), "{k} was skipped");
        }
    };

    // The search walk, sorted by price, 5 rows a page.
    tally.scenarios += 1;
    canister.replace(&mut p1, &csv(&p1_rows)).unwrap();
    canister.replace(&mut p2, &csv(&p2_rows)).unwrap();
    let search = |text: &str, sort: SortOrder, cursor: Option<String>| SearchQuery {
        text: Some(text.into()),
        sort: Some(sort),
        cursor,
        limit: Some(5),
        format: Some(Format::Records),
        ..SearchQuery::default()
    };
    let mut page = |c: &mut Canister, cursor: Option<String>| -> Result<SearchPage, SearchError> {
        query(
            c,
            "offerings_search",
            search("server", SortOrder::PriceAsc, cursor),
        )
    };
    let (seen, first, removed) = walk(
        &mut canister,
        &mut p1,
        &mut p2,
        &changes(pem1.clone(), pem2.clone()),
        false,
        &mut page,
        &mut tally,
    );
    untouched_search(&seen);
    assert!(removed.len() > 10);
    // A row added ahead of the cursor is found; one added behind it is not repeated.
    assert!(seen.iter().any(|(_, k, _)| k == "a901"));
    assert!(seen.iter().any(|(_, k, _)| k == "a950"));

    // The first page's cursor, stale now: it goes on after its position with today's catalog.
    tally.scenarios += 1;
    let first = first.expect("more than one page");
    let again = page(&mut canister, Some(first.clone())).expect("a stale cursor still works");
    let first_page_last = seen[4].2;
    for (pem, key, price) in rows_of(&again) {
        assert!(
            price >= first_page_last,
            "{key} at {price} is before the cursor"
        );
        assert!(!removed.contains(&(pem, key.clone())), "{key} was removed");
    }
    // With another query (another text, another order) it is refused.
    for other in [
        search("xeon", SortOrder::PriceAsc, Some(first.clone())),
        search("server", SortOrder::PriceDesc, Some(first.clone())),
    ] {
        let refused: Result<SearchPage, SearchError> =
            query(&mut canister, "offerings_search", other);
        assert_eq!(refused, Err(SearchError::InvalidCursor));
    }

    // The provider walk, in key order, 4 rows a page, with the same changes on fresh catalogs.
    tally.scenarios += 1;
    let (mut p1, mut p2) = (Provider::new(41), Provider::new(42));
    let (pem1, pem2) = (p1.pem(), p2.pem());
    canister.replace(&mut p1, &csv(&p1_rows)).unwrap();
    canister.replace(&mut p2, &csv(&p2_rows)).unwrap();
    let key1 = p1.key();
    let browse = move |cursor: Option<String>| ProviderOfferingsArg {
        provider: key1.clone(),
        cursor,
        limit: Some(4),
        format: Some(Format::Records),
    };
    let browse_arg = browse.clone();
    let mut page = |c: &mut Canister, cursor: Option<String>| -> Result<SearchPage, SearchError> {
        query(c, "provider_offerings", browse_arg(cursor))
    };
    let (seen, first, removed) = walk(
        &mut canister,
        &mut p1,
        &mut p2,
        &changes(pem1.clone(), pem2.clone()),
        true,
        &mut page,
        &mut tally,
    );
    untouched_search(&seen);
    assert!(seen.iter().all(|(pem, _, _)| *pem == pem1));
    assert!(seen.iter().any(|(_, k, _)| k == "a950"));
    let first = first.expect("more than one page");
    let again = page(&mut canister, Some(first.clone())).expect("a stale cursor still works");
    for (pem, key, _) in rows_of(&again) {
        assert!(
            key.as_str() > seen[3].1.as_str(),
            "{key} is before the cursor"
        );
        assert!(!removed.contains(&(pem, key.clone())));
    }
    // Another provider's listing refuses it; a search refuses it; a removed provider is unknown.
    let other: Result<SearchPage, SearchError> = query(
        &mut canister,
        "provider_offerings",
        ProviderOfferingsArg {
            provider: Provider::new(31).key(),
            cursor: Some(first.clone()),
            limit: Some(4),
            format: Some(Format::Records),
        },
    );
    assert_eq!(other, Err(SearchError::InvalidCursor));
    let searched: Result<SearchPage, SearchError> = query(
        &mut canister,
        "offerings_search",
        search("server", SortOrder::PriceAsc, Some(first)),
    );
    assert_eq!(searched, Err(SearchError::InvalidCursor));
    tally.scenarios += 1;
    let mut p3 = Provider::new(43);
    canister.replace(&mut p3, &csv(&p2_rows)).unwrap();
    let arg3 = |cursor| ProviderOfferingsArg {
        provider: Provider::new(43).key(),
        cursor,
        limit: Some(4),
        format: Some(Format::Records),
    };
    let first3: Result<SearchPage, SearchError> =
        query(&mut canister, "provider_offerings", arg3(None));
    let cursor3 = first3.unwrap().next_cursor.expect("more pages");
    remove_provider(&mut canister, &mut p3);
    tally.rounds += 1;
    let gone: Result<SearchPage, SearchError> =
        query(&mut canister, "provider_offerings", arg3(Some(cursor3)));
    match gone {
        Err(SearchError::UnknownProvider) => {}
        Ok(page) => assert!(rows_of(&page).is_empty(), "{page:?}"),
        other => panic!("a removed provider's cursor: {other:?}"),
    }
    let _ = (pem2, browse);
    record("catalog", &tally);
}
