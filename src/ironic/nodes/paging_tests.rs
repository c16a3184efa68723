//! List pages and the payment of each outcall.

use super::*;
use crate::runtime::{block_on, FakeRuntime, OutcallError};
use candid::Nat;
use ic_cdk_management_canister::HttpRequestResult;
use std::cell::Cell;

const ENDPOINT: &str = "https://ironic.example:6385";

fn ironic(rt: &FakeRuntime) -> HttpIronic<'_, FakeRuntime> {
    HttpIronic {
        rt,
        endpoint: ENDPOINT.into(),
        microversion: "1.81".into(),
        auth_token: None,
        pay: None,
    }
}

fn page(uuids: impl Iterator<Item = String>) -> Result<HttpRequestResult, OutcallError> {
    let nodes: Vec<String> = uuids
        .map(|uuid| format!(r#"{{"uuid": "{uuid}", "provision_state": "available"}}"#))
        .collect();
    let body = format!(r#"{{"nodes": [{}]}}"#, nodes.join(","));
    Ok(transform(HttpRequestResult {
        status: Nat::from(200u16),
        headers: vec![],
        body: body.into_bytes(),
    }))
}

fn uuid(i: u32) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

#[test]
fn a_full_page_names_the_next_and_the_marker_is_sent() {
    let rt = FakeRuntime::new();
    let http = ironic(&rt);
    rt.reply(page((0..LIST_LIMIT).rev().map(uuid)));
    rt.reply(page((LIST_LIMIT..LIST_LIMIT + 3).map(uuid)));
    let first = block_on(http.list_page(None, None)).unwrap();
    assert_eq!(first.nodes.len(), LIST_LIMIT as usize);
    // The transform sorted the page by UUID: the last is the largest.
    assert_eq!(first.next, Some(uuid(LIST_LIMIT - 1)));
    let second = block_on(http.list_page(None, first.next.as_deref())).unwrap();
    assert_eq!((second.nodes.len(), second.next), (3, None));
    let requests = rt.requests.borrow();
    assert!(!requests[0].url.contains("marker="));
    let marker = format!("&limit=50&marker={}&fields=", uuid(LIST_LIMIT - 1));
    assert!(requests[1].url.contains(&marker), "{}", requests[1].url);
    for request in requests.iter() {
        assert_eq!(request.max_response_bytes, Some(LIST_MAX_RESPONSE_BYTES));
    }
}

#[test]
fn a_page_that_does_not_move_past_its_marker_ends_the_walk() {
    let rt = FakeRuntime::new();
    let http = ironic(&rt);
    // An Ironic that ignores the marker sends the first page again.
    rt.reply(page((0..LIST_LIMIT).map(uuid)));
    let again = block_on(http.list_page(None, Some(&uuid(LIST_LIMIT - 1)))).unwrap();
    assert_eq!(again.next, None);
}

#[test]
fn each_outcall_is_paid_before_it_is_sent_and_a_refusal_sends_nothing() {
    let rt = FakeRuntime::new();
    let paid = Cell::new(0u128);
    let left = Cell::new(u128::MAX);
    let http = HttpIronic {
        pay: Some(Box::new(|cycles| {
            let Some(rest) = left.get().checked_sub(cycles) else {
                return Err(ClientError::OverBudget {
                    needed: cycles,
                    remaining: left.get(),
                });
            };
            left.set(rest);
            paid.set(paid.get() + cycles);
            Ok(())
        })),
        ..ironic(&rt)
    };
    rt.reply(page(std::iter::empty()));
    block_on(http.list_page(Some("gpu"), None)).unwrap();
    let request = rt.requests.borrow()[0].clone();
    assert_eq!(paid.get(), rt.outcall_cost(&request));
    left.set(paid.get() - 1);
    let refused = block_on(http.list_page(Some("gpu"), None)).unwrap_err();
    assert_eq!(
        refused,
        ClientError::OverBudget {
            needed: paid.get(),
            remaining: paid.get() - 1
        }
    );
    assert!(!refused.is_transient());
    assert_eq!(rt.requests.borrow().len(), 1);
    assert_eq!(counters::get().outcalls, 1);
}
