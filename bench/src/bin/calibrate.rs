//! Runs the IC's published instruction benchmarks (stable-structures' canbench suite) on the
//! ic0 host and prints host, IC and host/IC for each, then the median per crate.
//!
//!   calibrate [DIR] [--only NAME,NAME | --gated] [--max-ic N]
//!
//! `--max-ic N` skips benchmarks whose published count is over N instructions, except the
//! gated ones (the whole suite is ~310 B instructions: many minutes on an interpreter).
//!
//! DIR is `../shared/calibration` by default: `wasm/*.wasm.gz` (each `#[bench]` a query
//! `__canbench__<name>` replying with canbench's `BenchResult`) and
//! `published-ic-instructions.tsv`. The published figures come from wasm built by an older
//! rustc than these files (see DIR/README.md), so only benchmarks dominated by stable-memory
//! I/O run the same code on both sides: those are `GATED`, and the exit status is non-zero when
//! any of them is off by more than `TOLERANCE`. Every other row is printed with the likely cause
//! of its difference.

use candid::{CandidType, Deserialize, Principal};
use ic0_host::{Host, InstructionLimits};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Benchmarks whose code the compiler barely changes: (crate, benchmark).
const GATED: [(&str, &str); 6] = [
    ("io_chunks", "read_chunks_stable_1"),
    ("io_chunks", "read_chunks_stable_1k"),
    ("io_chunks", "write_chunks_stable_1"),
    ("io_chunks", "write_chunks_stable_1k"),
    ("memory_manager", "memory_manager_baseline"),
    ("memory_manager", "memory_manager_overhead"),
];
const TOLERANCE: f64 = 0.10;

#[derive(CandidType, Deserialize)]
struct Measurement {
    instructions: u64,
}

#[derive(CandidType, Deserialize)]
struct BenchResult {
    total: Measurement,
}

struct Row {
    krate: String,
    bench: String,
    host: Option<u64>,
    ic: Option<u64>,
    error: Option<String>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        Some(self.host? as f64 / self.ic? as f64)
    }
    fn gated(&self) -> bool {
        GATED.contains(&(self.krate.as_str(), self.bench.as_str()))
    }
    fn verdict(&self) -> String {
        let Some(ratio) = self.ratio() else {
            return match (&self.error, self.ic) {
                (Some(e), _) => format!("host failed: {e}"),
                (None, None) => "no published figure".into(),
                (None, Some(_)) => "not in these wasm files".into(),
            };
        };
        let within = (ratio - 1.0).abs() <= TOLERANCE;
        match (self.gated(), within) {
            (true, true) => "ok (gated)".into(),
            (true, false) => "FAILED (gated: off by more than 10 %)".into(),
            (false, true) => "agrees".into(),
            (false, false) => cause(&self.bench, ratio).into(),
        }
    }
}

/// The likely cause of a difference on a benchmark whose code the compiler changed.
fn cause(bench: &str, ratio: f64) -> &'static str {
    let heap = bench.contains("heap") || bench.contains("vec_") || bench.contains("blob");
    match (ratio > 1.0, heap) {
        (true, true) => "rustc 1.95 code (newer allocator, bulk-memory copies priced 100 + len)",
        (true, false) => "rustc 1.95 code; wasmi's 1 per basic block entered",
        (false, _) => "rustc 1.95 code does less work (bulk memory in place of byte loops)",
    }
}

fn published(dir: &Path) -> Result<BTreeMap<(String, String), u64>, String> {
    let path = dir.join("published-ic-instructions.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [krate, bench, instructions, ..] = cols[..] else {
            return Err(format!("{}: bad line {line:?}", path.display()));
        };
        let Ok(instructions) = instructions.parse() else {
            continue; // a header
        };
        map.insert((krate.to_string(), bench.to_string()), instructions);
    }
    Ok(map)
}

/// The benchmark names a canbench module exports.
fn benches(wasm: &[u8]) -> Result<Vec<String>, String> {
    let module = ic0_host::unpack_wasm(wasm)?;
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&module) {
        if let wasmparser::Payload::ExportSection(reader) = payload.map_err(|e| e.to_string())? {
            for export in reader {
                let export = export.map_err(|e| e.to_string())?;
                if let Some(name) = export.name.strip_prefix("canister_query __canbench__") {
                    names.push(name.to_string());
                }
            }
        }
    }
    Ok(names)
}

/// Measures `krate`'s wanted benchmarks, printing each row as it comes.
fn run_crate(
    krate: &str,
    wasm: &[u8],
    ic: &BTreeMap<(String, String), u64>,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<Row>, String> {
    let mut host = Host::new();
    // canbench measures without the IC's message limits.
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 2,
        update: u64::MAX / 2,
        install: u64::MAX / 2,
        inspect_message: u64::MAX / 2,
    });
    host.install(wasm, &candid::encode_args(()).unwrap())
        .map_err(|r| format!("install {krate}: {r}"))?;
    let mut rows = Vec::new();
    for bench in benches(wasm)? {
        if !wanted(&bench) {
            continue;
        }
        let method = format!("__canbench__{bench}");
        let reply = host.query(
            Principal::anonymous(),
            &method,
            &candid::encode_args(()).unwrap(),
        );
        let (host_count, error) = match reply {
            Ok(bytes) => match candid::decode_one::<BenchResult>(&bytes) {
                Ok(result) => (Some(result.total.instructions), None),
                Err(e) => (None, Some(format!("reply: {e}"))),
            },
            Err(reject) => (None, Some(reject.message)),
        };
        let row = Row {
            krate: krate.to_string(),
            ic: ic.get(&(krate.to_string(), bench.clone())).copied(),
            bench,
            host: host_count,
            error,
        };
        print_row(&row);
        rows.push(row);
    }
    Ok(rows)
}

fn print_row(row: &Row) {
    let fmt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    println!(
        "{:<15} {:<48} {:>15} {:>15} {:>7}  {}",
        row.krate,
        row.bench,
        fmt(row.host),
        fmt(row.ic),
        row.ratio().map_or("-".into(), |r| format!("{r:.3}")),
        row.verdict()
    );
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

fn main() -> ExitCode {
    let mut dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/calibration"
    ));
    let mut only = Vec::new();
    let mut max_ic = u64::MAX;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => {
                only = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--gated" => only = GATED.iter().map(|(_, b)| b.to_string()).collect(),
            "--max-ic" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max_ic = n,
                None => {
                    eprintln!("calibrate: --max-ic takes a number of instructions");
                    return ExitCode::from(2);
                }
            },
            _ => dir = PathBuf::from(arg),
        }
    }
    match run(&dir, &only, max_ic) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("calibrate: {e}");
            ExitCode::from(2)
        }
    }
}

/// Prints the table; returns whether every gated benchmark is within tolerance.
fn run(dir: &Path, only: &[String], max_ic: u64) -> Result<bool, String> {
    let ic = published(dir)?;
    let mut skipped = 0;
    let mut exported = std::collections::BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("wasm"))
        .map_err(|e| format!("{}/wasm: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".wasm.gz"))
        .collect();
    files.sort();
    println!(
        "{:<15} {:<48} {:>15} {:>15} {:>7}  verdict",
        "crate", "benchmark", "host", "IC", "host/IC"
    );
    let mut rows = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy();
        let krate = name.trim_end_matches(".wasm.gz").to_string();
        let wasm = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let wanted = |bench: &str| {
            let gated = GATED.contains(&(krate.as_str(), bench));
            let named = only.is_empty() || only.iter().any(|o| o == bench);
            let small = ic
                .get(&(krate.clone(), bench.to_string()))
                .is_none_or(|n| *n <= max_ic);
            named && (gated || small)
        };
        let before = rows.len();
        rows.extend(run_crate(&krate, &wasm, &ic, wanted)?);
        let names = benches(&wasm)?;
        skipped += names.len() - (rows.len() - before);
        exported.extend(names.into_iter().map(|b| (krate.clone(), b)));
    }
    let unmeasured = ic.keys().filter(|k| !exported.contains(*k)).count();
    println!();
    println!(
        "{:<15} {:>7} {:>7} {:>7} {:>5}",
        "crate", "median", "min", "max", "n"
    );
    let crates: std::collections::BTreeSet<_> = rows.iter().map(|r| r.krate.clone()).collect();
    for krate in crates {
        let ratios: Vec<f64> = rows
            .iter()
            .filter(|r| r.krate == krate)
            .filter_map(Row::ratio)
            .collect();
        let (min, max) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        if let Some(m) = median(ratios.clone()) {
            println!(
                "{krate:<15} {m:>7.3} {min:>7.3} {max:>7.3} {:>5}",
                ratios.len()
            );
        }
    }
    let gated: Vec<&Row> = rows.iter().filter(|r| r.gated()).collect();
    let ok = gated.len() == GATED.len()
        && gated
            .iter()
            .all(|r| r.ratio().is_some_and(|x| (x - 1.0).abs() <= TOLERANCE));
    println!();
    println!(
        "gated: {}/{} within ±{:.0} %; measured {}, not selected {skipped}; published benchmarks not in these wasm files: {unmeasured}",
        gated
            .iter()
            .filter(|r| r.ratio().is_some_and(|x| (x - 1.0).abs() <= TOLERANCE))
            .count(),
        GATED.len(),
        TOLERANCE * 100.0,
        rows.len()
    );
    Ok(ok)
}
