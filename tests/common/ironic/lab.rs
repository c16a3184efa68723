//! The fixture: the market with the fake Ironic answering its outcalls, and scenario steps.

use super::super::market::*;
use super::super::*;
use super::node::FakeNode;
use super::record::Recorded;
use super::{FakeIronic, ProvisionResult, ENDPOINT, MICROVERSION, TOKEN};
use ic0_host::Host;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// The budget [`Lab::configure`] grants: plenty for any scenario (1,000 T cycles).
pub const LAB_BUDGET_CYCLES: u128 = 1_000_000_000_000_000;

/// The market (provider seed 7 with its delegate) with the fake Ironic answering its outcalls.
pub struct Lab {
    pub m: Market,
    pub ironic: FakeIronic,
    /// The embedded host, when the test submits messages itself.
    pub host: Option<Rc<RefCell<Host>>>,
}

impl Lab {
    pub fn new() -> Self {
        Self::with(Market::new(), None)
    }

    /// On an embedded host the test also holds (deferred outcalls, interleaved messages).
    pub fn on_host() -> Self {
        let (m, host) = Market::on_host();
        Self::with(m, Some(host))
    }

    fn with(mut m: Market, host: Option<Rc<RefCell<Host>>>) -> Self {
        let ironic = FakeIronic::new();
        ironic.set_now(m.now());
        m.canister.driver.set_http_responder(ironic.responder());
        Self { m, ironic, host }
    }

    pub fn delegate(&self) -> Principal {
        self.m.delegate
    }

    pub fn controller(&self) -> Principal {
        self.m.controller()
    }

    pub fn now(&self) -> u64 {
        self.m.now()
    }

    pub fn configure_arg(&self) -> IronicConfigureArg {
        IronicConfigureArg {
            provider: self.m.provider.key(),
            endpoint: Some(ENDPOINT.into()),
            microversion: Some(MICROVERSION.into()),
            auth_token: Some(TOKEN.into()),
            images: None,
        }
    }

    /// The provider's delegate points it at the fake Ironic (which then wants the token), and
    /// a controller grants it [`LAB_BUDGET_CYCLES`] to pay the outcalls.
    pub fn configure(&mut self) -> IronicSettingsView {
        let grant = IronicBudgetGrantArg {
            provider: self.m.provider.key(),
            cycles: LAB_BUDGET_CYCLES,
        };
        let controller = self.controller();
        self.m
            .canister
            .ironic_budget_grant(controller, grant)
            .expect("ironic_budget_grant");
        let arg = self.configure_arg();
        let delegate = self.delegate();
        let view = self
            .m
            .canister
            .ironic_configure(delegate, arg)
            .expect("ironic_configure");
        self.ironic.require_token(TOKEN);
        view
    }

    /// A node in the fake Ironic (available) and the provider's item for it.
    pub fn node(&mut self, uuid: &str, name: &str, class: &str) -> Item {
        self.ironic.add_node(FakeNode::new(uuid, name, class));
        self.item(uuid, class)
    }

    /// The provider's item for node `uuid` (an `ironic_node` of `class`).
    pub fn item(&mut self, uuid: &str, class: &str) -> Item {
        let attributes = Attributes {
            resource_class: class.into(),
            ..attributes(32, 128, 1000, 0)
        };
        self.m.register_node(LARGE, uuid, attributes)
    }

    /// Moves the clock on (the fake Ironic's too) and runs what became due.
    pub fn advance(&mut self, by_ns: u64) {
        self.m
            .canister
            .driver
            .advance_time(Duration::from_nanos(by_ns));
        self.ironic.set_now(self.m.now());
        self.m.canister.driver.tick();
    }

    /// Advances 5 s at a time until `done`, at most `max_ns`; panics with `what` otherwise.
    /// Returns how long it took.
    pub fn wait_until(
        &mut self,
        what: &str,
        max_ns: u64,
        done: impl FnMut(&mut Lab) -> bool,
    ) -> u64 {
        self.wait_until_by(what, max_ns, 5 * SECOND_NS, done)
    }

    /// [`Lab::wait_until`] in steps of `step_ns`.
    pub fn wait_until_by(
        &mut self,
        what: &str,
        max_ns: u64,
        step_ns: u64,
        mut done: impl FnMut(&mut Lab) -> bool,
    ) -> u64 {
        let start = self.now();
        loop {
            if done(self) {
                return self.now() - start;
            }
            if self.now() - start >= max_ns {
                let requests: Vec<String> = self
                    .ironic
                    .requests()
                    .iter()
                    .rev()
                    .take(12)
                    .map(Recorded::describe)
                    .collect();
                panic!(
                    "{what}: not after {} s; last requests (newest first): {requests:#?}",
                    max_ns / SECOND_NS
                );
            }
            self.advance(step_ns);
        }
    }

    /// Advances 5 s at a time for `ns`, calling `each` after every step.
    pub fn run_for(&mut self, ns: u64, mut each: impl FnMut(&mut Lab)) {
        let end = self.now() + ns;
        while self.now() < end {
            self.advance(5 * SECOND_NS);
            each(self);
        }
    }

    pub fn status(&mut self, operation_id: &str) -> ProvisionStatus {
        let controller = self.controller();
        self.m
            .canister
            .provision_status(controller, operation_id)
            .expect("provision_status")
    }

    pub fn refresh(&mut self, operation_id: &str) -> ProvisionStatus {
        let controller = self.controller();
        self.m
            .canister
            .provision_refresh(controller, operation_id)
            .expect("provision_refresh")
    }

    /// Provisions as the provider's delegate.
    pub fn provision(&mut self, request: ProvisionRequest) -> ProvisionResult<ProvisionResponse> {
        let delegate = self.delegate();
        self.m.canister.provision_server(delegate, request)
    }

    /// Waits until the operation on `uuid` is Completed or Failed; returns its status.
    pub fn wait_operation(&mut self, uuid: &str, max_ns: u64) -> ProvisionStatus {
        let mut last = None;
        self.wait_until(&format!("operation on {uuid} ends"), max_ns, |lab| {
            let status = lab.status(uuid);
            let done = matches!(
                status.status,
                OperationStatus::Completed | OperationStatus::Failed
            );
            last = Some(status);
            done
        });
        last.unwrap()
    }

    /// Waits until the execution reaches `phase`.
    pub fn wait_phase(&mut self, execution_id: u64, phase: Phase, max_ns: u64) {
        self.wait_until(
            &format!("execution {execution_id} reaches {phase:?}"),
            max_ns,
            |lab| lab.m.phase(execution_id) == phase,
        );
    }

    /// Waits until the execution is in a final phase; returns it.
    pub fn wait_final(&mut self, execution_id: u64, max_ns: u64) -> Execution {
        self.wait_until(&format!("execution {execution_id} ends"), max_ns, |lab| {
            lab.m.phase(execution_id).is_final()
        });
        self.m.execution(execution_id)
    }

    /// A lease of one offered item, from now, for `hours`, with `project`.
    pub fn lease_now(&mut self, consumer: Principal, project: &str, hours: u64) -> Execution {
        let now = self.now();
        let view = self.m.request(
            consumer,
            ResourceRequest {
                project: Some(project.into()),
                ..one_offer(now, hours * 3600)
            },
        );
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
        self.m
            .accept(consumer, view.offerset.execution_ids[0], &lessee_key(1))
    }

    /// An open offer of the item from now: the one still open (a lease books only its own
    /// window, so its offer stays offered), or a new one for a day.
    pub fn offer_again(&mut self, item_id: u64) -> Offer {
        let now = self.now();
        let arg = self.m.offer_arg(item_id, now, now + DAY_NS, 100);
        match self.m.canister.offer_create(self.m.delegate, arg) {
            Ok(offer) => offer,
            Err(MarketError::OfferOverlap { offer_id }) => {
                self.m.canister.offer_get(offer_id).expect("offer_get")
            }
            Err(error) => panic!("offer_create: {error:?}"),
        }
    }

    /// Requests from the fake Ironic's log about node `uuid`.
    pub fn requests_on(&self, uuid: &str) -> Vec<Recorded> {
        self.ironic
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(&format!("/v1/nodes/{uuid}")))
            .collect()
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}
