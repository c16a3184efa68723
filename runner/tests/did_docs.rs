//! The .did's doc comments as candid_parser reads them (and with it the binding generators:
//! a method's doc becomes its JSDoc). A comment block directly above a method is that method's
//! doc, so the section banners of the service block (`// --- market: consumers ---`) must be
//! set apart by a blank line, or they open the doc of the method below them; so must the type
//! sections' banners (`// ===== market =====`) from the type below them.

use candid_parser::syntax::{Dec, IDLProg, IDLType};
use std::path::Path;

fn program() -> IDLProg {
    let did = Path::new(env!("CARGO_MANIFEST_DIR")).join("../candid/marketplace.did");
    let text = std::fs::read_to_string(&did).expect("candid/marketplace.did");
    text.parse().expect("the .did parses")
}

/// Both banner styles: the service block's `// --- … ---` and the type sections' `// ===== … =====`.
fn is_banner(docs: &[String]) -> bool {
    docs.iter().any(|line| {
        let line = line.trim_start();
        line.starts_with("---") || line.starts_with("===")
    })
}

fn service_methods() -> Vec<(String, Vec<String>)> {
    let prog = program();
    let actor = prog.actor.expect("the .did has a service");
    let service = match actor.typ {
        IDLType::ClassT(_, service) => *service,
        service => service,
    };
    let IDLType::ServT(methods) = service else {
        panic!("the service is given inline");
    };
    methods.into_iter().map(|m| (m.id, m.docs)).collect()
}

#[test]
fn no_method_doc_carries_a_section_banner() {
    let methods = service_methods();
    assert!(methods.len() > 40, "{} methods", methods.len());
    for (name, docs) in &methods {
        assert!(
            !is_banner(docs),
            "{name}'s doc carries a section banner: {docs:?}"
        );
    }
}

#[test]
fn no_type_doc_carries_a_section_banner() {
    for dec in program().decs {
        if let Dec::TypD(binding) = dec {
            assert!(
                !is_banner(&binding.docs),
                "type {}'s doc carries a section banner: {:?}",
                binding.id,
                binding.docs
            );
        }
    }
}

#[test]
fn methods_keep_their_own_doc() {
    let methods = service_methods();
    let doc = |name: &str| {
        methods
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no method {name}"))
            .1
            .join(" ")
    };
    assert!(
        doc("offerset_request").starts_with("Matches a request against open offers"),
        "{}",
        doc("offerset_request")
    );
    assert!(
        doc("status").starts_with("Version, counters"),
        "{}",
        doc("status")
    );
}
