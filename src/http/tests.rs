//! Routing, methods, headers and errors of `http_request`, on the heap state of unit tests.

use super::*;
use crate::catalog::publish::testing::{csv, publish_arg, SECRET};
use crate::catalog::publish::{self};
use crate::catalog::search::query::{Format, SearchQuery};
use crate::catalog::signing::{provider_of, Operation};
use crate::runtime::FakeRuntime;

fn get(url: &str) -> HttpResponse {
    call("GET", url, &[])
}

fn call(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let request = HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..HttpRequest::default()
    };
    handle(&FakeRuntime::new(), Ok(request))
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    let header = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name));
    header.map(|(_, v)| v.as_str())
}

fn json(response: &HttpResponse) -> serde_json::Value {
    assert_eq!(header(response, "content-type"), Some(JSON));
    serde_json::from_slice(&response.body).expect("a JSON body")
}

fn publish_three() {
    let catalog = csv(&[("A1", "10.00"), ("B2", "20.00"), ("C3", "30.00")]);
    let arg = publish_arg(Operation::ReplaceCatalog, 1, catalog);
    publish::replace(&FakeRuntime::new(), arg).expect("published");
}

#[test]
fn health_is_ok_as_text_or_json() {
    let response = get("/health");
    assert_eq!(response.status_code, 200);
    assert_eq!(&response.body[..], b"ok");
    assert_eq!(header(&response, "content-type"), Some(TEXT));
    assert_eq!(header(&response, "cache-control"), Some(NO_STORE));
    assert_eq!(response.upgrade, None);

    let accept = [("Accept", "text/html, application/json;q=0.9")];
    let response = call("GET", "/health", &accept);
    assert_eq!(response.status_code, 200);
    assert_eq!(json(&response)["status"], "ok");
    // A trailing slash and a query string do not change the route.
    assert_eq!(&get("/health/?probe=1").body[..], b"ok");
}

#[test]
fn metrics_are_prometheus_text() {
    publish_three();
    let response = get("/metrics");
    assert_eq!(response.status_code, 200);
    assert_eq!(
        header(&response, "content-type"),
        Some(metrics::CONTENT_TYPE)
    );
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    assert!(text.contains("\nmarketplace_offerings 3\n"), "{text}");
    assert!(text.contains("\nmarketplace_providers 1\n"), "{text}");
    assert!(text.contains("# TYPE marketplace_updates_total counter\n"));
}

#[test]
fn search_is_offerings_search_as_json() {
    publish_three();
    let response = get("/search?text=server&currency=EUR&max_price=20&limit=1");
    assert_eq!(response.status_code, 200, "{:?}", json(&response));
    assert_eq!(header(&response, "cache-control"), Some(SHORT_CACHE));
    let body = json(&response);

    let query = SearchQuery {
        text: Some("server".into()),
        limit: Some(1),
        format: Some(Format::Json),
        ..params::search_query("currency=EUR&max_price=20").unwrap()
    };
    let page = search::offerings_search(&query).unwrap();
    let Offerings::Json(expected) = page.offerings else {
        panic!("not JSON")
    };
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    assert_eq!(body["offerings"], expected);
    let csv = expected[0]["server_offerings_csv"].as_str().unwrap();
    assert!(csv.contains(",A1,"), "{csv}");
    let cursor = body["next_cursor"].as_str().expect("a second page");
    assert_eq!(Some(cursor), page.next_cursor.as_deref());

    // The cursor, percent-encoded, gives the second (last) page.
    let encoded: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    let url = format!("/search?text=server&currency=EUR&max_price=20&limit=1&cursor={encoded}");
    let second = json(&get(&url));
    let csv = second["offerings"][0]["server_offerings_csv"]
        .as_str()
        .unwrap();
    assert!(csv.contains(",B2,"), "{csv}");
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
}

#[test]
fn search_errors_are_400_json() {
    for url in [
        "/search?colour=red",
        "/search?limit=0",
        "/search?limit=100000",
        "/search?cursor=nonsense",
        "/search?currency=EURO",
    ] {
        let response = get(url);
        assert_eq!(response.status_code, 400, "{url}");
        let body = json(&response);
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
}

#[test]
fn offerings_by_hex_or_pem_key() {
    publish_three();
    let key = provider_of(&SECRET);
    let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let pem: String = form_urlencoded::byte_serialize(key.to_pem().as_bytes()).collect();
    for provider in [hex.clone(), hex.to_uppercase(), pem.replace('+', "%20")] {
        let response = get(&format!("/offerings/{provider}/B2"));
        assert_eq!(
            response.status_code,
            200,
            "{provider}: {:?}",
            json(&response)
        );
        let body = json(&response);
        assert_eq!(body[0]["provider_pubkey_pem"], key.to_pem());
        let csv = body[0]["server_offerings_csv"].as_str().unwrap();
        assert_eq!(csv.lines().count(), 2, "header and one row: {csv}");
        assert!(csv.lines().nth(1).unwrap().contains(",B2,"));
    }
    assert_eq!(get(&format!("/offerings/{hex}/Z9")).status_code, 404);
    let unknown = "ab".repeat(32);
    assert_eq!(get(&format!("/offerings/{unknown}/A1")).status_code, 404);
    assert_eq!(get("/offerings/not-a-key/A1").status_code, 400);
}

#[test]
fn unknown_paths_are_404_json() {
    for url in ["/", "/nope", "/metrics/extra", "/offerings/x", "/search/x"] {
        let response = get(url);
        assert_eq!(response.status_code, 404, "{url}");
        assert_eq!(json(&response)["error"], "NotFound");
    }
}

#[test]
fn other_methods_are_405_and_head_has_no_body() {
    for method in ["POST", "PUT", "DELETE", "OPTIONS", ""] {
        let response = call(method, "/health", &[]);
        assert_eq!(response.status_code, 405, "{method}");
        assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
        assert_eq!(json(&response)["error"], "MethodNotAllowed");
    }
    let response = call("HEAD", "/health", &[]);
    assert_eq!(response.status_code, 200);
    assert!(response.body.is_empty());
    assert_eq!(header(&response, "content-type"), Some(TEXT));
}

#[test]
fn an_undecodable_request_is_400() {
    let response = handle(&FakeRuntime::new(), Err("cannot decode".into()));
    assert_eq!(response.status_code, 400);
    assert_eq!(json(&response)["message"], "cannot decode");
}
