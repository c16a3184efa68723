//! The lease tools of `mkt-mcp` end to end (issue 18), over stdio with `--local` on a state
//! directory where the runner library deployed the marketplace wasm built by `scripts/build.sh`,
//! with a provider's offered node: an agent (`ALICE`) requests an offerset, accepts with the
//! lessee key the server keeps, reads its credentials and ends the lease; extends and cancels
//! one before its start, leases a SKU in one call, lists its leases, reads an item's free
//! windows around a lease, and sees a provider's reclaim.

mod common;

use common::market::*;
use common::*;
use serde_json::{json, Value};

#[test]
fn request_accept_follow_and_end_a_lease() {
    let dir = market();
    let keys_root = tempfile::tempdir().unwrap();
    let keys = keys_root.path().join("alice");
    let mut mcp = agent(dir.path(), ALICE, &keys);
    let tools = tools(&mut mcp);

    let offerset = mcp.ok(
        "request_offerset",
        json!({ "image": "ubuntu-24.04", "duration_seconds": 7200, "min_cores": 16 }),
    );
    assert_conforms(&tools, "request_offerset", &offerset);
    assert_eq!(offerset["result"], "yes", "{offerset}");
    assert_eq!(offerset["status"], "open", "{offerset}");
    let offer = &offerset["offers"][0];
    assert_eq!(offer["phase"], "offered", "{offer}");
    assert_eq!(offer["resource_uuid"], NODE);
    assert_eq!(offer["price_per_hour"], 250);
    assert_eq!(offer["total_price"], 500);
    assert_eq!(offer["consumer"], ALICE);
    assert_eq!(offer["lessee_public_key"], Value::Null);
    let id = offer["execution_id"].as_u64().unwrap();

    // Nothing sealed yet, and no key made before the accept.
    let status = mcp.ok("lease_status", json!({ "execution_id": id }));
    assert_eq!(status["credentials_state"], "not_sealed", "{status}");
    assert!(!keys.exists());

    let accepted = mcp.ok("accept_offer", json!({ "execution_id": id }));
    assert_conforms(&tools, "accept_offer", &accepted);
    assert_eq!(accepted["execution_id"], id);
    assert_ne!(accepted["phase"], "offered", "{accepted}");
    // The key the server made: owner-only, its public half given to the canister, the secret
    // never in a reply.
    let key_file = keys.join("lessee.key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret_hex = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();
    let public = *runner::lessee::read_secret(&key_file)
        .unwrap()
        .public_key()
        .as_bytes();
    let public_hex: String = public.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(accepted["lessee_public_key"], public_hex, "{accepted}");
    assert!(!accepted.to_string().contains(&secret_hex));

    // Accepting again is refused and changes nothing.
    let text = mcp.tool_error("accept_offer", json!({ "execution_id": id }));
    assert!(text.starts_with("WrongPhase"), "{text}");

    // The provider seals credentials to the key the canister holds.
    let sealed = runner::lessee::seal(&public, b"ssh root@203.0.113.7").unwrap();
    let arg = format!(
        r#"(record {{ provider = variant {{ Pem = "{}" }}; execution_id = {id}; sealed = {} }})"#,
        provider_pem(),
        runner::lessee::sealed_box_text(&sealed)
    );
    runner::commands::call_reply(dir.path(), &did(), "lease_set_consumer_meta", &arg, OPS)
        .expect("lease_set_consumer_meta");

    // The simulated node deploys in steps of ten seconds, moved on by the timer.
    let mut status = Value::Null;
    for _ in 0..5 {
        runner::commands::advance_time(dir.path(), "1m").expect("mkt advance-time 1m");
        status = mcp.ok("lease_status", json!({ "execution_id": id }));
        if status["execution"]["phase"] == "available" {
            break;
        }
    }
    assert_conforms(&tools, "lease_status", &status);
    assert_eq!(status["execution"]["phase"], "available", "{status}");
    assert_eq!(status["execution"]["credentials_sealed"], true);
    assert_eq!(status["credentials_state"], "opened", "{status}");
    assert_eq!(status["credentials"], "ssh root@203.0.113.7");
    assert_eq!(status["credentials_error"], Value::Null);

    // Another server for the same agent, without the key: it sees that it cannot open them.
    let elsewhere = keys_root.path().join("elsewhere");
    let mut other = agent(dir.path(), ALICE, &elsewhere);
    let seen = other.ok("lease_status", json!({ "execution_id": id }));
    assert_eq!(seen["credentials_state"], "no_key", "{seen}");
    assert_eq!(seen["credentials"], Value::Null);
    // A stranger may not read the lease, nor end it.
    let stranger_id = candid::Principal::self_authenticating(b"stranger").to_text();
    let mut stranger = agent(dir.path(), &stranger_id, &elsewhere);
    let text = stranger.tool_error("lease_status", json!({ "execution_id": id }));
    assert!(text.starts_with("NotAuthorized"), "{text}");
    let text = stranger.tool_error("end_lease", json!({ "execution_id": id }));
    assert!(text.starts_with("NotAuthorized"), "{text}");

    let ended = mcp.ok("end_lease", json!({ "execution_id": id }));
    assert_conforms(&tools, "end_lease", &ended);
    assert!(
        ["releasing", "completed"].contains(&ended["phase"].as_str().unwrap()),
        "{ended}"
    );
    let text = mcp.tool_error("end_lease", json!({ "execution_id": id }));
    assert!(text.starts_with("WrongPhase"), "{text}");
}

/// The item's free windows around a lease that starts tomorrow, by item and by SKU; then the
/// provider reclaims a lease running now, and its consumer sees the notice in lease_status.
#[test]
fn availability_around_a_lease_and_a_reclaimed_lease() {
    let dir = market();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), ALICE, keys.path());
    let tools = tools(&mut mcp);

    let tomorrow = now_ns() + DAY_NS;
    let offerset = mcp.ok(
        "request_offerset",
        json!({ "image": "ubuntu-24.04", "duration_seconds": 7200, "start_ns": tomorrow,
                "alternative_starts": 1 }),
    );
    assert_eq!(offerset["result"], "yes", "{offerset}");
    let id = offerset["offers"][0]["execution_id"].as_u64().unwrap();
    let later = mcp.ok("accept_offer", json!({ "execution_id": id }));
    let (start, end) = (
        later["start_ns"].as_u64().unwrap(),
        later["end_ns"].as_u64().unwrap(),
    );
    assert_eq!(later["reclaim"], Value::Null);

    let from = now_ns();
    let range = json!({ "item_id": 1, "from_ns": from, "to_ns": from + 3 * DAY_NS });
    let free = mcp.ok("availability", range);
    assert_conforms(&tools, "availability", &free);
    assert_eq!(free["next_cursor"], Value::Null);
    let item = &free["items"][0];
    assert_eq!(item["item_id"], 1);
    assert_eq!(item["sku"], "4D.large");
    assert_eq!(item["truncated"], false);
    let windows = item["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "free before and after the lease: {free}");
    assert_eq!(windows[0]["end_ns"], start, "{free}");
    assert_eq!(windows[1]["start_ns"], end, "{free}");
    assert_eq!(windows[0]["price_per_hour"], 250);
    assert_eq!(windows[0]["min_duration_seconds"], 0);
    assert!(windows[0]["end"].as_str().unwrap().ends_with('Z'));
    let by_sku = mcp.ok(
        "availability",
        json!({ "sku": "4D.large", "from_ns": from, "to_ns": from + 3 * DAY_NS, "limit": 10 }),
    );
    assert_eq!(by_sku["items"], free["items"], "{by_sku}");
    let text = mcp.tool_error("availability", json!({}));
    assert!(text.starts_with("InvalidArgument: "), "{text}");
    let text = mcp.tool_error(
        "availability",
        json!({ "sku": "4D.large", "from_ns": 2, "to_ns": 1 }),
    );
    assert!(text.starts_with("InvalidWindow"), "{text}");

    // A lease from now, before tomorrow's: the provider reclaims it with an hour's notice.
    let offerset = mcp.ok(
        "request_offerset",
        json!({ "image": "ubuntu-24.04", "duration_seconds": 7200 }),
    );
    let now_id = offerset["offers"][0]["execution_id"].as_u64().unwrap();
    mcp.ok("accept_offer", json!({ "execution_id": now_id }));
    let arg = format!(
        r#"(record {{ provider = variant {{ Pem = "{}" }}; execution_id = {now_id};
            notice_seconds = opt 3600; reason = "disk replacement" }})"#,
        provider_pem()
    );
    runner::commands::call_reply(dir.path(), &did(), "lease_reclaim", &arg, OPS)
        .expect("lease_reclaim");
    let status = mcp.ok("lease_status", json!({ "execution_id": now_id }));
    assert_conforms(&tools, "lease_status", &status);
    let reclaim = &status["execution"]["reclaim"];
    assert_eq!(reclaim["reason"], "disk replacement", "{status}");
    assert_eq!(
        reclaim["ends_at_ns"].as_u64().unwrap() - reclaim["noticed_at_ns"].as_u64().unwrap(),
        HOUR_NS
    );
    assert_eq!(status["execution"]["end_ns"], reclaim["ends_at_ns"]);
}
#[test]
fn extend_then_cancel_a_lease_before_its_start_and_list_the_leases() {
    let dir = market();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), ALICE, keys.path());
    let tools = tools(&mut mcp);
    let offer_at = |mcp: &mut Mcp, start_ns: u64| {
        let request = json!({ "image": "ubuntu-24.04", "duration_seconds": 7200,
                              "start_ns": start_ns });
        mcp.ok("request_offerset", request)["offers"][0]["execution_id"]
            .as_u64()
            .unwrap()
    };
    let tomorrow = now_ns() + DAY_NS;
    let id = offer_at(&mut mcp, tomorrow);
    // An offer of the same server later that day: not a lease, so nothing to cancel.
    let offered = offer_at(&mut mcp, tomorrow + 5 * HOUR_NS);
    let text = mcp.tool_error(
        "cancel_execution",
        json!({ "execution_id": offered, "reason": "" }),
    );
    assert!(text.starts_with("WrongPhase"), "{text}");
    let accepted = mcp.ok("accept_offer", json!({ "execution_id": id }));
    assert_eq!(accepted["phase"], "waiting", "{accepted}");
    let end = accepted["end_ns"].as_u64().unwrap();

    let extended = mcp.ok(
        "extend_lease",
        json!({ "execution_id": id, "extend_by_seconds": 3600 }),
    );
    assert_conforms(&tools, "extend_lease", &extended);
    assert_eq!(extended["end_ns"], end + HOUR_NS, "{extended}");
    assert_eq!(extended["total_price"], 750, "{extended}");
    let status = mcp.ok("lease_status", json!({ "execution_id": id }));
    assert_eq!(status["execution"]["end_ns"], end + HOUR_NS, "{status}");
    let to = json!({ "execution_id": id, "new_end_ns": end + 2 * HOUR_NS });
    let extended = mcp.ok("extend_lease", to.clone());
    assert_eq!(extended["end_ns"], end + 2 * HOUR_NS, "{extended}");

    // Refusals: the same end again, past the offer's end, neither argument, someone else.
    let text = mcp.tool_error("extend_lease", to.clone());
    assert!(text.starts_with("InvalidWindow"), "{text}");
    let past_the_offer = json!({ "execution_id": id, "extend_by_seconds": 40 * 86_400 });
    let text = mcp.tool_error("extend_lease", past_the_offer);
    assert!(text.starts_with("InvalidWindow"), "{text}");
    let text = mcp.tool_error("extend_lease", json!({ "execution_id": id }));
    assert!(text.starts_with("InvalidArgument: "), "{text}");
    let stranger_id = candid::Principal::self_authenticating(b"stranger").to_text();
    let mut stranger = agent(dir.path(), &stranger_id, keys.path());
    let later = json!({ "execution_id": id, "new_end_ns": end + 3 * HOUR_NS });
    let text = stranger.tool_error("extend_lease", later.clone());
    assert!(text.starts_with("NotAuthorized"), "{text}");
    let why = json!({ "execution_id": id, "reason": "plans changed" });
    let text = stranger.tool_error("cancel_execution", why.clone());
    assert!(text.starts_with("NotAuthorized"), "{text}");

    let cancelled = mcp.ok("cancel_execution", why.clone());
    assert_conforms(&tools, "cancel_execution", &cancelled);
    assert_eq!(cancelled["phase"], "cancelled", "{cancelled}");
    assert!(
        cancelled["reason"]
            .as_str()
            .unwrap()
            .contains("plans changed"),
        "{cancelled}"
    );
    let text = mcp.tool_error("cancel_execution", why);
    assert!(text.starts_with("WrongPhase"), "{text}");
    // The reason may be left out: the call reaches the canister, which refuses the phase.
    let text = mcp.tool_error("cancel_execution", json!({ "execution_id": id }));
    assert!(text.starts_with("WrongPhase"), "{text}");
    let text = mcp.tool_error("extend_lease", later);
    assert!(text.starts_with("WrongPhase"), "{text}");

    // Both, a page at a time, and by phase; none for someone else.
    let first = mcp.ok("my_leases", json!({ "limit": 1 }));
    assert_conforms(&tools, "my_leases", &first);
    assert_eq!(first["executions"][0]["execution_id"], id, "{first}");
    assert_eq!(first["executions"][0]["phase"], "cancelled", "{first}");
    let cursor = first["next_cursor"].as_u64().expect("a next page");
    let second = mcp.ok("my_leases", json!({ "limit": 1, "cursor": cursor }));
    assert_eq!(second["executions"][0]["execution_id"], offered, "{second}");
    // The lease books only its window: the offer for later that day still holds its own.
    assert_eq!(second["executions"][0]["phase"], "offered", "{second}");
    let held = mcp.ok("my_leases", json!({ "phase": "offered" }));
    assert_eq!(held["executions"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["executions"][0]["execution_id"], offered, "{held}");
    assert_eq!(held["next_cursor"], Value::Null, "{held}");
    let rejected = mcp.ok("my_leases", json!({ "phase": "rejected" }));
    assert_eq!(rejected["executions"], json!([]), "{rejected}");
    let none = stranger.ok("my_leases", json!({}));
    assert_eq!(none["executions"], json!([]), "{none}");
}

#[test]
fn lease_by_sku_leases_now_with_the_kept_key() {
    let dir = market();
    let keys = tempfile::tempdir().unwrap();
    let mut mcp = agent(dir.path(), ALICE, keys.path());
    let tools = tools(&mut mcp);
    let lease = |max_price: u64| {
        json!({ "sku": "4D.large", "image": "ubuntu-24.04", "duration_seconds": 3600,
                "max_price_per_hour": max_price })
    };
    let text = mcp.tool_error("lease_by_sku", lease(100));
    assert!(text.starts_with("NothingAvailable"), "{text}");
    let text = mcp.tool_error(
        "lease_by_sku",
        json!({ "sku": "4D", "image": "ubuntu-24.04", "duration_seconds": 3600 }),
    );
    assert!(text.starts_with("InvalidSku"), "{text}");

    let leased = mcp.ok("lease_by_sku", lease(300));
    assert_conforms(&tools, "lease_by_sku", &leased);
    assert_eq!(leased["phase"], "accepted", "{leased}");
    assert_eq!(leased["offerset_id"], Value::Null);
    assert_eq!(leased["resource_uuid"], NODE);
    assert_eq!(leased["consumer"], ALICE);
    assert_eq!(leased["total_price"], 250);
    let public = *runner::lessee::read_secret(&keys.path().join("lessee.key"))
        .unwrap()
        .public_key()
        .as_bytes();
    let public_hex: String = public.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(leased["lessee_public_key"], public_hex, "{leased}");
    let id = leased["execution_id"].as_u64().unwrap();
    let status = mcp.ok("lease_status", json!({ "execution_id": id }));
    assert_eq!(status["credentials_state"], "not_sealed", "{status}");

    // The only node is booked now.
    let text = mcp.tool_error("lease_by_sku", lease(300));
    assert!(text.starts_with("NothingAvailable"), "{text}");
    let mine = mcp.ok("my_leases", json!({}));
    assert_eq!(mine["executions"][0]["execution_id"], id, "{mine}");
}
