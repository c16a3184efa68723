//! Dependencies flow one way: a module may use modules of its own layer or below, never above.
//! The layers (README, "Layout") are listed here lowest first; the test reads every non-test
//! source file under src/ and lists each `crate::<module>` it names.
//!
//! `KNOWN` lists upward edges accepted anyway (none today). A new upward edge fails the test,
//! and so does an entry there that the code no longer has, so the list cannot go stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules of src/, lowest layer first.
const LAYERS: &[&[&str]] = &[
    // storage and plain values
    &[
        "fields", "memory", "snapshot", "storable", "time", "text", "counters", "config", "cycles",
        "throttle",
    ],
    // the seam to the IC and argument decoding
    &["runtime", "candid_io", "auth"],
    // the task queue: stores tasks and runs batches, knowing nothing of their work
    &["queue"],
    // the clients of other canisters: the ICRC ledger
    &["ledger"],
    // the areas, each above those it builds on
    &["catalog"],
    &["ironic"],
    &["market"],
    &["provision"],
    // what knows every area: the task dispatcher, the interface, the lifecycle, views
    &[
        "tasks",
        "costs",
        "digest",
        "status",
        "lifecycle",
        "http",
        "api",
        "methods",
    ],
    // the endpoints by area (`lib.rs` holds the lifecycle and system ones): the very top
    &["endpoints"],
];

/// Upward edges allowed anyway: (from, to, why). None today; an entry here needs a reason a
/// reviewer accepts, and the test fails when the code no longer has it.
const KNOWN: &[(&str, &str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    // Test-only helpers (`testing.rs`, compiled under `#[cfg(test)]`) may drive the queue.
    name == "tests.rs" || name == "testing.rs" || name.ends_with("_tests.rs")
}

/// The top-level module a source file belongs to (`src/market/lease.rs` → `market`).
fn module_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every top-level module a file names as `crate::x` or in `use crate::{x, …}`.
fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            out.push(path);
        }
    }
}

/// Prints each module's `crate::` targets, lowest layer first: the module graph, for anyone
/// who wants to see it (`cargo nextest run --test layers --no-capture`).
#[test]
fn module_graph() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &paths {
        let from = module_of(&src, path);
        let text = std::fs::read_to_string(path).unwrap();
        let targets = graph.entry(from.clone()).or_default();
        targets.extend(uses(&text).into_iter().filter(|to| *to != from));
    }
    for module in LAYERS.iter().flat_map(|layer| layer.iter()) {
        let targets = graph
            .get(*module)
            .map(|t| t.iter().cloned().collect::<Vec<_>>());
        println!("{module:>10} → {}", targets.unwrap_or_default().join(" "));
    }
    assert!(graph.keys().all(|m| m == "lib" || layer_of(m).is_some()));
}

#[test]
fn lower_layers_never_use_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let mut upward: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut unplaced = BTreeSet::new();
    for path in &paths {
        let from = module_of(&src, path);
        if from == "lib" {
            continue; // the endpoints: the top
        }
        let Some(from_layer) = layer_of(&from) else {
            unplaced.insert(from);
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        for to in uses(&text) {
            if to == from {
                continue;
            }
            match layer_of(&to) {
                Some(to_layer) if to_layer > from_layer => upward
                    .entry((from.clone(), to))
                    .or_default()
                    .push(path.strip_prefix(&src).unwrap().display().to_string()),
                Some(_) => {}
                None => {
                    unplaced.insert(to);
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules in no layer (add them to LAYERS and the README): {unplaced:?}"
    );
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = upward
        .iter()
        .filter(|(edge, _)| !known.contains(*edge))
        .collect();
    assert!(
        new.is_empty(),
        "a lower layer uses a higher one (from, to) → files: {new:#?}"
    );
    let cut: Vec<_> = known
        .iter()
        .filter(|edge| !upward.contains_key(*edge))
        .collect();
    assert!(
        cut.is_empty(),
        "these upward edges are gone: remove them from KNOWN: {cut:?}"
    );
}

#[test]
fn the_scan_sees_grouped_and_plain_paths() {
    let found = uses("use crate::{config, cycles::x, market};\nlet a = crate::ironic::nodes::f();");
    let expected: BTreeSet<String> = ["config", "cycles", "market", "ironic"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}
