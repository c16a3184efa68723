//! The limits drill (issue 12, item 9): the canister filled to its configured caps, then every
//! scaling-risk method measured through the wasm beside the IC's limit for its kind.
//!
//! The wasm is far too slow to fill a million offerings (~1.4 M instructions each), so the state
//! is built NATIVELY through the canister's own code (catalog publishing, inventory
//! registration, offers, offerset requests, on a `FakeRuntime`), `pre_upgrade` runs natively so
//! the snapshot regions are written, and the native stable memory is handed to the ic0 host,
//! which runs the real wasm's `post_upgrade` on it: the upgrade at the caps. Every figure in the
//! table is then a call through the wasm.
//!
//! Shared with `bench/tests/limits.rs` (by `#[path]`), which runs it at 1 % of the caps.

use candid::types::{Function, TypeEnv, TypeInner};
use candid::{IDLArgs, Principal};
use ic0_host::{limits, Host, InstructionLimits, DEFAULT_TIME_NANOS};
use marketplace::api::*;
use marketplace::catalog::publish;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::synthetic;
use marketplace::market::{delegation, inventory, offers, offerset, payments, policy, store};
use marketplace::runtime::FakeRuntime;
use marketplace::time::{DAY_NS, SECOND_NS};
use serde_bytes::ByteBuf;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "limits/fill.rs"]
mod fill;
use fill::*;

/// The configured caps (`src/config.rs`'s defaults) and the catalog's shape at them.
pub const MAX_OFFERINGS_PER_PROVIDER: u32 = 20_000;
pub const CATALOG_PROVIDERS: u32 = 50;
pub const MAX_ITEMS: u64 = 100_000;
pub const MAX_OPEN_OFFERS: u64 = 500_000;
/// Offers made and withdrawn before the measures, at the full scale: their forget tasks bring
/// the queue past a million.
pub const HISTORY_OFFERS: u64 = 250_000;
/// Executions held (OFFERED) at the full scale: 500 consumers × 20 held items.
pub const HELD_EXECUTIONS: u64 = 10_000;

/// Each measured call must stay within this share of its limit.
pub const BUDGET: f64 = 0.5;

const SEED: u64 = 7;
const SECRET: [u8; 32] = [11; 32];
/// Offers per item are what the caps ask (5 at the full caps, 9 at 1 %); the measured
/// `offers_create` offers windows after all of them.
const OFFERS_PER_ITEM_MAX: u64 = 40;
const PER_CALL: usize = 500;
const WINDOW_NS: u64 = 7 * DAY_NS;
const IMAGE: &str = "ubuntu-24.04";
/// Items a consumer may hold at once (the default policy).
const HELD_PER_CONSUMER: u64 = 20;
const SKUS: [&str; 10] = [
    "1A.small",
    "2B.medium",
    "3C.large",
    "4D.large",
    "4D.xlarge",
    "2C.small",
    "3A.medium",
    "4E.huge",
    "1D.tiny",
    "3B.large",
];

/// The .did's methods, to type Candid text arguments and render replies with field names.
struct Did {
    env: TypeEnv,
    methods: BTreeMap<String, Function>,
}

impl Did {
    fn parse(did: &str) -> Self {
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
            .map(|(name, ty)| (name.clone(), env.as_func(ty).expect("a function").clone()))
            .collect();
        Self { env, methods }
    }

    fn encode(&self, method: &str, arg: &str) -> Vec<u8> {
        let function = self
            .methods
            .get(method)
            .unwrap_or_else(|| panic!("{method} is not in the .did"));
        candid_parser::parse_idl_args(arg)
            .and_then(|args| Ok(args.annotate_types(true, &self.env, &function.args)?))
            .and_then(|args| Ok(args.to_bytes_with_types(&self.env, &function.args)?))
            .unwrap_or_else(|e| panic!("{method} {arg}: {e}"))
    }

    fn render(&self, method: &str, bytes: &[u8]) -> String {
        self.methods
            .get(method)
            .and_then(|f| IDLArgs::from_bytes_with_types(bytes, &self.env, &f.rets).ok())
            .map_or_else(|| format!("{} bytes", bytes.len()), |args| args.to_string())
    }
}

pub struct LimitsConfig {
    /// 1.0 for the configured caps; 0.01 for CI.
    pub scale: f64,
    /// The marketplace wasm (plain or gzipped).
    pub wasm: Vec<u8>,
    /// `candid/marketplace.did`.
    pub did: String,
    pub progress: fn(&str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Query,
    Update,
    Timer,
    Upgrade,
}

impl Kind {
    pub fn limit(self) -> u64 {
        match self {
            Kind::Query => limits::INSTRUCTIONS_QUERY,
            Kind::Update | Kind::Timer => limits::INSTRUCTIONS_UPDATE,
            Kind::Upgrade => limits::INSTRUCTIONS_INSTALL,
        }
    }
}

pub struct Row {
    pub method: String,
    pub arg: String,
    pub kind: Kind,
    pub instructions: u64,
    /// What the call answered, shortened (`Ok`, the error's name, or the reject).
    pub outcome: String,
}

impl Row {
    pub fn ratio(&self) -> f64 {
        self.instructions as f64 / self.kind.limit() as f64
    }

    pub fn ok(&self) -> bool {
        self.ratio() <= BUDGET
    }
}

#[derive(Default, Debug)]
pub struct Filled {
    pub providers: u64,
    pub offerings: u64,
    pub items: u64,
    pub open_offers: u64,
    /// Withdrawn offers waiting for their retention to end.
    pub closed_offers: u64,
    pub held_executions: u64,
    /// Executions given the largest payment (what `payments_list` reads at most).
    pub paid_executions: u64,
    pub task_queue: u64,
}

pub struct LimitsReport {
    pub filled: Filled,
    pub rows: Vec<Row>,
    pub stable_bytes: u64,
    pub heap_after_post_upgrade: u64,
    pub heap_at_end: u64,
    pub fill_time: Duration,
    pub measure_time: Duration,
}

impl LimitsReport {
    pub fn over(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| !r.ok()).collect()
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<22} {:<52} {:>9} {:>7} {:>7} {:<5} {}\n",
            "method", "argument", "instr.", "limit", "%", "", "answer"
        );
        for row in &self.rows {
            out += &format!(
                "{:<22} {:<52} {:>9} {:>7} {:>6.2}% {:<5} {}\n",
                row.method,
                short(&row.arg, 52),
                human(row.instructions as f64),
                human(row.kind.limit() as f64),
                100.0 * row.ratio(),
                if row.ok() { "OK" } else { "OVER" },
                short(&row.outcome, 40),
            );
        }
        out
    }
}

fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

pub fn human(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, " B")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, "")
    };
    if unit.is_empty() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}{unit}")
    }
}

struct Measure<'a> {
    host: &'a mut Host,
    progress: fn(&str),
    did: &'a Did,
    rows: Vec<Row>,
}

impl Measure<'_> {
    /// One call through the wasm: `arg` is Candid text.
    fn call(&mut self, kind: Kind, caller: Principal, method: &str, arg: &str) -> Vec<u8> {
        let bytes = self.did.encode(method, arg);
        self.call_bytes(kind, caller, method, arg, &bytes)
    }

    fn call_bytes(
        &mut self,
        kind: Kind,
        caller: Principal,
        method: &str,
        shown: &str,
        bytes: &[u8],
    ) -> Vec<u8> {
        let reply = match kind {
            Kind::Query => self.host.query(caller, method, bytes),
            _ => self.host.update(caller, method, bytes),
        };
        let (instructions, outcome, reply) = match reply {
            Ok(reply) => (
                self.host.last_instructions(),
                answer(&self.did.render(method, &reply), reply.len()),
                reply,
            ),
            // A trap at the instruction limit counts the limit; a reject by inspect_message
            // leaves the previous count, so the outcome says which it was.
            Err(reject) => (
                self.host.last_instructions(),
                format!("REJECT {reject}"),
                vec![],
            ),
        };
        let row = Row {
            method: method.into(),
            arg: shown.into(),
            kind,
            instructions,
            outcome,
        };
        (self.progress)(&format!(
            "{method} {}: {} ({:.2} % of the limit)",
            short(shown, 60),
            human(row.instructions as f64),
            100.0 * row.ratio()
        ));
        self.rows.push(row);
        reply
    }
}

/// A reply's size and its first words: `Ok`, or the error.
fn answer(text: &str, len: usize) -> String {
    let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let compact = compact.trim_start_matches("( ").trim_start_matches('(');
    format!("{len} B: {}", short(compact, 60))
}

pub fn run(config: &LimitsConfig) -> LimitsReport {
    let started = Instant::now();
    let rt = FakeRuntime::new();
    rt.time.set(DEFAULT_TIME_NANOS);
    rt.controllers.borrow_mut().push(Host::default_controller());
    let mut filled = Filled::default();
    let items = fill(&rt, config, &mut filled);
    (config.progress)("native: pre_upgrade");
    marketplace::lifecycle::pre_upgrade().expect("native pre_upgrade");
    let stable = marketplace::memory::stable_bytes();
    let stable_bytes = stable.len() as u64;
    let fill_time = started.elapsed();
    (config.progress)(&format!(
        "native fill done in {:.0} s; {} MiB of stable memory; post_upgrade on the wasm",
        fill_time.as_secs_f64(),
        stable_bytes >> 20
    ));

    let started = Instant::now();
    let mut host = Host::new();
    host.set_time(DEFAULT_TIME_NANOS);
    // The IC's limits: a call over its limit traps there and shows as 100 % (measuring it in
    // full could take the interpreter many minutes); the upgrade's is lifted, to see it whole.
    host.set_instruction_limits(InstructionLimits {
        install: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    let no_arg = candid::encode_one(None::<InitArg>).unwrap();
    host.install_on_stable(&config.wasm, stable, &no_arg)
        .unwrap_or_else(|r| panic!("post_upgrade on the native state: {r}"));
    let did = Did::parse(&config.did);
    let mut m = Measure {
        host: &mut host,
        progress: config.progress,
        did: &did,
        rows: vec![],
    };
    m.rows.push(Row {
        method: "post_upgrade".into(),
        arg: "(null), the native state at the caps".into(),
        kind: Kind::Upgrade,
        instructions: m.host.last_instructions(),
        outcome: "Ok".into(),
    });
    let heap_after_post_upgrade = m.host.heap_bytes() as u64;
    (config.progress)("wasm: measuring");

    let anyone = Principal::self_authenticating(b"limits drill reader");
    let controller = Host::default_controller();
    let provider = provider_arg();
    let q = Kind::Query;
    let u = Kind::Update;

    let status = m.call(q, anyone, "status", "()");
    if let Ok(status) = candid::decode_one::<Status>(&status) {
        filled.task_queue = status.task_queue_len;
    }
    for arg in [
        "(record { text = opt \"xeon\"; limit = opt 200 })",
        "(record { text = opt \"xeon\"; limit = opt 200; format = opt variant { Json } })",
        "(record { filters = opt record { price = opt record { currency = \"USD\"; min_minor = opt 10000; max_minor = opt 100000 }; country = opt \"US\" }; limit = opt 200 })",
        "(record { filters = opt record { min_cores = opt 1 }; sort = opt variant { PriceDesc }; limit = opt 200 })",
        "(record { filters = opt record { min_memory_mb = opt 1 }; sort = opt variant { PriceAsc }; limit = opt 200; format = opt variant { Json } })",
        "(record { text = opt \"qqqzzzxxnomatch\" })",
        "(record { text = opt \"xeon\"; filters = opt record { country = opt \"ZZ\" } })",
        "(record { filters = opt record { min_memory_mb = opt 999999999999 } })",
    ] {
        m.call(q, anyone, "offerings_search", arg);
    }
    m.call(q, anyone, "products", "()");
    m.call(
        q,
        anyone,
        "catalog_changes",
        "(record { since = 0; limit = opt 1000 })",
    );
    let last_provider = synthetic::provider(SEED, 0, 1);
    let key = signing::provider_of(&last_provider.secret_key);
    let hex: String = key
        .as_bytes()
        .iter()
        .map(|b| format!("\\{b:02x}"))
        .collect();
    let catalog_key = format!("variant {{ Raw = blob \"{hex}\" }}");
    m.call(
        q,
        anyone,
        "provider_offerings",
        &format!("(record {{ provider = {catalog_key}; limit = opt 200 }})"),
    );
    m.call(
        q,
        anyone,
        "provider_catalog_export",
        &format!("(record {{ provider = {catalog_key} }})"),
    );
    m.call(q, anyone, "inventory_list", "(record { limit = opt 500 })");
    m.call(
        q,
        anyone,
        "inventory_list",
        &format!(
            "(record {{ provider = opt {provider}; status = opt variant {{ Maintenance }}; limit = opt 500 }})"
        ),
    );
    m.call(
        q,
        anyone,
        "inventory_list",
        "(record { sku = opt \"1A.huge\"; limit = opt 500 })",
    );
    m.call(q, anyone, "offers_list", "(record { limit = opt 500 })");
    m.call(
        q,
        anyone,
        "offers_list",
        &format!(
            "(record {{ provider = opt {provider}; status = opt variant {{ Claimed }}; limit = opt 500 }})"
        ),
    );
    m.call(
        q,
        delegate(),
        "executions_list",
        &format!(
            "(record {{ role = variant {{ Provider }}; provider = opt {provider}; phase = opt variant {{ Failed }}; limit = opt 500 }})"
        ),
    );
    m.call(
        q,
        delegate(),
        "executions_list",
        &format!("(record {{ role = variant {{ Provider }}; provider = opt {provider}; limit = opt 500 }})"),
    );
    m.call(
        q,
        consumer(0),
        "executions_list",
        "(record { role = variant { Consumer }; phase = opt variant { Failed }; limit = opt 500 })",
    );
    m.call(q, anyone, "audit_log", "(record { limit = opt 500 })");
    m.call(
        q,
        anyone,
        "audit_log",
        "(record { entity = opt variant { Item = 1 }; limit = opt 500 })",
    );
    m.call(q, controller, "state_digest_page", "(record {})");
    m.call(
        q,
        controller,
        "market_self_check",
        "(record { limit = opt 500 })",
    );
    m.call(
        q,
        anyone,
        "http_request",
        "(record { method = \"GET\"; url = \"/metrics\"; headers = vec {}; body = blob \"\" })",
    );
    m.call(q, anyone, "policies", "()");
    // A provider's statement: a page of 100 payments, each with 16 pulls and 3 transfers out.
    m.call(
        q,
        delegate(),
        "payments_list",
        &format!("(record {{ role = variant {{ Provider }}; provider = opt {provider}; limit = opt 100 }})"),
    );
    // A SKU's page of 200 items (the most), each with its free windows over a month (at most 64).
    let from = m.host.time();
    m.call(
        q,
        anyone,
        "availability",
        &format!(
            "(record {{ sku = opt \"{}\"; from_ns = {from}; to_ns = {}; limit = opt 200 }})",
            SKUS[0],
            from + 30 * DAY_NS
        ),
    );

    // Updates at the caps: the last call's worth of items and offers, then matching.
    let next = filled.items;
    let inputs: Vec<ItemInput> = (next..next + PER_CALL as u64).map(item_input).collect();
    let bytes = candid::encode_one(InventoryRegisterArg {
        provider: provider_input(),
        items: inputs,
    })
    .unwrap();
    m.call_bytes(
        u,
        delegate(),
        "inventory_register",
        "500 items, reaching max_items",
        &bytes,
    );
    let now = m.host.time();
    // Offers on the last items registered natively, in windows after their five.
    let offer_inputs: Vec<OfferInput> = items
        .iter()
        .rev()
        .take(PER_CALL)
        .map(|item| offer_input(item, OFFERS_PER_ITEM_MAX + 1, now))
        .collect();
    let bytes = candid::encode_one(OffersCreateArg {
        provider: provider_input(),
        offers: offer_inputs,
    })
    .unwrap();
    m.call_bytes(
        u,
        delegate(),
        "offers_create",
        "500 offers, reaching max_open_offers",
        &bytes,
    );
    m.call(
        u,
        consumer(1_000_001),
        "offerset_request",
        "(record { duration_seconds = 86400; image = \"ubuntu-24.04\"; max_price_per_hour = opt 0 })",
    );
    m.call(
        u,
        consumer(1_000_002),
        "offerset_request",
        "(record { duration_seconds = 86400; image = \"ubuntu-24.04\"; min_cores = opt 16; offers = opt 20 })",
    );
    m.call(
        u,
        consumer(1_000_003),
        "lease_by_sku",
        "(record { sku = \"4D.large\"; duration_seconds = 86400; image = \"ubuntu-24.04\"; lessee_key = opt blob \"\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\\07\" })",
    );

    // The task queue: the holds expire; the timer messages that follow, the largest measured.
    m.host.take_self_call_instructions();
    m.host.advance_time(Duration::from_secs(3600));
    m.host.tick();
    let runs = m.host.take_self_call_instructions();
    m.rows.push(Row {
        method: "timer".into(),
        arg: format!("holds expiring, largest of {} messages", runs.len()),
        kind: Kind::Timer,
        instructions: runs.iter().copied().max().unwrap_or(0),
        outcome: format!("{} in all", human(runs.iter().sum::<u64>() as f64)),
    });
    m.call(q, anyone, "status", "()");

    // A whole upgrade of the wasm at the caps: its own pre_upgrade, then post_upgrade.
    (config.progress)("wasm: upgrade");
    let heap_at_end = m.host.heap_bytes() as u64;
    let upgraded = m.host.upgrade(&config.wasm, &no_arg);
    m.rows.push(Row {
        method: "upgrade".into(),
        arg: "pre_upgrade + post_upgrade, through the wasm".into(),
        kind: Kind::Upgrade,
        instructions: m.host.last_instructions(),
        outcome: match upgraded {
            Ok(()) => "Ok".into(),
            Err(r) => format!("REJECT {r}"),
        },
    });
    let rows = m.rows;
    LimitsReport {
        filled,
        rows,
        stable_bytes,
        heap_after_post_upgrade,
        heap_at_end,
        fill_time,
        measure_time: started.elapsed(),
    }
}
