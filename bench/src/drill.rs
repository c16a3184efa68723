//! The upgrade drill: a canister full of state (a catalog of `offerings` offerings, a market
//! with leases in every phase, audit entries, an upload in progress, changed policies, an
//! Ironic configuration) is upgraded to the same wasm, and every exported view is compared
//! before and after; then the clock is moved to each next due task, on the upgraded canister
//! and on a copy that was never upgraded, and both must do the same work at the same time.
//!
//! One routine for both sizes: `tests/upgrade_drill.rs` runs it small (CI) and
//! `bench --upgrade-drill` at 100 k offerings. This file depends only on `candid`,
//! `candid_parser`, `ic0-host`, `marketplace`, `serde` and `serde_bytes`, which both crates have.
//!
//! **Coverage.** Every query method of `candid/marketplace.did` (parsed with `candid_parser`)
//! and every `canister_query` export of the wasm must be called by [`snapshot`] or be named in
//! [`NOT_COMPARED`] with the reason; a new query fails the drill until it is covered.
//!
//! **Masks.** What legitimately changes with an upgrade is masked before comparing: the heap
//! and stable-memory sizes and the cycle balance (`status`, `/metrics`), the query's own
//! instructions (`/metrics`), and `state_digest`'s search-index snapshot region (written by
//! `pre_upgrade`). Everything else must be byte-for-byte the same Candid.

use candid::types::{Function, Type, TypeEnv, TypeInner};
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, IDLArgs, Principal};
use ic0_host::{Host, InstructionLimits};
use marketplace::api::*;
use marketplace::catalog::csv_format::parse_catalog;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::synthetic;
use marketplace::costs::{OutcallCostsArg, ProvisionCostsArg};
use marketplace::http::{HttpRequest, HttpResponse};
use marketplace::market::delegation;
use marketplace::time::{DAY_NS, HOUR_NS, SECOND_NS};
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const SEED: u64 = 7;
const PER_PROVIDER: u32 = 100;
const IMAGE: &str = "ubuntu-24.04";
const PEZ_SKU: &str = "2C.small";
const NODE_SKU: &str = "4D.large";
const NODE_CLASS: &str = "baremetal.large";
/// Nodes of this class fail their deploy (`ironic_sim_set_failure`).
const FLAKY_CLASS: &str = "baremetal.flaky";
/// The market provider (simulated Ironic) and a second one pointed at a real Ironic.
const MARKET_SECRET: [u8; 32] = [41; 32];
const IRONIC_SECRET: [u8; 32] = [42; 32];
const IRONIC_ENDPOINT: &str = "https://ironic.drill.example:6385";
/// A key nobody uses: views of unknown things are compared too.
const UNKNOWN_SECRET: [u8; 32] = [43; 32];
/// Longest stretch the timer check covers after the upgrade.
const TIMER_HORIZON_NS: u64 = 4 * DAY_NS;
/// Most due points the timer check steps through.
const TIMER_MAX_STEPS: usize = 400;

/// Query methods the drill deliberately does not compare, with the reason.
pub const NOT_COMPARED: &[(&str, &str)] = &[(
    "transform_",
    "HTTPS outcall transforms: pure functions of their argument, no state to compare",
)];

/// What to build.
pub struct DrillConfig {
    /// Catalog offerings (providers of 100 each).
    pub offerings: u32,
    /// Sets of leases: each set has about a dozen executions in every phase.
    pub lease_sets: u32,
    /// The wasm (plain or gzipped) installed, then upgraded to.
    pub wasm: Vec<u8>,
    /// `candid/marketplace.did`.
    pub did: String,
    /// Progress lines (phase names), e.g. to stderr.
    pub progress: fn(&str),
    /// Every how many catalog providers has its offerings and export walked (1: every one).
    /// `state_digest` covers every region in any case.
    pub provider_stride: usize,
    /// Pages walked of the whole-catalog searches in the PemCsv and Json formats (the Records
    /// walk is always complete).
    pub format_pages: usize,
}

/// What the drill found.
#[derive(Debug, Default)]
pub struct DrillReport {
    pub offerings: u64,
    pub providers: u32,
    /// Executions in the market (every phase).
    pub leases: u64,
    /// Executions by phase, at the upgrade.
    pub phases: BTreeMap<String, u64>,
    /// Query methods compared.
    pub views: usize,
    /// Calls (pages) compared.
    pub pages: usize,
    /// Query methods of the interface and the wasm that are not compared, with the reason.
    pub not_compared: Vec<String>,
    /// Views that differ after the upgrade (empty when all is well).
    pub differences: Vec<String>,
    pub upgrade_instructions: u64,
    pub upgrade_time: Duration,
    pub build_time: Duration,
    pub snapshot_time: Duration,
    /// Due points the timer check stepped through, and the tasks they ran.
    pub timer_steps: usize,
    pub timer_tasks: u64,
    /// What the timer runs did, from the audit log: "execution AVAILABLE", "offer EXPIRED", …
    pub timer_work: BTreeSet<String>,
    /// Timer-check failures: work late, or different from the canister that was not upgraded.
    pub timer_failures: Vec<String>,
    pub timer_time: Duration,
    /// The snapshot's slowest methods (wall time, all their calls).
    pub slowest: Vec<(String, Duration, u64)>,
}

impl DrillReport {
    /// The one-line summary.
    pub fn line(&self) -> String {
        format!(
            "upgrade: offerings={} leases={} views={} pages={} differences={} upgrade_instructions={} timer_steps={} timer_tasks={} timer_failures={}",
            self.offerings,
            self.leases,
            self.views,
            self.pages,
            self.differences.len(),
            self.upgrade_instructions,
            self.timer_steps,
            self.timer_tasks,
            self.timer_failures.len()
        )
    }
}

// --- the interface ---

/// The parsed .did: its types and methods.
pub struct Did {
    env: TypeEnv,
    methods: BTreeMap<String, Function>,
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
    fn render(&self, method: &str, bytes: &[u8]) -> String {
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

/// Why `method` is not compared, if it is one of [`NOT_COMPARED`].
fn not_compared(method: &str) -> Option<&'static str> {
    NOT_COMPARED
        .iter()
        .find(|(prefix, _)| method.starts_with(prefix))
        .map(|(_, why)| *why)
}

// --- principals and keys ---

fn delegate() -> Principal {
    Principal::self_authenticating(b"drill market delegate")
}

fn ironic_delegate() -> Principal {
    Principal::self_authenticating(b"drill ironic delegate")
}

fn consumer(i: u32) -> Principal {
    Principal::self_authenticating(format!("drill consumer {i}").as_bytes())
}

fn stranger() -> Principal {
    Principal::self_authenticating(b"drill stranger")
}

fn uploader() -> Principal {
    Principal::self_authenticating(b"drill uploader")
}

fn key(secret: &[u8; 32]) -> ProviderKeyInput {
    ProviderKeyInput::Raw(ByteBuf::from(
        signing::provider_of(secret).as_bytes().to_vec(),
    ))
}

fn pem(secret: &[u8; 32]) -> String {
    signing::provider_of(secret).to_pem()
}

fn lessee_key(seed: u8) -> ByteBuf {
    ByteBuf::from(vec![seed; 32])
}

// --- calls ---

fn update<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    args: A,
) -> T {
    let reply = host
        .update(caller, method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

fn query<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    args: A,
) -> T {
    let reply = host
        .query(caller, method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

fn status(host: &mut Host) -> Status {
    query(host, stranger(), "status", ())
}

/// Runs every timer firing up to `at_ns`, at the times they are due (as the IC would).
fn advance_to(host: &mut Host, at_ns: u64) {
    loop {
        let deadline = host.timer_deadline();
        if deadline == 0 || deadline > at_ns {
            break;
        }
        host.set_time(deadline.max(host.time()));
        host.tick();
    }
    host.set_time(at_ns);
    host.tick();
}

// --- building the state ---

/// What the snapshot needs to know of the state it walks.
#[derive(Default)]
struct World {
    /// Catalog providers' secret keys (removed ones included) and their offering keys.
    catalog: Vec<([u8; 32], Vec<String>)>,
    consumers: Vec<Principal>,
    skus: BTreeSet<String>,
    upload_id: u64,
}

fn request(
    host: &mut Host,
    who: Principal,
    request: ResourceRequest,
) -> Result<OffersetView, MarketError> {
    update(host, who, "offerset_request", (request,))
}

fn ask(
    sku: &str,
    class: Option<&str>,
    start_ns: u64,
    seconds: u64,
    offers: u32,
) -> ResourceRequest {
    ResourceRequest {
        sku: Some(sku.into()),
        resource_class: class.map(str::to_string),
        start_ns: Some(start_ns),
        duration_seconds: seconds,
        image: IMAGE.into(),
        offers: Some(offers),
        project: Some("drill".into()),
        ..ResourceRequest::default()
    }
}

/// Requests and accepts one offer: the lease's execution.
fn lease(
    host: &mut Host,
    who: Principal,
    sku: &str,
    class: Option<&str>,
    start_ns: u64,
    seconds: u64,
) -> Execution {
    let view = request(host, who, ask(sku, class, start_ns, seconds, 1)).expect("offerset_request");
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    accept(host, who, view.offerset.execution_ids[0])
}

fn accept(host: &mut Host, who: Principal, execution_id: u64) -> Execution {
    let accepted: Result<Execution, MarketError> = update(
        host,
        who,
        "execution_accept",
        (AcceptArg {
            execution_id,
            lessee_key: lessee_key(9),
        },),
    );
    accepted.expect("execution_accept")
}

fn item_input(kind: &str, uuid: String, sku: &str, class: &str, cores: u32) -> ItemInput {
    ItemInput {
        resource_type: kind.into(),
        resource_uuid: uuid,
        sku: sku.into(),
        attributes: Attributes {
            cores,
            memory_mb: u64::from(cores) * 4096,
            storage_gb: 500,
            gpus: 0,
            resource_class: class.into(),
            routable_ips: 1,
            labels: vec!["drill".into()],
        },
        offering_key: None,
    }
}

fn sealed() -> SealedBox {
    SealedBox {
        recipient_key: lessee_key(9),
        ephemeral_key: ByteBuf::from(vec![0xE5; 32]),
        nonce: ByteBuf::from(vec![0x11; 24]),
        ciphertext: ByteBuf::from(vec![0xC1; 64]),
    }
}

/// The market: items, offers, policies, an Ironic configuration, and `sets` sets of leases in
/// every phase, walked through time from `t0` to `t0 + 2 h` (the catalog comes later, so the
/// many timer runs of this part run on a small heap). Returns the time the state is built for.
fn build_market(host: &mut Host, sets: u32, world: &mut World) -> u64 {
    let canister = host.canister_id();
    let t0 = host.time();
    for (secret, who, seq) in [
        (MARKET_SECRET, delegate(), 1),
        (IRONIC_SECRET, ironic_delegate(), 1),
    ] {
        let arg = delegation::signed(&secret, &canister, who, true, seq);
        let delegated: Result<Delegation, MarketError> =
            update(host, stranger(), "market_delegate", (arg,));
        delegated.expect("market_delegate");
    }
    let policies = PoliciesUpdate {
        allowed_images: Some(vec![IMAGE.into(), "debian-12".into()]),
        max_lease_seconds: Some(25 * 24 * 3600),
        max_open_offersets_per_principal: Some(500),
        max_active_leases_per_principal: Some(500),
        offer_ttl_seconds: Some(600),
        max_offers_per_offerset: Some(8),
        stuck_timeout_seconds: Some(1800),
        rebuild_seconds: Some(120),
    };
    let set: Result<Policies, MarketError> = update(
        host,
        Host::default_controller(),
        "policies_set",
        (policies,),
    );
    set.expect("policies_set");

    // The second provider runs its own Ironic: configured, one node, never leased (so the drill
    // makes no outcall), but priced by outcall_costs and shown by ironic_settings.
    let configured: Result<IronicSettingsView, ProvisionError> = update(
        host,
        Host::default_controller(),
        "ironic_configure",
        (IronicConfigureArg {
            provider: key(&IRONIC_SECRET),
            endpoint: Some(IRONIC_ENDPOINT.into()),
            microversion: Some("1.78".into()),
            auth_token: Some("drill-secret-token".into()),
            images: Some(vec![IMAGE.into()]),
        },),
    );
    configured.expect("ironic_configure");
    let registered: Result<Vec<Item>, MarketError> = update(
        host,
        ironic_delegate(),
        "inventory_register",
        (InventoryRegisterArg {
            provider: key(&IRONIC_SECRET),
            items: vec![item_input(
                "ironic_node",
                "9a1c0e52-0000-4000-8000-000000000001".into(),
                NODE_SKU,
                NODE_CLASS,
                32,
            )],
        },),
    );
    registered.expect("inventory_register (real Ironic)");

    // Per set: 8 plain items and 6 + 1 flaky simulated nodes, offered for 20 days; one item
    // whose offer expires after 3 days; one in maintenance, one archiving, one removed.
    let mut inputs = vec![];
    for s in 0..sets {
        for i in 0..8 {
            inputs.push(item_input(
                "pez_item",
                format!("pez-{s}-{i}"),
                PEZ_SKU,
                "",
                4,
            ));
        }
        for i in 0..6 {
            inputs.push(item_input(
                "ironic_node",
                format!("0d7e{s:04x}-{i:04x}-4000-8000-00000000d111"),
                NODE_SKU,
                NODE_CLASS,
                32,
            ));
        }
        inputs.push(item_input(
            "ironic_node",
            format!("0f1a{s:04x}-0000-4000-8000-00000000f1a1"),
            NODE_SKU,
            FLAKY_CLASS,
            32,
        ));
        inputs.push(item_input(
            "pez_item",
            format!("short-{s}"),
            "3C.large",
            "",
            16,
        ));
        inputs.push(item_input(
            "pez_item",
            format!("maint-{s}"),
            "1A.small",
            "",
            2,
        ));
        inputs.push(item_input(
            "pez_item",
            format!("archive-{s}"),
            "1A.small",
            "",
            2,
        ));
        inputs.push(item_input(
            "pez_item",
            format!("gone-{s}"),
            "1A.small",
            "",
            2,
        ));
    }
    let mut items: Vec<Item> = vec![];
    for chunk in inputs.chunks(500) {
        let registered: Result<Vec<Item>, MarketError> = update(
            host,
            delegate(),
            "inventory_register",
            (InventoryRegisterArg {
                provider: key(&MARKET_SECRET),
                items: chunk.to_vec(),
            },),
        );
        items.extend(registered.expect("inventory_register"));
    }
    world.skus = items.iter().map(|item| item.sku.clone()).collect();
    let offers: Vec<OfferInput> = items
        .iter()
        .filter(|item| !item.resource_uuid.starts_with("gone-"))
        .map(|item| {
            let days = if item.resource_uuid.starts_with("short-") {
                3
            } else {
                20
            };
            OfferInput {
                item_id: item.id,
                start_ns: t0,
                end_ns: t0 + days * DAY_NS,
                price_per_hour: 100 + item.id % 37,
                properties: vec![Property {
                    key: "region".into(),
                    value: "drill-1".into(),
                }],
            }
        })
        .collect();
    for chunk in offers.chunks(500) {
        let created: Result<Vec<Offer>, MarketError> = update(
            host,
            delegate(),
            "offers_create",
            (OffersCreateArg {
                provider: key(&MARKET_SECRET),
                offers: chunk.to_vec(),
            },),
        );
        created.expect("offers_create");
    }
    for item in &items {
        let uuid = item.resource_uuid.as_str();
        let provider = key(&MARKET_SECRET);
        if uuid.starts_with("short-") {
            // A second offer, taken back.
            let offer: Result<Offer, MarketError> = update(
                host,
                delegate(),
                "offer_create",
                (OfferCreateArg {
                    provider: provider.clone(),
                    item_id: item.id,
                    start_ns: t0 + 5 * DAY_NS,
                    end_ns: t0 + 6 * DAY_NS,
                    price_per_hour: 70,
                    properties: vec![],
                },),
            );
            let offer_id = offer.expect("offer_create").id;
            let withdrawn: Result<Offer, MarketError> = update(
                host,
                delegate(),
                "offer_withdraw",
                (OfferWithdrawArg { provider, offer_id },),
            );
            withdrawn.expect("offer_withdraw");
        } else if uuid.starts_with("maint-")
            || uuid.starts_with("archive-")
            || uuid.starts_with("gone-")
        {
            let status = if uuid.starts_with("maint-") {
                ItemStatus::Maintenance
            } else {
                ItemStatus::Archiving
            };
            let set: Result<Item, MarketError> = update(
                host,
                delegate(),
                "inventory_set_status",
                (InventorySetStatusArg {
                    provider: provider.clone(),
                    item_id: item.id,
                    status,
                    reason: "drill".into(),
                },),
            );
            set.expect("inventory_set_status");
            if uuid.starts_with("gone-") {
                let removed: Result<(), MarketError> = update(
                    host,
                    delegate(),
                    "inventory_remove",
                    (InventoryRemoveArg {
                        provider,
                        item_id: item.id,
                    },),
                );
                removed.expect("inventory_remove");
            }
        } else if item.attributes.resource_class == FLAKY_CLASS {
            let failing: Result<(), ProvisionError> = update(
                host,
                delegate(),
                "ironic_sim_set_failure",
                (SimFailureArg {
                    provider,
                    server_id: item.resource_uuid.clone(),
                    fail_deploy: true,
                    fail_clean: false,
                },),
            );
            failing.expect("ironic_sim_set_failure");
        }
    }

    // Leases at t0, per set (consumers 4s..4s+3).
    let mut running_nodes = vec![];
    for s in 0..sets {
        let [a, b, c, d] = [0, 1, 2, 3].map(|k| consumer(4 * s + k));
        world.consumers.extend([a, b, c, d]);
        // Completed after an hour: a plain item and a node.
        lease(host, a, PEZ_SKU, None, t0, 3600);
        lease(host, a, NODE_SKU, Some(NODE_CLASS), t0, 3600);
        // Failed: the flaky node's deploy fails.
        lease(host, b, NODE_SKU, Some(FLAKY_CLASS), t0, 2 * 3600);
        // Cancelled before it started.
        let cancelled = lease(host, b, PEZ_SKU, None, t0 + DAY_NS, 3600);
        let cancel: Result<Execution, MarketError> = update(
            host,
            b,
            "execution_cancel",
            (CancelArg {
                execution_id: cancelled.id,
                reason: "changed my mind".into(),
            },),
        );
        cancel.expect("execution_cancel");
        // Two offers, one accepted (the other is rejected): runs ten days, extended, with
        // credentials and procurement details.
        let view = request(host, c, ask(PEZ_SKU, None, t0, 10 * 24 * 3600, 2)).expect("offerset");
        assert_eq!(view.offerset.execution_ids.len(), 2, "{view:?}");
        let running = accept(host, c, view.offerset.execution_ids[0]);
        let extended: Result<Execution, MarketError> = update(
            host,
            c,
            "lease_extend",
            (ExtendArg {
                execution_id: running.id,
                new_end_ns: running.end_ns + DAY_NS,
            },),
        );
        extended.expect("lease_extend");
        for (method, arg) in [
            (
                "lease_set_procurement_meta",
                candid::encode_one(SetProcurementMetaArg {
                    provider: key(&MARKET_SECRET),
                    execution_id: running.id,
                    meta: vec![Property {
                        key: "po".into(),
                        value: format!("PO-{s}"),
                    }],
                })
                .unwrap(),
            ),
            (
                "lease_set_consumer_meta",
                candid::encode_one(SetConsumerMetaArg {
                    provider: key(&MARKET_SECRET),
                    execution_id: running.id,
                    sealed: sealed(),
                })
                .unwrap(),
            ),
        ] {
            let reply = host.update(delegate(), method, &arg).expect(method);
            let result: Result<Execution, MarketError> = candid::decode_one(&reply).unwrap();
            result.unwrap_or_else(|e| panic!("{method}: {e:?}"));
        }
        // An offerset left to expire.
        request(host, d, ask(PEZ_SKU, None, t0, 3600, 1)).expect("offerset");
        // Running nodes: one stays, one is ended just before the upgrade (RELEASING then).
        running_nodes.push((
            c,
            lease(host, c, NODE_SKU, Some(NODE_CLASS), t0, 10 * 24 * 3600),
        ));
        running_nodes.push((
            d,
            lease(host, d, NODE_SKU, Some(NODE_CLASS), t0, 10 * 24 * 3600),
        ));
        // Waiting: they start a day after the upgrade, after it.
        lease(host, a, PEZ_SKU, None, t0 + DAY_NS, DAY_NS / SECOND_NS);
        lease(
            host,
            d,
            NODE_SKU,
            Some(NODE_CLASS),
            t0 + DAY_NS,
            DAY_NS / SECOND_NS,
        );
    }
    // Offersets nobody accepts: expired (their holds released) well before the upgrade.
    for s in 0..sets {
        let view = request(
            host,
            consumer(4 * s + 3),
            ask("3C.large", None, t0, 3600, 1),
        )
        .expect("offerset");
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    }
    host.tick();
    let at = t0 + 2 * HOUR_NS;
    advance_to(host, at - 15 * SECOND_NS);
    // Just before the upgrade (a deploy takes 30 s, an undeploy 40 s): leases ending
    // (RELEASING), starting (PREPARING), offers held.
    for (who, execution) in running_nodes.iter().skip(1).step_by(2) {
        let ended: Result<Execution, MarketError> =
            update(host, *who, "lease_end", (execution.id,));
        ended.expect("lease_end");
    }
    for s in 0..sets {
        let who = consumer(4 * s + 1);
        lease(host, who, NODE_SKU, Some(NODE_CLASS), host.time(), 6 * 3600);
    }
    host.tick();
    for s in 0..sets {
        let who = consumer(4 * s + 2);
        request(host, who, ask(PEZ_SKU, None, at + HOUR_NS, 3600, 2)).expect("offerset");
    }
    advance_to(host, at);
    at
}

/// The catalog: synthetic providers of 100 offerings, then an upsert, a removal of two
/// offerings, a removed provider and an upload in progress.
fn build_catalog(host: &mut Host, offerings: u32, world: &mut World, progress: fn(&str)) {
    let canister = host.canister_id();
    let providers = (offerings / PER_PROVIDER).max(4);
    for (index, provider) in synthetic::providers(SEED, providers, PER_PROVIDER).enumerate() {
        if index % 100 == 0 {
            progress(&format!("catalog: provider {index}/{providers}"));
        }
        let replaced: Result<Receipt, CatalogError> = update(
            host,
            Principal::self_authenticating(format!("drill publisher {index}").as_bytes()),
            "catalog_replace",
            (signed(
                &provider.secret_key,
                canister,
                Operation::ReplaceCatalog,
                1,
                &provider.csv,
            ),),
        );
        replaced.expect("catalog_replace");
        let keys = parse_catalog(&provider.csv)
            .expect("a synthetic catalog parses")
            .iter()
            .map(|(offering, _)| offering.key().to_string())
            .collect();
        world.catalog.push((provider.secret_key, keys));
    }
    // Upsert: three rows of another catalog under provider 0's key (new offerings), and its
    // first row again (unchanged).
    let other = synthetic::provider(SEED + 1, 0, 3);
    let upserted: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "catalog_upsert",
        (signed(
            &world.catalog[0].0,
            canister,
            Operation::UpsertOfferings,
            2,
            &other.csv,
        ),),
    );
    upserted.expect("catalog_upsert");
    for (offering, _) in parse_catalog(&other.csv).unwrap() {
        world.catalog[0].1.push(offering.key().to_string());
    }
    world.catalog[0].1.sort();
    world.catalog[0].1.dedup();
    // Two offerings of provider 1 removed.
    let removed_keys: Vec<String> = world.catalog[1].1[..2].to_vec();
    let payload = signing::remove_offerings_payload(&removed_keys);
    let secret = world.catalog[1].0;
    let removed: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "catalog_remove_offerings",
        (RemoveOfferingsArg {
            provider: key(&secret),
            seq: 2,
            signature: signature(&secret, canister, Operation::RemoveOfferings, 2, &payload),
            keys: removed_keys,
        },),
    );
    removed.expect("catalog_remove_offerings");
    // Provider 2 removed.
    let secret = world.catalog[2].0;
    let gone: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "provider_remove",
        (RemoveProviderArg {
            provider: key(&secret),
            seq: 2,
            signature: signature(&secret, canister, Operation::RemoveProvider, 2, &[]),
        },),
    );
    gone.expect("provider_remove");
    // An upload in progress: provider 3 replaces its catalog in two chunks, one sent.
    let secret = world.catalog[3].0;
    let csv = synthetic::provider(SEED + 2, 3, 20).csv;
    let hash = signing::payload_hash(&csv);
    let begun: Result<u64, CatalogError> = update(
        host,
        uploader(),
        "catalog_upload_begin",
        (UploadBeginArg {
            provider: key(&secret),
            seq: 2,
            signature: ByteBuf::from(
                signing::sign(&secret, &canister, Operation::ReplaceCatalog, 2, &hash).to_vec(),
            ),
            operation: UploadOperation::Replace,
            total_bytes: csv.len() as u64,
            sha256: ByteBuf::from(hash.to_vec()),
        },),
    );
    world.upload_id = begun.expect("catalog_upload_begin");
    let appended: Result<UploadProgress, CatalogError> = update(
        host,
        uploader(),
        "catalog_upload_append",
        (UploadAppendArg {
            upload_id: world.upload_id,
            index: 0,
            bytes: ByteBuf::from(csv[..csv.len() / 2].to_vec()),
        },),
    );
    appended.expect("catalog_upload_append");
}

fn signature(
    secret: &[u8; 32],
    canister: Principal,
    op: Operation,
    seq: u64,
    payload: &[u8],
) -> ByteBuf {
    ByteBuf::from(
        signing::sign(secret, &canister, op, seq, &signing::payload_hash(payload)).to_vec(),
    )
}

fn signed(
    secret: &[u8; 32],
    canister: Principal,
    op: Operation,
    seq: u64,
    csv: &[u8],
) -> PublishArg {
    PublishArg {
        provider: key(secret),
        seq,
        signature: signature(secret, canister, op, seq, csv),
        csv: ByteBuf::from(csv.to_vec()),
    }
}

// --- the views ---

/// Every view's reply, masked, by label; and the calls made per method.
#[derive(Default)]
pub struct Views {
    pub replies: BTreeMap<String, (String, Vec<u8>)>,
    pub calls: BTreeMap<String, usize>,
    /// Wall time and instructions per method.
    pub time: BTreeMap<String, Duration>,
    pub instructions: BTreeMap<String, u64>,
}

impl Views {
    fn call(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: Vec<u8>,
    ) -> Vec<u8> {
        let started = Instant::now();
        let reply = host
            .query(caller, method, &arg)
            .unwrap_or_else(|r| panic!("{method} {label}: {r}"));
        *self.time.entry(method.to_string()).or_default() += started.elapsed();
        *self.instructions.entry(method.to_string()).or_default() += host.last_instructions();
        *self.calls.entry(method.to_string()).or_default() += 1;
        let masked = mask(method, &reply);
        let label = format!("{method} {label}");
        assert!(
            self.replies
                .insert(label.clone(), (method.to_string(), masked))
                .is_none(),
            "two views are labelled {label}"
        );
        reply
    }

    fn one<A: CandidType>(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: A,
    ) -> Vec<u8> {
        self.call(
            host,
            caller,
            method,
            label,
            candid::encode_one(arg).unwrap(),
        )
    }

    fn typed<A: CandidType, T: CandidType + for<'a> Deserialize<'a>>(
        &mut self,
        host: &mut Host,
        caller: Principal,
        method: &str,
        label: String,
        arg: A,
    ) -> T {
        let reply = self.one(host, caller, method, label, arg);
        candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn pages(&self) -> usize {
        self.calls.values().sum()
    }
}

/// Takes out what an upgrade legitimately changes.
fn mask(method: &str, reply: &[u8]) -> Vec<u8> {
    match method {
        "status" => {
            let mut status: Status = candid::decode_one(reply).expect("status decodes");
            status.heap_bytes = 0;
            status.stable_memory_pages = 0;
            status.cycles_balance = 0u8.into();
            candid::encode_one(status).unwrap()
        }
        "http_request" => {
            let mut response: HttpResponse = candid::decode_one(reply).expect("http decodes");
            let body = String::from_utf8_lossy(&response.body);
            if body.starts_with("# HELP") || body.contains("\nmarketplace_") {
                const LIVE: [&str; 4] = [
                    "marketplace_query_instructions",
                    "marketplace_heap_bytes",
                    "marketplace_stable_memory_bytes",
                    "marketplace_cycles_balance",
                ];
                let kept: String = body
                    .lines()
                    .map(|line| {
                        if LIVE.iter().any(|name| line.starts_with(name)) {
                            line.split(' ').next().unwrap_or_default().to_string() + " (masked)\n"
                        } else {
                            format!("{line}\n")
                        }
                    })
                    .collect();
                response.body = ByteBuf::from(kept.into_bytes());
            }
            candid::encode_one(response).unwrap()
        }
        "state_digest" => match candid::decode_one(reply).expect("state_digest decodes") {
            // Per region, but for the search index's snapshot, which pre_upgrade writes (and
            // the total, which covers it).
            StateDigestResult::Ok(mut digest) => {
                digest.sha256 = ByteBuf::new();
                digest
                    .regions
                    .retain(|region| region.name != INDEX_SNAPSHOT_REGION);
                candid::encode_one(StateDigestResult::Ok(digest)).unwrap()
            }
            err => candid::encode_one(err).unwrap(),
        },
        _ => reply.to_vec(),
    }
}

/// Snapshot of every exported view, each list walked page by page. `controller` sees all.
fn snapshot(did: &Did, host: &mut Host, world: &World, sample: (usize, usize)) -> Views {
    let mut v = Views::default();
    let controller = Host::default_controller();
    let anyone = stranger();
    market_views(host, world, &mut v, controller, anyone);
    catalog_views(host, world, &mut v, anyone, sample);
    // Operations.
    v.one(host, anyone, "status", String::new(), ());
    for url in ["/health", "/metrics", "/nope"] {
        v.one(host, anyone, "http_request", url.into(), http_get(url));
    }
    if did.methods.contains_key("state_digest") {
        v.one(host, controller, "state_digest", String::new(), ());
        v.one(host, anyone, "state_digest", "stranger".into(), ());
    }
    v
}

fn http_get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: ByteBuf::new(),
        certificate_version: None,
    }
}

/// `state_digest`'s reply (mirrored here, so the drill builds whether or not the canister
/// exports the type).
#[derive(CandidType, Deserialize)]
enum StateDigestResult {
    Ok(StateDigest),
    Err(DigestError),
}

#[derive(CandidType, Deserialize)]
struct StateDigest {
    sha256: ByteBuf,
    excluded: Vec<String>,
    regions: Vec<RegionDigest>,
}

#[derive(CandidType, Deserialize)]
struct RegionDigest {
    id: u8,
    name: String,
    pages: u64,
    sha256: ByteBuf,
}

#[derive(CandidType, Deserialize)]
enum DigestError {
    NotAuthorized,
}

/// The stable-memory region `pre_upgrade` writes: the search index's snapshot.
const INDEX_SNAPSHOT_REGION: &str = "INDEX_SNAPSHOT";

fn market_views(
    host: &mut Host,
    world: &World,
    v: &mut Views,
    controller: Principal,
    anyone: Principal,
) {
    let providers = [
        ("market", key(&MARKET_SECRET)),
        ("ironic", key(&IRONIC_SECRET)),
        ("unknown", key(&UNKNOWN_SECRET)),
    ];
    for (name, provider) in &providers {
        v.one(
            host,
            anyone,
            "market_delegation",
            name.to_string(),
            provider.clone(),
        );
        v.one(
            host,
            anyone,
            "ironic_settings",
            name.to_string(),
            provider.clone(),
        );
    }
    v.one(host, anyone, "products", String::new(), ());
    v.one(host, anyone, "policies", String::new(), ());

    // Items: every one, and every list of them.
    let mut item_lists: Vec<(String, InventoryListArg)> =
        vec![("all".into(), InventoryListArg::default())];
    for (name, provider) in &providers {
        item_lists.push((
            format!("provider={name}"),
            InventoryListArg {
                provider: Some(provider.clone()),
                ..InventoryListArg::default()
            },
        ));
    }
    for status in [
        ItemStatus::Available,
        ItemStatus::Reserving,
        ItemStatus::Leased,
        ItemStatus::Rebuilding,
        ItemStatus::Maintenance,
        ItemStatus::Archiving,
    ] {
        item_lists.push((
            format!("status={status:?}"),
            InventoryListArg {
                status: Some(status),
                ..InventoryListArg::default()
            },
        ));
    }
    for sku in &world.skus {
        item_lists.push((
            format!("sku={sku}"),
            InventoryListArg {
                sku: Some(sku.clone()),
                ..InventoryListArg::default()
            },
        ));
    }
    let mut items: Vec<Item> = vec![];
    for (i, (label, arg)) in item_lists.into_iter().enumerate() {
        let mut after = None;
        for page in 0.. {
            let reply: Result<ItemPage, MarketError> = v.typed(
                host,
                anyone,
                "inventory_list",
                format!("{label} #{page}"),
                InventoryListArg {
                    after,
                    limit: Some(40),
                    ..arg.clone()
                },
            );
            let reply = reply.expect("inventory_list");
            if i == 0 {
                items.extend(reply.items);
            }
            match reply.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let max_item = items.iter().map(|item| item.id).max().unwrap_or(0);
    for id in 1..=max_item + 1 {
        v.one(host, anyone, "inventory_get", id.to_string(), id);
    }
    for item in items
        .iter()
        .filter(|item| item.resource_type == "ironic_node")
    {
        v.one(
            host,
            delegate(),
            "provision_status",
            item.resource_uuid.clone(),
            item.resource_uuid.clone(),
        );
    }
    v.one(
        host,
        controller,
        "provision_status",
        "unknown".into(),
        "no-such-node".to_string(),
    );

    // Offers.
    let mut offer_lists: Vec<(String, OffersListArg)> =
        vec![("all".into(), OffersListArg::default())];
    for status in [
        OfferStatus::Open,
        OfferStatus::Claimed,
        OfferStatus::Expired,
        OfferStatus::Withdrawn,
    ] {
        offer_lists.push((
            format!("status={status:?}"),
            OffersListArg {
                status: Some(status),
                provider: Some(key(&MARKET_SECRET)),
                ..OffersListArg::default()
            },
        ));
    }
    for item in &items {
        offer_lists.push((
            format!("item={}", item.id),
            OffersListArg {
                item_id: Some(item.id),
                ..OffersListArg::default()
            },
        ));
    }
    let mut max_offer = 0;
    for (label, arg) in offer_lists {
        let mut after = None;
        for page in 0.. {
            let reply: Result<OfferPage, MarketError> = v.typed(
                host,
                anyone,
                "offers_list",
                format!("{label} #{page}"),
                OffersListArg {
                    after,
                    limit: Some(60),
                    ..arg.clone()
                },
            );
            let reply = reply.expect("offers_list");
            max_offer = reply.offers.iter().map(|o| o.id).fold(max_offer, u64::max);
            match reply.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    for id in 1..=max_offer + 1 {
        v.one(host, anyone, "offer_get", id.to_string(), id);
    }

    // Executions and offersets, each as its owner; the owner is found as a controller.
    let mut executions = vec![];
    for id in 1u64.. {
        let found: Result<Execution, MarketError> = query(host, controller, "execution_get", (id,));
        match found {
            Ok(execution) => executions.push(execution),
            Err(_) => break,
        }
    }
    let unknown = executions.len() as u64 + 1;
    for execution in &executions {
        for method in ["execution_get", "contract_get", "lease_get"] {
            v.one(
                host,
                execution.consumer,
                method,
                execution.id.to_string(),
                execution.id,
            );
        }
    }
    for method in ["execution_get", "contract_get", "lease_get"] {
        v.one(
            host,
            controller,
            method,
            format!("{unknown} (unknown)"),
            unknown,
        );
    }
    for id in 1u64.. {
        let found: Result<OffersetView, MarketError> =
            query(host, controller, "offerset_get", (id,));
        match found {
            Ok(view) => {
                v.one(
                    host,
                    view.offerset.consumer,
                    "offerset_get",
                    id.to_string(),
                    id,
                );
            }
            Err(_) => {
                v.one(
                    host,
                    controller,
                    "offerset_get",
                    format!("{id} (unknown)"),
                    id,
                );
                break;
            }
        }
    }
    let mut readers: Vec<(String, Principal, ExecutionsListArg)> = world
        .consumers
        .iter()
        .map(|who| {
            (
                format!("consumer={who}"),
                *who,
                ExecutionsListArg {
                    role: Role::Consumer,
                    provider: None,
                    phase: None,
                    after: None,
                    limit: Some(3),
                },
            )
        })
        .collect();
    for phase in [
        None,
        Some(Phase::Offered),
        Some(Phase::Accepted),
        Some(Phase::Rejected),
        Some(Phase::Expired),
        Some(Phase::Waiting),
        Some(Phase::Preparing),
        Some(Phase::Available),
        Some(Phase::Releasing),
        Some(Phase::Completed),
        Some(Phase::Cancelled),
        Some(Phase::Failed),
    ] {
        readers.push((
            format!("provider phase={phase:?}"),
            delegate(),
            ExecutionsListArg {
                role: Role::Provider,
                provider: Some(key(&MARKET_SECRET)),
                phase,
                after: None,
                limit: Some(25),
            },
        ));
    }
    for (label, who, arg) in readers {
        let mut after = None;
        for page in 0.. {
            let reply: Result<ExecutionPage, MarketError> = v.typed(
                host,
                who,
                "executions_list",
                format!("{label} #{page}"),
                ExecutionsListArg {
                    after,
                    ..arg.clone()
                },
            );
            match reply.expect("executions_list").next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }

    // The audit log: everything as a controller, each reader's share, each entity's history.
    let mut audits: Vec<(String, Principal, AuditArg)> = vec![
        ("all".into(), controller, AuditArg::default()),
        ("delegate".into(), delegate(), AuditArg::default()),
        ("stranger".into(), anyone, AuditArg::default()),
    ];
    for who in &world.consumers {
        audits.push((format!("consumer={who}"), *who, AuditArg::default()));
    }
    let entities = items
        .iter()
        .map(|item| Entity::Item(item.id))
        .chain((1..=max_offer).map(Entity::Offer))
        .chain(executions.iter().map(|e| Entity::Execution(e.id)))
        .chain(
            executions
                .iter()
                .filter_map(|e| e.offerset_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(Entity::Offerset),
        );
    for entity in entities {
        audits.push((
            format!("{entity:?}"),
            controller,
            AuditArg {
                entity: Some(entity),
                ..AuditArg::default()
            },
        ));
    }
    for (label, who, arg) in audits {
        let mut after = None;
        for page in 0.. {
            let reply: Result<AuditPage, MarketError> = v.typed(
                host,
                who,
                "audit_log",
                format!("{label} #{page}"),
                AuditArg {
                    after,
                    limit: Some(100),
                    ..arg.clone()
                },
            );
            match reply.expect("audit_log").next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }

    // What outcalls would cost: discovery, and provisioning on both backends.
    let node = items
        .iter()
        .find(|item| {
            item.resource_type == "ironic_node" && item.provider_pem == pem(&MARKET_SECRET)
        })
        .map(|item| item.resource_uuid.clone());
    let costs = [
        (
            "discover",
            Some(IronicDiscoverArg {
                endpoint: IRONIC_ENDPOINT.into(),
            }),
            None,
        ),
        ("market auto", None, Some((key(&MARKET_SECRET), None))),
        ("market node", None, Some((key(&MARKET_SECRET), node))),
        ("ironic auto", None, Some((key(&IRONIC_SECRET), None))),
        (
            "ironic node",
            None,
            Some((
                key(&IRONIC_SECRET),
                Some("9a1c0e52-0000-4000-8000-000000000001".to_string()),
            )),
        ),
        ("unknown", None, Some((key(&UNKNOWN_SECRET), None))),
    ];
    for (label, discover, provision) in costs {
        let arg = OutcallCostsArg {
            ironic_discover: discover,
            provision: provision.map(|(provider, server_id)| ProvisionCostsArg {
                provider,
                server_id: server_id.clone(),
                resource_class: server_id.is_none().then(|| NODE_CLASS.to_string()),
                image_id: IMAGE.into(),
                config_drive_bytes: Some(2048),
                lessee: None,
            }),
        };
        v.one(host, anyone, "outcall_costs", label.into(), arg);
    }
}

fn catalog_views(
    host: &mut Host,
    world: &World,
    v: &mut Views,
    anyone: Principal,
    (provider_stride, format_pages): (usize, usize),
) {
    // Searches, each walked to its end: everything in each format, text, filters, descending.
    let everything = SearchQuery {
        limit: Some(200),
        ..SearchQuery::default()
    };
    let searches = [
        ("all records", everything.clone()),
        (
            "all pemcsv",
            SearchQuery {
                format: Some(Format::PemCsv),
                ..everything.clone()
            },
        ),
        (
            "all json desc",
            SearchQuery {
                format: Some(Format::Json),
                sort: Some(SortOrder::PriceDesc),
                ..everything.clone()
            },
        ),
        (
            "text xeon",
            SearchQuery {
                text: Some("xeon".into()),
                limit: Some(100),
                ..SearchQuery::default()
            },
        ),
        (
            "compound",
            SearchQuery {
                text: Some("xeon".into()),
                filters: Some(Filters {
                    price: Some(PriceFilter {
                        currency: "EUR".into(),
                        min_minor: None,
                        max_minor: Some(200_000),
                    }),
                    country: Some("DE".into()),
                    min_memory_mb: Some(16_384),
                    ..Filters::default()
                }),
                limit: Some(50),
                ..SearchQuery::default()
            },
        ),
        (
            "filters",
            SearchQuery {
                filters: Some(Filters {
                    price: Some(PriceFilter {
                        currency: "USD".into(),
                        min_minor: Some(10_000),
                        max_minor: Some(100_000),
                    }),
                    country: Some("US".into()),
                    gpu: Some(GpuFilter::Present(false)),
                    ..Filters::default()
                }),
                sort: Some(SortOrder::PriceDesc),
                limit: Some(200),
                ..SearchQuery::default()
            },
        ),
    ];
    for (label, search) in searches {
        let mut cursor = None;
        let pages = if label.starts_with("all ") && label != "all records" {
            format_pages
        } else {
            usize::MAX
        };
        for page in 0..pages {
            let reply: Result<SearchPage, SearchError> = v.typed(
                host,
                anyone,
                "offerings_search",
                format!("{label} #{page}"),
                SearchQuery {
                    cursor,
                    ..search.clone()
                },
            );
            match reply.expect("offerings_search").next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    // The same over HTTP, for the text search.
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let url = match &cursor {
            None => "/search?text=xeon&limit=100".to_string(),
            Some(c) => format!("/search?text=xeon&limit=100&cursor={}", percent(c)),
        };
        let reply = v.one(
            host,
            anyone,
            "http_request",
            format!("/search #{page}"),
            http_get(&url),
        );
        let response: HttpResponse = candid::decode_one(&reply).unwrap();
        assert_eq!(
            response.status_code,
            200,
            "{url}: {}",
            String::from_utf8_lossy(&response.body)
        );
        cursor = next_cursor_of_json(&response.body);
        if cursor.is_none() {
            break;
        }
    }
    // Every provider: its offerings, its export, a sample of offerings by key (all of them in
    // a small catalog), over Candid and HTTP.
    let stride = (world.catalog.len() * PER_PROVIDER as usize / 400).max(1);
    let mut n = 0usize;
    for (index, (secret, keys)) in world.catalog.iter().enumerate() {
        let provider = key(secret);
        // Its offerings and export walked (every `provider_stride`-th provider), or none.
        let pages = if index % provider_stride == 0 {
            usize::MAX
        } else {
            0
        };
        let mut cursor = None;
        for page in 0..pages {
            let reply: Result<SearchPage, SearchError> = v.typed(
                host,
                anyone,
                "provider_offerings",
                format!("{index} #{page}"),
                ProviderOfferingsArg {
                    provider: provider.clone(),
                    cursor,
                    limit: Some(if index % 2 == 0 { 200 } else { 30 }),
                    format: None,
                },
            );
            match reply.map(|page| page.next_cursor) {
                Ok(Some(next)) => cursor = Some(next),
                _ => break,
            }
        }
        let mut cursor = None;
        for page in 0..pages {
            let reply: Result<CatalogExport, SearchError> = v.typed(
                host,
                anyone,
                "provider_catalog_export",
                format!("{index} #{page}"),
                CatalogExportArg {
                    provider: provider.clone(),
                    cursor,
                },
            );
            match reply.map(|page| page.next_cursor) {
                Ok(Some(next)) => cursor = Some(next),
                _ => break,
            }
        }
        for offering_key in keys {
            n += 1;
            if !n.is_multiple_of(stride) {
                continue;
            }
            v.one(
                host,
                anyone,
                "offering_get",
                format!("{index}/{offering_key}"),
                OfferingGetArg {
                    provider: provider.clone(),
                    key: offering_key.clone(),
                },
            );
            if n.is_multiple_of(stride * 10) {
                let hex: String = signing::provider_of(secret)
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let url = format!("/offerings/{hex}/{}", percent(offering_key));
                v.one(host, anyone, "http_request", url.clone(), http_get(&url));
            }
        }
    }
    // The change feed.
    let mut since = 0;
    for page in 0.. {
        let reply: Result<ChangesPage, CatalogError> = v.typed(
            host,
            anyone,
            "catalog_changes",
            format!("#{page}"),
            ChangesArg {
                since,
                limit: Some(1000),
            },
        );
        let reply = reply.expect("catalog_changes");
        if reply.changes.is_empty() {
            break;
        }
        since = reply.next;
    }
    // The upload in progress, as its uploader and as someone else; an unknown one.
    let upload = UploadRef {
        upload_id: world.upload_id,
    };
    v.one(
        host,
        uploader(),
        "catalog_upload_status",
        "uploader".into(),
        upload,
    );
    v.one(
        host,
        anyone,
        "catalog_upload_status",
        "stranger".into(),
        upload,
    );
    v.one(
        host,
        uploader(),
        "catalog_upload_status",
        "unknown".into(),
        UploadRef {
            upload_id: world.upload_id + 1,
        },
    );
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `next_cursor` of a `/search` reply (`…,"next_cursor":"…"}` or `null`).
fn next_cursor_of_json(body: &[u8]) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let at = body.rfind("\"next_cursor\":")? + "\"next_cursor\":".len();
    let rest = body[at..].trim_end_matches('}');
    if rest == "null" {
        return None;
    }
    // Cursors are URL-safe text without quotes or escapes.
    Some(rest.trim_matches('"').to_string())
}

/// The differences between two snapshots, described (at most `max` of them in detail).
fn compare(did: &Did, before: &Views, after: &Views, max: usize) -> Vec<String> {
    let mut differences = vec![];
    let labels: BTreeSet<&String> = before.replies.keys().chain(after.replies.keys()).collect();
    for label in labels {
        let described = match (before.replies.get(label), after.replies.get(label)) {
            (Some(a), Some(b)) if a.1 == b.1 => continue,
            (Some((method, a)), Some((_, b))) => {
                if differences.len() >= max {
                    format!("{label}: differs")
                } else {
                    first_difference(label, &did.render(method, a), &did.render(method, b))
                }
            }
            (Some(_), None) => format!("{label}: only before the upgrade"),
            (None, Some(_)) => format!("{label}: only after the upgrade"),
            (None, None) => unreachable!(),
        };
        differences.push(described);
    }
    differences
}

fn first_difference(label: &str, a: &str, b: &str) -> String {
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i);
    let from = a[..at].char_indices().rev().nth(120).map_or(0, |(i, _)| i);
    let end = |s: &str| s[at.min(s.len())..].chars().take(160).collect::<String>();
    format!(
        "{label}: …{}[before: {} | after: {}]",
        &a[from..at],
        end(a),
        end(b)
    )
}

/// The query methods of `all` that are neither in `called` nor deliberately not compared.
pub fn uncovered(all: &BTreeSet<String>, called: &BTreeSet<String>) -> Vec<String> {
    all.iter()
        .filter(|method| !called.contains(*method) && not_compared(method).is_none())
        .cloned()
        .collect()
}

/// Every query method (of the .did and of the wasm) must be compared or deliberately not.
fn check_coverage(
    did: &Did,
    wasm: &[u8],
    views: &Views,
    report: &mut DrillReport,
) -> Result<(), String> {
    let mut all = did.queries();
    all.extend(wasm_queries(wasm));
    let called: BTreeSet<String> = views.calls.keys().cloned().collect();
    report.not_compared = all
        .iter()
        .filter_map(|method| not_compared(method).map(|why| format!("{method}: {why}")))
        .collect();
    let uncovered = uncovered(&all, &called);
    let unknown: Vec<&String> = called.iter().filter(|m| !all.contains(*m)).collect();
    if !uncovered.is_empty() || !unknown.is_empty() {
        return Err(format!(
            "query methods not covered by the upgrade drill: {uncovered:?} (add them to drill::snapshot, or to NOT_COMPARED with the reason); methods called that are not queries of the interface: {unknown:?}"
        ));
    }
    Ok(())
}

// --- the timers ---

/// The views the timer check compares at every due point: the market's and the queue's.
fn timer_views(host: &mut Host, since_ns: u64) -> Views {
    let mut v = Views::default();
    let controller = Host::default_controller();
    let anyone = stranger();
    let mut status: Status = query(host, anyone, "status", ());
    status.heap_bytes = 0;
    status.stable_memory_pages = 0;
    status.cycles_balance = 0u8.into();
    // ic-cdk-timers restarts the watchdog's interval at post_upgrade, so its runs (counted when
    // they find overdue work) fall at other times than without the upgrade.
    status.counters.timer_runs = 0;
    v.replies.insert(
        "status".into(),
        ("status".into(), candid::encode_one(status).unwrap()),
    );
    v.one(host, anyone, "products", String::new(), ());
    for (label, who, arg) in [
        (
            "items",
            anyone,
            candid::encode_one(InventoryListArg {
                limit: Some(500),
                ..InventoryListArg::default()
            }),
        ),
        (
            "offers",
            anyone,
            candid::encode_one(OffersListArg {
                limit: Some(500),
                ..OffersListArg::default()
            }),
        ),
    ] {
        let method = if label == "items" {
            "inventory_list"
        } else {
            "offers_list"
        };
        v.call(host, who, method, label.into(), arg.unwrap());
    }
    let mut after = None;
    for page in 0.. {
        let reply: Result<ExecutionPage, MarketError> = v.typed(
            host,
            delegate(),
            "executions_list",
            format!("#{page}"),
            ExecutionsListArg {
                role: Role::Provider,
                provider: Some(key(&MARKET_SECRET)),
                phase: None,
                after,
                limit: Some(100),
            },
        );
        match reply.expect("executions_list").next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut after = None;
    for page in 0.. {
        let reply: Result<AuditPage, MarketError> = v.typed(
            host,
            controller,
            "audit_log",
            format!("#{page}"),
            AuditArg {
                after,
                from_ns: Some(since_ns),
                limit: Some(500),
                ..AuditArg::default()
            },
        );
        match reply.expect("audit_log").next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    v
}

/// Steps both canisters through every due point of the queue up to the horizon: at each, the
/// upgraded one must have the same next due time as the control, run everything due in the
/// one timer tick at that time (nothing overdue after it), and show the same views.
fn check_timers(did: &Did, upgraded: &mut Host, control: &mut Host, report: &mut DrillReport) {
    let start = upgraded.time();
    let ran_before = status(upgraded).counters.tasks_run;
    for step in 0..TIMER_MAX_STEPS {
        let (a, b) = (status(upgraded), status(control));
        if a.next_task_due != b.next_task_due {
            report.timer_failures.push(format!(
                "step {step}: next task due {:?} after the upgrade, {:?} without it",
                a.next_task_due, b.next_task_due
            ));
            break;
        }
        let Some(due) = a.next_task_due else { break };
        if due > start + TIMER_HORIZON_NS {
            break;
        }
        for host in [&mut *upgraded, &mut *control] {
            host.set_time(due);
            host.tick();
        }
        report.timer_steps += 1;
        let after = status(upgraded);
        if after.tasks_overdue != 0 || after.next_task_due.is_some_and(|next| next <= due) {
            report.timer_failures.push(format!(
                "step {step} at +{} s: {} tasks still overdue after the timer tick (next due {:?})",
                (due - start) / SECOND_NS,
                after.tasks_overdue,
                after.next_task_due
            ));
        }
        if after.counters.tasks_run == a.counters.tasks_run {
            report.timer_failures.push(format!(
                "step {step} at +{} s: the task due then did not run",
                (due - start) / SECOND_NS
            ));
        }
        // The audit entries of this step (earlier ones were compared at their step).
        let (x, y) = (timer_views(upgraded, due), timer_views(control, due));
        for difference in compare(did, &y, &x, 3) {
            report.timer_failures.push(format!(
                "step {step} at +{} s: {difference}",
                (due - start) / SECOND_NS
            ));
        }
        // What happened, from the audit log's last entries (for the summary only).
        for (_, (method, bytes)) in x.replies.iter() {
            if method == "audit_log" {
                let page: Result<AuditPage, MarketError> = candid::decode_one(bytes).unwrap();
                for entry in page.unwrap().entries.iter().filter(|e| e.at_ns == due) {
                    let entity = match entry.entity {
                        Entity::Item(_) => "item",
                        Entity::Offer(_) => "offer",
                        Entity::Offerset(_) => "offerset",
                        Entity::Execution(_) => "execution",
                    };
                    report.timer_work.insert(format!("{entity} {}", entry.to));
                }
            }
        }
        if report.timer_failures.len() > 20 {
            break;
        }
    }
    report.timer_tasks = status(upgraded).counters.tasks_run - ran_before;
}

/// A `/metrics` value.
fn metric(host: &mut Host, name: &str) -> u64 {
    let response: HttpResponse = query(host, stranger(), "http_request", (http_get("/metrics"),));
    String::from_utf8_lossy(&response.body)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map_or(0, |value| value as u64)
}

// --- the drill ---

/// Builds the state, snapshots every view, upgrades, snapshots again, compares, and checks the
/// timers against a copy of the canister that was not upgraded.
pub fn run(config: &DrillConfig) -> DrillReport {
    let did = Did::parse(&config.did);
    let mut report = DrillReport::default();
    let progress = config.progress;
    let started = Instant::now();
    let mut host = Host::new();
    let init = InitArg {
        cycles_sample_interval_seconds: Some(24 * 3600),
        cycles_history_len: Some(50),
        ..InitArg::default()
    };
    host.install(&config.wasm, &candid::encode_one(Some(init)).unwrap())
        .expect("install");
    host.tick();
    let mut world = World::default();
    progress("market: items, offers and leases in every phase");
    build_market(&mut host, config.lease_sets, &mut world);
    progress("catalog: importing");
    build_catalog(&mut host, config.offerings, &mut world, progress);
    report.build_time = started.elapsed();
    let stats = status(&mut host);
    assert_eq!(stats.tasks_overdue, 0, "{stats:?}");

    // Phases at the upgrade.
    for id in 1u64.. {
        let found: Result<Execution, MarketError> = query(
            &mut host,
            Host::default_controller(),
            "execution_get",
            (id,),
        );
        match found {
            Ok(execution) => {
                *report
                    .phases
                    .entry(format!("{:?}", execution.phase))
                    .or_default() += 1
            }
            Err(_) => break,
        }
    }
    report.leases = report.phases.values().sum();
    report.providers = world.catalog.len() as u32;
    report.offerings = metric(&mut host, "marketplace_offerings");

    // Queries run without the query limit, so a view too large for it shows as a difference
    // of its own rather than a trap here.
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    progress("snapshot before the upgrade");
    let t = Instant::now();
    let sample = (config.provider_stride.max(1), config.format_pages.max(1));
    let before = snapshot(&did, &mut host, &world, sample);
    report.snapshot_time = t.elapsed();
    let mut slowest: Vec<(String, Duration, u64)> = before
        .time
        .iter()
        .map(|(m, t)| (m.clone(), *t, before.instructions[m]))
        .collect();
    slowest.sort_by_key(|(_, t, _)| std::cmp::Reverse(*t));
    report.slowest = slowest.into_iter().take(6).collect();
    if let Err(e) = check_coverage(&did, &config.wasm, &before, &mut report) {
        panic!("{e}");
    }
    let control_dir = std::env::temp_dir().join(format!(
        "upgrade-drill-{}-{}",
        std::process::id(),
        config.offerings
    ));
    host.save(&control_dir).expect("save the control copy");

    progress("upgrade");
    let t = Instant::now();
    host.set_instruction_limits(InstructionLimits::default());
    host.upgrade(&config.wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    report.upgrade_time = t.elapsed();
    report.upgrade_instructions = host.last_instructions();
    progress(&format!(
        "upgraded: {} instructions in {:.2} s",
        report.upgrade_instructions,
        report.upgrade_time.as_secs_f64()
    ));
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });

    progress("snapshot after the upgrade");
    let after = snapshot(&did, &mut host, &world, sample);
    report.views = before.calls.len();
    report.pages = before.pages();
    report.differences = compare(&did, &before, &after, 20);

    progress("timers: the upgraded canister against one that was not upgraded");
    let t = Instant::now();
    let mut control = Host::load(&control_dir).expect("load the control copy");
    let _ = std::fs::remove_dir_all(&control_dir);
    control.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    check_timers(&did, &mut host, &mut control, &mut report);
    report.timer_time = t.elapsed();
    report
}
