//! `docs/interface.md`, the whole interface in one table, generated and checked: every method
//! of `candid/marketplace.did` in its order and under its section banner (`// --- … ---`), with
//! its kind and argument and result types from the parsed .did, who may call it and how large
//! its argument may be from `src/methods.rs`'s `METHODS`, and the first sentence of its doc
//! comment in the .did (or, where it has none, of its endpoint's in `src/lib.rs` or `src/endpoints/`). The methods `METHODS` exports but the .did hides (the outcalls'
//! transforms) close the table, with their doc comment from `src/endpoints/`.
//!
//! The README's interface tables (between its markers) are generated from the same rows.
//!
//! The tests fail when a document differs from what they generate; regenerate both with
//! `UPDATE_INTERFACE_DOC=1 cargo test -p runner --test interface_doc`.

use candid::types::{FuncMode, Function, TypeInner};
use candid_parser::syntax::{IDLProg, IDLType};
use candid_parser::utils::CandidSource;
use marketplace::methods::{Access, Kind, Method, METHODS};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/interface.md";
const DID: &str = "candid/marketplace.did";
const REGENERATE: &str = "UPDATE_INTERFACE_DOC=1 cargo test -p runner --test interface_doc";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

/// A section of the service block: its banner's title, the comment lines under the banner,
/// and its methods in the .did's order.
struct Section {
    title: String,
    intro: Vec<String>,
    methods: Vec<String>,
}

/// The service block's sections, by reading the .did's text: a banner is not part of any
/// method's doc (`tests/did_docs.rs`), so the parser does not keep it. Methods before the first
/// banner form a section of their own.
fn sections(did: &str) -> Vec<Section> {
    let service = did
        .lines()
        .position(|line| line.starts_with("service "))
        .expect("the .did has a service");
    let mut sections = vec![Section {
        title: "Canister-wide".to_string(),
        intro: vec![],
        methods: vec![],
    }];
    // Whether the comment lines read now continue a banner (until a blank line or a method).
    let mut in_banner = false;
    for line in did.lines().skip(service + 1) {
        let line = line.trim();
        if line.starts_with('}') {
            break;
        }
        if let Some(comment) = line.strip_prefix("//") {
            let comment = comment.trim();
            if let Some(title) = comment
                .strip_prefix("---")
                .and_then(|rest| rest.strip_suffix("---"))
            {
                sections.push(Section {
                    title: capitalized(title.trim()),
                    intro: vec![],
                    methods: vec![],
                });
                in_banner = true;
            } else if in_banner {
                sections.last_mut().unwrap().intro.push(comment.to_string());
            }
            continue;
        }
        in_banner = false;
        if let Some((name, _)) = line.split_once(" :") {
            let name = name.trim().trim_matches('"');
            if !name.is_empty() {
                sections.last_mut().unwrap().methods.push(name.to_string());
            }
        }
    }
    sections.retain(|section| !section.methods.is_empty());
    sections
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Each method's doc comment lines, as candid_parser reads them (the lines directly above it).
fn method_docs(did: &str) -> Vec<(String, Vec<String>)> {
    let prog: IDLProg = did.parse().expect("the .did parses");
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

/// The service's init arguments and each method's type, resolved by candid_parser.
fn typed_interface(path: &Path) -> (Vec<String>, Vec<(String, Function)>) {
    let (env, actor) = CandidSource::File(path).load().expect("the .did loads");
    let actor = env
        .trace_type(&actor.expect("a service"))
        .expect("the service");
    let init = match actor.as_ref() {
        TypeInner::Class(args, _) => args.iter().map(|t| one_line(&t.to_string())).collect(),
        _ => vec![],
    };
    let methods = env
        .as_service(&actor)
        .expect("a service")
        .iter()
        .map(|(name, ty)| (name.clone(), env.as_func(ty).expect("a method").clone()))
        .collect();
    (init, methods)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sentence of a doc comment (and the next ones while it is short).
fn summary(docs: &[String]) -> String {
    let text = one_line(&docs.join(" "));
    let mut end = 0;
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('.') {
        let closes = at + 1 == bytes.len() || bytes[at + 1] == b' ';
        let abbreviation = ["e.g", "i.e", "etc", "vs"]
            .iter()
            .any(|abbr| text[..at].ends_with(abbr));
        if closes && !abbreviation {
            end = at + 1;
            if end >= 60 {
                break;
            }
        }
    }
    if end == 0 {
        end = text.len();
    }
    text[..end].to_string()
}

/// Markdown cell text: `|` escaped everywhere, `<` outside code spans (or GitHub reads a tag).
fn cell(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '<' if !in_code => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out
}

fn who(access: Access) -> &'static str {
    match access {
        Access::Anyone => "anyone",
        Access::ProviderSignature => "anyone, with the provider's signature",
        Access::Authenticated => "any identity",
        Access::Owner => "the owner",
        Access::OwnerOrController => "the owner, controllers",
        Access::OwnerDelegateOrController => "the owner, the provider's delegates, controllers",
        Access::Delegate => "the provider's delegates",
        Access::DelegateOrController => "the provider's delegates, controllers",
        Access::Controller => "controllers",
    }
}

fn bytes(n: usize) -> String {
    const KIB: usize = 1024;
    if n >= KIB * KIB && n.is_multiple_of(KIB * KIB) {
        format!("{} MiB", n / (KIB * KIB))
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} B")
    }
}

fn types(types: &[candid::types::Type]) -> String {
    let listed: Vec<String> = types.iter().map(|t| one_line(&t.to_string())).collect();
    format!("`({})`", listed.join(", "))
}

fn kind(function: &Function) -> &'static str {
    match function.modes.as_slice() {
        [] => "update",
        [FuncMode::Query] => "query",
        [FuncMode::CompositeQuery] => "composite query",
        [FuncMode::Oneway] => "oneway",
        modes => panic!("unexpected modes {modes:?}"),
    }
}

fn kind_of(method: &Method) -> &'static str {
    match method.kind {
        Kind::Update => "update",
        Kind::Query => "query",
    }
}

/// The `///` lines above `fn name(` in the endpoints' sources, for the methods the .did hides or leaves
/// uncommented (none when there is no such function).
fn lib_doc(lib: &str, name: &str) -> Vec<String> {
    let lines: Vec<&str> = lib.lines().collect();
    let Some(at) = lines
        .iter()
        .position(|line| line.starts_with(&format!("fn {name}(")))
    else {
        return vec![];
    };
    let mut docs = vec![];
    for line in lines[..at].iter().rev() {
        let line = line.trim();
        if line.starts_with("#[") {
            continue;
        }
        match line.strip_prefix("///") {
            Some(doc) => docs.push(doc.trim().to_string()),
            None => break,
        }
    }
    docs.reverse();
    docs
}

const HEADER: &str =
    "| method | kind | who may call | argument | result | argument at most | what it does |\n\
                      |---|---|---|---|---|---|---|\n";

/// One method's row: the cells both documents show.
struct Row {
    name: String,
    kind: &'static str,
    who: &'static str,
    args: String,
    rets: String,
    max_arg: String,
    what: String,
}

/// The interface as both documents show it: the init argument types, each section with its
/// methods' rows, and the methods the .did hides.
struct Interface {
    init: Vec<String>,
    sections: Vec<(Section, Vec<Row>)>,
    hidden: Vec<Row>,
}

fn interface() -> Interface {
    let root = repo_root();
    let did_path = root.join(DID);
    let did = std::fs::read_to_string(&did_path).expect("candid/marketplace.did");
    // The endpoints: the lifecycle and system ones in src/lib.rs, the others by area.
    let mut lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs");
    let mut areas: Vec<_> = std::fs::read_dir(root.join("src/endpoints"))
        .expect("src/endpoints")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    areas.sort();
    for area in areas {
        lib.push('\n');
        lib.push_str(&std::fs::read_to_string(&area).expect("an endpoints file"));
    }
    let sections = sections(&did);
    let docs = method_docs(&did);
    let (init, typed) = typed_interface(&did_path);

    // The three views of the .did agree on its methods (the parser sorts them by name).
    fn sorted(mut names: Vec<&String>) -> Vec<&String> {
        names.sort();
        names
    }
    let in_sections = sorted(sections.iter().flat_map(|s| &s.methods).collect());
    let in_docs = sorted(docs.iter().map(|(name, _)| name).collect());
    let in_types = sorted(typed.iter().map(|(name, _)| name).collect());
    assert_eq!(
        in_sections, in_docs,
        "the section scan of {DID} disagrees with candid_parser"
    );
    assert_eq!(in_types, in_docs);

    let row = |name: &str| {
        let method = marketplace::methods::find(name)
            .unwrap_or_else(|| panic!("{name} is in {DID} but not in src/methods.rs"));
        let function = &typed.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(
            kind(function),
            kind_of(method),
            "{name}: the .did and src/methods.rs disagree on its kind"
        );
        let doc = &docs.iter().find(|(n, _)| n == name).unwrap().1;
        // A method the .did leaves uncommented has its endpoint's doc comment.
        let doc = if doc.is_empty() {
            lib_doc(&lib, name)
        } else {
            doc.clone()
        };
        Row {
            name: name.to_string(),
            kind: kind(function),
            who: who(method.access),
            args: types(&function.args),
            rets: types(&function.rets),
            max_arg: bytes(method.max_arg_bytes),
            what: if doc.is_empty() {
                "—".to_string()
            } else {
                cell(&summary(&doc))
            },
        }
    };
    let with_rows = sections
        .into_iter()
        .map(|section| {
            let rows = section.methods.iter().map(|name| row(name)).collect();
            (section, rows)
        })
        .collect();
    let hidden = METHODS
        .iter()
        .filter(|method| !in_docs.iter().any(|name| *name == method.name))
        .map(|method| Row {
            name: method.name.to_string(),
            kind: kind_of(method),
            who: who(method.access),
            args: String::new(),
            rets: String::new(),
            max_arg: bytes(method.max_arg_bytes),
            what: cell(&summary(&lib_doc(&lib, method.name))),
        })
        .collect();
    Interface {
        init,
        sections: with_rows,
        hidden,
    }
}

fn generate() -> String {
    let Interface {
        init,
        sections,
        hidden,
    } = interface();
    let mut out = String::new();
    writeln!(out, "# The canister's interface\n").unwrap();
    writeln!(
        out,
        "<!-- Generated by runner/tests/interface_doc.rs from {DID} and src/methods.rs; do not edit. \
         Regenerate with `{REGENERATE}`. -->\n"
    )
    .unwrap();
    writeln!(
        out,
        "Every method the canister exports, in the order and under the section banners of \
         [`{DID}`](../{DID}), where the types are defined. The kind and the types are the \
         .did's; who may call and the largest argument `inspect_message` admits are \
         `src/methods.rs`'s `METHODS` ([authorization.md](authorization.md#accesses) explains each \
         access and how a test checks it cell by cell); what it \
         does is the start of the method's comment in the .did (or, where the .did has none, of \
         its endpoint's doc comment in `src/lib.rs` or `src/endpoints/`). `runner/tests/interface_doc.rs` \
         generates this page and fails when it drifts.\n"
    )
    .unwrap();

    writeln!(out, "## Lifecycle\n").unwrap();
    out.push_str("| method | argument | what it does |\n|---|---|---|\n");
    writeln!(
        out,
        "| `init` / `post_upgrade` | `({})` | the configuration, from the controller that \
         installs or upgrades the canister; on upgrade, given fields override and absent ones \
         keep their value |\n",
        init.join(", ")
    )
    .unwrap();

    for (section, rows) in &sections {
        writeln!(out, "## {}\n", cell(&section.title)).unwrap();
        if !section.intro.is_empty() {
            writeln!(out, "{}\n", cell(&section.intro.join(" "))).unwrap();
        }
        out.push_str(HEADER);
        for r in rows {
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                r.name, r.kind, r.who, r.args, r.rets, r.max_arg, r.what
            )
            .unwrap();
        }
        out.push('\n');
    }

    if !hidden.is_empty() {
        writeln!(out, "## Not in the .did\n").unwrap();
        writeln!(
            out,
            "Exported, but hidden from the .did: the IC calls them during the canister's own \
             HTTPS outcalls. Their comment is their endpoint's.\n"
        )
        .unwrap();
        out.push_str(
            "| method | kind | who may call | argument at most | what it does |\n|---|---|---|---|---|\n",
        );
        for r in &hidden {
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                r.name, r.kind, r.who, r.max_arg, r.what
            )
            .unwrap();
        }
    }
    out.trim_end().to_string() + "\n"
}

const README: &str = "README.md";
const README_BEGIN: &str =
    "<!-- interface: generated by runner/tests/interface_doc.rs; do not edit -->";
const README_END: &str = "<!-- interface: end -->";

/// The README's interface tables (between its markers): every method by section, with its kind,
/// who may call it and the start of its comment; the types are in docs/interface.md.
fn readme_block() -> String {
    let Interface {
        sections, hidden, ..
    } = interface();
    let mut out = String::new();
    for (section, rows) in &sections {
        writeln!(out, "\n**{}**\n", cell(&section.title)).unwrap();
        out.push_str("| method | kind | who may call | what it does |\n|---|---|---|---|\n");
        for r in rows {
            writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                r.name, r.kind, r.who, r.what
            )
            .unwrap();
        }
    }
    if !hidden.is_empty() {
        let names: Vec<String> = hidden.iter().map(|r| format!("`{}`", r.name)).collect();
        writeln!(
            out,
            "\nNot in the .did: {}, the transforms the IC calls during the canister's own HTTPS \
             outcalls.",
            names.join(", ")
        )
        .unwrap();
    }
    out
}

/// `readme` with the text between its interface markers replaced by `block`.
fn with_readme_block(readme: &str, block: &str) -> String {
    let begin = readme
        .find(README_BEGIN)
        .unwrap_or_else(|| panic!("{README} lacks the marker {README_BEGIN}"))
        + README_BEGIN.len();
    let end = readme
        .find(README_END)
        .unwrap_or_else(|| panic!("{README} lacks the marker {README_END}"));
    format!(
        "{}\n\n{}\n\n{}",
        &readme[..begin],
        block.trim(),
        &readme[end..]
    )
}

#[test]
fn the_readme_interface_is_generated() {
    let path = repo_root().join(README);
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let generated = with_readme_block(&readme, &readme_block());
    if std::env::var_os("UPDATE_INTERFACE_DOC").is_some() {
        std::fs::write(&path, &generated).expect("write README.md");
        return;
    }
    assert!(
        readme == generated,
        "{README}'s interface tables differ from what {DID} and src/methods.rs generate; \
         regenerate them with `{REGENERATE}`"
    );
}

#[test]
fn the_interface_doc_is_generated() {
    let generated = generate();
    let path = repo_root().join(DOC);
    if std::env::var_os("UPDATE_INTERFACE_DOC").is_some() {
        std::fs::write(&path, &generated).expect("write docs/interface.md");
        return;
    }
    let documented = std::fs::read_to_string(&path).unwrap_or_default();
    if documented == generated {
        return;
    }
    let first = documented
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| documented.lines().count().min(generated.lines().count()));
    panic!(
        "{DOC} differs from what {DID} and src/methods.rs generate (first at line {}):\n\
         - documented: {}\n+ generated:  {}\nregenerate it with `{REGENERATE}`",
        first + 1,
        documented.lines().nth(first).unwrap_or("(end of file)"),
        generated.lines().nth(first).unwrap_or("(end of file)"),
    );
}

#[test]
fn every_method_is_in_the_interface_doc() {
    let generated = generate();
    for method in METHODS {
        assert!(
            generated.contains(&format!("| `{}` |", method.name)),
            "{} is missing from the generated {DOC}",
            method.name
        );
    }
}

#[test]
fn summaries_end_at_a_sentence() {
    let docs = |lines: &[&str]| lines.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary(&docs(&[
            "Short.",
            "Then a second one, e.g. this, long enough to stop at.",
            "Third."
        ])),
        "Short. Then a second one, e.g. this, long enough to stop at."
    );
    assert_eq!(summary(&docs(&["No full stop"])), "No full stop");
    assert_eq!(cell("a | `<b>` <c>"), "a \\| `<b>` &lt;c>");
}
