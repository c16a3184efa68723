//! What `read_state` certifies about the module: its hash and its public metadata sections
//! (`icp:public <name>` custom sections, e.g. `candid:service`, which the Candid UI reads).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A module's metadata sections by name (without the `icp:public ` / `icp:private ` prefix).
#[derive(Default)]
pub struct Sections {
    pub public: BTreeMap<String, Vec<u8>>,
    /// Readable by the canister's controllers only.
    pub private: BTreeMap<String, Vec<u8>>,
}

/// The module's metadata sections. An unreadable module has none (the host would not have
/// installed it).
pub fn sections(module: &[u8]) -> Sections {
    let mut sections = Sections::default();
    let Ok(wasm) = ic0_host::unpack_wasm(module) else {
        return sections;
    };
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        let Ok(wasmparser::Payload::CustomSection(section)) = payload else {
            continue;
        };
        let name = section.name();
        if let Some(name) = name.strip_prefix("icp:public ") {
            sections
                .public
                .insert(name.to_string(), section.data().to_vec());
        } else if let Some(name) = name.strip_prefix("icp:private ") {
            sections
                .private
                .insert(name.to_string(), section.data().to_vec());
        }
    }
    sections
}
