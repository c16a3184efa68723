//! `mkt serve` as an HTTP gateway, end to end: a plain HTTP client reaches the canister's
//! `http_request` by host (`<id>.localhost`, `<id>.raw.localhost`) or by `?canisterId=`.
//! The verifying route serves the web app and the 404 (certified); what the canister leaves
//! uncertified (the live routes such as `/metrics`, a 405) only the raw domain serves, and the
//! verifying route refuses with a 503, as the IC's gateways do.

#[path = "serve/served.rs"]
mod served;

use served::Served;

struct Gateway {
    http: reqwest::blocking::Client,
    /// `http://127.0.0.1:<port>`: requests go there, naming the canister in `Host`, since
    /// `*.localhost` need not resolve on every machine.
    url: String,
    port: String,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Gateway {
    fn new(served: &Served) -> Self {
        let url = served.url.trim_end_matches('/').to_string();
        let port = url.rsplit(':').next().expect("a port").to_string();
        Gateway {
            http: reqwest::blocking::Client::new(),
            url,
            port,
        }
    }

    fn request(&self, method: reqwest::Method, host: Option<&str>, path: &str) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(host) = host {
            request = request.header("host", format!("{host}:{}", self.port));
        }
        let response = request.send().expect("the gateway answers");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().expect("a text body"),
        }
    }

    fn get(&self, host: Option<&str>, path: &str) -> Answer {
        self.request(reqwest::Method::GET, host, path)
    }
}

#[test]
fn the_raw_domain_serves_the_canisters_http_interface() {
    let served = Served::start(&[]);
    let gateway = Gateway::new(&served);
    let raw = format!("{}.raw.localhost", served.canister);

    let metrics = gateway.get(Some(&raw), "/metrics");
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        metrics.headers
    );
    assert!(metrics.body.contains("marketplace_"), "{}", metrics.body);

    let health = gateway.get(Some(&raw), "/health");
    assert_eq!((health.status, health.body.trim()), (200, "ok"));

    // The canister's own answers to what it does not serve come through as they are.
    let missing = gateway.get(Some(&raw), "/nowhere");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(missing.body.contains("NotFound"), "{}", missing.body);
    let post = gateway.request(reqwest::Method::POST, Some(&raw), "/metrics");
    assert_eq!(post.status, 405, "{}", post.body);
    assert_eq!(post.headers["allow"], "GET, HEAD");

    // `raw.localhost` with the canister in the query string is the same route.
    let by_parameter = gateway.get(
        Some("raw.localhost"),
        &format!("/health?canisterId={}", served.canister),
    );
    assert_eq!((by_parameter.status, by_parameter.body.trim()), (200, "ok"));
}

/// The `/assets/…` URL ending in `extension` that the page names.
fn asset_named(page: &str, extension: &str) -> String {
    let found = page
        .split(['"', '\''])
        .find(|s| s.starts_with("/assets/") && s.ends_with(extension));
    found
        .unwrap_or_else(|| panic!("the page names no {extension}: {page}"))
        .to_string()
}

fn content_type(answer: &Answer) -> &str {
    answer.headers["content-type"].to_str().unwrap()
}

#[test]
fn the_verifying_route_serves_the_certified_app_and_live_routes() {
    let served = Served::start(&[]);
    let gateway = Gateway::new(&served);
    let host = format!("{}.localhost", served.canister);

    let page = gateway.get(Some(&host), "/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        content_type(&page).starts_with("text/html"),
        "{:?}",
        page.headers
    );
    assert_eq!(page.headers["cache-control"], "no-cache");
    assert!(page.headers.contains_key("content-security-policy"));
    for (extension, kind) in [(".js", "text/javascript"), (".css", "text/css")] {
        let url = asset_named(&page.body, extension);
        let asset = gateway.get(Some(&host), &url);
        assert_eq!(asset.status, 200, "{url}: {}", asset.body);
        assert!(
            content_type(&asset).starts_with(kind),
            "{url}: {:?}",
            asset.headers
        );
        assert_eq!(
            asset.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }

    let missing = gateway.get(Some(&host), "/nowhere");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(missing.body.contains("NotFound"), "{}", missing.body);

    // By query string on a plain address: verified too.
    let by_parameter = gateway.get(None, &format!("/?canisterId={}", served.canister));
    assert_eq!(by_parameter.status, 200, "{}", by_parameter.body);
    assert!(content_type(&by_parameter).starts_with("text/html"));
}

#[test]
fn the_verifying_route_refuses_uncertified_responses() {
    let served = Served::start(&[]);
    let gateway = Gateway::new(&served);
    let host = format!("{}.localhost", served.canister);
    // A 405 for the app's page is not certified: served raw, refused verified.
    let raw = format!("{}.raw.localhost", served.canister);
    let post = gateway.request(reqwest::Method::POST, Some(&raw), "/");
    assert_eq!(post.status, 405, "{}", post.body);
    let refused = gateway.request(reqwest::Method::POST, Some(&host), "/");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.starts_with("Response verification failed"),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.contains("MethodNotAllowed"),
        "{}",
        refused.body
    );

    // The live routes are not certified (a single replica could forge them on the app's
    // origin): refused verified, served raw.
    let metrics = gateway.get(Some(&host), "/metrics");
    assert_eq!(metrics.status, 503, "{}", metrics.body);
    let metrics = gateway.get(Some(&raw), "/metrics");
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(metrics.body.contains("marketplace_"), "{}", metrics.body);

    // The IC's API stays where it was, even on the canister's host.
    let status = gateway.get(Some(&host), "/api/v2/status");
    assert_eq!(status.status, 200);
}

#[test]
fn unknown_or_malformed_canisters_are_refused() {
    let served = Served::start(&[]);
    let gateway = Gateway::new(&served);
    let unknown = gateway.get(Some("aaaaa-aa.raw.localhost"), "/metrics");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("not found"), "{}", unknown.body);
    let malformed = gateway.get(Some("not-a-canister.localhost"), "/metrics");
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let malformed = gateway.get(None, "/metrics?canisterId=nope");
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    // Still serving.
    let raw = format!("{}.raw.localhost", served.canister);
    assert_eq!(gateway.get(Some(&raw), "/health").status, 200);
}
