//! `mkt serve`'s speed, as a client sees it: the canister with a 100 k-offering catalog saved to
//! a state directory and served by the endpoint (the code `mkt serve` runs) on loopback, then
//! ic-agent clients (certificates and query signatures verified, as by default): the latency
//! of single queries and updates, then many clients at once for a while.

use crate::report::{human, Report};
use crate::Scale;
use candid::{CandidType, Encode, Principal};
use ic_agent::identity::BasicIdentity;
use ic_agent::Agent;
use marketplace::api::InitArg;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Load {
    pub clients: usize,
    pub seconds: u64,
}

pub fn run(scale: Scale, load: Load, report: &mut Report) {
    let (mut host, wasm, _, _) = crate::wasm::loaded(scale);
    // The endpoint is measured here, not the canister's per-caller rate limit (120 updates a
    // minute by default, which the latency loop's one client would meet).
    let limits = Some(InitArg {
        caller_calls_per_minute: Some(1_000_000),
        caller_call_burst: Some(1_000_000),
        ..InitArg::default()
    });
    host.upgrade(&wasm, &Encode!(&limits).expect("encode"))
        .expect("upgrade with higher rate limits");
    let state = std::env::temp_dir().join(format!("bench-serve-{}", std::process::id()));
    let started = Instant::now();
    host.save(&state).expect("save the state");
    let size = human(scale.offerings() as f64);
    report.info(
        format!("serve: state saved [{size} offerings]"),
        format!(
            "{} MiB in {:.1} s",
            host.last_save_bytes() >> 20,
            started.elapsed().as_secs_f64()
        ),
    );
    drop(host);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(measure(&state, &size, load, report));
    let _ = std::fs::remove_dir_all(&state);
}

async fn measure(state: &Path, size: &str, load: Load, report: &mut Report) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, canister) = tokio::sync::oneshot::channel();
    let dir = state.to_path_buf();
    let config = endpoint::replica::Config {
        dir: dir.clone(),
        manual_time: false,
    };
    let server = tokio::spawn(endpoint::serve::serve(
        listener,
        move || ic0_host::Host::load(&dir),
        endpoint::keys::Keys::generate(),
        config,
        move |ids: &[Principal]| {
            let _ = ready.send(ids[0]);
        },
        async {
            let _ = stopped.await;
        },
    ));
    let canister: Principal = canister.await.expect("the server starts");

    let agent = agent(&url, 1).await;
    let search = Encode!(&crate::compound_query()).expect("encode");
    let mut queries = vec![];
    for _ in 0..200 {
        let started = Instant::now();
        query(&agent, canister, &search).await.expect("a query");
        queries.push(started.elapsed());
    }
    let mut updates = vec![];
    for _ in 0..200 {
        let started = Instant::now();
        update(&agent, canister).await.expect("an update");
        updates.push(started.elapsed());
    }
    for (what, mut times) in [("query (offerings_search)", queries), ("update", updates)] {
        times.sort();
        report.at_most(
            format!("serve: median {what} through ic-agent [{size}]"),
            times[times.len() / 2].as_secs_f64() * 1e3,
            50.0,
            "ms",
        );
        report.info(
            format!("  p99 {what}"),
            format!(
                "{:.1} ms",
                times[times.len() * 99 / 100].as_secs_f64() * 1e3
            ),
        );
    }

    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let mut clients = vec![];
    for n in 0..load.clients {
        let agent = crate::serve::agent(&url, n as u8).await;
        let (done, failed, search) = (done.clone(), failed.clone(), search.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                // One update in ten, the rest queries, as a busy frontend would send them.
                let ok = if i % 10 == 9 {
                    update(&agent, canister).await.is_ok()
                } else {
                    query(&agent, canister, &search).await.is_ok()
                };
                let counter = if ok { &done } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for client in clients {
        client.await.expect("a client task");
    }
    let (done, failed) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    report.info(
        format!(
            "serve: load, {} clients for {} s (1 update in 10)",
            load.clients, load.seconds
        ),
        format!("{:.0} req/s", done as f64 / load.seconds as f64),
    );
    report.at_most("  failed requests", failed as f64, 0.0, "");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("the server saves and stops");
}

async fn agent(url: &str, seed: u8) -> Agent {
    let agent = Agent::builder()
        .with_url(url)
        .with_identity(BasicIdentity::from_raw_key(&[seed; 32]))
        .build()
        .expect("an agent");
    agent.fetch_root_key().await.expect("the root key");
    agent
}

async fn query(agent: &Agent, canister: Principal, arg: &[u8]) -> Result<Vec<u8>, String> {
    agent
        .query(&canister, "offerings_search")
        .with_arg(arg.to_vec())
        .call()
        .await
        .map_err(|e| e.to_string())
}

/// An update every caller may make: offline, `ironic_discover` answers with a typed error
/// (certified, and the state is saved after it like after any update).
async fn update(agent: &Agent, canister: Principal) -> Result<Vec<u8>, String> {
    #[derive(CandidType)]
    struct Arg {
        endpoint: String,
    }
    let arg = Arg {
        endpoint: "https://ironic.example".into(),
    };
    agent
        .update(&canister, "ironic_discover")
        .with_arg(Encode!(&arg).expect("encode"))
        .call_and_wait()
        .await
        .map_err(|e| e.to_string())
}
