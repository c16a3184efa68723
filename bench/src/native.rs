//! Native figures: the canister's own code compiled for this machine, timed by the wall clock.

use crate::report::{human, Report};
use crate::{progress, Scale, SEED};
use marketplace::catalog::publish::{self, PublishArg};
use marketplace::catalog::search;
use marketplace::catalog::synthetic;
use marketplace::runtime::FakeRuntime;
use std::time::{Duration, Instant};

pub fn run(scale: Scale, report: &mut Report) {
    let rt = FakeRuntime::new();
    // Providers sign before they send: signing is not part of the import.
    let providers = u64::from(scale.providers);
    let bar = progress::bar(providers, "native: signing catalogs");
    let signed: Vec<PublishArg> = synthetic::providers(SEED, scale.providers, scale.per_provider)
        .map(|provider| {
            bar.inc(1);
            crate::signed_replace(&provider, FakeRuntime::CANISTER_ID, 1)
        })
        .collect();
    bar.finish_and_clear();
    let bar = progress::bar(providers, "native: importing catalogs");
    let start = Instant::now();
    for arg in signed {
        publish::replace(&rt, arg).expect("a synthetic catalog imports");
        bar.inc(1); // an atomic add; drawing is rate-limited (and off when not a terminal)
    }
    let import = start.elapsed();
    bar.finish_and_clear();
    let per_100k = 1_000.0 * scale.offerings() as f64 / 100_000.0;
    report.at_most(
        format!(
            "native import of all {} offerings (ms)",
            human(scale.offerings() as f64)
        ),
        ms(import),
        per_100k,
        "ms",
    );

    for (measure, query) in [
        (
            "native compound query page (text+price+country+memory, 50)",
            crate::compound_query(),
        ),
        (
            "native price + country filter page (50)",
            crate::filter_query(),
        ),
    ] {
        let (time, rows) = median_time(|| {
            crate::rows(&search::offerings_search(&query).expect("the query is valid"))
        });
        report.at_most(format!("{measure} [{rows} rows]"), ms(time), 1.0, "ms");
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// The median of 101 runs, and what the last run returned.
fn median_time<R>(mut run: impl FnMut() -> R) -> (Duration, R) {
    let mut times = Vec::with_capacity(101);
    let mut result = run();
    for _ in 0..101 {
        let start = Instant::now();
        result = run();
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], result)
}
