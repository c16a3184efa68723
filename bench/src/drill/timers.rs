//! The timer check: the upgraded canister against a copy never upgraded, due point by due point.

use super::calls::{delegate, key, query, status, stranger};
use super::interface::Did;
use super::report::DrillReport;
use super::views::{compare, Views};
use super::{MARKET_SECRET, TIMER_HORIZON_NS, TIMER_MAX_STEPS};
use ic0_host::Host;
use marketplace::api::*;
use marketplace::time::SECOND_NS;

/// The views the timer check compares at every due point: the market's and the queue's.
fn timer_views(host: &mut Host, since_ns: u64) -> Views {
    let mut v = Views::default();
    let controller = Host::default_controller();
    let anyone = stranger();
    let mut status: Status = query(host, anyone, "status", ());
    status.heap_bytes = 0;
    status.stable_memory_pages = 0;
    status.cycles_balance = 0u8.into();
    // ic-cdk-timers restarts the watchdog's interval at post_upgrade, so its runs (counted when
    // they find overdue work) fall at other times than without the upgrade.
    status.counters.timer_runs = 0;
    v.replies.insert(
        "status".into(),
        ("status".into(), candid::encode_one(status).unwrap()),
    );
    v.one(host, anyone, "products", String::new(), ());
    for (label, who, arg) in [
        (
            "items",
            anyone,
            candid::encode_one(InventoryListArg {
                limit: Some(500),
                ..InventoryListArg::default()
            }),
        ),
        (
            "offers",
            anyone,
            candid::encode_one(OffersListArg {
                limit: Some(500),
                ..OffersListArg::default()
            }),
        ),
    ] {
        let method = if label == "items" {
            "inventory_list"
        } else {
            "offers_list"
        };
        v.call(host, who, method, label.into(), arg.unwrap());
    }
    let mut after = None;
    for page in 0.. {
        let reply: Result<ExecutionPage, MarketError> = v.typed(
            host,
            delegate(),
            "executions_list",
            format!("#{page}"),
            ExecutionsListArg {
                role: Role::Provider,
                provider: Some(key(&MARKET_SECRET)),
                phase: None,
                after,
                limit: Some(100),
            },
        );
        match reply.expect("executions_list").next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut after = None;
    for page in 0.. {
        let reply: Result<AuditPage, MarketError> = v.typed(
            host,
            controller,
            "audit_log",
            format!("#{page}"),
            AuditArg {
                after,
                from_ns: Some(since_ns),
                limit: Some(500),
                ..AuditArg::default()
            },
        );
        match reply.expect("audit_log").next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    v
}

/// Steps both canisters through every due point of the queue up to the horizon: at each, the
/// upgraded one must have the same next due time as the control, run everything due in the
/// one timer tick at that time (nothing overdue after it), and show the same views.
pub(super) fn check_timers(
    did: &Did,
    upgraded: &mut Host,
    control: &mut Host,
    report: &mut DrillReport,
) {
    let start = upgraded.time();
    let ran_before = status(upgraded).counters.tasks_run;
    for step in 0..TIMER_MAX_STEPS {
        let (a, b) = (status(upgraded), status(control));
        if a.next_task_due != b.next_task_due {
            report.timer_failures.push(format!(
                "step {step}: next task due {:?} after the upgrade, {:?} without it",
                a.next_task_due, b.next_task_due
            ));
            break;
        }
        let Some(due) = a.next_task_due else { break };
        if due > start + TIMER_HORIZON_NS {
            break;
        }
        for host in [&mut *upgraded, &mut *control] {
            host.set_time(due);
            host.tick();
        }
        report.timer_steps += 1;
        let after = status(upgraded);
        if after.tasks_overdue != 0 || after.next_task_due.is_some_and(|next| next <= due) {
            report.timer_failures.push(format!(
                "step {step} at +{} s: {} tasks still overdue after the timer tick (next due {:?})",
                (due - start) / SECOND_NS,
                after.tasks_overdue,
                after.next_task_due
            ));
        }
        if after.counters.tasks_run == a.counters.tasks_run {
            report.timer_failures.push(format!(
                "step {step} at +{} s: the task due then did not run",
                (due - start) / SECOND_NS
            ));
        }
        // The audit entries of this step (earlier ones were compared at their step).
        let (x, y) = (timer_views(upgraded, due), timer_views(control, due));
        for difference in compare(did, &y, &x, 3) {
            report.timer_failures.push(format!(
                "step {step} at +{} s: {difference}",
                (due - start) / SECOND_NS
            ));
        }
        // What happened, from the audit log's last entries (for the summary only).
        for (_, (method, bytes)) in x.replies.iter() {
            if method == "audit_log" {
                let page: Result<AuditPage, MarketError> = candid::decode_one(bytes).unwrap();
                for entry in page.unwrap().entries.iter().filter(|e| e.at_ns == due) {
                    let entity = match entry.entity {
                        Entity::Item(_) => "item",
                        Entity::Offer(_) => "offer",
                        Entity::Offerset(_) => "offerset",
                        Entity::Execution(_) => "execution",
                    };
                    report.timer_work.insert(format!("{entity} {}", entry.to));
                }
            }
        }
        if report.timer_failures.len() > 20 {
            break;
        }
    }
    report.timer_tasks = status(upgraded).counters.tasks_run - ran_before;
}
