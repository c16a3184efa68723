//! The built wasm carries the checked-in interface as public `candid:service` metadata, which
//! is what dfx, the Candid UI and agent-js read. (The .did equals the code: see src/interface_tests.rs.)

mod common;

use candid_parser::utils::{service_equal, CandidSource};

#[test]
fn the_wasm_embeds_the_did_as_public_candid_service_metadata() {
    let wasm = ic0_host::unpack_wasm(&common::wasm()).expect("the built module unpacks");
    let mut embedded = None;
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CustomSection(section) = payload.expect("valid wasm") {
            if section.name() == "icp:public candid:service" {
                embedded = Some(String::from_utf8(section.data().to_vec()).expect("utf-8"));
            }
        }
    }
    let embedded = embedded.expect("the wasm has public candid:service metadata");
    let did = std::fs::read_to_string(common::DID).unwrap();
    assert_eq!(embedded, did, "build.sh embeds the file as it is");
    service_equal(
        CandidSource::Text(&embedded),
        CandidSource::File(common::DID.as_ref()),
    )
    .unwrap();
}
