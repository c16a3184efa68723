//! The deployed module describes itself: scripts/build.sh embeds the checked-in interface as
//! public `candid:service` and the init argument types as public `candid:args`, which is what
//! dfx, icp-cli and other tools read to type an install or upgrade argument. Needs the wasm built
//! by `scripts/build.sh` (target/wasm/marketplace.wasm.gz).

use candid::types::TypeInner;
use candid_parser::utils::CandidSource;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

/// The module's public metadata section `name` (`icp:public NAME`), if it has one.
fn public_metadata(wasm: &[u8], name: &str) -> Option<String> {
    let section_name = format!("icp:public {name}");
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(section) = payload.expect("valid wasm") {
            if section.name() == section_name {
                return Some(String::from_utf8(section.data().to_vec()).expect("utf-8"));
            }
        }
    }
    None
}

#[test]
fn the_wasm_carries_the_init_argument_types_as_public_candid_args() {
    let root = repo_root();
    let path = root.join("target/wasm/marketplace.wasm.gz");
    let gz = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/build.sh first", path.display()));
    let wasm = ic0_host::unpack_wasm(&gz).expect("the built module unpacks");

    let did = root.join("candid/marketplace.did");
    let (env, actor) = CandidSource::File(&did).load().expect("the .did parses");
    let actor = env
        .trace_type(&actor.expect("the .did has a service"))
        .unwrap();
    let TypeInner::Class(init_args, _) = actor.as_ref() else {
        panic!("the service takes init arguments");
    };
    let expected: Vec<String> = init_args.iter().map(ToString::to_string).collect();
    let expected = format!("({})", expected.join(", "));
    assert_eq!(expected, "(opt InitArg)");

    let args = public_metadata(&wasm, "candid:args").expect("public candid:args metadata");
    assert_eq!(
        args, expected,
        "candid:args is the service's init argument types"
    );
    // The names it uses are those candid:service defines.
    let service = public_metadata(&wasm, "candid:service").expect("public candid:service");
    assert!(
        service.contains("type InitArg = record {"),
        "InitArg in candid:service"
    );
}
