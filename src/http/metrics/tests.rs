use super::*;
use crate::runtime::FakeRuntime;

fn snapshot() -> Snapshot {
    Snapshot {
        offerings: 12,
        providers: 2,
        items: [3, 0, 1, 0, 0, 2],
        open_offers: 4,
        executions: 5,
        leases: Some([1, 0, 0, 0, 1, 0, 2, 0, 1, 0, 0]),
        tasks_queued: 1,
        tasks_overdue: 0,
        tasks_failing: 0,
        stable_memory_bytes: 8 << 20,
        heap_bytes: 3 << 20,
        cycles_balance: 10_u128.pow(30),
        cycles_burn_per_day: Some(2_400),
        counters: Counters {
            updates: 7,
            timer_runs: 3,
            tasks_run: 2,
            outcalls: 1,
            outcall_failures: 1,
            tasks_retried: 0,
            outcall_cycles: 123,
        },
        assets: crate::http::assets::Stats {
            files: 4,
            bytes: 300_000,
            instructions: 9_876_543,
        },
        instructions: 45_678,
    }
}

/// Checks the text against the 0.0.4 grammar this module uses: every sample's family has
/// its HELP and TYPE before it, names are valid, values are numbers; returns the samples.
fn parse(text: &str) -> Vec<(String, f64)> {
    assert!(text.ends_with('\n'));
    let mut typed: Vec<String> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(!help.is_empty() && !help.contains('\\'), "{line}");
            helped.push(name.into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            assert_eq!(helped.last().map(String::as_str), Some(name), "{line}");
            assert!(!typed.contains(&name.to_string()), "family {name} twice");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "{line}");
            }
            typed.push(name.into());
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = series.split('{').next().unwrap();
            assert!(name.starts_with("marketplace_"), "{line}");
            assert!(name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
            assert_eq!(typed.last().map(String::as_str), Some(name), "{line}");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                    let inner = &labels[1..labels.len() - 1];
                    let (key, quoted) = inner.split_once('=').unwrap();
                    assert!(key.bytes().all(|b| b.is_ascii_lowercase()), "{line}");
                    assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{line}");
                }
            }
            samples.push((series.to_string(), value.parse::<f64>().unwrap()));
        }
    }
    samples
}

fn value(samples: &[(String, f64)], series: &str) -> Option<f64> {
    samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
}

#[test]
fn renders_the_exposition_format() {
    let text = render(&snapshot());
    let samples = parse(&text);
    assert!(text.starts_with(
        "# HELP marketplace_offerings Offerings in the catalog (visible or not).\n\
             # TYPE marketplace_offerings gauge\n\
             marketplace_offerings 12\n"
    ));
    let expect = [
        ("marketplace_offerings", 12.0),
        ("marketplace_providers", 2.0),
        ("marketplace_items{status=\"available\"}", 3.0),
        ("marketplace_items{status=\"reserving\"}", 0.0),
        ("marketplace_items{status=\"leased\"}", 1.0),
        ("marketplace_items{status=\"archiving\"}", 2.0),
        ("marketplace_open_offers", 4.0),
        ("marketplace_executions", 5.0),
        ("marketplace_leases{phase=\"OFFERED\"}", 1.0),
        ("marketplace_leases{phase=\"WAITING\"}", 1.0),
        ("marketplace_leases{phase=\"PREPARING\"}", 0.0),
        ("marketplace_leases{phase=\"AVAILABLE\"}", 2.0),
        ("marketplace_leases{phase=\"COMPLETED\"}", 1.0),
        ("marketplace_tasks_queued", 1.0),
        ("marketplace_tasks_overdue", 0.0),
        ("marketplace_tasks_failing", 0.0),
        ("marketplace_stable_memory_bytes", 8388608.0),
        ("marketplace_heap_bytes", 3145728.0),
        ("marketplace_cycles_balance", 1e30),
        ("marketplace_cycles_burn_per_day", 2400.0),
        ("marketplace_updates_total", 7.0),
        ("marketplace_timer_runs_total", 3.0),
        ("marketplace_tasks_run_total", 2.0),
        ("marketplace_tasks_retried_total", 0.0),
        ("marketplace_outcalls_total", 1.0),
        ("marketplace_outcall_failures_total", 1.0),
        ("marketplace_outcall_cycles_total", 123.0),
        ("marketplace_http_assets", 4.0),
        ("marketplace_http_asset_bytes", 300000.0),
        ("marketplace_http_assets_certify_instructions", 9876543.0),
        ("marketplace_query_instructions", 45678.0),
    ];
    for (series, expected) in expect {
        assert_eq!(value(&samples, series), Some(expected), "{series}\n{text}");
    }
    assert_eq!(samples.len(), 6 + 11 + 22);
    assert!(text.contains("marketplace_cycles_balance 1000000000000000000000000000000\n"));
}

#[test]
fn leases_and_burn_are_absent_when_unknown() {
    let text = render(&Snapshot {
        leases: None,
        cycles_burn_per_day: None,
        ..snapshot()
    });
    let samples = parse(&text);
    assert!(!text.contains("marketplace_leases"));
    assert!(!text.contains("marketplace_cycles_burn_per_day"));
    assert_eq!(samples.len(), 6 + 21);
}

#[test]
fn gathers_the_canister_state() {
    let rt = FakeRuntime::new();
    rt.liquid_cycles.set(5_000);
    let snapshot = gather(&rt);
    assert_eq!(snapshot.cycles_balance, 5_000);
    assert_eq!(snapshot.leases, Some([0; 11]));
    assert!(snapshot.stable_memory_bytes > 0);
    assert_eq!(snapshot.stable_memory_bytes % 65_536, 0);
    parse(&render(&snapshot));
}
