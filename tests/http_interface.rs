//! `http_request` through the wasm, as the HTTP gateway calls it: `/health`, `/metrics` with
//! the numbers the Candid methods report, `/search` equal to `offerings_search`'s JSON,
//! `/offerings/…`, 404, 405, and a malformed argument answered rather than trapped.

mod common;

use common::market::*;
use common::*;
use marketplace::catalog::search::query::{Format, SearchQuery};
use marketplace::catalog::search::{SearchError, SearchPage};
use marketplace::http::{HttpRequest, HttpResponse};
use serde_bytes::ByteBuf;

fn http(
    canister: &mut Canister,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let request = HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: ByteBuf::new(),
        certificate_version: Some(2),
    };
    http_raw(canister, candid::encode_one(request).unwrap())
}

fn http_raw(canister: &mut Canister, arg: Vec<u8>) -> HttpResponse {
    let bytes = canister
        .driver
        .query(user(), "http_request", arg)
        .unwrap_or_else(|r| panic!("http_request was rejected: {r}"));
    candid::decode_one(&bytes).expect("an HttpResponse")
}

fn get(canister: &mut Canister, url: &str) -> HttpResponse {
    http(canister, "GET", url, &[])
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    let found = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name));
    found.map(|(_, v)| v.as_str())
}

fn json(response: &HttpResponse) -> serde_json::Value {
    let content_type = header(response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    serde_json::from_slice(&response.body).expect("a JSON body")
}

/// The sample value of `series` (name with its labels) in a Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(s, _)| *s == series)
        .map(|(_, v)| v.parse().expect("a number"))
}

#[test]
fn health_answers_ok_as_text_and_json() {
    let mut canister = Canister::install(None);
    let response = get(&mut canister, "/health");
    assert_eq!(response.status_code, 200);
    assert_eq!(&response.body[..], b"ok");
    assert!(header(&response, "content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(response.upgrade, None);

    let response = http(
        &mut canister,
        "GET",
        "/health",
        &[("accept", "application/json")],
    );
    assert_eq!(response.status_code, 200);
    let body = json(&response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn metrics_report_catalog_market_and_counters() {
    let mut m = Market::new();
    let mut catalog_provider = Provider::new(1);
    let receipt = m
        .canister
        .replace(&mut catalog_provider, FIXTURE)
        .expect("catalog_replace");
    assert!(receipt.offerings > 0);
    m.offered_item(LARGE, "node-1", 4, 100, 7);
    m.offered_item(LARGE, "node-2", 4, 200, 7);
    m.offered_item(SMALL, "node-3", 2, 50, 7);
    let start = m.now() + 2 * DAY_NS;
    let lease = m.lease(consumer("a"), start, 3600);
    let maintenance = m.register(SMALL, "node-4", attributes(2, 8, 500, 0));
    m.canister
        .inventory_set_status(
            m.delegate,
            InventorySetStatusArg {
                provider: m.provider.key(),
                item_id: maintenance.id,
                status: ItemStatus::Maintenance,
                reason: "disk swap".into(),
            },
        )
        .expect("inventory_set_status");

    let response = get(&mut m.canister, "/metrics");
    assert_eq!(response.status_code, 200);
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    let status = m.canister.status();
    let value = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));

    assert_eq!(value("marketplace_offerings"), receipt.offerings as f64);
    assert_eq!(value("marketplace_providers"), 1.0);
    // Items by status: the same counts inventory_list gives.
    let items = m
        .canister
        .inventory_list(all_items())
        .expect("inventory_list")
        .items;
    assert_eq!(items.len(), 4);
    for status in [
        ItemStatus::Available,
        ItemStatus::Reserving,
        ItemStatus::Leased,
        ItemStatus::Rebuilding,
        ItemStatus::Maintenance,
        ItemStatus::Archiving,
    ] {
        let expected = items.iter().filter(|item| item.status == status).count();
        let series = format!("marketplace_items{{status=\"{}\"}}", status.name());
        assert_eq!(value(&series), expected as f64, "{series}");
    }
    assert_eq!(value("marketplace_items{status=\"maintenance\"}"), 1.0);
    // Leases by phase: the same as every execution read back.
    let executions = m.all_executions();
    assert_eq!(value("marketplace_executions"), executions.len() as f64);
    let lease_phase = m.phase(lease.id);
    assert!(lease_phase.is_active_lease(), "{lease_phase:?}");
    for execution in &executions {
        let phase = execution.phase;
        let expected = executions.iter().filter(|e| e.phase == phase).count();
        let series = format!("marketplace_leases{{phase=\"{}\"}}", phase.name());
        assert_eq!(value(&series), expected as f64, "{series}");
    }
    // The counters and state `status` reports.
    let c = &status.counters;
    for (name, expected) in [
        ("marketplace_updates_total", c.updates),
        ("marketplace_timer_runs_total", c.timer_runs),
        ("marketplace_tasks_run_total", c.tasks_run),
        ("marketplace_outcalls_total", c.outcalls),
        ("marketplace_outcall_failures_total", c.outcall_failures),
        ("marketplace_outcall_cycles_total", c.outcall_cycles),
        ("marketplace_tasks_queued", status.task_queue_len),
        ("marketplace_tasks_overdue", status.tasks_overdue),
        ("marketplace_tasks_failing", status.tasks_failing),
        (
            "marketplace_stable_memory_bytes",
            status.stable_memory_pages * 65_536,
        ),
    ] {
        assert_eq!(value(name), expected as f64, "{name}");
    }
    assert!(value("marketplace_heap_bytes") > 0.0);
    assert!(value("marketplace_cycles_balance") > 0.0);
    let instructions = value("marketplace_query_instructions");
    assert!(instructions > 0.0 && instructions < 1e9, "{instructions}");
    for family in [
        "offerings",
        "items",
        "leases",
        "updates_total",
        "query_instructions",
    ] {
        assert!(
            text.contains(&format!("# HELP marketplace_{family} ")),
            "{family}"
        );
        assert!(
            text.contains(&format!("# TYPE marketplace_{family} ")),
            "{family}"
        );
    }
}

#[test]
fn search_is_offerings_search_json() {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(1);
    canister
        .replace(&mut provider, FIXTURE)
        .expect("catalog_replace");

    let query = SearchQuery {
        limit: Some(2),
        format: Some(Format::Json),
        ..SearchQuery::default()
    };
    let bytes = canister
        .driver
        .query(
            user(),
            "offerings_search",
            candid::encode_one(&query).unwrap(),
        )
        .unwrap();
    let page: Result<SearchPage, SearchError> = candid::decode_one(&bytes).unwrap();
    let page = page.expect("offerings_search");
    let Offerings::Json(expected) = page.offerings else {
        panic!("not JSON")
    };
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();

    let response = get(&mut canister, "/search?limit=2");
    assert_eq!(response.status_code, 200);
    let body = json(&response);
    assert_eq!(body["offerings"], expected);
    assert_eq!(body["next_cursor"].as_str(), page.next_cursor.as_deref());
    assert!(!expected.as_array().unwrap().is_empty());

    // A filtered search through percent-encoded parameters.
    let response = get(
        &mut canister,
        "/search?text=Intel%20Dual+core&country=nl&limit=1",
    );
    assert_eq!(response.status_code, 200, "{:?}", json(&response));
    let body = json(&response);
    let csv = body["offerings"][0]["server_offerings_csv"]
        .as_str()
        .unwrap();
    assert!(csv.contains("Intel Dual Core"), "{csv}");

    // The offering by the provider's hex key.
    let hex: String = match provider.key() {
        ProviderKeyInput::Raw(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ProviderKeyInput::Pem(_) => unreachable!(),
    };
    let response = get(&mut canister, &format!("/offerings/{hex}/DC2993"));
    assert_eq!(response.status_code, 200, "{:?}", json(&response));
    assert_eq!(json(&response)[0]["provider_pubkey_pem"], provider.pem());

    let response = get(&mut canister, "/search?limit=0");
    assert_eq!(response.status_code, 400);
    assert_eq!(json(&response)["error"], "InvalidArgument");
}

#[test]
fn unknown_paths_other_methods_and_garbage_are_answered() {
    let mut canister = Canister::install(None);
    let response = get(&mut canister, "/nowhere");
    assert_eq!(response.status_code, 404);
    assert_eq!(json(&response)["error"], "NotFound");

    let response = http(&mut canister, "POST", "/metrics", &[]);
    assert_eq!(response.status_code, 405);
    assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
    assert_eq!(json(&response)["error"], "MethodNotAllowed");

    for garbage in [
        b"not candid at all".to_vec(),
        candid::encode_one(42u64).unwrap(),
        b"DIDL\x00\x00".to_vec(),
        vec![],
    ] {
        let response = http_raw(&mut canister, garbage);
        assert_eq!(response.status_code, 400);
        assert_eq!(json(&response)["error"], "InvalidArgument");
    }
    // Still serving.
    assert_eq!(get(&mut canister, "/health").status_code, 200);
}
