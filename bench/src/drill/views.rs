//! The views: replies collected and masked, the snapshot of every view, and comparing two.

use super::calls::{query, stranger};
use super::catalog_views::catalog_views;
use super::interface::Did;
use super::market_views::market_views;
use super::World;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::Host;
use marketplace::api::*;
use marketplace::http::{HttpRequest, HttpResponse};
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Every view's reply, masked, by label; and the calls made per method.
#[derive(Default)]
pub struct Views {
    pub replies: BTreeMap<String, (String, Vec<u8>)>,
    pub calls: BTreeMap<String, usize>,
    /// Wall time and instructions per method.
    pub time: BTreeMap<String, Duration>,
    pub instructions: BTreeMap<String, u64>,
}

impl Views {
    pub(super) fn call(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: Vec<u8>,
    ) -> Vec<u8> {
        let started = Instant::now();
        let reply = host
            .query(caller, method, &arg)
            .unwrap_or_else(|r| panic!("{method} {label}: {r}"));
        *self.time.entry(method.to_string()).or_default() += started.elapsed();
        *self.instructions.entry(method.to_string()).or_default() += host.last_instructions();
        *self.calls.entry(method.to_string()).or_default() += 1;
        let masked = mask(method, &reply);
        let label = format!("{method} {label}");
        assert!(
            self.replies
                .insert(label.clone(), (method.to_string(), masked))
                .is_none(),
            "two views are labelled {label}"
        );
        reply
    }

    pub(super) fn one<A: CandidType>(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: A,
    ) -> Vec<u8> {
        self.call(
            host,
            caller,
            method,
            label,
            candid::encode_one(arg).unwrap(),
        )
    }

    pub(super) fn typed<A: CandidType, T: CandidType + for<'a> Deserialize<'a>>(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: A,
    ) -> T {
        let reply = self.one(host, caller, method, label, arg);
        candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn pages(&self) -> usize {
        self.calls.values().sum()
    }
}

/// Takes out what an upgrade legitimately changes.
fn mask(method: &str, reply: &[u8]) -> Vec<u8> {
    match method {
        "status" => {
            let mut status: Status = candid::decode_one(reply).expect("status decodes");
            status.heap_bytes = 0;
            status.stable_memory_pages = 0;
            status.cycles_balance = 0u8.into();
            candid::encode_one(status).unwrap()
        }
        "http_request" => {
            let mut response: HttpResponse = candid::decode_one(reply).expect("http decodes");
            let body = String::from_utf8_lossy(&response.body);
            if body.starts_with("# HELP") || body.contains("\nmarketplace_") {
                const LIVE: [&str; 5] = [
                    "marketplace_query_instructions",
                    "marketplace_http_assets_certify_instructions",
                    "marketplace_heap_bytes",
                    "marketplace_stable_memory_bytes",
                    "marketplace_cycles_balance",
                ];
                let kept: String = body
                    .lines()
                    .map(|line| {
                        if LIVE.iter().any(|name| line.starts_with(name)) {
                            line.split(' ').next().unwrap_or_default().to_string() + " (masked)\n"
                        } else {
                            format!("{line}\n")
                        }
                    })
                    .collect();
                response.body = ByteBuf::from(kept.into_bytes());
            }
            candid::encode_one(response).unwrap()
        }
        "state_digest" => match candid::decode_one(reply).expect("state_digest decodes") {
            // Per region, but for the indexes' snapshots, which pre_upgrade writes (and the
            // total, which covers them).
            StateDigestResult::Ok(mut digest) => {
                digest.sha256 = ByteBuf::new();
                digest
                    .regions
                    .retain(|region| !SNAPSHOT_REGIONS.contains(&region.name.as_str()));
                candid::encode_one(StateDigestResult::Ok(digest)).unwrap()
            }
            err => candid::encode_one(err).unwrap(),
        },
        _ => reply.to_vec(),
    }
}

/// Snapshot of every exported view, each list walked page by page. `controller` sees all.
pub(super) fn snapshot(did: &Did, host: &mut Host, world: &World, sample: (usize, usize)) -> Views {
    let mut v = Views::default();
    let controller = Host::default_controller();
    let anyone = stranger();
    market_views(host, world, &mut v, controller, anyone);
    catalog_views(host, world, &mut v, anyone, sample);
    // Operations.
    v.one(host, anyone, "status", String::new(), ());
    for url in ["/health", "/metrics", "/nope"] {
        v.one(host, anyone, "http_request", url.into(), http_get(url));
    }
    if did.methods.contains_key("state_digest") {
        v.one(host, controller, "state_digest", String::new(), ());
        v.one(host, anyone, "state_digest", "stranger".into(), ());
    }
    if did.methods.contains_key("market_self_check") {
        super::self_check::views(host, &mut v, controller, anyone);
    }
    v
}

pub(super) fn http_get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: ByteBuf::new(),
        certificate_version: None,
    }
}

/// `state_digest`'s reply (mirrored here, so the drill builds whether or not the canister
/// exports the type).
#[derive(CandidType, Deserialize)]
enum StateDigestResult {
    Ok(StateDigest),
    Err(DigestError),
}

#[derive(CandidType, Deserialize)]
struct StateDigest {
    sha256: ByteBuf,
    excluded: Vec<String>,
    regions: Vec<RegionDigest>,
}

#[derive(CandidType, Deserialize)]
struct RegionDigest {
    id: u8,
    name: String,
    pages: u64,
    sha256: ByteBuf,
}

#[derive(CandidType, Deserialize)]
enum DigestError {
    NotAuthorized,
}

/// The stable-memory region `pre_upgrade` writes: the search index's snapshot.
const SNAPSHOT_REGIONS: [&str; 2] = ["INDEX_SNAPSHOT", "MARKET_INDEX_SNAPSHOT"];

/// The differences between two snapshots, described (at most `max` of them in detail).
pub(super) fn compare(did: &Did, before: &Views, after: &Views, max: usize) -> Vec<String> {
    let mut differences = vec![];
    let labels: BTreeSet<&String> = before.replies.keys().chain(after.replies.keys()).collect();
    for label in labels {
        let described = match (before.replies.get(label), after.replies.get(label)) {
            (Some(a), Some(b)) if a.1 == b.1 => continue,
            (Some((method, a)), Some((_, b))) => {
                if differences.len() >= max {
                    format!("{label}: differs")
                } else {
                    first_difference(label, &did.render(method, a), &did.render(method, b))
                }
            }
            (Some(_), None) => format!("{label}: only before the upgrade"),
            (None, Some(_)) => format!("{label}: only after the upgrade"),
            (None, None) => unreachable!(),
        };
        differences.push(described);
    }
    differences
}

fn first_difference(label: &str, a: &str, b: &str) -> String {
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i);
    let from = a[..at].char_indices().rev().nth(120).map_or(0, |(i, _)| i);
    let end = |s: &str| s[at.min(s.len())..].chars().take(160).collect::<String>();
    format!(
        "{label}: …{}[before: {} | after: {}]",
        &a[from..at],
        end(a),
        end(b)
    )
}

/// A `/metrics` value.
pub(super) fn metric(host: &mut Host, name: &str) -> u64 {
    let response: HttpResponse = query(host, stranger(), "http_request", (http_get("/metrics"),));
    String::from_utf8_lossy(&response.body)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map_or(0, |value| value as u64)
}
