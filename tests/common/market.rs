//! Market helpers for the end-to-end tests: one typed call per market method (each returns the
//! `Result<_, MarketError>` the canister replied), and a [`Market`] fixture: the canister, a
//! provider with a delegate, items, offers, consumers and what the tests compare.

use super::{user, wasm, Canister, Provider};
use candid::{CandidType, Deserialize, Principal};
use ic0_host::driver::Driver;
use ic0_host::{Host, HttpReply, HttpRequestArgs, MessageId, Reject};
use marketplace::api::*;
use marketplace::market::delegation;
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

pub use marketplace::time::{DAY_NS, HOUR_NS, SECOND_NS};
pub const MINUTE_NS: u64 = 60 * SECOND_NS;
/// The default `offer_ttl_seconds`: how long an offerset holds its items.
pub const OFFER_TTL_NS: u64 = 300 * SECOND_NS;
pub const IMAGE: &str = "ubuntu-24.04";
pub const LARGE: &str = "4D.large";
pub const SMALL: &str = "2C.small";

pub type MarketResult<T> = Result<T, MarketError>;

// --- one typed call per market method ---

impl Canister {
    /// An update with one argument whose reply is a `Result<T, MarketError>`; a reject panics.
    pub fn market_update<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> MarketResult<T> {
        self.update(caller, method, (arg,))
    }

    /// The same as a query (its changes, if any, are discarded by the IC).
    pub fn market_query<A: CandidType, T: for<'a> Deserialize<'a> + CandidType>(
        &mut self,
        caller: Principal,
        method: &str,
        arg: A,
    ) -> MarketResult<T> {
        let bytes = self
            .driver
            .query(caller, method, candid::encode_one(arg).unwrap())
            .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
        candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
    }

    pub fn market_delegate(&mut self, arg: DelegateArg) -> MarketResult<Delegation> {
        self.market_update(user(), "market_delegate", arg)
    }
    pub fn market_delegation(&mut self, provider: ProviderKeyInput) -> MarketResult<Delegation> {
        self.market_query(user(), "market_delegation", provider)
    }
    pub fn inventory_register(
        &mut self,
        caller: Principal,
        arg: InventoryRegisterArg,
    ) -> MarketResult<Vec<Item>> {
        self.market_update(caller, "inventory_register", arg)
    }
    pub fn inventory_set_status(
        &mut self,
        caller: Principal,
        arg: InventorySetStatusArg,
    ) -> MarketResult<Item> {
        self.market_update(caller, "inventory_set_status", arg)
    }
    pub fn inventory_remove(
        &mut self,
        caller: Principal,
        arg: InventoryRemoveArg,
    ) -> MarketResult<()> {
        self.market_update(caller, "inventory_remove", arg)
    }
    pub fn inventory_get(&mut self, id: u64) -> MarketResult<Item> {
        self.market_query(user(), "inventory_get", id)
    }
    pub fn inventory_list(&mut self, arg: InventoryListArg) -> MarketResult<ItemPage> {
        self.market_query(user(), "inventory_list", arg)
    }
    pub fn products(&mut self) -> Vec<Product> {
        let bytes = self
            .driver
            .query(user(), "products", candid::encode_args(()).unwrap())
            .expect("products");
        candid::decode_one(&bytes).expect("products reply")
    }
    pub fn offer_create(&mut self, caller: Principal, arg: OfferCreateArg) -> MarketResult<Offer> {
        self.market_update(caller, "offer_create", arg)
    }
    pub fn offer_withdraw(
        &mut self,
        caller: Principal,
        arg: OfferWithdrawArg,
    ) -> MarketResult<Offer> {
        self.market_update(caller, "offer_withdraw", arg)
    }
    pub fn offer_get(&mut self, id: u64) -> MarketResult<Offer> {
        self.market_query(user(), "offer_get", id)
    }
    pub fn offers_list(&mut self, arg: OffersListArg) -> MarketResult<OfferPage> {
        self.market_query(user(), "offers_list", arg)
    }
    pub fn policies(&mut self) -> Policies {
        let bytes = self
            .driver
            .query(user(), "policies", candid::encode_args(()).unwrap())
            .expect("policies");
        candid::decode_one(&bytes).expect("policies reply")
    }
    pub fn policies_set(
        &mut self,
        caller: Principal,
        update: PoliciesUpdate,
    ) -> MarketResult<Policies> {
        self.market_update(caller, "policies_set", update)
    }
    pub fn offerset_request(
        &mut self,
        caller: Principal,
        request: ResourceRequest,
    ) -> MarketResult<OffersetView> {
        self.market_update(caller, "offerset_request", request)
    }
    pub fn offerset_get(&mut self, caller: Principal, id: u64) -> MarketResult<OffersetView> {
        self.market_query(caller, "offerset_get", id)
    }
    pub fn execution_accept(
        &mut self,
        caller: Principal,
        arg: AcceptArg,
    ) -> MarketResult<Execution> {
        self.market_update(caller, "execution_accept", arg)
    }
    pub fn execution_cancel(
        &mut self,
        caller: Principal,
        arg: CancelArg,
    ) -> MarketResult<Execution> {
        self.market_update(caller, "execution_cancel", arg)
    }
    pub fn lease_extend(&mut self, caller: Principal, arg: ExtendArg) -> MarketResult<Execution> {
        self.market_update(caller, "lease_extend", arg)
    }
    pub fn lease_end(&mut self, caller: Principal, id: u64) -> MarketResult<Execution> {
        self.market_update(caller, "lease_end", id)
    }
    pub fn lease_by_sku(
        &mut self,
        caller: Principal,
        arg: LeaseBySkuArg,
    ) -> MarketResult<Execution> {
        self.market_update(caller, "lease_by_sku", arg)
    }
    pub fn lease_set_consumer_meta(
        &mut self,
        caller: Principal,
        arg: SetConsumerMetaArg,
    ) -> MarketResult<Execution> {
        self.market_update(caller, "lease_set_consumer_meta", arg)
    }
    pub fn lease_set_procurement_meta(
        &mut self,
        caller: Principal,
        arg: SetProcurementMetaArg,
    ) -> MarketResult<Execution> {
        self.market_update(caller, "lease_set_procurement_meta", arg)
    }
    pub fn execution_get(&mut self, caller: Principal, id: u64) -> MarketResult<Execution> {
        self.market_query(caller, "execution_get", id)
    }
    pub fn executions_list(
        &mut self,
        caller: Principal,
        arg: ExecutionsListArg,
    ) -> MarketResult<ExecutionPage> {
        self.market_query(caller, "executions_list", arg)
    }
    pub fn contract_get(&mut self, caller: Principal, id: u64) -> MarketResult<Contract> {
        self.market_query(caller, "contract_get", id)
    }
    pub fn lease_get(&mut self, caller: Principal, id: u64) -> MarketResult<Lease> {
        self.market_query(caller, "lease_get", id)
    }
    pub fn audit_log(&mut self, caller: Principal, arg: AuditArg) -> MarketResult<AuditPage> {
        self.market_query(caller, "audit_log", arg)
    }

    /// `provider` signs (with its next sequence number) that `principal` may act for it.
    pub fn delegate(
        &mut self,
        provider: &mut Provider,
        principal: Principal,
        allow: bool,
    ) -> MarketResult<Delegation> {
        provider.seq += 1;
        let arg = delegation::signed(&provider.secret, &self.id(), principal, allow, provider.seq);
        self.market_delegate(arg)
    }

    /// Every audit entry `caller` may read under `arg`'s filters, walking the pages (a page may
    /// be short, even empty, and still have a `next`).
    pub fn audit_all(&mut self, caller: Principal, arg: AuditArg) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        let mut after = arg.after;
        for _ in 0..10_000 {
            let page = self
                .audit_log(
                    caller,
                    AuditArg {
                        after,
                        ..arg.clone()
                    },
                )
                .expect("audit_log");
            entries.extend(page.entries);
            match page.next {
                None => return entries,
                Some(next) => {
                    assert!(after.is_none_or(|after| next > after), "next goes back");
                    after = Some(next);
                }
            }
        }
        panic!("audit_log pages never end");
    }
}

// --- consumers, keys and requests ---

pub fn consumer(name: &str) -> Principal {
    Principal::self_authenticating(format!("consumer-{name}").as_bytes())
}

/// A principal with no role at all.
pub fn stranger() -> Principal {
    Principal::self_authenticating(b"a stranger to the market")
}

/// A 32-byte X25519 public key of a lessee.
pub fn lessee_key(seed: u8) -> ByteBuf {
    ByteBuf::from(vec![seed; 32])
}

/// Credentials sealed to `recipient` (the canister only checks the shape and the recipient).
pub fn sealed(recipient: &ByteBuf) -> SealedBox {
    SealedBox {
        recipient_key: recipient.clone(),
        ephemeral_key: ByteBuf::from(vec![0xE5; 32]),
        nonce: ByteBuf::from(vec![0x11; 24]),
        ciphertext: ByteBuf::from(vec![0xC1; 64]),
    }
}

pub fn attributes(cores: u32, memory_gb: u64, storage_gb: u64, gpus: u32) -> Attributes {
    Attributes {
        cores,
        memory_mb: memory_gb * 1024,
        storage_gb,
        gpus,
        resource_class: "baremetal.large".into(),
        routable_ips: 1,
        labels: vec!["vCloud".into()],
    }
}

/// A request for `duration_s` seconds from `start_ns` (now when `None`), of the test image.
pub fn request(start_ns: Option<u64>, duration_s: u64) -> ResourceRequest {
    ResourceRequest {
        start_ns,
        duration_seconds: duration_s,
        image: IMAGE.into(),
        ..ResourceRequest::default()
    }
}

/// A request for one offer for `[start_ns, start_ns + duration_s)`.
pub fn one_offer(start_ns: u64, duration_s: u64) -> ResourceRequest {
    ResourceRequest {
        offers: Some(1),
        ..request(Some(start_ns), duration_s)
    }
}

pub fn by_sku(sku: &str, duration_s: u64, key: &ByteBuf) -> LeaseBySkuArg {
    LeaseBySkuArg {
        sku: sku.into(),
        duration_seconds: duration_s,
        image: IMAGE.into(),
        lessee_key: Some(key.clone()),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    }
}

pub fn all_items() -> InventoryListArg {
    InventoryListArg {
        limit: Some(500),
        ..InventoryListArg::default()
    }
}

pub fn all_offers() -> OffersListArg {
    OffersListArg {
        limit: Some(500),
        ..OffersListArg::default()
    }
}

/// The item ids of an offerset's offers, in the order given.
pub fn offered_items(view: &OffersetView) -> Vec<u64> {
    view.offers.iter().map(|e| e.item_id).collect()
}

pub fn has_fail(messages: &[Message]) -> bool {
    messages
        .iter()
        .any(|m| m.level == Level::Fail && !m.text.is_empty())
}

// --- the fixture ---

/// The marketplace with one provider (seed 7) whose delegate acts for it.
pub struct Market {
    pub canister: Canister,
    pub provider: Provider,
    pub delegate: Principal,
}

impl Market {
    pub fn new() -> Self {
        Self::on(Canister::install(None))
    }

    /// The fixture on an installed canister: the provider delegates, the first timer run is over.
    pub fn on(mut canister: Canister) -> Self {
        canister.driver.tick();
        let mut provider = Provider::new(7);
        let delegate = Principal::self_authenticating(b"provider-7 delegate");
        canister
            .delegate(&mut provider, delegate, true)
            .expect("market_delegate");
        Self {
            canister,
            provider,
            delegate,
        }
    }

    /// The fixture on an embedded host the test also holds, to submit messages itself.
    pub fn on_host() -> (Self, Rc<RefCell<Host>>) {
        let host = Rc::new(RefCell::new(Host::new()));
        let mut driver: Box<dyn Driver> = Box::new(SharedHost(host.clone()));
        driver
            .install(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
            .expect("install");
        (Self::on(Canister { driver }), host)
    }

    pub fn controller(&self) -> Principal {
        self.canister.controller()
    }

    pub fn now(&self) -> u64 {
        self.canister.driver.time()
    }

    /// Moves the clock on and runs what became due.
    pub fn advance(&mut self, by_ns: u64) {
        self.canister
            .driver
            .advance_time(Duration::from_nanos(by_ns));
        self.canister.driver.tick();
    }

    /// Moves the clock to `at_ns` (if it is later) and runs what became due.
    pub fn advance_to(&mut self, at_ns: u64) {
        let now = self.now();
        self.advance(at_ns.saturating_sub(now));
    }

    /// A pez-style item: its leases grant access as a recorded no-op, so these tests see the
    /// market's own timing (Ironic nodes, provisioned on the way, are in the provision tests).
    pub fn item_input(sku: &str, uuid: &str, attributes: Attributes) -> ItemInput {
        ItemInput {
            resource_type: "pez_item".into(),
            resource_uuid: uuid.into(),
            sku: sku.into(),
            attributes,
            offering_key: None,
        }
    }

    /// An Ironic node: its leases are provisioned through the provider's Ironic.
    pub fn node_input(sku: &str, uuid: &str, attributes: Attributes) -> ItemInput {
        ItemInput {
            resource_type: "ironic_node".into(),
            ..Self::item_input(sku, uuid, attributes)
        }
    }

    pub fn register_arg(&self, items: Vec<ItemInput>) -> InventoryRegisterArg {
        InventoryRegisterArg {
            provider: self.provider.key(),
            items,
        }
    }

    /// Registers one item as the provider's delegate.
    pub fn register(&mut self, sku: &str, uuid: &str, attributes: Attributes) -> Item {
        self.register_input(Self::item_input(sku, uuid, attributes))
    }

    /// Registers one Ironic node as the provider's delegate.
    pub fn register_node(&mut self, sku: &str, uuid: &str, attributes: Attributes) -> Item {
        self.register_input(Self::node_input(sku, uuid, attributes))
    }

    fn register_input(&mut self, input: ItemInput) -> Item {
        let arg = self.register_arg(vec![input]);
        let mut items = self
            .canister
            .inventory_register(self.delegate, arg)
            .expect("inventory_register");
        assert_eq!(items.len(), 1);
        items.remove(0)
    }

    pub fn offer_arg(
        &self,
        item_id: u64,
        start_ns: u64,
        end_ns: u64,
        price: u64,
    ) -> OfferCreateArg {
        OfferCreateArg {
            terms: None,
            provider: self.provider.key(),
            item_id,
            start_ns,
            end_ns,
            price_per_hour: price,
            properties: vec![Property {
                key: "region".into(),
                value: "moc-kzn".into(),
            }],
        }
    }

    /// Offers an item for `[start_ns, end_ns)` at `price` per hour.
    pub fn offer(&mut self, item_id: u64, start_ns: u64, end_ns: u64, price: u64) -> Offer {
        let arg = self.offer_arg(item_id, start_ns, end_ns, price);
        self.canister
            .offer_create(self.delegate, arg)
            .expect("offer_create")
    }

    /// Registers an item of `sku` and offers it from now for `days` days at `price`.
    pub fn offered_item(
        &mut self,
        sku: &str,
        uuid: &str,
        cores: u32,
        price: u64,
        days: u64,
    ) -> (Item, Offer) {
        let item = self.register(sku, uuid, attributes(cores, 4 * cores as u64, 500, 0));
        let now = self.now();
        let offer = self.offer(item.id, now, now + days * DAY_NS, price);
        (item, offer)
    }

    pub fn item(&mut self, id: u64) -> Item {
        self.canister.inventory_get(id).expect("inventory_get")
    }

    /// An execution as a controller sees it.
    pub fn execution(&mut self, id: u64) -> Execution {
        let controller = self.controller();
        self.canister
            .execution_get(controller, id)
            .expect("execution_get")
    }

    pub fn phase(&mut self, id: u64) -> Phase {
        self.execution(id).phase
    }

    pub fn offerset(&mut self, id: u64) -> OffersetView {
        let controller = self.controller();
        self.canister
            .offerset_get(controller, id)
            .expect("offerset_get")
    }

    pub fn request(&mut self, consumer: Principal, request: ResourceRequest) -> OffersetView {
        self.canister
            .offerset_request(consumer, request)
            .expect("offerset_request")
    }

    pub fn accept(&mut self, consumer: Principal, execution_id: u64, key: &ByteBuf) -> Execution {
        self.canister
            .execution_accept(consumer, accept_arg(execution_id, key))
            .expect("execution_accept")
    }

    /// Requests one offer for `[start_ns, start_ns + duration_s)` and accepts it: the lease.
    pub fn lease(&mut self, consumer: Principal, start_ns: u64, duration_s: u64) -> Execution {
        let view = self.request(consumer, one_offer(start_ns, duration_s));
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
        self.accept(consumer, view.offerset.execution_ids[0], &lessee_key(1))
    }

    /// Every audit entry, as a controller reads them.
    pub fn audit(&mut self, arg: AuditArg) -> Vec<AuditEntry> {
        let controller = self.controller();
        self.canister.audit_all(controller, arg)
    }

    /// An item's status changes, `(from, to)`, oldest first.
    pub fn item_history(&mut self, item_id: u64) -> Vec<(String, String)> {
        self.audit(AuditArg {
            entity: Some(Entity::Item(item_id)),
            ..AuditArg::default()
        })
        .into_iter()
        .map(|e| (e.from, e.to))
        .collect()
    }

    /// Every execution so far (ids are assigned from 1), as a controller sees them.
    pub fn all_executions(&mut self) -> Vec<Execution> {
        let controller = self.controller();
        let mut executions = Vec::new();
        for id in 1.. {
            match self.canister.execution_get(controller, id) {
                Ok(execution) => executions.push(execution),
                Err(MarketError::UnknownExecution { .. }) => return executions,
                Err(e) => panic!("execution_get({id}): {e:?}"),
            }
        }
        unreachable!()
    }

    /// No two executions holding or leasing `item_id` overlap: leases (ACCEPTED to RELEASING)
    /// and OFFERED executions whose hold has not expired yet.
    pub fn assert_no_double_booking(&mut self, item_id: u64) {
        let now = self.now();
        let live: Vec<Execution> = self
            .all_executions()
            .into_iter()
            .filter(|e| e.item_id == item_id)
            .filter(|e| {
                e.phase.is_active_lease() || (e.phase == Phase::Offered && e.expires_at_ns > now)
            })
            .collect();
        for (i, a) in live.iter().enumerate() {
            for b in &live[i + 1..] {
                assert!(
                    a.end_ns <= b.start_ns || b.end_ns <= a.start_ns,
                    "item {item_id} is booked twice: execution {} ({:?}, {}..{}) and {} ({:?}, {}..{})",
                    a.id,
                    a.phase,
                    a.start_ns,
                    a.end_ns,
                    b.id,
                    b.phase,
                    b.start_ns,
                    b.end_ns
                );
            }
        }
    }

    /// What a refused call must leave as it was.
    pub fn snapshot(&mut self, executions: &[u64]) -> Snapshot {
        let controller = self.controller();
        Snapshot {
            items: self
                .canister
                .inventory_list(all_items())
                .expect("inventory_list"),
            offers: self
                .canister
                .offers_list(all_offers())
                .expect("offers_list"),
            audit: self.audit(AuditArg::default()),
            executions: executions
                .iter()
                .map(|id| self.canister.execution_get(controller, *id))
                .collect(),
            products: self.canister.products(),
            policies: self.canister.policies(),
        }
    }
}

pub fn accept_arg(execution_id: u64, key: &ByteBuf) -> AcceptArg {
    AcceptArg {
        execution_id,
        lessee_key: Some(key.clone()),
        lessee_key_hex: None,
    }
}

/// The market's public and controller views at one moment.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub items: ItemPage,
    pub offers: OfferPage,
    pub audit: Vec<AuditEntry>,
    pub executions: Vec<MarketResult<Execution>>,
    pub products: Vec<Product>,
    pub policies: Policies,
}

// --- a driver the test shares, to submit messages without running them to completion ---

/// The embedded host behind an `Rc`, so a test can both drive the canister through the
/// [`Canister`] helpers and submit interleaved messages to the same host.
pub struct SharedHost(pub Rc<RefCell<Host>>);

impl Driver for SharedHost {
    fn canister_id(&self) -> Principal {
        self.0.borrow().canister_id()
    }
    fn controller(&self) -> Principal {
        Driver::controller(&*self.0.borrow())
    }
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        self.0.borrow_mut().install(wasm, &arg)
    }
    fn upgrade(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<(), Reject> {
        self.0.borrow_mut().upgrade(wasm, &arg)
    }
    fn update(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        self.0.borrow_mut().update(caller, method, &arg)
    }
    fn query(&mut self, caller: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, Reject> {
        self.0.borrow_mut().query(caller, method, &arg)
    }
    fn time(&self) -> u64 {
        self.0.borrow().time()
    }
    fn advance_time(&mut self, by: Duration) {
        self.0.borrow_mut().advance_time(by)
    }
    fn tick(&mut self) {
        self.0.borrow_mut().tick();
    }
    fn set_http_responder(&mut self, responder: Box<dyn FnMut(&HttpRequestArgs) -> HttpReply>) {
        self.0.borrow_mut().set_http_responder(responder)
    }
    fn set_inspect_ingress(&mut self, on: bool) {
        self.0.borrow_mut().set_inspect_ingress(on)
    }
}

/// Submits a market update to the host without running anything else.
pub fn submit<A: CandidType>(
    host: &Rc<RefCell<Host>>,
    caller: Principal,
    method: &str,
    arg: A,
) -> MessageId {
    host.borrow_mut()
        .submit_update(caller, method, &candid::encode_one(arg).unwrap())
}

/// The reply to a submitted market update, which must have been answered.
pub fn take<T: for<'a> Deserialize<'a> + CandidType>(
    host: &Rc<RefCell<Host>>,
    id: MessageId,
) -> MarketResult<T> {
    let bytes = host
        .borrow_mut()
        .take_result(id)
        .expect("answered")
        .unwrap_or_else(|r| panic!("rejected: {r}"));
    candid::decode_one(&bytes).expect("reply decodes")
}

/// `expected` appear in `seen` in this order (others may come between).
pub fn assert_in_order(seen: &[String], expected: &[&str]) {
    let mut rest = seen.iter();
    for want in expected {
        assert!(
            rest.any(|s| s == want),
            "{want:?} missing or out of order in {seen:?}"
        );
    }
}

impl Market {
    /// The `to` of each audit entry of `entity` (statuses, phases), oldest first.
    pub fn history(&mut self, entity: Entity) -> Vec<String> {
        self.audit(AuditArg {
            entity: Some(entity),
            ..AuditArg::default()
        })
        .into_iter()
        .map(|e| e.to)
        .collect()
    }
}
