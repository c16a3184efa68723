//! The market tools of `mkt-mcp` as a client sees them (issue 18), over stdio with `--local` on
//! a state directory where the runner library deployed the marketplace wasm built by
//! `scripts/build.sh`: listed with their schemas and annotations, the provider's catalog
//! searched a page at a time, the SKUs' products, and the canister's errors as tool errors.
//! The leases themselves are in `market_leases.rs`.

mod common;

use common::market::*;
use common::*;
use serde_json::{json, Value};

const MARKET_TOOLS: [&str; 11] = [
    "search_offerings",
    "products",
    "request_offerset",
    "accept_offer",
    "lease_status",
    "end_lease",
    "extend_lease",
    "cancel_execution",
    "lease_by_sku",
    "my_leases",
    "availability",
];

#[test]
fn the_market_tools_are_listed_with_schemas_and_annotations() {
    let dir = deployed();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), "controller", keys.path());
    let tools = tools(&mut mcp);
    assert_eq!(tools.len(), 13);
    for name in MARKET_TOOLS {
        let t = tool(&tools, name);
        assert!(t["description"].as_str().unwrap().len() > 40, "{t}");
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
        assert!(t["outputSchema"]["properties"].is_object(), "{t}");
    }
    let annotations = |name: &str| {
        let mut a = tool(&tools, name)["annotations"].clone();
        a.as_object_mut().unwrap().remove("title");
        a
    };
    let hints = |read_only: bool, destructive: bool, idempotent: bool| {
        json!({
            "readOnlyHint": read_only,
            "destructiveHint": destructive,
            "idempotentHint": idempotent,
            "openWorldHint": true
        })
    };
    assert_eq!(annotations("search_offerings"), hints(true, false, true));
    assert_eq!(annotations("products"), hints(true, false, true));
    assert_eq!(annotations("request_offerset"), hints(false, false, false));
    assert_eq!(annotations("accept_offer"), hints(false, true, true));
    assert_eq!(annotations("lease_status"), hints(true, false, true));
    assert_eq!(annotations("end_lease"), hints(false, true, true));
    assert_eq!(annotations("extend_lease"), hints(false, false, false));
    assert_eq!(annotations("cancel_execution"), hints(false, true, true));
    assert_eq!(annotations("lease_by_sku"), hints(false, false, false));
    assert_eq!(annotations("my_leases"), hints(true, false, true));
    assert_eq!(annotations("availability"), hints(true, false, true));

    let search = tool(&tools, "search_offerings");
    let input = &search["inputSchema"]["properties"];
    for field in [
        "text",
        "country",
        "product_type",
        "min_cores",
        "currency",
        "cursor",
        "limit",
    ] {
        assert!(input.get(field).is_some(), "{field} not in {input}");
    }
    assert!(search["inputSchema"]
        .get("required")
        .is_none_or(|r| r == &json!([])));
    let output = &search["outputSchema"];
    assert_eq!(
        output["properties"]["next_cursor"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        output["$defs"]["ProductKind"]["enum"],
        json!(["vps", "dedicated", "cloud", "managed"])
    );
    let request = tool(&tools, "request_offerset");
    let mut required: Vec<String> =
        serde_json::from_value(request["inputSchema"]["required"].clone()).unwrap();
    required.sort();
    assert_eq!(required, ["duration_seconds", "image"]);
    let required = |name: &str| {
        let mut r: Vec<String> =
            serde_json::from_value(tool(&tools, name)["inputSchema"]["required"].clone())
                .unwrap_or_default();
        r.sort();
        r
    };
    for name in ["accept_offer", "lease_status", "end_lease", "extend_lease"] {
        assert_eq!(required(name), ["execution_id"], "{name}");
    }
    assert_eq!(required("cancel_execution"), ["execution_id"]);
    assert_eq!(
        required("lease_by_sku"),
        ["duration_seconds", "image", "sku"]
    );
    assert!(required("my_leases").is_empty());
    assert!(required("availability").is_empty());
    let execution = &tool(&tools, "lease_status")["outputSchema"]["$defs"];
    assert!(
        execution["ExecutionOut"]["properties"]["reclaim"].is_object(),
        "{execution}"
    );
    assert!(
        tool(&tools, "request_offerset")["inputSchema"]["properties"]["alternative_starts"]
            .is_object()
    );
    let status = &tool(&tools, "lease_status")["outputSchema"];
    let states = status["$defs"]["CredentialsState"].to_string();
    for state in ["not_sealed", "opened", "no_key", "not_opened"] {
        assert!(
            states.contains(&format!("\"{state}\"")),
            "{state} not in {states}"
        );
    }
    // Nothing in any schema could carry the secret key.
    assert!(!serde_json::to_string(&tools)
        .unwrap()
        .contains("secret_key"));
}

#[test]
fn search_with_filters_a_page_at_a_time_and_products() {
    let dir = market();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), "anonymous", keys.path());
    let tools = tools(&mut mcp);

    let all = mcp.ok("search_offerings", json!({}));
    let keys_of = |page: &Value| -> Vec<String> {
        page["offerings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys_of(&all), ["DC2993", "QC1494", "4XQC3719"], "{all}");
    assert_eq!(all["next_cursor"], Value::Null);

    let first = mcp.ok(
        "search_offerings",
        json!({ "product_type": "dedicated", "country": "nl", "limit": 1 }),
    );
    assert_eq!(keys_of(&first), ["QC1494"], "{first}");
    let offering = &first["offerings"][0];
    assert_eq!(offering["product_type"], "dedicated");
    assert_eq!(offering["currency"], "EUR");
    assert_eq!(offering["price_minor"], 14999);
    assert_eq!(offering["provider_pem"], provider_pem());
    assert_conforms(&tools, "search_offerings", &first);
    let output = tool(&tools, "search_offerings")["outputSchema"].clone();
    conforms(&output["$defs"]["Offering"], &first["offerings"][0]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = mcp.ok(
        "search_offerings",
        json!({ "product_type": "dedicated", "country": "nl", "limit": 1, "cursor": cursor }),
    );
    assert_eq!(keys_of(&second), ["4XQC3719"], "{second}");
    assert_eq!(second["next_cursor"], Value::Null, "{second}");

    let cheap = mcp.ok(
        "search_offerings",
        json!({ "currency": "eur", "max_price_minor": 12000 }),
    );
    assert_eq!(keys_of(&cheap), ["DC2993"], "{cheap}");
    let by_price_desc = mcp.ok(
        "search_offerings",
        json!({ "sort": "price_desc", "min_cores": 4 }),
    );
    assert_eq!(
        keys_of(&by_price_desc),
        ["4XQC3719", "QC1494"],
        "{by_price_desc}"
    );

    // Errors: the canister's SearchError variants, and arguments that cannot make a query.
    let text = mcp.tool_error(
        "search_offerings",
        json!({ "product_type": "vps", "limit": 1, "cursor": cursor }),
    );
    assert!(text.starts_with("InvalidCursor"), "{text}");
    let text = mcp.tool_error("search_offerings", json!({ "limit": 500 }));
    assert!(text.starts_with("PageSizeTooLarge"), "{text}");
    let text = mcp.tool_error("search_offerings", json!({ "max_price_minor": 100 }));
    assert!(text.starts_with("InvalidArgument: "), "{text}");
    let text = mcp.tool_error("search_offerings", json!({ "product_type": "mainframe" }));
    assert!(text.contains("unknown variant"), "{text}");

    let products = mcp.ok("products", json!({}));
    assert_conforms(&tools, "products", &products);
    let list = products["products"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{products}");
    assert_eq!(list[0]["sku"], "4D.large");
    assert_eq!(list[0]["total"], 1);
    assert_eq!(list[0]["min_price_per_hour"], 250, "{products}");
}
#[test]
fn market_errors_are_tool_errors_naming_the_variant() {
    let dir = market();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), ALICE, keys.path());
    let text = mcp.tool_error("accept_offer", json!({ "execution_id": 99 }));
    assert!(text.starts_with("UnknownExecution { id: 99 }"), "{text}");
    let text = mcp.tool_error("lease_status", json!({ "execution_id": 99 }));
    assert!(text.starts_with("UnknownExecution"), "{text}");
    let text = mcp.tool_error("end_lease", json!({ "execution_id": 99 }));
    assert!(text.starts_with("UnknownExecution"), "{text}");
    let text = mcp.tool_error("accept_offer", json!({ "execution_id": "one" }));
    assert!(text.contains("invalid type"), "{text}");
    let text = mcp.tool_error("request_offerset", json!({ "image": "ubuntu-24.04" }));
    assert!(text.contains("missing field `duration_seconds`"), "{text}");

    // Nothing matches: result no, with the messages saying why.
    let none = mcp.ok(
        "request_offerset",
        json!({ "image": "ubuntu-24.04", "duration_seconds": 3600, "min_gpus": 8 }),
    );
    assert_eq!(none["result"], "no", "{none}");
    assert_eq!(none["offers"], json!([]));
    assert!(!none["messages"].as_array().unwrap().is_empty(), "{none}");

    // The anonymous principal is dropped before the update runs.
    let mut anonymous = agent(dir.path(), "anonymous", keys.path());
    let text = anonymous.tool_error(
        "request_offerset",
        json!({ "image": "ubuntu-24.04", "duration_seconds": 3600 }),
    );
    assert!(
        text.starts_with("CallFailed: ") && text.contains("needs an identity"),
        "{text}"
    );
}
