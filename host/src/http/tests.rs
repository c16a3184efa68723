use super::*;
use ic_management_canister_types::HttpHeader;

#[test]
fn non_replicated_outcalls_cost_less() {
    let replicated = CostV2 {
        request_bytes: 100,
        raw_response_bytes: 1000,
        ..CostV2::default()
    };
    let single = CostV2 {
        outcall_type: Some(OutcallType::NonReplicated(Reserved)),
        ..replicated.clone()
    };
    assert!(cost_v2(&single) * 10 < cost_v2(&replicated));
}

#[test]
fn put_must_be_non_replicated_and_cycles_must_suffice() {
    let args = HttpRequestArgs {
        url: "https://x".into(),
        method: HttpMethod::PUT,
        headers: vec![HttpHeader {
            name: "a".into(),
            value: "b".into(),
        }],
        ..Default::default()
    };
    let bytes = candid::encode_one(&args).unwrap();
    let err = accept_request(&bytes, u128::MAX, &[]).unwrap_err();
    assert!(err.message.contains("non-replicated"), "{err}");
    let args = HttpRequestArgs {
        is_replicated: Some(false),
        ..args
    };
    let bytes = candid::encode_one(&args).unwrap();
    assert!(accept_request(&bytes, u128::MAX, &[]).is_ok());
    let err = accept_request(&bytes, 1, &[]).unwrap_err();
    assert!(err.message.contains("cycles are required"), "{err}");
}
