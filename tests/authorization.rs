//! The authorization matrix through the wasm: every update of `marketplace::methods::METHODS`
//! (and every query whose access is not `Anyone`), called by a caller of each
//! [`Class`], must be allowed or denied exactly as [`Access::allows`] says.
//!
//! Each method has a scenario: the state it needs (a provider with a delegate and an item, a
//! consumer's offerset or lease, an upload begun by its owner, a published catalog, a node
//! provisioned through the simulated Ironic) and one or more targets, each with the principals
//! that own it and the argument each class sends. The callers: `Anonymous` is
//! `Principal::anonymous()`, `Unknown` a principal the canister never saw, `OtherProvider` a
//! delegate of a second provider (signing with that provider's key where the method is
//! signed), `Owner` the target's owner (the provider's delegate, the consumer, the uploader)
//! and `Controller` the canister's controller. Signed methods get the owner's valid signature
//! from every class but `OtherProvider`, whose signature is its own key's over the owner's
//! provider and argument.
//!
//! - **Allowed** cells must answer `Ok` (each runs on a fresh copy of the scenario's state, so
//!   what one consumes cannot spoil another); a scenario may name the typed, non-authorization
//!   errors a target's allowed calls end in instead (e.g. a lessee provisioning its own node,
//!   which its lease already deployed).
//! - **Denied** cells must answer the typed denial ([`Denial`]: `NotAuthorized`,
//!   `InvalidSignature`, "not the uploader") and leave the state digest (`state_digest`, the
//!   SHA-256 of the whole stable state) as it was. Each is called twice: as ingress with
//!   `inspect_message` on, where the anonymous principal may be dropped early (the reject must
//!   say why), and with it off, as a canister's call would arrive: the endpoint's own answer.
//!
//! A method without a scenario fails the test, so a new method cannot be skipped. The matrix is
//! also `docs/authorization.md`, which a second test keeps equal to the table (regenerate it
//! with `UPDATE_AUTHORIZATION_DOC=1 cargo test --test authorization`).

mod common;

use candid::{CandidType, Deserialize, Principal};
use common::market::*;
use common::*;
use ic0_host::{Host, HttpHeader, HttpReply, HttpRequestResult, Reject};
use marketplace::catalog::signing::{self, Operation};
use marketplace::market::delegation;
use marketplace::methods::{Access, Class, Kind, Method, METHODS};
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const OWNER_SEED: u8 = 7;
const OTHER_SEED: u8 = 9;
/// The key of one offering of the fixture catalog.
const FIXTURE_KEY: &str = "DC2993";
const NODE_FREE: &str = "7a1c0e52-6f0d-4c8e-9d41-1f0000000001";
const NODE_LEASED: &str = "7a1c0e52-6f0d-4c8e-9d41-1f0000000002";
const NODE_CLASS: &str = "baremetal.large";
const DISCOVER_ENDPOINT: &str = "https://ironic.example:6385";
const IRONIC_ROOT: &str = r#"{"name": "OpenStack Ironic API", "default_version": {"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.87"}, "versions": [{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.87"}]}"#;

// --- who calls ---

/// The market fixture's delegate of the owner provider (seed 7).
fn owner_delegate() -> Principal {
    Principal::self_authenticating(b"provider-7 delegate")
}

/// A delegate of another provider (seed 9).
fn other_delegate() -> Principal {
    Principal::self_authenticating(b"authorization: provider-9 delegate")
}

/// The consumer whose offersets and leases the scenarios are about.
fn lessee() -> Principal {
    consumer("authorization lessee")
}

/// The principal that begins the uploads.
fn uploader() -> Principal {
    Principal::self_authenticating(b"authorization: the uploader")
}

/// A principal the canister never heard of.
fn unknown() -> Principal {
    stranger()
}

/// A principal a signed delegation names.
fn newcomer() -> Principal {
    Principal::self_authenticating(b"authorization: a new delegate")
}

// --- the world: the canister on an embedded host, its providers, snapshots ---

struct World {
    host: Rc<RefCell<Host>>,
    /// The owner provider (seed 7) and its delegate, on `host`.
    m: Market,
    /// The other provider (seed 9), whose delegate is [`other_delegate`].
    other: Provider,
}

/// A world saved to disk ([`Host::save`]), with the providers' next sequence numbers.
struct Saved {
    dir: PathBuf,
    owner_seq: u64,
    other_seq: u64,
}

impl World {
    fn fresh() -> Self {
        let (m, host) = Market::on_host();
        let mut world = Self {
            host,
            m,
            other: Provider::new(OTHER_SEED),
        };
        world.answer_ironic_roots();
        let other_delegate = other_delegate();
        let World { m, other, .. } = &mut world;
        m.canister
            .delegate(other, other_delegate, true)
            .expect("the other provider delegates");
        world
    }

    fn save(&self, dir: &Path) -> Saved {
        let _ = std::fs::remove_dir_all(dir);
        self.host.borrow_mut().save(dir).expect("save the host");
        Saved {
            dir: dir.to_path_buf(),
            owner_seq: self.m.provider.seq,
            other_seq: self.other.seq,
        }
    }

    fn load(saved: &Saved) -> Self {
        let host = Rc::new(RefCell::new(Host::load(&saved.dir).expect("load the host")));
        let m = Market {
            canister: Canister {
                driver: Box::new(SharedHost(host.clone())),
            },
            provider: Provider {
                secret: [OWNER_SEED; 32],
                seq: saved.owner_seq,
            },
            delegate: owner_delegate(),
        };
        let mut world = Self {
            host,
            m,
            other: Provider {
                secret: [OTHER_SEED; 32],
                seq: saved.other_seq,
            },
        };
        world.answer_ironic_roots();
        world
    }

    /// `ironic_discover`'s outcalls get an Ironic root document.
    fn answer_ironic_roots(&mut self) {
        self.host.borrow_mut().set_http_responder(|_| {
            HttpReply::Response(HttpRequestResult {
                status: 200u16.into(),
                headers: vec![HttpHeader {
                    name: "Content-Type".into(),
                    value: "application/json".into(),
                }],
                body: IRONIC_ROOT.as_bytes().to_vec(),
            })
        });
    }

    fn id(&self) -> Principal {
        self.m.canister.id()
    }

    fn now(&self) -> u64 {
        self.m.now()
    }

    fn controller(&self) -> Principal {
        self.m.controller()
    }

    fn update(&self, caller: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject> {
        self.host.borrow_mut().update(caller, method, arg)
    }

    fn query(&self, caller: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject> {
        self.host.borrow_mut().query(caller, method, arg)
    }

    /// The SHA-256 of the whole stable state, as a controller reads it.
    fn digest(&self) -> Vec<u8> {
        let bytes = self
            .query(self.controller(), "state_digest", &no_argument())
            .expect("state_digest");
        let digest: Result<StateDigest, DigestError> =
            candid::decode_one(&bytes).expect("state_digest reply");
        digest
            .expect("the controller reads the digest")
            .sha256
            .into_vec()
    }

    /// The owner's delegate registers an item (a market-only one) of `sku`.
    fn item(&mut self, uuid: &str) -> Item {
        self.m.register(LARGE, uuid, attributes(8, 32, 500, 0))
    }

    /// The owner's delegate registers an Ironic node (on the simulated Ironic).
    fn node(&mut self, uuid: &str) -> Item {
        let attributes = Attributes {
            resource_class: NODE_CLASS.into(),
            ..attributes(32, 128, 1000, 0)
        };
        self.m.register_node(LARGE, uuid, attributes)
    }

    /// An item offered from now for two days.
    fn offered(&mut self, uuid: &str) -> (Item, Offer) {
        let item = self.item(uuid);
        let now = self.now();
        let offer = self.m.offer(item.id, now, now + 2 * DAY_NS, 100);
        (item, offer)
    }

    /// The lessee's lease of the one offered item, starting in an hour (WAITING).
    fn waiting_lease(&mut self) -> Execution {
        self.offered("auth-leased-item");
        let start = self.now() + HOUR_NS;
        let lease = self.m.lease(lessee(), start, 3600);
        assert_eq!(lease.phase, Phase::Waiting, "{lease:?}");
        lease
    }

    /// Moves time on, 5 s at a time, until the execution is in `phase`.
    fn wait_phase(&mut self, execution_id: u64, phase: Phase) {
        for _ in 0..200 {
            if self.m.phase(execution_id) == phase {
                return;
            }
            self.m.advance(5 * SECOND_NS);
        }
        panic!(
            "execution {execution_id} never reached {phase:?}: {:?}",
            self.m.phase(execution_id)
        );
    }

    /// The lessee's lease of [`NODE_LEASED`] from now, deployed by the simulated Ironic
    /// (AVAILABLE), beside [`NODE_FREE`], which nobody leased.
    fn leased_node(&mut self) -> Execution {
        self.node(NODE_FREE);
        let leased = self.node(NODE_LEASED);
        let now = self.now();
        self.m.offer(leased.id, now, now + 2 * DAY_NS, 100);
        let lease = self.m.lease(lessee(), now, 6 * 3600);
        assert_eq!(lease.item_id, leased.id);
        self.wait_phase(lease.id, Phase::Available);
        lease
    }

    /// The owner's delegate provisions [`NODE_FREE`] directly (an operation on it exists).
    fn provisioned_free_node(&mut self) {
        let reply = self.update(
            owner_delegate(),
            "provision_server",
            &encode(&provision_request(NODE_FREE)),
        );
        let reply: Result<ProvisionResponse, ProvisionError> =
            candid::decode_one(&reply.expect("provision_server")).expect("reply");
        reply.expect("the delegate provisions its free node");
    }

    /// A project the lessee owns, with no other member.
    fn lessees_project(&mut self) -> Project {
        let arg = ProjectCreateArg {
            name: "lessee's lab".into(),
            members: vec![],
        };
        self.m
            .canister
            .market_update(lessee(), "project_create", arg)
            .expect("project_create")
    }

    /// The uploader begins a replace of the fixture catalog, signed by the owner provider.
    fn begin_upload(&mut self) -> u64 {
        let arg = self.upload_begin_arg();
        let reply = self
            .update(uploader(), "catalog_upload_begin", &encode(&arg))
            .expect("catalog_upload_begin");
        let id: Result<u64, CatalogError> = candid::decode_one(&reply).expect("reply");
        id.expect("the upload begins")
    }

    /// The owner's next signed upload of the fixture (the sequence number is consumed).
    fn upload_begin_arg(&mut self) -> UploadBeginArg {
        let provider = &mut self.m.provider;
        provider.seq += 1;
        UploadBeginArg {
            provider: provider.key(),
            seq: provider.seq,
            signature: provider.sign(
                self.m.canister.id(),
                Operation::ReplaceCatalog,
                provider.seq,
                FIXTURE,
            ),
            operation: UploadOperation::Replace,
            total_bytes: FIXTURE.len() as u64,
            sha256: ByteBuf::from(signing::payload_hash(FIXTURE).to_vec()),
        }
    }

    fn publish_fixture(&mut self) {
        self.m
            .canister
            .replace(&mut self.m.provider, FIXTURE)
            .expect("the owner publishes its catalog");
    }

    /// The owner's signed change (next sequence number, not consumed) with `op` over
    /// `payload`, and the same change signed by the other provider's key.
    fn signatures(&self, op: Operation, payload: &[u8]) -> (u64, ByteBuf, ByteBuf) {
        let seq = self.m.provider.seq + 1;
        let id = self.id();
        (
            seq,
            self.m.provider.sign(id, op, seq, payload),
            self.other.sign(id, op, seq, payload),
        )
    }
}

fn provision_request(server_id: &str) -> ProvisionRequest {
    ProvisionRequest {
        server_id: Some(server_id.into()),
        image_id: IMAGE.into(),
        ..ProvisionRequest::default()
    }
}

fn encode<A: CandidType>(arg: &A) -> Vec<u8> {
    candid::encode_one(arg).expect("encode the argument")
}

fn no_argument() -> Vec<u8> {
    candid::encode_args(()).expect("encode no argument")
}

/// `state_digest`'s reply (the canister's `digest` module is private).
#[derive(CandidType, Deserialize, Debug)]
struct StateDigest {
    sha256: ByteBuf,
}

#[derive(CandidType, Deserialize, Debug)]
enum DigestError {
    NotAuthorized,
}

// --- what a reply says ---

#[derive(Debug)]
enum Verdict {
    Ok,
    /// Refused for authorization: the typed denial.
    Denied,
    /// Refused for another reason (the state, the argument, the rate limit).
    Refused(String),
}

/// Whether a typed error is the denial of an unauthorized caller. One function per error type,
/// strict: only the variants that say "not yours" or "not signed by the provider".
trait Denial: Debug {
    fn is_denial(&self) -> bool;
}

impl Denial for MarketError {
    fn is_denial(&self) -> bool {
        matches!(
            self,
            MarketError::NotAuthorized { .. } | MarketError::InvalidSignature
        )
    }
}

/// What `catalog_upload_begin` answers the anonymous principal (`CatalogError` has no
/// `NotAuthorized`).
const ANONYMOUS_UPLOAD: &str = "uploads belong to their caller: call with a non-anonymous identity";

impl Denial for CatalogError {
    fn is_denial(&self) -> bool {
        match self {
            CatalogError::InvalidSignature
            | CatalogError::NotUploader
            | CatalogError::NotAuthorized { .. } => true,
            CatalogError::InvalidArgument { message } => message == ANONYMOUS_UPLOAD,
            _ => false,
        }
    }
}

impl Denial for ProvisionError {
    fn is_denial(&self) -> bool {
        matches!(self, ProvisionError::NotAuthorized { .. })
    }
}

impl Denial for IronicError {
    fn is_denial(&self) -> bool {
        matches!(self, IronicError::NotAuthorized)
    }
}

impl Denial for DigestError {
    fn is_denial(&self) -> bool {
        matches!(self, DigestError::NotAuthorized)
    }
}

impl Denial for DigestPageError {
    fn is_denial(&self) -> bool {
        matches!(self, DigestPageError::NotAuthorized)
    }
}

type Judge = fn(&[u8]) -> Verdict;

/// Decodes a `Result<T, E>` reply and classifies it.
fn verdict<T, E>(bytes: &[u8]) -> Verdict
where
    T: CandidType + for<'a> Deserialize<'a>,
    E: CandidType + for<'a> Deserialize<'a> + Denial,
{
    match candid::decode_one::<Result<T, E>>(bytes) {
        Ok(Ok(_)) => Verdict::Ok,
        Ok(Err(e)) if e.is_denial() => Verdict::Denied,
        Ok(Err(e)) => Verdict::Refused(format!("{e:?}")),
        Err(e) => Verdict::Refused(format!("the reply does not decode: {e}")),
    }
}

// --- scenarios ---

/// One thing a method is called about.
struct Target {
    what: &'static str,
    /// The principals of the `Owner` class for it.
    owners: Vec<Principal>,
    /// The argument a caller of each class sends.
    arg: Box<dyn Fn(Class) -> Vec<u8>>,
    /// Typed errors (variant names) the allowed calls end in instead of `Ok`, when the state
    /// makes `Ok` impossible for them; anything else, and any denial, is a violation.
    tolerated: &'static [&'static str],
}

impl Target {
    fn new(what: &'static str, owners: Vec<Principal>, arg: Vec<u8>) -> Self {
        Self {
            what,
            owners,
            arg: Box::new(move |_| arg.clone()),
            tolerated: &[],
        }
    }

    /// Every class sends `owner`'s argument but `OtherProvider`, which sends `other`.
    fn signed(what: &'static str, owners: Vec<Principal>, owner: Vec<u8>, other: Vec<u8>) -> Self {
        Self {
            what,
            owners,
            arg: Box::new(move |class| {
                if class == Class::OtherProvider {
                    other.clone()
                } else {
                    owner.clone()
                }
            }),
            tolerated: &[],
        }
    }

    fn tolerating(mut self, errors: &'static [&'static str]) -> Self {
        self.tolerated = errors;
        self
    }
}

struct Scenario {
    targets: Vec<Target>,
    judge: Judge,
}

fn scenario(judge: Judge, targets: Vec<Target>) -> Scenario {
    Scenario { targets, judge }
}

type Build = fn(&mut World) -> Scenario;

/// The scenario of each update.
fn update_scenario(method: &str) -> Option<Build> {
    let build: Build = match method {
        "ironic_discover" => |_| {
            let arg = IronicDiscoverArg {
                endpoint: DISCOVER_ENDPOINT.into(),
            };
            scenario(
                verdict::<IronicApi, IronicError>,
                vec![Target::new(
                    "an Ironic root",
                    vec![owner_delegate()],
                    encode(&arg),
                )],
            )
        },
        "catalog_replace" => |w| publish_scenario(w, Operation::ReplaceCatalog),
        "catalog_upsert" => |w| publish_scenario(w, Operation::UpsertOfferings),
        "catalog_remove_offerings" => |w| {
            w.publish_fixture();
            let keys = vec![FIXTURE_KEY.to_string()];
            let payload = signing::remove_offerings_payload(&keys);
            let (seq, owner, other) = w.signatures(Operation::RemoveOfferings, &payload);
            let arg = |signature| RemoveOfferingsArg {
                provider: w.m.provider.key(),
                seq,
                signature,
                keys: keys.clone(),
            };
            scenario(
                verdict::<Receipt, CatalogError>,
                vec![Target::signed(
                    "an offering of the owner's catalog",
                    vec![owner_delegate()],
                    encode(&arg(owner)),
                    encode(&arg(other)),
                )],
            )
        },
        "provider_remove" => |w| {
            w.publish_fixture();
            let (seq, owner, other) = w.signatures(Operation::RemoveProvider, b"");
            let arg = |signature| RemoveProviderArg {
                provider: w.m.provider.key(),
                seq,
                signature,
            };
            scenario(
                verdict::<Receipt, CatalogError>,
                vec![Target::signed(
                    "the owner's catalog",
                    vec![owner_delegate()],
                    encode(&arg(owner)),
                    encode(&arg(other)),
                )],
            )
        },
        "provider_freeze" => |w| {
            let arg = ProviderFreezeArg {
                provider: w.m.provider.key(),
                frozen: true,
            };
            scenario(
                verdict::<(), CatalogError>,
                vec![Target::new(
                    "the owner provider",
                    vec![owner_delegate()],
                    encode(&arg),
                )],
            )
        },
        "provider_rotate_key" => |w| {
            w.publish_fixture();
            let new_key = Provider::new(11);
            let payload = signing::provider_of(&new_key.secret).as_bytes().to_vec();
            let (seq, owner, other) = w.signatures(Operation::RotateKey, &payload);
            let arg = |signature| RotateKeyArg {
                provider: w.m.provider.key(),
                new_key: new_key.key(),
                seq,
                signature,
            };
            scenario(
                verdict::<(), CatalogError>,
                vec![Target::signed(
                    "the owner's key",
                    vec![owner_delegate()],
                    encode(&arg(owner)),
                    encode(&arg(other)),
                )],
            )
        },
        "catalog_upload_begin" => |w| {
            // Signed by the owner provider; the upload is then the caller's.
            let arg = w.upload_begin_arg();
            scenario(
                verdict::<u64, CatalogError>,
                vec![Target::new(
                    "a signed upload",
                    vec![uploader()],
                    encode(&arg),
                )],
            )
        },
        "catalog_upload_append" => |w| {
            let upload_id = w.begin_upload();
            let arg = UploadAppendArg {
                upload_id,
                index: 0,
                bytes: ByteBuf::from(FIXTURE.to_vec()),
            };
            scenario(
                verdict::<UploadProgress, CatalogError>,
                vec![Target::new(
                    "the uploader's upload",
                    vec![uploader()],
                    encode(&arg),
                )],
            )
        },
        "catalog_upload_commit" => |w| {
            let upload_id = w.begin_upload();
            let append = UploadAppendArg {
                upload_id,
                index: 0,
                bytes: ByteBuf::from(FIXTURE.to_vec()),
            };
            let reply = w
                .update(uploader(), "catalog_upload_append", &encode(&append))
                .expect("append");
            let progress: Result<UploadProgress, CatalogError> =
                candid::decode_one(&reply).expect("reply");
            progress.expect("the uploader appends");
            scenario(
                verdict::<Receipt, CatalogError>,
                vec![Target::new(
                    "the uploader's complete upload",
                    vec![uploader()],
                    encode(&UploadRef { upload_id }),
                )],
            )
        },
        "market_delegate" => |w| {
            let seq = w.m.provider.seq + 1;
            let id = w.id();
            let owner = delegation::signed(&w.m.provider.secret, &id, newcomer(), true, seq);
            let other = DelegateArg {
                provider: w.m.provider.key(),
                ..delegation::signed(&w.other.secret, &id, newcomer(), true, seq)
            };
            scenario(
                verdict::<Delegation, MarketError>,
                vec![Target::signed(
                    "a delegation by the owner provider",
                    vec![owner_delegate()],
                    encode(&owner),
                    encode(&other),
                )],
            )
        },
        "inventory_register" => |w| {
            let input = Market::item_input(LARGE, "auth-new-item", attributes(8, 32, 500, 0));
            let arg = w.m.register_arg(vec![input]);
            delegate_scenario(
                verdict::<Vec<Item>, MarketError>,
                "a new item",
                encode(&arg),
            )
        },
        "inventory_set_status" => |w| {
            let item = w.item("auth-item");
            let arg = InventorySetStatusArg {
                provider: w.m.provider.key(),
                item_id: item.id,
                status: ItemStatus::Maintenance,
                reason: "authorization test".into(),
            };
            delegate_scenario(
                verdict::<Item, MarketError>,
                "the owner's item",
                encode(&arg),
            )
        },
        "inventory_remove" => |w| {
            let item = w.item("auth-item");
            let provider = w.m.provider.key();
            w.m.canister
                .inventory_set_status(
                    owner_delegate(),
                    InventorySetStatusArg {
                        provider: provider.clone(),
                        item_id: item.id,
                        status: ItemStatus::Archiving,
                        reason: "retired".into(),
                    },
                )
                .expect("archive the item");
            let arg = InventoryRemoveArg {
                provider,
                item_id: item.id,
            };
            delegate_scenario(
                verdict::<(), MarketError>,
                "the owner's archived item",
                encode(&arg),
            )
        },
        "offer_create" => |w| {
            let item = w.item("auth-item");
            let now = w.now();
            let arg = w.m.offer_arg(item.id, now, now + DAY_NS, 100);
            delegate_scenario(
                verdict::<Offer, MarketError>,
                "the owner's item",
                encode(&arg),
            )
        },
        "offers_create" => |w| {
            let item = w.item("auth-item");
            let now = w.now();
            let arg = OffersCreateArg {
                provider: w.m.provider.key(),
                offers: vec![OfferInput {
                    terms: None,
                    item_id: item.id,
                    start_ns: now,
                    end_ns: now + DAY_NS,
                    price_per_hour: 100,
                    properties: vec![],
                }],
            };
            delegate_scenario(
                verdict::<Vec<Offer>, MarketError>,
                "the owner's item",
                encode(&arg),
            )
        },
        "offer_withdraw" => |w| {
            let (_, offer) = w.offered("auth-item");
            let arg = OfferWithdrawArg {
                provider: w.m.provider.key(),
                offer_id: offer.id,
            };
            delegate_scenario(
                verdict::<Offer, MarketError>,
                "the owner's open offer",
                encode(&arg),
            )
        },
        "project_create" => |_| {
            let arg = ProjectCreateArg {
                name: "auth lab".into(),
                members: vec![],
            };
            scenario(
                verdict::<Project, MarketError>,
                vec![Target::new("a new project", vec![lessee()], encode(&arg))],
            )
        },
        "project_update" => |w| {
            let project = w.lessees_project();
            let arg = ProjectUpdateArg {
                project_id: project.id,
                add: vec![],
                remove: vec![],
                name: Some("auth lab 2".into()),
            };
            scenario(
                verdict::<Project, MarketError>,
                vec![Target::new(
                    "the lessee's project",
                    vec![lessee()],
                    encode(&arg),
                )],
            )
        },
        "offerset_request" => |w| {
            w.offered("auth-item");
            let arg = one_offer(w.now(), 3600);
            scenario(
                verdict::<OffersetView, MarketError>,
                vec![Target::new("an open offer", vec![lessee()], encode(&arg))],
            )
        },
        "execution_accept" => |w| {
            w.offered("auth-item");
            let start = w.now() + HOUR_NS;
            let view = w.m.request(lessee(), one_offer(start, 3600));
            let arg = accept_arg(view.offerset.execution_ids[0], &lessee_key(1));
            scenario(
                verdict::<Execution, MarketError>,
                vec![Target::new(
                    "the lessee's offer",
                    vec![lessee()],
                    encode(&arg),
                )],
            )
        },
        "execution_cancel" => |w| {
            let lease = w.waiting_lease();
            let arg = CancelArg {
                execution_id: lease.id,
                reason: "authorization test".into(),
            };
            scenario(
                verdict::<Execution, MarketError>,
                vec![Target::new(
                    "the lessee's lease",
                    vec![lessee()],
                    encode(&arg),
                )],
            )
        },
        "lease_extend" => |w| {
            let lease = w.waiting_lease();
            let arg = ExtendArg {
                execution_id: lease.id,
                new_end_ns: lease.end_ns + HOUR_NS,
            };
            scenario(
                verdict::<Execution, MarketError>,
                vec![Target::new(
                    "the lessee's lease",
                    vec![lessee()],
                    encode(&arg),
                )],
            )
        },
        "lease_end" => |w| {
            w.offered("auth-item");
            let now = w.now();
            let lease = w.m.lease(lessee(), now, 3600);
            w.wait_phase(lease.id, Phase::Available);
            scenario(
                verdict::<Execution, MarketError>,
                vec![Target::new(
                    "the lessee's running lease",
                    vec![lessee()],
                    encode(&lease.id),
                )],
            )
        },
        "lease_by_sku" => |w| {
            w.offered("auth-item");
            let arg = by_sku(LARGE, 3600, &lessee_key(1));
            scenario(
                verdict::<Execution, MarketError>,
                vec![Target::new(
                    "an open offer of the SKU",
                    vec![lessee()],
                    encode(&arg),
                )],
            )
        },
        "lease_set_consumer_meta" => |w| {
            let lease = w.waiting_lease();
            let arg = SetConsumerMetaArg {
                provider: w.m.provider.key(),
                execution_id: lease.id,
                sealed: sealed(&lessee_key(1)),
            };
            delegate_scenario(
                verdict::<Execution, MarketError>,
                "a lease on the owner's item",
                encode(&arg),
            )
        },
        "lease_reclaim" => |w| {
            let lease = w.waiting_lease();
            let arg = ReclaimArg {
                provider: w.m.provider.key(),
                execution_id: lease.id,
                notice_seconds: None,
                reason: "authorization test".into(),
            };
            delegate_scenario(
                verdict::<Execution, MarketError>,
                "a lease on the owner's item",
                encode(&arg),
            )
        },
        "lease_set_procurement_meta" => |w| {
            let lease = w.waiting_lease();
            let arg = SetProcurementMetaArg {
                provider: w.m.provider.key(),
                execution_id: lease.id,
                meta: vec![Property {
                    key: "purchase order".into(),
                    value: "PO-1".into(),
                }],
            };
            delegate_scenario(
                verdict::<Execution, MarketError>,
                "a lease on the owner's item",
                encode(&arg),
            )
        },
        "provider_recover" => |w| {
            let arg = RecoverKeyArg {
                provider: w.m.provider.key(),
                new_key: Provider::new(11).key(),
            };
            scenario(
                verdict::<Delegation, MarketError>,
                vec![Target::new(
                    "the owner provider",
                    vec![owner_delegate()],
                    encode(&arg),
                )],
            )
        },
        "policies_set" => |_| {
            let arg = PoliciesUpdate {
                offer_ttl_seconds: Some(600),
                ..PoliciesUpdate::default()
            };
            delegate_scenario(
                verdict::<Policies, MarketError>,
                "the policies",
                encode(&arg),
            )
        },
        "provider_hold_access_set" => |w| {
            let arg = ProviderHoldAccessArg {
                provider: w.m.provider.key(),
                access: Some(HoldAccess::ProviderAllowListed),
                allow: None,
                disallow: None,
            };
            delegate_scenario(
                verdict::<ProviderHoldAccess, MarketError>,
                "the owner's hold access",
                encode(&arg),
            )
        },
        "provider_payout_set" => |w| {
            // A provider the market knows: one with a published catalog.
            w.publish_fixture();
            let arg = PayoutSetArg {
                provider: w.m.provider.key(),
                account: Some(Account {
                    owner: consumer("authorization payee"),
                    subaccount: None,
                }),
            };
            // The owner is the provider's key itself (its own principal), not a delegate.
            let key_principal = signing::provider_of(&w.m.provider.secret).principal();
            scenario(
                verdict::<ProviderPayout, MarketError>,
                vec![Target::new(
                    "the owner provider's payouts",
                    vec![key_principal],
                    encode(&arg),
                )],
            )
        },
        "provision_server" => |w| {
            w.leased_node();
            scenario(
                verdict::<ProvisionResponse, ProvisionError>,
                vec![
                    Target::new(
                        "the provider's free node",
                        vec![owner_delegate()],
                        encode(&provision_request(NODE_FREE)),
                    ),
                    // Its lease deployed it already: whoever may provision it is told so.
                    Target::new(
                        "the node the lessee's lease deployed",
                        vec![lessee()],
                        encode(&provision_request(NODE_LEASED)),
                    )
                    .tolerating(&["ServerNotAvailable"]),
                ],
            )
        },
        "provision_refresh" => |w| {
            w.leased_node();
            w.provisioned_free_node();
            scenario(
                verdict::<ProvisionStatus, ProvisionError>,
                vec![
                    Target::new(
                        "the provider's direct deploy",
                        vec![owner_delegate()],
                        encode(&NODE_FREE.to_string()),
                    ),
                    Target::new(
                        "the deploy of the lessee's lease",
                        vec![lessee()],
                        encode(&NODE_LEASED.to_string()),
                    ),
                ],
            )
        },
        "ironic_configure" => |w| {
            let arg = IronicConfigureArg {
                provider: w.m.provider.key(),
                endpoint: None,
                microversion: None,
                auth_token: None,
                images: Some(vec![IMAGE.into()]),
            };
            delegate_scenario(
                verdict::<IronicSettingsView, ProvisionError>,
                "the owner's Ironic settings",
                encode(&arg),
            )
        },
        "ironic_sim_set_failure" => |w| {
            w.node(NODE_FREE);
            let arg = SimFailureArg {
                provider: w.m.provider.key(),
                server_id: NODE_FREE.into(),
                fail_deploy: true,
                fail_clean: false,
            };
            delegate_scenario(
                verdict::<(), ProvisionError>,
                "the owner's simulated node",
                encode(&arg),
            )
        },
        "ironic_budget_grant" => |w| {
            let arg = IronicBudgetGrantArg {
                provider: w.m.provider.key(),
                cycles: 1_000_000_000,
            };
            delegate_scenario(
                verdict::<IronicSettingsView, ProvisionError>,
                "the owner's outcall budget",
                encode(&arg),
            )
        },
        _ => return None,
    };
    Some(build)
}

/// A method about the owner provider's things: its delegate is the owner.
fn delegate_scenario(judge: Judge, what: &'static str, arg: Vec<u8>) -> Scenario {
    scenario(judge, vec![Target::new(what, vec![owner_delegate()], arg)])
}

/// `catalog_replace` / `catalog_upsert` of the fixture over the owner's published catalog.
fn publish_scenario(w: &mut World, op: Operation) -> Scenario {
    w.publish_fixture();
    let (seq, owner, other) = w.signatures(op, FIXTURE);
    let arg = |signature| PublishArg {
        provider: w.m.provider.key(),
        seq,
        signature,
        csv: ByteBuf::from(FIXTURE.to_vec()),
    };
    scenario(
        verdict::<Receipt, CatalogError>,
        vec![Target::signed(
            "the owner's catalog",
            vec![owner_delegate()],
            encode(&arg(owner)),
            encode(&arg(other)),
        )],
    )
}

/// The state every query scenario reads: the owner published a catalog, the uploader began an
/// upload, the lessee has an offerset and a lease on a node the simulated Ironic deployed, and
/// the owner's delegate provisioned another node directly.
struct QueryIds {
    upload_id: u64,
    offerset_id: u64,
    lease_id: u64,
    project_id: u64,
}

fn query_world() -> (World, QueryIds) {
    let mut w = World::fresh();
    w.publish_fixture();
    let upload_id = w.begin_upload();
    let lease = w.leased_node();
    w.provisioned_free_node();
    let ids = QueryIds {
        upload_id,
        offerset_id: lease.offerset_id.expect("the lease came from an offerset"),
        lease_id: lease.id,
        project_id: w.lessees_project().id,
    };
    (w, ids)
}

/// The scenario of each query whose access is not `Anyone` (and of `catalog_upload_status`).
fn query_scenario(method: &str, ids: &QueryIds) -> Option<Scenario> {
    let lease = || {
        Target::new(
            "the lessee's lease",
            vec![lessee(), owner_delegate()],
            encode(&ids.lease_id),
        )
    };
    Some(match method {
        "state_digest" => scenario(
            verdict::<StateDigest, DigestError>,
            vec![Target::new(
                "the state",
                vec![owner_delegate()],
                no_argument(),
            )],
        ),
        "state_digest_page" => scenario(
            verdict::<StateDigestPage, DigestPageError>,
            vec![Target::new(
                "the state",
                vec![owner_delegate()],
                encode(&StateDigestPageArg::default()),
            )],
        ),
        "catalog_upload_status" => scenario(
            verdict::<UploadProgress, CatalogError>,
            vec![Target::new(
                "the uploader's upload",
                vec![uploader()],
                encode(&UploadRef {
                    upload_id: ids.upload_id,
                }),
            )],
        ),
        "project_get" => scenario(
            verdict::<Project, MarketError>,
            vec![Target::new(
                "the lessee's project",
                vec![lessee()],
                encode(&ids.project_id),
            )],
        ),
        "projects_mine" => scenario(
            verdict::<ProjectPage, MarketError>,
            vec![Target::new(
                "the caller's projects",
                vec![lessee()],
                encode(&None::<u64>),
            )],
        ),
        "offerset_get" => scenario(
            verdict::<OffersetView, MarketError>,
            vec![Target::new(
                "the lessee's offerset",
                vec![lessee()],
                encode(&ids.offerset_id),
            )],
        ),
        "execution_get" => scenario(verdict::<Execution, MarketError>, vec![lease()]),
        "execution_payment" => scenario(verdict::<Option<Payment>, MarketError>, vec![lease()]),
        "contract_get" => scenario(verdict::<Contract, MarketError>, vec![lease()]),
        "lease_get" => scenario(verdict::<Lease, MarketError>, vec![lease()]),
        "executions_list" => scenario(
            verdict::<ExecutionPage, MarketError>,
            vec![Target::new(
                "the caller's executions",
                vec![lessee()],
                encode(&ExecutionsListArg {
                    role: Role::Consumer,
                    provider: None,
                    phase: None,
                    after: None,
                    limit: None,
                }),
            )],
        ),
        "payments_list" => scenario(
            verdict::<PaymentPage, MarketError>,
            vec![Target::new(
                "the caller's payments",
                vec![lessee()],
                encode(&PaymentsListArg {
                    role: Role::Consumer,
                    provider: None,
                    after: None,
                    limit: None,
                }),
            )],
        ),
        "market_self_check" => scenario(
            verdict::<SelfCheckPage, MarketError>,
            vec![Target::new(
                "the market's records",
                vec![owner_delegate()],
                encode(&SelfCheckArg::default()),
            )],
        ),
        "audit_log" => scenario(
            verdict::<AuditPage, MarketError>,
            vec![Target::new(
                "the entries the caller may read",
                vec![lessee()],
                encode(&AuditArg::default()),
            )],
        ),
        "provision_status" => scenario(
            verdict::<ProvisionStatus, ProvisionError>,
            vec![
                Target::new(
                    "the provider's direct deploy",
                    vec![owner_delegate()],
                    encode(&NODE_FREE.to_string()),
                ),
                Target::new(
                    "the deploy of the lessee's lease",
                    vec![lessee()],
                    encode(&NODE_LEASED.to_string()),
                ),
            ],
        ),
        _ => return None,
    })
}

// --- running the cells ---

/// The principals of `class` for `target`.
fn callers(controller: Principal, class: Class, target: &Target) -> Vec<Principal> {
    match class {
        Class::Anonymous => vec![Principal::anonymous()],
        Class::Unknown => vec![unknown()],
        Class::OtherProvider => vec![other_delegate()],
        Class::Owner => target.owners.clone(),
        Class::Controller => vec![controller],
    }
}

/// The directory of the saved states, removed however the test ends (a state is ~60 MB).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Default)]
struct Tally {
    cells: usize,
    allowed: usize,
    denied: usize,
    calls: usize,
    violations: Vec<String>,
}

impl Tally {
    fn cell(&mut self, allowed: bool) {
        self.cells += 1;
        if allowed {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
    }
}

/// An allowed call's reply: `Ok`, or an error the target tolerates.
fn check_allowed(
    tally: &mut Tally,
    cell: &str,
    judge: Judge,
    target: &Target,
    reply: Result<Vec<u8>, Reject>,
) {
    tally.calls += 1;
    let problem = match reply {
        Err(reject) => Some(format!("rejected: {reject}")),
        Ok(bytes) => match judge(&bytes) {
            Verdict::Ok => None,
            Verdict::Refused(error)
                if target
                    .tolerated
                    .iter()
                    .any(|name| error.starts_with(&format!("{name} ")) || error == *name) =>
            {
                None
            }
            other => Some(format!("allowed, but answered {other:?}")),
        },
    };
    if let Some(problem) = problem {
        tally.violations.push(format!("{cell}: {problem}"));
    }
}

/// A denied update, through ingress with `inspect_message` on and off: the typed denial (or,
/// inspect on, the early reject of the anonymous principal saying why), and the state digest
/// after them still `baseline`.
#[allow(clippy::too_many_arguments)]
fn check_denied_update(
    tally: &mut Tally,
    w: &World,
    cell: &str,
    method: &'static str,
    access: Access,
    judge: Judge,
    caller: Principal,
    arg: &[u8],
) {
    for inspect in [true, false] {
        w.host.borrow_mut().set_inspect_ingress(inspect);
        let reply = w.update(caller, method, arg);
        w.host.borrow_mut().set_inspect_ingress(true);
        tally.calls += 1;
        let how = if inspect { "inspect on" } else { "inspect off" };
        let early = inspect && caller == Principal::anonymous() && !access.admits_anonymous();
        match (reply, early) {
            (Err(reject), true) => {
                let message = reject.to_string();
                if !(message.contains("anonymous") && message.contains(method)) {
                    tally.violations.push(format!(
                        "{cell} ({how}): the early reject does not say why: {message}"
                    ));
                }
            }
            (Ok(bytes), true) => tally.violations.push(format!(
                "{cell} ({how}): inspect_message let the anonymous principal through: {:?}",
                judge(&bytes)
            )),
            (Err(reject), false) => tally.violations.push(format!(
                "{cell} ({how}): rejected instead of denied: {reject}"
            )),
            (Ok(bytes), false) => match judge(&bytes) {
                Verdict::Denied => {}
                other => tally
                    .violations
                    .push(format!("{cell} ({how}): denied, but answered {other:?}")),
            },
        }
    }
}

/// Every cell of one update: the denied ones on the scenario's state, then each allowed one on
/// a fresh copy of it (the last on the scenario's own state, which the denials left as it was).
fn run_update(tally: &mut Tally, method: &'static Method, base: &Saved, scratch: &Path) {
    let Some(build) = update_scenario(method.name) else {
        tally
            .violations
            .push(format!("{}: the update has no scenario", method.name));
        return;
    };
    let access = method.access;
    let mut w = World::load(base);
    let controller = w.controller();
    let scenario = build(&mut w);
    let cells = |allowed: bool| {
        let mut cells = Vec::new();
        for class in Class::ALL {
            if access.allows(class) != allowed {
                continue;
            }
            for target in &scenario.targets {
                for caller in callers(controller, class, target) {
                    let cell = format!("{} {class:?} ({}, {caller})", method.name, target.what);
                    cells.push((class, target, caller, cell));
                }
            }
        }
        cells
    };
    let (denied, allowed) = (cells(false), cells(true));
    let count = |cells: &[(Class, &Target, Principal, String)]| {
        let mut classes: Vec<Class> = cells.iter().map(|cell| cell.0).collect();
        classes.dedup();
        classes.len()
    };
    for (is_allowed, cells) in [(false, &denied), (true, &allowed)] {
        for _ in 0..count(cells) {
            tally.cell(is_allowed);
        }
    }

    let baseline = (!denied.is_empty()).then(|| w.digest());
    for (class, target, caller, cell) in &denied {
        let arg = (target.arg)(*class);
        check_denied_update(
            tally,
            &w,
            cell,
            method.name,
            access,
            scenario.judge,
            *caller,
            &arg,
        );
    }
    // One digest after all the denied calls (a digest hashes ~64 MiB in the canister); only
    // when they changed something are they replayed one at a time to name the culprit.
    if baseline.is_some_and(|baseline| w.digest() != baseline) {
        let culprit = culprit(method, base).unwrap_or_else(|| "one of them".into());
        tally.violations.push(format!(
            "{}: the denied calls changed the state ({culprit})",
            method.name
        ));
    }
    let saved = (allowed.len() > 1).then(|| w.save(&scratch.join(method.name)));
    let mut own = Some(w);
    for (n, (class, target, caller, cell)) in allowed.iter().enumerate() {
        let w = if n + 1 == allowed.len() {
            own.take().expect("the scenario's own state, once")
        } else {
            World::load(saved.as_ref().expect("saved"))
        };
        let reply = w.update(*caller, method.name, &(target.arg)(*class));
        check_allowed(tally, cell, scenario.judge, target, reply);
    }
    if let Some(saved) = saved {
        let _ = std::fs::remove_dir_all(saved.dir);
    }
}

/// Replays the denied cells of `method` one at a time on a fresh copy of its scenario, with a
/// digest after each: the first cell whose calls change the state.
fn culprit(method: &'static Method, base: &Saved) -> Option<String> {
    let mut w = World::load(base);
    let controller = w.controller();
    let scenario = update_scenario(method.name)?(&mut w);
    let baseline = w.digest();
    let mut scratch = Tally::default();
    for class in Class::ALL.into_iter().filter(|c| !method.access.allows(*c)) {
        for target in &scenario.targets {
            for caller in callers(controller, class, target) {
                let cell = format!("{} {class:?} ({}, {caller})", method.name, target.what);
                let arg = (target.arg)(class);
                check_denied_update(
                    &mut scratch,
                    &w,
                    &cell,
                    method.name,
                    method.access,
                    scenario.judge,
                    caller,
                    &arg,
                );
                if w.digest() != baseline {
                    return Some(cell);
                }
            }
        }
    }
    None
}

fn run_queries(tally: &mut Tally) -> usize {
    let (w, ids) = query_world();
    let mut covered = 0;
    for method in METHODS.iter().filter(|m| m.kind == Kind::Query) {
        let Some(scenario) = query_scenario(method.name, &ids) else {
            if method.access != Access::Anyone {
                tally
                    .violations
                    .push(format!("{}: the query has no scenario", method.name));
            }
            continue;
        };
        covered += 1;
        let access = method.access;
        for class in Class::ALL {
            let allowed = access.allows(class);
            tally.cell(allowed);
            for target in &scenario.targets {
                let arg = (target.arg)(class);
                for caller in callers(w.controller(), class, target) {
                    let cell = format!("{} {class:?} ({}, {caller})", method.name, target.what);
                    let reply = w.query(caller, method.name, &arg);
                    if allowed {
                        check_allowed(tally, &cell, scenario.judge, target, reply);
                        continue;
                    }
                    tally.calls += 1;
                    match reply.map(|bytes| (scenario.judge)(&bytes)) {
                        Ok(Verdict::Denied) => {}
                        other => tally
                            .violations
                            .push(format!("{cell}: denied, but answered {other:?}")),
                    }
                }
            }
        }
    }
    covered
}

#[test]
fn every_method_allows_and_denies_each_caller_class_as_the_table_says() {
    let started = Instant::now();
    let scratch =
        Scratch(std::env::temp_dir().join(format!("authorization-{}", std::process::id())));
    let scratch = &scratch.0;
    let base = World::fresh().save(&scratch.join("base"));
    let updates: Vec<&'static Method> = METHODS.iter().filter(|m| m.kind == Kind::Update).collect();
    // Two workers take the updates in turn (each on its own hosts); the queries run beside.
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut tally = Tally::default();
        while let Some(method) = updates.get(next.fetch_add(1, Ordering::Relaxed)) {
            let started = Instant::now();
            run_update(&mut tally, method, &base, scratch);
            eprintln!(
                "{:<28} {:>6} ms",
                method.name,
                started.elapsed().as_millis()
            );
        }
        tally
    };
    let (tallies, (queries, query_tally)) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2).map(|_| scope.spawn(worker)).collect();
        let mut tally = Tally::default();
        let queries = run_queries(&mut tally);
        let tallies: Vec<Tally> = workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker panicked"))
            .collect();
        (tallies, (queries, tally))
    });
    let mut tally = query_tally;
    for other in tallies {
        tally.cells += other.cells;
        tally.allowed += other.allowed;
        tally.denied += other.denied;
        tally.calls += other.calls;
        tally.violations.extend(other.violations);
    }
    eprintln!(
        "{} cells, {} calls in {:.1} s",
        tally.cells,
        tally.calls,
        started.elapsed().as_secs_f64()
    );
    assert!(
        tally.violations.is_empty(),
        "{} violations of the authorization matrix:\n{}",
        tally.violations.len(),
        tally.violations.join("\n")
    );
    assert_eq!(tally.allowed + tally.denied, tally.cells);
    assert_eq!(tally.cells, (updates.len() + queries) * Class::ALL.len());
    let line = format!(
        "authorization: methods={}+{queries} classes={} cells={} allowed={} denied={} violations=0\n",
        updates.len(),
        Class::ALL.len(),
        tally.cells,
        tally.allowed,
        tally.denied
    );
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/hardening/authorization.txt"
    );
    std::fs::create_dir_all(Path::new(out).parent().unwrap()).unwrap();
    std::fs::write(out, line).unwrap();
}

// --- docs/authorization.md ---

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/authorization.md");
const BEGIN: &str =
    "<!-- the matrix: generated from src/methods.rs, checked by tests/authorization.rs -->";
const END: &str = "<!-- end of the matrix -->";

/// The matrix as `docs/authorization.md` shows it.
fn matrix_table() -> String {
    let mut table = String::from("| method | kind | access |");
    for class in Class::ALL {
        table += &format!(" {class:?} |");
    }
    table += "\n|---|---|---|";
    table += &":-:|".repeat(Class::ALL.len());
    table += "\n";
    for method in METHODS {
        let kind = match method.kind {
            Kind::Update => "update",
            Kind::Query => "query",
        };
        table += &format!("| `{}` | {kind} | {:?} |", method.name, method.access);
        for class in Class::ALL {
            table += if method.access.allows(class) {
                " ✓ |"
            } else {
                " ✗ |"
            };
        }
        table += "\n";
    }
    table
}

#[test]
fn the_documented_matrix_is_the_table() {
    let doc = std::fs::read_to_string(DOC).expect("docs/authorization.md");
    let (head, rest) = doc.split_once(BEGIN).expect("the doc marks the matrix");
    let (documented, tail) = rest
        .split_once(END)
        .expect("the doc marks the matrix's end");
    let table = matrix_table();
    if std::env::var_os("UPDATE_AUTHORIZATION_DOC").is_some() {
        std::fs::write(DOC, format!("{head}{BEGIN}\n{table}{END}{tail}")).unwrap();
        return;
    }
    assert_eq!(
        documented.trim(),
        table.trim(),
        "docs/authorization.md's matrix differs from src/methods.rs: regenerate it with \
         UPDATE_AUTHORIZATION_DOC=1 cargo test --test authorization the_documented_matrix"
    );
}
