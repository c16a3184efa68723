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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

/// The IC's count per (crate, benchmark).
type Published = BTreeMap<(String, String), u64>;

fn published(dir: &Path) -> Result<Published, String> {
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

/// One benchmark to measure: its module's index in the list of modules, and its name.
struct Job {
    module: usize,
    bench: String,
}

/// A fresh host with `wasm` installed.
fn install(krate: &str, wasm: &[u8]) -> Result<Host, String> {
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
    Ok(host)
}

/// Runs one benchmark. Queries discard their changes, so every benchmark starts from the
/// installed state whichever host runs it, and the count is the same as on a fresh host.
fn measure(host: &mut Host, krate: &str, bench: &str, ic: &Published) -> Row {
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
    Row {
        krate: krate.to_string(),
        ic: ic.get(&(krate.to_string(), bench.to_string())).copied(),
        bench: bench.to_string(),
        host: host_count,
        error,
    }
}

/// Results kept in job order: each row is printed once every row before it is.
struct InOrder {
    results: Vec<Option<Result<Row, String>>>,
    printed: usize,
}

impl InOrder {
    fn put(&mut self, index: usize, result: Result<Row, String>) {
        self.results[index] = Some(result);
        while let Some(Some(Ok(row))) = self.results.get(self.printed) {
            print_row(row);
            self.printed += 1;
        }
    }
}

/// Runs the jobs on one thread per core (the interpreter is single-threaded and the suite is
/// minutes long), each thread keeping a host per module; rows come out in job order.
fn run_jobs(
    modules: &[(String, Vec<u8>)],
    jobs: &[Job],
    ic: &Published,
) -> Result<Vec<Row>, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let done = Mutex::new(InOrder {
        results: jobs.iter().map(|_| None).collect(),
        printed: 0,
    });
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()) {
            scope.spawn(|| {
                let mut current: Option<(usize, Host)> = None;
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let (krate, wasm) = &modules[job.module];
                    let result = match current.take() {
                        Some((module, host)) if module == job.module => Ok(host),
                        _ => install(krate, wasm),
                    }
                    .map(|mut host| {
                        let row = measure(&mut host, krate, &job.bench, ic);
                        current = Some((job.module, host));
                        row
                    });
                    if result.is_err() {
                        next.store(jobs.len(), Ordering::Relaxed); // the run fails: stop early
                    }
                    done.lock().unwrap().put(index, result);
                }
            });
        }
    });
    let done = done.into_inner().unwrap();
    done.results.into_iter().flatten().collect()
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
    let mut modules = Vec::new();
    let mut jobs = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy();
        let krate = name.trim_end_matches(".wasm.gz").to_string();
        let wasm = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for bench in benches(&wasm)? {
            let gated = GATED.contains(&(krate.as_str(), bench.as_str()));
            let named = only.is_empty() || only.contains(&bench);
            let small = ic
                .get(&(krate.clone(), bench.clone()))
                .is_none_or(|n| *n <= max_ic);
            if named && (gated || small) {
                jobs.push(Job {
                    module: modules.len(),
                    bench: bench.clone(),
                });
            } else {
                skipped += 1;
            }
            exported.insert((krate.clone(), bench));
        }
        modules.push((krate, wasm));
    }
    let rows = run_jobs(&modules, &jobs, &ic)?;
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
