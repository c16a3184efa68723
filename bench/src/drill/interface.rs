//! The interface the drill covers: the parsed .did and the wasm's query exports.

use candid::types::{Function, Type, TypeEnv, TypeInner};
use candid::IDLArgs;
use std::collections::{BTreeMap, BTreeSet};

/// The parsed .did: its types and methods.
pub struct Did {
    env: TypeEnv,
    pub(super) methods: BTreeMap<String, Function>,
}

impl Did {
    pub fn parse(did: &str) -> Self {
        let (env, service) = candid_parser::utils::CandidSource::Text(did)
            .load()
            .expect("the .did parses");
        let service = service.expect("the .did has a service");
        let service = env.trace_type(&service).expect("service type");
        let service = match service.as_ref() {
            TypeInner::Class(_, ty) => ty.clone(),
            _ => service,
        };
        let methods = env
            .as_service(&service)
            .expect("a service")
            .iter()
            .map(|(name, ty)| {
                let function = env.as_func(ty).expect("a method is a function").clone();
                (name.clone(), function)
            })
            .collect();
        Self { env, methods }
    }

    /// The query methods (composite queries included).
    pub fn queries(&self) -> BTreeSet<String> {
        self.methods
            .iter()
            .filter(|(_, f)| {
                f.is_query()
                    || f.modes
                        .iter()
                        .any(|m| format!("{m:?}").contains("Composite"))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn rets(&self, method: &str) -> Option<&[Type]> {
        self.methods.get(method).map(|f| f.rets.as_slice())
    }

    /// A reply as Candid text with the .did's field names, for a readable difference.
    pub(super) fn render(&self, method: &str, bytes: &[u8]) -> String {
        self.rets(method)
            .and_then(|rets| IDLArgs::from_bytes_with_types(bytes, &self.env, rets).ok())
            .map_or_else(|| format!("{} bytes", bytes.len()), |args| args.to_string())
    }
}

/// The `canister_query` (and composite) exports of a wasm, gzipped or not.
pub fn wasm_queries(wasm: &[u8]) -> BTreeSet<String> {
    let wasm = ic0_host::unpack_wasm(wasm).expect("the wasm unpacks");
    let mut names = BTreeSet::new();
    for prefix in [&b"canister_query "[..], b"canister_composite_query "] {
        let mut at = 0;
        while let Some(found) = find(&wasm[at..], prefix) {
            let start = at + found;
            at = start + prefix.len();
            // Export names are length-prefixed (LEB128): one byte for names under 128 bytes.
            let Some(&len) = start.checked_sub(1).and_then(|i| wasm.get(i)) else {
                continue;
            };
            let end = start + usize::from(len);
            if len < 0x80 && end <= wasm.len() && end > at {
                if let Ok(name) = std::str::from_utf8(&wasm[at..end]) {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
