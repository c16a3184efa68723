//! Writes the committed seed corpora, fuzz/corpus/<target>/:
//!
//!   cargo run --manifest-path fuzz/Cargo.toml --features seeds --bin seeds
//!
//! - `csv_import`: the repository's example catalog, a synthetic one, and variants of them (byte
//!   order mark, CRLF, columns reordered, quoted cells, refusals of each kind);
//! - `search_query`: the README's searches as Candid (`0` + argument), `/search` query strings
//!   (`1` + string), and a few bytes for built queries;
//! - `candid_args`: for every method with an argument (the selector byte, then the argument), an
//!   example encoded against `candid/marketplace.did` (every `opt` given and one element in every
//!   `vec`; and every `opt` null and every `vec` empty), the README's examples, and decoding
//!   bombs (a vector claiming 2^31 elements, a text claiming 2 GiB, a type table claiming 2^31
//!   entries, 1 000 nested `opt`s).
//!
//! Every Candid seed is checked to decode with the method's Rust type, so a seed that the .did
//! and the code disagree on fails here rather than being silently useless.

use candid::types::internal::TypeInner;
use candid::types::value::{IDLArgs, IDLField, IDLValue, VariantValue};
use candid::types::Type;
use candid::{Encode, Principal, TypeEnv};
use candid_parser::utils::CandidSource;
use fuzz_support::catalog::{signed_replace, FIXTURE};
use fuzz_support::methods::{picks, selector, typed};
use ic_cdk_management_canister::{HttpHeader, HttpRequestResult, TransformArgs};
use marketplace::api::*;
use marketplace::catalog::search::query::SearchQuery;
use marketplace::catalog::synthetic;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    csv_import(&root.join("corpus/csv_import"));
    search_query(&root.join("corpus/search_query"));
    candid_args(
        &root.join("corpus/candid_args"),
        &root.join("../candid/marketplace.did"),
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// Removes the seeds written before, so renamed or dropped ones do not linger.
fn fresh(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
}

fn csv_import(dir: &Path) {
    fresh(dir);
    let fixture = String::from_utf8(FIXTURE.to_vec()).unwrap();
    let lines: Vec<&str> = fixture.lines().collect();
    write(dir, "fixture.csv", FIXTURE);
    write(dir, "fixture-bom.csv", &[b"\xEF\xBB\xBF", FIXTURE].concat());
    write(
        dir,
        "fixture-crlf.csv",
        fixture.replace('\n', "\r\n").as_bytes(),
    );
    write(dir, "header-only.csv", format!("{}\n", lines[0]).as_bytes());
    write(
        dir,
        "one-row.csv",
        format!("{}\n{}\n", lines[0], lines[1]).as_bytes(),
    );
    write(
        dir,
        "duplicate-key.csv",
        format!("{}\n{}\n{}\n", lines[0], lines[1], lines[1]).as_bytes(),
    );
    // Columns in reverse order: the header maps them by name.
    let reversed: String = fixture
        .lines()
        .map(|line| {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer
                .write_record(record.iter().rev().collect::<Vec<_>>())
                .unwrap();
            String::from_utf8(writer.into_inner().unwrap()).unwrap()
        })
        .collect();
    write(dir, "fixture-reversed-columns.csv", reversed.as_bytes());
    // A quoted cell with quotes, a comma and a line break in it.
    let quoted = fixture.replace(
        "Here goes a product description.",
        "\"\"\"Quoted\"\", with a comma\nand a line break\"",
    );
    write(dir, "quoted-cells.csv", quoted.as_bytes());
    let mut bad_values = fixture.replacen("99.99", "ninety", 1);
    bad_values = bad_values.replacen(",NL,", ",Netherlands,", 1);
    write(dir, "bad-values.csv", bad_values.as_bytes());
    write(
        dir,
        "unknown-column.csv",
        fixture.replacen("Offer Name", "Offer Title", 1).as_bytes(),
    );
    write(
        dir,
        "short-row.csv",
        format!("{}\na,b,c\n", lines[0]).as_bytes(),
    );
    write(dir, "not-utf8.csv", &[FIXTURE, b"\xff\xfe,\x80\n"].concat());
    write(dir, "empty.csv", b"");
    let provider = synthetic::provider(7, 0, 12);
    write(dir, "synthetic-12.csv", &provider.csv);
}

fn search_query(dir: &Path) {
    fresh(dir);
    let mut n = 0;
    let mut seed = |mode: u8, bytes: &[u8]| {
        n += 1;
        write(dir, &format!("seed-{n:02}"), &[&[mode][..], bytes].concat());
    };
    for query in readme_searches() {
        seed(0, &Encode!(&query).unwrap());
    }
    for query_string in [
        "",
        "text=xeon",
        "text=xeon+rotterdam&country=NL",
        "country=de&city=Frankfurt%20am%20Main&currency=EUR&min_price=10&max_price=99.9&limit=2&sort=price_desc",
        "currency=USD&max_price=300",
        "limit=1",
        "limit=0",
        "cursor=abc",
        "text=a&text=b",
        "colour=red",
    ] {
        seed(1, query_string.as_bytes());
    }
    // Built queries: the bytes steer `build` (any bytes make some query).
    for bytes in [
        &b"\x01\x00\x00\x00\x00\x00\x00\x00"[..],
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
    ] {
        seed(2, bytes);
        seed(3, bytes);
    }
}

/// The README's `offerings_search` calls.
fn readme_searches() -> Vec<SearchQuery> {
    vec![
        SearchQuery {
            text: Some("xeon rotterdam".into()),
            ..SearchQuery::default()
        },
        SearchQuery {
            filters: Some(Filters {
                country: Some("NL".into()),
                min_memory_mb: Some(16384),
                price: Some(PriceFilter {
                    currency: "USD".into(),
                    min_minor: None,
                    max_minor: Some(30000),
                }),
                ..Filters::default()
            }),
            sort: Some(SortOrder::PriceDesc),
            limit: Some(2),
            ..SearchQuery::default()
        },
        SearchQuery {
            text: Some("xeon".into()),
            format: Some(Format::Json),
            ..SearchQuery::default()
        },
        SearchQuery {
            filters: Some(Filters {
                gpu: Some(GpuFilter::Name("rtx".into())),
                os: Some("debian".into()),
                feature: Some("native ipv6".into()),
                unmetered: Some(true),
                product_type: Some(ProductType::Dedicated),
                ..Filters::default()
            }),
            format: Some(Format::PemCsv),
            limit: Some(3),
            ..SearchQuery::default()
        },
    ]
}

fn candid_args(dir: &Path, did: &Path) {
    fresh(dir);
    let picks = picks();
    let (env, actor) = CandidSource::File(did).load().expect("the .did loads");
    let actor = actor.expect("the .did has a service");
    let mut methods: Vec<(String, Vec<Type>)> = env
        .as_service(&actor)
        .unwrap()
        .iter()
        .map(|(name, ty)| match env.trace_type(ty).unwrap().as_ref() {
            TypeInner::Func(f) => (name.clone(), f.args.clone()),
            other => panic!("{name}: not a function: {other:?}"),
        })
        .collect();
    if let TypeInner::Class(init, _) = actor.as_ref() {
        methods.push(("init".into(), init.clone()));
        methods.push(("post_upgrade".into(), init.clone()));
    }
    let mut written = 0;
    for (name, args) in &methods {
        if args.is_empty() {
            continue;
        }
        let Some(selector) = selector(&picks, name) else {
            panic!("{name} takes an argument but the candid_args target does not know it");
        };
        let check = typed(name).unwrap().check;
        for (variant, full) in [("full", true), ("empty", false)] {
            let values: Vec<IDLValue> = args.iter().map(|t| example(&env, t, full, 0)).collect();
            let bytes = IDLArgs::new(&values)
                .to_bytes_with_types(&env, args)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            check(&bytes).unwrap_or_else(|e| panic!("{name} ({variant}) does not decode: {e}"));
            write(
                dir,
                &format!("{name}-{variant}"),
                &[&[selector][..], &bytes].concat(),
            );
            written += 1;
        }
        for (bomb, bytes) in bombs() {
            // The deep one is the same for every type: a couple of copies do.
            if bomb.starts_with("nested") && !["init", "offerings_search"].contains(&name.as_str())
            {
                continue;
            }
            if check(&bytes).is_ok() {
                eprintln!("seeds: {name} decodes the {bomb} bomb (an `opt` reads it as null)");
            }
            write(
                dir,
                &format!("{name}-bomb-{bomb}"),
                &[&[selector][..], &bytes].concat(),
            );
        }
    }
    // Methods the target knows but the .did does not list (the transforms, hidden): an example
    // and the bombs.
    for pick in picks.iter().filter(|p| p.typed.is_some()) {
        if methods.iter().any(|(name, _)| name == pick.name) {
            continue;
        }
        let check = pick.typed.unwrap().check;
        assert!(
            pick.name.starts_with("transform_"),
            "{} is not in the .did",
            pick.name
        );
        let selector = selector(&picks, pick.name).unwrap();
        let args = TransformArgs {
            response: HttpRequestResult {
                status: 200u16.into(),
                headers: vec![HttpHeader {
                    name: "content-type".into(),
                    value: "application/json".into(),
                }],
                body: br#"{"versions":[{"id":"v1","min_version":"1.1","version":"1.87"}]}"#
                    .to_vec(),
            },
            context: vec![],
        };
        let bytes = Encode!(&args).unwrap();
        check(&bytes).unwrap();
        write(
            dir,
            &format!("{}-example", pick.name),
            &[&[selector][..], &bytes].concat(),
        );
        for (bomb, bytes) in bombs()
            .into_iter()
            .filter(|(b, _)| !b.starts_with("nested"))
        {
            write(
                dir,
                &format!("{}-bomb-{bomb}", pick.name),
                &[&[selector][..], &bytes].concat(),
            );
        }
        written += 1;
    }
    // The README's examples and a real signed catalog.
    let mut readme = |name: &str, bytes: Vec<u8>| {
        let selector = selector(&picks, name).unwrap();
        (typed(name).unwrap().check)(&bytes).unwrap();
        write(
            dir,
            &format!("{name}-example-{written}"),
            &[&[selector][..], &bytes].concat(),
        );
        written += 1;
    };
    for query in readme_searches() {
        readme("offerings_search", Encode!(&query).unwrap());
    }
    let publish = signed_replace(&[9; 32], FIXTURE);
    readme("catalog_replace", Encode!(&publish).unwrap());
    readme("catalog_upsert", Encode!(&publish).unwrap());
    readme(
        "catalog_changes",
        Encode!(&ChangesArg {
            since: 0,
            limit: None
        })
        .unwrap(),
    );
    readme("inventory_get", Encode!(&1u64).unwrap());
    readme("provision_status", Encode!(&"node-1".to_string()).unwrap());
    readme(
        "http_request",
        Encode!(&marketplace::http::HttpRequest {
            method: "GET".into(),
            url: "/search?text=xeon&country=NL".into(),
            ..Default::default()
        })
        .unwrap(),
    );
    readme("init", Encode!(&Some(InitArg::default())).unwrap());
    readme("init", Vec::new());
    eprintln!("seeds: {written} candid_args seeds in {}", dir.display());
}

/// A value of type `t`: with `full`, every `opt` given and one element in every `vec`; else
/// `opt` null and `vec` empty. Recursive types stop at depth 8 (null, empty).
fn example(env: &TypeEnv, t: &Type, full: bool, depth: usize) -> IDLValue {
    let full = full && depth < 8;
    match env.trace_type(t).unwrap().as_ref() {
        TypeInner::Null => IDLValue::Null,
        TypeInner::Bool => IDLValue::Bool(true),
        TypeInner::Nat => IDLValue::Nat(1u64.into()),
        TypeInner::Int => IDLValue::Int(1.into()),
        TypeInner::Nat8 => IDLValue::Nat8(1),
        TypeInner::Nat16 => IDLValue::Nat16(1),
        TypeInner::Nat32 => IDLValue::Nat32(1),
        TypeInner::Nat64 => IDLValue::Nat64(1),
        TypeInner::Int8 => IDLValue::Int8(1),
        TypeInner::Int16 => IDLValue::Int16(1),
        TypeInner::Int32 => IDLValue::Int32(1),
        TypeInner::Int64 => IDLValue::Int64(1),
        TypeInner::Float32 => IDLValue::Float32(1.0),
        TypeInner::Float64 => IDLValue::Float64(1.0),
        TypeInner::Text => IDLValue::Text("example".into()),
        TypeInner::Reserved => IDLValue::Reserved,
        TypeInner::Principal => IDLValue::Principal(Principal::anonymous()),
        TypeInner::Opt(inner) => match full {
            true => IDLValue::Opt(Box::new(example(env, inner, full, depth + 1))),
            false => IDLValue::None,
        },
        TypeInner::Vec(inner) => {
            if matches!(env.trace_type(inner).unwrap().as_ref(), TypeInner::Nat8) {
                return IDLValue::Blob(if full { vec![7; 32] } else { vec![] });
            }
            match full {
                true => IDLValue::Vec(vec![example(env, inner, full, depth + 1)]),
                false => IDLValue::Vec(vec![]),
            }
        }
        TypeInner::Record(fields) => IDLValue::Record(
            fields
                .iter()
                .map(|f| IDLField {
                    id: (*f.id).clone(),
                    val: example(env, &f.ty, full, depth + 1),
                })
                .collect(),
        ),
        TypeInner::Variant(fields) => {
            // The last alternative when full, the first otherwise: two of them seeded.
            let index = if full { fields.len() - 1 } else { 0 };
            let f = &fields[index];
            IDLValue::Variant(VariantValue(
                Box::new(IDLField {
                    id: (*f.id).clone(),
                    val: example(env, &f.ty, full, depth + 1),
                }),
                index as u64,
            ))
        }
        other => panic!("no example for {other:?}"),
    }
}

/// Arguments that must be refused within the quota whatever the method's type.
fn bombs() -> Vec<(&'static str, Vec<u8>)> {
    let leb = |mut n: u64| {
        let mut out = vec![];
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    };
    // A `vec null` claiming 2^31 elements.
    let mut vec_null = b"DIDL\x01\x6d\x7f\x01\x00".to_vec();
    vec_null.extend(leb(1 << 31));
    // A text claiming 2 GiB.
    let mut text = b"DIDL\x00\x01\x71".to_vec();
    text.extend(leb(1 << 31));
    // 1 000 nested `opt` types, each the next, and a value nested as deep: 4 KB, libFuzzer's
    // default input size limit (src/candid_io.rs tests 10 000).
    const DEPTH: u64 = 1_000;
    let mut nested = b"DIDL".to_vec();
    nested.extend(leb(DEPTH));
    for i in 1..DEPTH {
        nested.push(0x6e);
        nested.extend(leb(i));
    }
    nested.extend([0x6e, 0x7f, 0x01, 0x00]);
    nested.extend(std::iter::repeat_n(1u8, DEPTH as usize));
    // A type table claiming 2^31 entries.
    let mut table = b"DIDL".to_vec();
    table.extend(leb(1 << 31));
    vec![
        ("vec-2pow31", vec_null),
        ("text-2gib", text),
        ("nested-1000", nested),
        ("table-2pow31", table),
    ]
}
