//! The limits drill at 1 % of the configured caps (CI's size): the state filled natively through
//! the canister's own code, loaded under the wasm by `post_upgrade`, then every scaling-risk
//! method, a timer run and an upgrade measured through the wasm. Each must stay within half of
//! the IC's limit for its kind, and answer `Ok`. The same routine runs at the full caps in
//! `bench --limits` (`bench/src/limits.rs`). Writes `target/hardening/limits.txt`.

#[path = "../src/limits.rs"]
#[allow(dead_code)]
mod limits;

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);
const DID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../candid/marketplace.did");
const OUT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/hardening/limits.txt"
);

#[test]
fn every_measured_call_stays_within_half_its_limit_at_one_percent_of_the_caps() {
    let config = limits::LimitsConfig {
        scale: 0.01,
        wasm: std::fs::read(WASM)
            .unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first")),
        did: std::fs::read_to_string(DID).unwrap(),
        progress: |phase| eprintln!("limits drill: {phase}"),
    };
    let report = limits::run(&config);
    let table = report.table();
    println!(
        "{:?}\nnative fill {:.1} s, wasm measures {:.1} s\n{table}",
        report.filled,
        report.fill_time.as_secs_f64(),
        report.measure_time.as_secs_f64()
    );
    let worst = report
        .rows
        .iter()
        .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        .expect("calls were measured");
    let line = format!(
        "limits drill at 1 % of the caps: {} calls, worst {} at {:.1} % of its limit, upgrade (post_upgrade on the native state) {}",
        report.rows.len(),
        worst.method,
        100.0 * worst.ratio(),
        limits::human(report.rows[0].instructions as f64)
    );
    let out = std::path::Path::new(OUT);
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(out, format!("{line}\n")).unwrap();

    let filled = &report.filled;
    assert_eq!(filled.offerings, 10_000, "{filled:?}");
    assert_eq!(filled.items, 500, "{filled:?}");
    assert_eq!(filled.open_offers, 4_500, "{filled:?}");
    assert!(filled.held_executions >= 90, "{filled:?}");
    for row in &report.rows {
        assert!(
            !row.outcome.starts_with("REJECT") && !row.outcome.contains("variant { Err"),
            "{} {} did not answer Ok: {}",
            row.method,
            row.arg,
            row.outcome
        );
    }
    let over: Vec<String> = report
        .over()
        .iter()
        .map(|r| format!("{} {}: {:.1} %", r.method, r.arg, 100.0 * r.ratio()))
        .collect();
    assert!(
        over.is_empty(),
        "over half the limit:\n{}\n{table}",
        over.join("\n")
    );
}
