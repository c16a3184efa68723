//! The upgrade drill at a CI size: 2 000 offerings and two sets of leases in every phase, every
//! exported view compared before and after an upgrade, and the timers checked against a copy
//! of the canister that was not upgraded. The same routine runs at 100 k offerings in
//! `bench --upgrade-drill` (`bench/src/drill.rs`). Writes `target/hardening/upgrade.txt`.

#[path = "../bench/src/drill.rs"]
#[allow(dead_code)]
mod drill;

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/wasm/marketplace.wasm.gz"
);
const DID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/candid/marketplace.did");
const OUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/hardening/upgrade.txt");

#[test]
fn every_view_survives_an_upgrade_and_the_timers_resume_on_time() {
    let config = drill::DrillConfig {
        offerings: 2_000,
        lease_sets: 2,
        wasm: std::fs::read(WASM)
            .unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first")),
        did: std::fs::read_to_string(DID).unwrap(),
        progress: |phase| eprintln!("upgrade drill: {phase}"),
        provider_stride: 1,
        format_pages: usize::MAX,
    };
    let report = drill::run(&config);
    let line = report.line();
    let out = std::path::Path::new(OUT);
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(out, format!("{line}\n")).unwrap();
    println!(
        "{line}\nphases: {:?}\ntimer work: {:?}\nbuild {:?}, snapshot {:?}, upgrade {:?}, timers {:?}\nslowest views: {:?}",
        report.phases,
        report.timer_work,
        report.build_time,
        report.snapshot_time,
        report.upgrade_time,
        report.timer_time,
        report.slowest
    );

    assert!(
        report.differences.is_empty(),
        "views differ after the upgrade:\n{}",
        report.differences.join("\n")
    );
    assert!(
        report.timer_failures.is_empty(),
        "timers after the upgrade:\n{}",
        report.timer_failures.join("\n")
    );
    assert!(report.offerings >= 1_800, "{line}");
    // Every phase a lease can be in when the canister is upgraded.
    for phase in [
        "Offered",
        "Rejected",
        "Expired",
        "Waiting",
        "Preparing",
        "Available",
        "Releasing",
        "Completed",
        "Cancelled",
        "Failed",
    ] {
        assert!(
            report.phases.contains_key(phase),
            "no lease {phase} at the upgrade: {:?}",
            report.phases
        );
    }
    // The timers did each kind of due work after the upgrade.
    for work in [
        "execution AVAILABLE",
        "execution COMPLETED",
        "offer EXPIRED",
        "execution EXPIRED",
    ] {
        assert!(
            report
                .timer_work
                .iter()
                .any(|w| w.eq_ignore_ascii_case(work)),
            "the timers never did {work:?}: {:?}",
            report.timer_work
        );
    }
    assert!(report.upgrade_instructions > 0);
    assert!(
        report.upgrade_instructions <= ic0_host::limits::INSTRUCTIONS_INSTALL,
        "{line}"
    );
}

#[test]
fn a_query_the_drill_does_not_know_fails_its_coverage() {
    let did = std::fs::read_to_string(DID).unwrap();
    let extended = did.replacen(
        "service : (opt InitArg) -> {",
        "service : (opt InitArg) -> {\n  brand_new_view : () -> (text) query;",
        1,
    );
    assert_ne!(did, extended);
    let queries = drill::Did::parse(&extended).queries();
    assert!(queries.contains("brand_new_view") && queries.contains("status"));
    // Everything the real interface has is taken as compared: only the new query is missing.
    let known = drill::Did::parse(&did).queries();
    assert_eq!(drill::uncovered(&queries, &known), ["brand_new_view"]);
    // The wasm's query exports count too; transforms are deliberately not compared.
    let wasm = std::fs::read(WASM).unwrap();
    let exported = drill::wasm_queries(&wasm);
    assert!(
        exported.contains("status") && exported.contains("transform_ironic_nodes"),
        "{exported:?}"
    );
    assert!(drill::uncovered(&exported, &known).is_empty());
}
