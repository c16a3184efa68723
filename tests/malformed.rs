//! The malformed-input corpus, end to end: every case of `tests/corpus/*.txt` (the format is in
//! `tests/corpus/README.md`) is sent to the built wasm on one rich fixture state, twice:
//!
//! 1. as a canister's call would arrive (`inspect_message` off): the reply must decode as the
//!    method's result type (from `candid/marketplace.did`) and be the expected typed error,
//!    never a reject or a trap;
//! 2. as ingress with `inspect_message` on: the same typed error, or dropped by
//!    `inspect_message` (counted).
//!
//! Around every call the controller's `state_digest` (the whole stable state, activity
//! counters excluded) must not change. Failures are listed per case name; the figures go to
//! `target/hardening/malformed.txt`: `cases`, `methods` (distinct methods with a case),
//! `typed_errors` and `dropped_by_inspect` (how the ingress run with `inspect_message` on ended:
//! they add up to `cases`; with it off every case must be a typed error), `traps` (rejects
//! where a typed error was due) and `state_changes` (calls after which the state differed).
//!
//! The fixture's clock stands still while the corpus runs (nothing the task queue would do comes
//! due), so the fixture state is the same for every case. Set `MALFORMED_SHOW=1` to print
//! which variant cases with alternatives (`A|B`) got.

mod common;

use candid::types::{Type, TypeInner};
use candid::{CandidType, Deserialize, IDLArgs, Principal, TypeEnv};
use candid_parser::utils::CandidSource;
use common::ironic::*;
use common::market::*;
use common::*;
use ic0_host::Host;
use marketplace::catalog::signing::{self, Operation};
use marketplace::market::delegation;
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
/// Updates one caller may make before the rate limit (the default `caller_call_burst`) answers
/// `RateLimited` instead: the time of the fixture stands still while the corpus runs.
const RATE_LIMIT_BURST: usize = 600;
const FIGURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/hardening/malformed.txt"
);

// --- the corpus ---

/// One bad input: see `tests/corpus/README.md`.
#[derive(Clone, Debug, Default)]
struct Case {
    /// `file:line` of its `case` line.
    at: String,
    name: String,
    method: String,
    caller: String,
    /// Candid text of the arguments (placeholders not yet expanded).
    arg: Option<String>,
    /// Raw argument bytes instead: a generator (`hex:`, `deep_opt:`, ...).
    bytes: Option<String>,
    /// Bytes appended to the encoded argument.
    pad: Option<String>,
    /// Lines of the CSV `$csv` stands for.
    csv: Vec<String>,
    csv_file: Option<String>,
    /// `signer op seq payload`: what `$signature` signs.
    sign: Option<String>,
    /// The one region a refusal may change: it was learned from a paid outcall, whose cycles
    /// the provider's outcall budget (`PROVISION_SETTINGS`) pays before the answer is known.
    pays: Option<String>,
    /// `Type::Variant` (alternatives separated by `|`) or `http:<status>`.
    expect: String,
}

fn load_corpus() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("tests/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut cases = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        cases.extend(parse_corpus(&name, &text).unwrap_or_else(|e| panic!("{name}: {e}")));
    }
    cases
}

/// Blocks of `key: value` lines, each starting with `case:`; `#` lines are comments. `arg:` and
/// `csv:` may repeat: `arg` lines are joined with a space, `csv` lines with `\n`.
fn parse_corpus(file: &str, text: &str) -> Result<Vec<Case>, String> {
    let mut cases: Vec<Case> = vec![];
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, value) = trimmed
            .split_once(':')
            .ok_or_else(|| format!("line {}: expected `key: value`", n + 1))?;
        let value = value.strip_prefix(' ').unwrap_or(value).to_string();
        if key == "case" {
            cases.push(Case {
                at: format!("{file}:{}", n + 1),
                name: value,
                ..Case::default()
            });
            continue;
        }
        let case = cases
            .last_mut()
            .ok_or_else(|| format!("line {}: `{key}` before any `case`", n + 1))?;
        match key {
            "method" => case.method = value,
            "caller" => case.caller = value,
            "arg" => match &mut case.arg {
                Some(arg) => {
                    arg.push(' ');
                    arg.push_str(&value);
                }
                None => case.arg = Some(value),
            },
            "bytes" => case.bytes = Some(value),
            "pad" => case.pad = Some(value),
            "csv" => case.csv.push(value),
            "csv_file" => case.csv_file = Some(value),
            "sign" => case.sign = Some(value),
            "expect" => case.expect = value,
            "pays" => case.pays = Some(value),
            other => return Err(format!("line {}: unknown key `{other}`", n + 1)),
        }
    }
    for case in &cases {
        if case.method.is_empty() || case.caller.is_empty() || case.expect.is_empty() {
            return Err(format!(
                "{}: method, caller and expect are required",
                case.at
            ));
        }
        if case.arg.is_some() == case.bytes.is_some() {
            return Err(format!("{}: exactly one of arg and bytes", case.at));
        }
    }
    Ok(cases)
}

// --- the interface ---

struct Interface {
    env: TypeEnv,
    /// Method → (argument types, return types, is a query).
    methods: BTreeMap<String, (Vec<Type>, Vec<Type>, bool)>,
}

impl Interface {
    fn load() -> Self {
        let (env, actor) = CandidSource::File(Path::new(DID)).load().unwrap();
        let actor = env.trace_type(&actor.unwrap()).unwrap();
        let mut methods = BTreeMap::new();
        for (name, ty) in env.as_service(&actor).unwrap() {
            let func = env.as_func(ty).unwrap();
            methods.insert(
                name.clone(),
                (func.args.clone(), func.rets.clone(), func.is_query()),
            );
        }
        Self { env, methods }
    }

    fn encode(&self, method: &str, text: &str) -> Result<Vec<u8>, String> {
        let (args, _, _) = &self.methods[method];
        let parsed =
            candid_parser::parse_idl_args(text).map_err(|e| format!("not Candid text: {e}"))?;
        let typed = parsed
            .annotate_types(true, &self.env, args)
            .map_err(|e| format!("does not match {method}'s argument types: {e}"))?;
        typed
            .to_bytes_with_types(&self.env, args)
            .map_err(|e| format!("cannot encode: {e}"))
    }

    /// Checks `reply` is `method`'s result and the error `expect` names.
    fn check(&self, method: &str, reply: &[u8], expect: &str) -> Result<(), String> {
        let (_, rets, _) = &self.methods[method];
        let args = IDLArgs::from_bytes_with_types(reply, &self.env, rets)
            .map_err(|e| format!("the reply does not decode as {method}'s result: {e}"))?;
        let value = args.args.first().ok_or("an empty reply")?;
        if let Some(status) = expect.strip_prefix("http:") {
            let got = record_field(value, "status_code")
                .ok_or_else(|| format!("not an HttpResponse: {value}"))?;
            return if got.to_string().trim_end_matches(" : nat16") == status {
                Ok(())
            } else {
                Err(format!("expected HTTP {status}, got {value}"))
            };
        }
        let (error_type, variant) = expect
            .split_once("::")
            .ok_or_else(|| format!("expect `{expect}` is not Type::Variant"))?;
        // The result type must be `variant { Ok; Err : <error_type> }`.
        let err_type = self
            .err_type(&rets[0])
            .ok_or_else(|| format!("{method} does not return a result with an Err"))?;
        if err_type != error_type {
            return Err(format!(
                "{method}'s error type is {err_type}, not {error_type}"
            ));
        }
        let candid::types::value::IDLValue::Variant(outer) = value else {
            return Err(format!("not a variant: {value}"));
        };
        if outer.0.id.get_id() != candid::idl_hash("Err") {
            return Err(format!("not an error: {value}"));
        }
        let candid::types::value::IDLValue::Variant(inner) = &outer.0.val else {
            return Err(format!("the error is not a variant: {value}"));
        };
        let got = inner.0.id.get_id();
        if variant
            .split('|')
            .any(|v| candid::idl_hash(v.trim()) == got)
        {
            if variant.contains('|') && std::env::var_os("MALFORMED_SHOW").is_some() {
                eprintln!(
                    "{method}: {expect} -> {}",
                    one_line(&outer.0.val.to_string())
                );
            }
            Ok(())
        } else {
            Err(format!(
                "expected {expect}, got {}",
                one_line(&value.to_string())
            ))
        }
    }

    fn err_type(&self, ret: &Type) -> Option<String> {
        let traced = self.env.trace_type(ret).ok()?;
        let TypeInner::Variant(fields) = traced.as_ref() else {
            return None;
        };
        let err = fields
            .iter()
            .find(|f| f.id.get_id() == candid::idl_hash("Err"))?;
        match err.ty.as_ref() {
            TypeInner::Var(name) => Some(name.clone()),
            _ => None,
        }
    }
}

fn record_field<'a>(
    value: &'a candid::types::value::IDLValue,
    name: &str,
) -> Option<&'a candid::types::value::IDLValue> {
    let candid::types::value::IDLValue::Record(fields) = value else {
        return None;
    };
    fields
        .iter()
        .find(|f| f.id.get_id() == candid::idl_hash(name))
        .map(|f| &f.val)
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > 400 {
        format!("{}…", &s[..s.floor_char_boundary_compat(400)])
    } else {
        s
    }
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, at: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut at: usize) -> usize {
        while !self.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}

// --- the fixture ---

/// Provider 7 (the fixture's, with its delegate), provider 8 (another, with its own delegate)
/// and provider 9 (a valid key that never published nor delegated).
const OWNER: u8 = 7;
const OTHER: u8 = 8;
const UNKNOWN_PROVIDER: u8 = 9;

struct Fixture {
    lab: Lab,
    host: Rc<RefCell<Host>>,
    other_delegate: Principal,
    uploader: Principal,
    /// Placeholder name → Candid text.
    values: BTreeMap<String, String>,
}

fn blob(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 + 7);
    out.push_str("blob \"");
    for b in bytes {
        out.push_str(&format!("\\{b:02x}"));
    }
    out.push('"');
    out
}

fn text(s: &str) -> String {
    format!("{s:?}")
}

fn raw_key(seed: u8) -> Vec<u8> {
    signing::provider_of(&[seed; 32]).as_bytes().to_vec()
}

fn build() -> Fixture {
    let mut lab = Lab::on_host();
    let host = lab.host.clone().unwrap();
    let delegate = lab.delegate();

    // Catalogs: provider 7 (seq 2; its delegation was seq 1) and provider 8 with a delegate.
    lab.m
        .canister
        .replace(&mut lab.m.provider, FIXTURE)
        .expect("provider 7 publishes");
    let mut other = Provider::new(OTHER);
    lab.m
        .canister
        .replace(&mut other, FIXTURE)
        .expect("provider 8 publishes");
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    lab.m
        .canister
        .delegate(&mut other, other_delegate, true)
        .expect("provider 8 delegates");

    // Ironic: provider 7 on the fake Ironic, a node provisioned (its operation completed), a
    // second node idle; provider 8 stays on the simulated Ironic.
    lab.configure();
    let node_a = lab.node(NODE_A, "node-a", LARGE_CLASS);
    lab.node(NODE_B, "node-b", LARGE_CLASS);
    lab.provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    let done = lab.wait_operation(NODE_A, 10 * MINUTE_NS);
    assert_eq!(done.status, OperationStatus::Completed, "{done:?}");

    // Items and offers.
    let (item, offer) = lab.m.offered_item(LARGE, "mal-open", 16, 100, 30);
    let (withdrawn_item, withdrawn) = lab.m.offered_item(SMALL, "mal-withdrawn", 4, 50, 3);
    let withdrawn = lab
        .m
        .canister
        .offer_withdraw(
            delegate,
            OfferWithdrawArg {
                provider: lab.m.provider.key(),
                offer_id: withdrawn.id,
            },
        )
        .expect("offer_withdraw");
    let maintenance = lab
        .m
        .register(SMALL, "mal-maintenance", attributes(4, 16, 100, 0));
    lab.m
        .canister
        .inventory_set_status(
            delegate,
            InventorySetStatusArg {
                provider: lab.m.provider.key(),
                item_id: maintenance.id,
                status: ItemStatus::Maintenance,
                reason: "fixture".into(),
            },
        )
        .expect("maintenance");
    let other_item = {
        let arg = InventoryRegisterArg {
            provider: other.key(),
            items: vec![Market::item_input(
                LARGE,
                "other-1",
                attributes(8, 32, 500, 0),
            )],
        };
        lab.m
            .canister
            .inventory_register(other_delegate, arg)
            .unwrap()[0]
            .clone()
    };

    // Leases: one completed, one running, one waiting for its start (all on their own items).
    let a = consumer("a");
    let (done_item, _) = lab.m.offered_item(LARGE, "mal-done", 16, 90, 30);
    let start = lab.now();
    let done_lease = lease_on(&mut lab, a, done_item.id, start, 3600);
    lab.advance(MINUTE_NS);
    lab.advance(2 * HOUR_NS);
    let policies = lab.m.canister.policies();
    lab.advance((policies.rebuild_seconds + 60) * SECOND_NS);
    let (running_item, _) = lab.m.offered_item(LARGE, "mal-running", 16, 80, 30);
    let start = lab.now();
    let running = lease_on(&mut lab, a, running_item.id, start, 7 * 24 * 3600);
    lab.advance(MINUTE_NS);
    let (waiting_item, _) = lab.m.offered_item(LARGE, "mal-waiting", 16, 70, 30);
    let start = lab.now() + DAY_NS;
    let waiting = lease_on(&mut lab, a, waiting_item.id, start, 3600);
    // Uploads: provider 8's begun first and expired by the end (expired sessions are dropped
    // lazily), and provider 7's two (its most) open, `$upload` with one chunk of two.
    let uploader = Principal::self_authenticating(b"the malformed corpus uploader");
    let begin_arg = |provider: &Provider, seq: u64| UploadBeginArg {
        provider: provider.key(),
        seq,
        signature: provider.sign(
            Host::default_canister_id(),
            Operation::ReplaceCatalog,
            seq,
            FIXTURE,
        ),
        operation: UploadOperation::Replace,
        total_bytes: FIXTURE.len() as u64,
        sha256: ByteBuf::from(signing::payload_hash(FIXTURE).to_vec()),
    };
    let begin = |lab: &mut Lab, arg: UploadBeginArg| -> u64 {
        let id: Result<u64, CatalogError> =
            lab.m
                .canister
                .update(uploader, "catalog_upload_begin", (arg,));
        id.expect("catalog_upload_begin")
    };
    begin(&mut lab, begin_arg(&other, other.seq + 1));
    lab.advance(59 * MINUTE_NS);
    let upload_seq = lab.m.provider.seq + 1;
    let arg = begin_arg(&lab.m.provider, upload_seq);
    let upload = begin(&mut lab, arg.clone());
    begin(&mut lab, arg.clone());
    let append = UploadAppendArg {
        upload_id: upload,
        index: 0,
        bytes: ByteBuf::from(FIXTURE[..100].to_vec()),
    };
    let progress: Result<UploadProgress, CatalogError> =
        lab.m
            .canister
            .update(uploader, "catalog_upload_append", (append,));
    progress.expect("catalog_upload_append");
    lab.advance(MINUTE_NS);

    // Leases book only their windows and never claim their offers; the completed lease's
    // offer is withdrawn by its provider (`$offer_claimed`: an offer a lease booked, closed).
    let claimed = lab
        .m
        .canister
        .offer_withdraw(
            delegate,
            OfferWithdrawArg {
                provider: lab.m.provider.key(),
                offer_id: done_lease.offer_id,
            },
        )
        .expect("offer_withdraw");

    // An open offerset of consumer a holding the open item: in the waiting lease's window,
    // where every other leasable item is booked.
    let start = waiting.start_ns;
    let view = lab.m.request(a, one_offer(start, 3600));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    assert_eq!(view.offers[0].item_id, item.id, "{view:?}");
    lab.m
        .canister
        .lease_set_consumer_meta(
            delegate,
            SetConsumerMetaArg {
                provider: lab.m.provider.key(),
                execution_id: running.id,
                sealed: sealed(&lessee_key(1)),
            },
        )
        .expect("consumer meta");

    lab.m.canister.driver.tick();
    assert!(host.borrow().is_idle());

    // Sequence numbers as the canister has them.
    let delegation_seq = lab
        .m
        .canister
        .market_delegation(lab.m.provider.key())
        .unwrap()
        .seq;
    let catalog_seq = lab.m.provider.seq; // the last one it used
    let now_after = lab.now();
    let phases: Vec<(u64, Phase)> = [done_lease.id, running.id, waiting.id]
        .iter()
        .map(|id| (*id, lab.m.phase(*id)))
        .collect();
    let done_view = lab.m.execution(done_lease.id);
    assert_eq!(
        phases.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        [Phase::Completed, Phase::Available, Phase::Waiting],
        "{phases:?} {done_view:?}"
    );

    let mut values = BTreeMap::new();
    let mut put = |name: &str, value: String| {
        values.insert(name.to_string(), value);
    };
    put(
        "provider",
        format!("variant {{ Raw = {} }}", blob(&raw_key(OWNER))),
    );
    put("provider_pem", text(&lab.m.provider.pem()));
    put(
        "other_provider",
        format!("variant {{ Raw = {} }}", blob(&raw_key(OTHER))),
    );
    put("other_provider_pem", text(&other.pem()));
    put(
        "unknown_provider",
        format!("variant {{ Raw = {} }}", blob(&raw_key(UNKNOWN_PROVIDER))),
    );
    put("item", item.id.to_string());
    put("item_withdrawn", withdrawn_item.id.to_string());
    put("item_maintenance", maintenance.id.to_string());
    put("item_running", running_item.id.to_string());
    put("item_waiting", waiting_item.id.to_string());
    put("item_done", done_item.id.to_string());
    put("item_node", node_a.id.to_string());
    put("other_item", other_item.id.to_string());
    put("offer", offer.id.to_string());
    put("offer_withdrawn", withdrawn.id.to_string());
    put("offer_claimed", claimed.id.to_string());
    put("offerset", view.offerset.id.to_string());
    put("exec_offered", view.offerset.execution_ids[0].to_string());
    put("exec_done", done_lease.id.to_string());
    put("exec_running", running.id.to_string());
    put("exec_waiting", waiting.id.to_string());
    put("waiting_end", waiting.end_ns.to_string());
    put("running_end", running.end_ns.to_string());
    put("upload", upload.to_string());
    put("node", text(NODE_A));
    put("node_idle", text(NODE_B));
    put("node_unknown", text(NODE_UNKNOWN));
    put("image", text(IMAGE));
    put("now", now_after.to_string());
    put("seq", catalog_seq.to_string());
    put("seq_next", (catalog_seq + 1).to_string());
    put("dseq", delegation_seq.to_string());
    put("dseq_next", (delegation_seq + 1).to_string());
    put("unknown", "999999".into());
    put(
        "attrs",
        "record { resource_class = \"baremetal.large\"; gpus = 0; labels = vec {}; cores = 8; \
         memory_mb = 32768; storage_gb = 500; routable_ips = 1 }"
            .into(),
    );
    put("lessee_key", blob(&lessee_key(1)));
    put("lessee_key2", blob(&lessee_key(2)));
    let hex: String = lessee_key(1).iter().map(|b| format!("{b:02X}")).collect();
    put("lessee_key_hex", text(&hex));
    put("fixture_sha256", blob(&signing::payload_hash(FIXTURE)));
    put("fixture_len", FIXTURE.len().to_string());

    Fixture {
        lab,
        host,
        other_delegate,
        uploader,
        values,
    }
}

/// Consumer `who` leases item `item_id` for `[start, start + seconds)` through an offerset.
fn lease_on(lab: &mut Lab, who: Principal, item_id: u64, start: u64, seconds: u64) -> Execution {
    let view = lab.m.request(who, one_offer(start, seconds));
    assert_eq!(
        view.offers.first().map(|e| e.item_id),
        Some(item_id),
        "{view:?}"
    );
    lab.m
        .accept(who, view.offerset.execution_ids[0], &lessee_key(1))
}

const CLASSES: [&str; 8] = [
    "anonymous",
    "stranger",
    "delegate",
    "other_delegate",
    "consumer",
    "other_consumer",
    "uploader",
    "controller",
];

fn principal_of(
    lab: &Lab,
    other_delegate: Principal,
    uploader: Principal,
    class: &str,
) -> Principal {
    match class {
        "anonymous" => Principal::anonymous(),
        "stranger" => stranger(),
        "delegate" => lab.delegate(),
        "other_delegate" => other_delegate,
        "consumer" => consumer("a"),
        "other_consumer" => consumer("b"),
        "uploader" => uploader,
        "controller" => lab.controller(),
        other => panic!("unknown caller class {other}"),
    }
}

// --- expanding a case ---

impl Fixture {
    fn caller(&self, class: &str) -> Result<Principal, String> {
        if !CLASSES.contains(&class) {
            return Err(format!("unknown caller class `{class}`"));
        }
        Ok(principal_of(
            &self.lab,
            self.other_delegate,
            self.uploader,
            class,
        ))
    }

    /// The CSV `$csv` stands for.
    fn csv(&self, case: &Case) -> Result<Vec<u8>, String> {
        if let Some(file) = &case.csv_file {
            if file == "fixture" {
                return Ok(FIXTURE.to_vec());
            }
            return std::fs::read(Path::new(CORPUS).join(file)).map_err(|e| format!("{file}: {e}"));
        }
        let mut csv = vec![];
        for line in &case.csv {
            let line = self.expand(case, line)?;
            csv.extend(csv_line(&line)?);
            csv.push(b'\n');
        }
        Ok(csv)
    }

    /// Replaces every `$name` and `$name(args)` of `text`.
    fn expand(&self, case: &Case, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            rest = &rest[end..];
            let args = if rest.starts_with('(') {
                let close = matching_paren(rest).ok_or_else(|| format!("unclosed `${name}(`"))?;
                let args = rest[1..close].to_string();
                rest = &rest[close + 1..];
                Some(args)
            } else {
                None
            };
            out.push_str(&self.placeholder(case, name, args.as_deref())?);
        }
        out.push_str(rest);
        Ok(out)
    }

    fn placeholder(&self, case: &Case, name: &str, args: Option<&str>) -> Result<String, String> {
        match (name, args) {
            ("csv", None) => Ok(blob(&self.csv(case)?)),
            ("csv_sha256", None) => Ok(blob(&signing::payload_hash(&self.csv(case)?))),
            ("csv_len", None) => Ok(self.csv(case)?.len().to_string()),
            ("signature", None) => Ok(blob(&self.signature(case)?)),
            ("time", Some(offset)) => {
                let now: i128 = self.values["now"].parse().unwrap();
                let seconds = parse_seconds(offset.trim())?;
                Ok((now + seconds * 1_000_000_000).max(0).to_string())
            }
            ("repeat", Some(args)) => {
                let (s, n) = repeat_args(args)?;
                Ok(text(&s.repeat(n)))
            }
            ("chars", Some(args)) => {
                let (s, n) = repeat_args(args)?;
                Ok(s.repeat(n))
            }
            ("principal", Some(class)) => {
                Ok(format!("principal \"{}\"", self.caller(class.trim())?))
            }
            (name, None) => self
                .values
                .get(name)
                .cloned()
                .ok_or_else(|| format!("unknown placeholder `${name}`")),
            (name, Some(_)) => Err(format!("unknown generator `${name}(...)`")),
        }
    }

    /// `sign: <signer> <op> <seq> <payload>`: signer `owner`, `other` or `unknown` (providers
    /// 7, 8, 9), with `-corrupt` to flip a bit of the signature; op `replace`, `upsert`,
    /// `remove_offerings`, `remove_provider`, `delegate`; payload `csv`, `empty`,
    /// `keys:K1,K2`, `principal:<class>:<allow|revoke>[:<expires_at_ns>]`.
    fn signature(&self, case: &Case) -> Result<Vec<u8>, String> {
        let line = case
            .sign
            .as_deref()
            .ok_or("`$signature` without a `sign:` line")?;
        let line = self.expand(case, line)?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [signer, op, seq, payload] = parts[..] else {
            return Err(format!("sign: `{line}` is not `signer op seq payload`"));
        };
        let (signer, corrupt) = match signer.strip_suffix("-corrupt") {
            Some(signer) => (signer, true),
            None => (signer, false),
        };
        let seed = match signer {
            "owner" => OWNER,
            "other" => OTHER,
            "unknown" => UNKNOWN_PROVIDER,
            other => return Err(format!("unknown signer `{other}`")),
        };
        let op = match op {
            "replace" => Operation::ReplaceCatalog,
            "upsert" => Operation::UpsertOfferings,
            "remove_offerings" => Operation::RemoveOfferings,
            "remove_provider" => Operation::RemoveProvider,
            "delegate" => Operation::Delegate,
            other => return Err(format!("unknown operation `{other}`")),
        };
        let seq: u64 = seq.parse().map_err(|_| format!("bad seq `{seq}`"))?;
        let payload = if payload == "csv" {
            self.csv(case)?
        } else if payload == "empty" {
            vec![]
        } else if let Some(keys) = payload.strip_prefix("keys:") {
            let keys: Vec<String> = keys.split(',').map(str::to_string).collect();
            signing::remove_offerings_payload(&keys)
        } else if let Some(who) = payload.strip_prefix("principal:") {
            let (class, allow) = who.split_once(':').ok_or("principal:<class>:<allow>")?;
            // An expiring delegation: `principal:<class>:<allow>:<expires_at_ns>`.
            let (allow, expiry) = match allow.split_once(':') {
                Some((allow, at)) => {
                    let at = at.parse().map_err(|_| format!("bad expiry `{at}`"))?;
                    (allow, Some(at))
                }
                None => (allow, None),
            };
            delegation::payload(&self.caller(class)?, allow == "allow", expiry)
        } else {
            return Err(format!("unknown payload `{payload}`"));
        };
        let mut signature = signing::sign(
            &[seed; 32],
            &self.lab.m.canister.id(),
            op,
            seq,
            &signing::payload_hash(&payload),
        )
        .to_vec();
        if corrupt {
            signature[10] ^= 1;
        }
        Ok(signature)
    }

    /// The argument bytes of a case.
    fn argument(&self, interface: &Interface, case: &Case) -> Result<Vec<u8>, String> {
        let mut bytes = match (&case.arg, &case.bytes) {
            (Some(arg), None) => interface.encode(&case.method, &self.expand(case, arg)?)?,
            (None, Some(bytes)) => generate(&self.expand(case, bytes)?)?,
            _ => unreachable!("checked when parsed"),
        };
        if let Some(pad) = &case.pad {
            bytes.extend(generate(&self.expand(case, pad)?)?);
        }
        Ok(bytes)
    }
}

/// A `csv:` line: `@header` (the fixture's header row), `@row` (its first offering) with
/// cells replaced (`@row Monthly price=-5; Currency=EURO`, by header name), or literal text.
fn csv_line(line: &str) -> Result<Vec<u8>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(FIXTURE);
    let mut records = reader.records();
    let header = records.next().unwrap().unwrap();
    if line == "@header" {
        return Ok(write_record(header.iter()));
    }
    let Some(changes) = line.strip_prefix("@row") else {
        return Ok(line.as_bytes().to_vec());
    };
    let mut row: Vec<String> = records
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    for change in changes.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let (column, value) = change
            .split_once('=')
            .ok_or_else(|| format!("`{change}` is not `Column=value`"))?;
        let at = header
            .iter()
            .position(|h| h == column.trim())
            .ok_or_else(|| format!("no column `{column}`"))?;
        row[at] = value.to_string();
    }
    Ok(write_record(row.iter().map(String::as_str)))
}

fn write_record<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    writer.write_record(cells).unwrap();
    let mut bytes = writer.into_inner().unwrap();
    bytes.pop();
    bytes
}

fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `+3600`, `-1d`, `+2h`, `30m`, `10s`: seconds.
fn parse_seconds(s: &str) -> Result<i128, String> {
    let (sign, s) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i128 = digits.parse().map_err(|_| format!("bad duration `{s}`"))?;
    let unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("bad unit `{other}`")),
    };
    Ok(sign * n * unit)
}

/// `"x", 3000`: the text (a Candid-style string literal) and the count.
fn repeat_args(args: &str) -> Result<(String, usize), String> {
    let (s, n) = args.rsplit_once(',').ok_or("$repeat(\"text\", count)")?;
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or("$repeat's text is a \"string\"")?;
    let n = n.trim().replace('_', "");
    let s = s.replace("\\\"", "\"");
    Ok((s, n.parse().map_err(|_| format!("bad count `{n}`"))?))
}

fn leb128(mut n: u64) -> Vec<u8> {
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
}

/// Raw bytes: `hex:<hex>`, `text:<utf-8>`, `zeros:<n>`, `vec_len:<n>` (a `vec null` claiming
/// n elements), `text_len:<n>` (a text claiming n bytes), `blob_len:<n>`, `deep_opt:<n>` (n
/// nested opt types and a value as deep), `deep_record:<n>` (a type table n records deep),
/// `types:<n>` (a type table of n entries), `args:<n>` (n null arguments), or several joined
/// with ` + `.
fn generate(spec: &str) -> Result<Vec<u8>, String> {
    let mut out = vec![];
    for part in spec.split(" + ") {
        let (kind, value) = part
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("bad bytes `{part}`"))?;
        let number = || -> Result<u64, String> {
            value
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| format!("bad number in `{part}`"))
        };
        match kind {
            "hex" => {
                let hex: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                if !hex.len().is_multiple_of(2) {
                    return Err(format!("odd hex in `{part}`"));
                }
                for i in (0..hex.len()).step_by(2) {
                    out.push(
                        u8::from_str_radix(&hex[i..i + 2], 16)
                            .map_err(|_| format!("bad hex in `{part}`"))?,
                    );
                }
            }
            "text" => out.extend(value.as_bytes()),
            "zeros" => out.extend(std::iter::repeat_n(0u8, number()? as usize)),
            "vec_len" => {
                out.extend(b"DIDL\x01\x6d\x7f\x01\x00");
                out.extend(leb128(number()?));
            }
            "text_len" => {
                out.extend(b"DIDL\x00\x01\x71");
                out.extend(leb128(number()?));
                out.extend(b"abc");
            }
            "blob_len" => {
                out.extend(b"DIDL\x01\x6d\x7b\x01\x00");
                out.extend(leb128(number()?));
                out.extend(b"abc");
            }
            "deep_opt" => {
                let depth = number()?;
                out.extend(b"DIDL");
                out.extend(leb128(depth));
                for i in 1..depth {
                    out.push(0x6e);
                    out.extend(leb128(i));
                }
                out.extend([0x6e, 0x7f, 0x01, 0x00]);
                out.extend(std::iter::repeat_n(1u8, depth as usize));
            }
            "deep_record" => {
                // Record i has one field (id 0) of type i + 1; the last one's field is null.
                let depth = number()?;
                out.extend(b"DIDL");
                out.extend(leb128(depth));
                for i in 1..depth {
                    out.extend([0x6c, 0x01, 0x00]);
                    out.extend(leb128(i));
                }
                out.extend([0x6c, 0x01, 0x00, 0x7f, 0x01, 0x00]);
            }
            "types" => {
                // n entries of `vec nat8`, one argument of the first.
                let n = number()?;
                out.extend(b"DIDL");
                out.extend(leb128(n));
                for _ in 0..n {
                    out.extend([0x6d, 0x7b]);
                }
                out.extend([0x01, 0x00, 0x00]);
            }
            "args" => {
                let n = number()?;
                out.extend(b"DIDL\x00");
                out.extend(leb128(n));
                out.extend(std::iter::repeat_n(0x7fu8, n as usize));
            }
            other => return Err(format!("unknown bytes generator `{other}`")),
        }
    }
    Ok(out)
}

// --- running ---

#[derive(CandidType, Deserialize, Debug, PartialEq, Eq, Clone)]
struct RegionDigest {
    id: u8,
    name: String,
    pages: u64,
    sha256: ByteBuf,
}

#[derive(CandidType, Deserialize, Debug, PartialEq, Eq, Clone)]
struct StateDigest {
    sha256: ByteBuf,
    excluded: Vec<String>,
    regions: Vec<RegionDigest>,
}

#[derive(CandidType, Deserialize, Debug)]
enum DigestError {
    NotAuthorized,
}

/// The canister's own `state_digest`, as the controller reads it.
fn canister_digest(host: &Rc<RefCell<Host>>, controller: Principal) -> StateDigest {
    let reply = host
        .borrow_mut()
        .query(
            controller,
            "state_digest",
            &candid::encode_args(()).unwrap(),
        )
        .expect("state_digest");
    candid::decode_one::<Result<StateDigest, DigestError>>(&reply)
        .expect("state_digest reply")
        .expect("the controller reads the digest")
}

/// What `state_digest` hashes, read natively from the host's stable memory: the bytes of
/// every region it covers (all but the excluded ones), up to each region's size. The
/// canister's digest reads every page of every region (tens of millions of instructions on
/// this fixture), so calls are compared on these bytes, and [`State::sha256`] of them is checked equal to the
/// canister's own digest at the start, every 50 cases and at the end.
///
/// The layout is ic-stable-structures' `MemoryManager` (v1): a header (magic "MGR", version,
/// bucket count, bucket size in pages, 32 reserved bytes, 255 memory sizes in pages), the
/// bucket table (one memory id per bucket, 32768 of them), buckets from the second Wasm page.
#[derive(Clone, PartialEq, Eq)]
struct State {
    /// (region id, name, pages, bytes) of every region the digest covers or excludes.
    regions: Vec<(u8, String, u64, Vec<u8>)>,
    excluded: Vec<String>,
}

const PAGE: u64 = 65_536;
const HEADER: usize = 3 + 1 + 2 + 2 + 32 + 255 * 8;

/// A region's pages as ranges of the host's stable memory, in order.
struct Layout {
    /// (region id, name, pages, physical byte ranges).
    regions: Vec<(u8, String, u64, Vec<std::ops::Range<usize>>)>,
}

impl Layout {
    fn of(stable: &[u8], digest: &StateDigest) -> Self {
        assert_eq!(&stable[..3], b"MGR", "a MemoryManager layout");
        assert_eq!(stable[3], 1, "MemoryManager layout version 1");
        let bucket_pages = u16::from_le_bytes([stable[6], stable[7]]) as u64;
        let bucket_bytes = bucket_pages * PAGE;
        let mut buckets: Vec<Vec<u64>> = vec![vec![]; 256];
        for (bucket, id) in stable[HEADER..HEADER + 32_768].iter().enumerate() {
            buckets[*id as usize].push(bucket as u64);
        }
        let regions = digest
            .regions
            .iter()
            .map(|region| {
                let id = region.id as usize;
                let at = 40 + id * 8;
                let pages = u64::from_le_bytes(stable[at..at + 8].try_into().unwrap());
                let size = pages * PAGE;
                let mut ranges = vec![];
                let mut offset = 0u64;
                while offset < size {
                    let bucket = buckets[id][(offset / bucket_bytes) as usize];
                    let within = offset % bucket_bytes;
                    let len = (bucket_bytes - within).min(size - offset);
                    let start = (PAGE + bucket * bucket_bytes + within) as usize;
                    ranges.push(start..start + len as usize);
                    offset += len;
                }
                (region.id, region.name.clone(), pages, ranges)
            })
            .collect();
        Self { regions }
    }
}

/// The bytes of `range`, zeros past the end of stable memory (which reads as zeros).
fn bytes_at(stable: &[u8], range: &std::ops::Range<usize>) -> Vec<u8> {
    let available = &stable[range.start.min(stable.len())..range.end.min(stable.len())];
    let mut bytes = available.to_vec();
    bytes.resize(range.len(), 0);
    bytes
}

impl State {
    fn read(stable: &[u8], digest: &StateDigest) -> Self {
        let layout = Layout::of(stable, digest);
        let regions = layout
            .regions
            .into_iter()
            .map(|(id, name, pages, ranges)| {
                let mut bytes = Vec::with_capacity((pages * PAGE) as usize);
                for range in &ranges {
                    bytes.extend(bytes_at(stable, range));
                }
                (id, name, pages, bytes)
            })
            .collect();
        Self {
            regions,
            excluded: digest.excluded.clone(),
        }
    }

    /// Whether `stable` holds these bytes in every covered region (without copying it).
    fn matches(&self, stable: &[u8], digest: &StateDigest) -> bool {
        let layout = Layout::of(stable, digest);
        self.regions
            .iter()
            .zip(&layout.regions)
            .filter(|(mine, _)| !self.excluded.contains(&mine.1))
            .all(|((_, _, pages, bytes), (_, _, now_pages, ranges))| {
                if pages != now_pages {
                    return false;
                }
                let mut offset = 0;
                ranges.iter().all(|range| {
                    let mine = &bytes[offset..offset + range.len()];
                    offset += range.len();
                    if range.end <= stable.len() {
                        mine == &stable[range.clone()]
                    } else {
                        mine == bytes_at(stable, range)
                    }
                })
            })
    }

    fn covered(&self) -> impl Iterator<Item = &(u8, String, u64, Vec<u8>)> {
        self.regions
            .iter()
            .filter(|r| !self.excluded.contains(&r.1))
    }

    /// The digest `state_digest` computes over these bytes.
    fn sha256(&self) -> Vec<u8> {
        use sha2::{Digest as _, Sha256};
        let mut total = Sha256::new();
        for (id, _, _, bytes) in self.covered() {
            // Each non-zero page with its index, as src/digest.rs hashes a region.
            let mut region = Sha256::new();
            for (n, page) in bytes.chunks(PAGE as usize).enumerate() {
                if page.iter().any(|&b| b != 0) {
                    region.update((n as u64).to_le_bytes());
                    region.update(page);
                }
            }
            total.update([*id]);
            total.update(region.finalize());
        }
        total.finalize().to_vec()
    }

    /// The covered regions that differ.
    fn changed(&self, other: &State) -> String {
        let names: Vec<&str> = self
            .covered()
            .zip(other.covered())
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.1.as_str())
            .collect();
        names.join(", ")
    }

    fn same(&self, other: &State) -> bool {
        self.covered().eq(other.covered())
    }
}

/// The state now, checked against the canister's digest when `verify`.
fn state(
    host: &Rc<RefCell<Host>>,
    layout: &StateDigest,
    controller: Principal,
    verify: bool,
) -> State {
    let state = State::read(host.borrow().stable_memory(), layout);
    if verify {
        let digest = canister_digest(host, controller);
        assert_eq!(
            state.sha256(),
            digest.sha256.to_vec(),
            "the native reading of the state disagrees with state_digest"
        );
    }
    state
}

#[derive(Default)]
struct Figures {
    cases: usize,
    methods: BTreeSet<String>,
    typed_errors: usize,
    dropped_by_inspect: usize,
    traps: usize,
    state_changes: usize,
}

#[test]
fn every_malformed_input_is_a_typed_error_and_changes_nothing() {
    let started = std::time::Instant::now();
    let interface = Interface::load();
    let cases = load_corpus();
    let fixture = build();
    let host = fixture.host.clone();
    let controller = fixture.lab.controller();
    eprintln!(
        "malformed: {} cases, fixture built in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );

    let mut figures = Figures::default();
    let mut failures: Vec<String> = vec![];
    let mut names = BTreeSet::new();
    let mut slowest: Vec<(f64, String)> = vec![];
    let mut updates_by: BTreeMap<String, usize> = BTreeMap::new();
    let layout = canister_digest(&host, controller);
    let mut now = state(&host, &layout, controller, true);
    assert!(
        state(&host, &layout, controller, true) == now,
        "the state is stable"
    );

    for (n, case) in cases.iter().enumerate() {
        let fail = |failures: &mut Vec<String>, why: String| {
            failures.push(format!("{} ({}): {why}", case.name, case.at));
        };
        if !names.insert(case.name.clone()) {
            fail(&mut failures, "a case of this name comes earlier".into());
            continue;
        }
        let Some((_, _, is_query)) = interface.methods.get(&case.method) else {
            fail(
                &mut failures,
                format!("no method {} in the .did", case.method),
            );
            continue;
        };
        let is_query = *is_query;
        let caller = match fixture.caller(&case.caller) {
            Ok(caller) => caller,
            Err(e) => {
                fail(&mut failures, e);
                continue;
            }
        };
        let arg = match fixture.argument(&interface, case) {
            Ok(arg) => arg,
            Err(e) => {
                fail(&mut failures, format!("the argument: {e}"));
                continue;
            }
        };
        figures.cases += 1;
        figures.methods.insert(case.method.clone());
        if !is_query {
            // Two calls per case; controllers are exempt from the rate limit.
            let calls = updates_by.entry(case.caller.clone()).or_insert(0);
            *calls += 2;
            if *calls > RATE_LIMIT_BURST && case.caller != "controller" {
                fail(
                    &mut failures,
                    format!(
                        "{} updates by {} now exceed the rate limit's burst ({RATE_LIMIT_BURST}): \
                         give this case another caller class",
                        calls, case.caller
                    ),
                );
                continue;
            }
        }
        let case_started = std::time::Instant::now();

        for inspect in [false, true] {
            let mode = if inspect { "inspect on" } else { "inspect off" };
            host.borrow_mut().set_inspect_ingress(inspect);
            let reply = if is_query {
                host.borrow_mut().query(caller, &case.method, &arg)
            } else {
                host.borrow_mut().update(caller, &case.method, &arg)
            };
            match reply {
                Ok(bytes) => match interface.check(&case.method, &bytes, &case.expect) {
                    Ok(()) => {
                        if inspect {
                            figures.typed_errors += 1;
                        }
                    }
                    Err(e) => fail(&mut failures, format!("{mode}: {e}")),
                },
                Err(reject)
                    if inspect && !is_query && reject.message.contains("inspect_message") =>
                {
                    figures.dropped_by_inspect += 1;
                }
                Err(reject) => {
                    figures.traps += 1;
                    fail(&mut failures, format!("{mode}: rejected: {reject}"));
                }
            }
            let verify = inspect && (n % 50 == 49 || n + 1 == cases.len());
            let unchanged = now.matches(host.borrow().stable_memory(), &layout);
            if verify {
                let checked = state(&host, &layout, controller, true);
                assert!(checked.same(&now) == unchanged);
            }
            if !unchanged {
                let after = state(&host, &layout, controller, false);
                let changed = now.changed(&after);
                if case.pays.as_deref() != Some(changed.as_str()) {
                    figures.state_changes += 1;
                    fail(
                        &mut failures,
                        format!("{mode}: the state changed ({changed})"),
                    );
                }
                now = after;
            } else if case.pays.is_some() {
                fail(
                    &mut failures,
                    format!("{mode}: `pays` but nothing was paid"),
                );
            }
        }
        slowest.push((case_started.elapsed().as_secs_f64(), case.name.clone()));
    }
    host.borrow_mut().set_inspect_ingress(true);
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (seconds, name) in slowest.iter().take(8) {
        eprintln!("slow: {seconds:.2} s {name}");
    }

    let line = format!(
        "malformed: cases={} methods={} typed_errors={} dropped_by_inspect={} traps={} state_changes={}",
        figures.cases,
        figures.methods.len(),
        figures.typed_errors,
        figures.dropped_by_inspect,
        figures.traps,
        figures.state_changes
    );
    eprintln!("{line} ({:.1} s)", started.elapsed().as_secs_f64());
    let path = Path::new(FIGURES);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("{line}\n")).unwrap();

    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(figures.cases >= 100, "only {} cases", figures.cases);
    // Every update method of the .did has at least one case.
    let uncovered: Vec<&String> = interface
        .methods
        .iter()
        .filter(|(name, (_, _, query))| !query && !figures.methods.contains(*name))
        .map(|(name, _)| name)
        .collect();
    assert!(
        uncovered.is_empty(),
        "updates without a case: {uncovered:?}"
    );

    // The check sees a change: an accepted call (a new item) is not the same state.
    let mut lab = fixture.lab;
    lab.m
        .register(SMALL, "mal-control", attributes(2, 4, 50, 0));
    assert!(
        !now.matches(host.borrow().stable_memory(), &layout),
        "an accepted call went unseen"
    );
    let changed = state(&host, &layout, controller, true);
    assert!(!changed.same(&now));
}
