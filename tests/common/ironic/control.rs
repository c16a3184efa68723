//! The test's hold on the fake Ironic: its nodes, faults, clock, request log and held answers.

use super::node::FakeNode;
use super::record::{Fault, On, Recorded};
use super::{FakeIronic, State};
use ic0_host::{HttpReply, HttpRequestArgs};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

impl FakeIronic {
    pub fn new() -> Self {
        Self {
            state: Rc::new(RefCell::new(State {
                nodes: vec![],
                requests: vec![],
                faults: VecDeque::new(),
                manual: false,
                now_ns: 0,
                token: None,
                held: vec![],
            })),
        }
    }

    /// The responder to install on the host.
    pub fn responder(&self) -> Box<dyn FnMut(&HttpRequestArgs) -> HttpReply> {
        let fake = self.clone();
        Box::new(move |request| fake.answer(request))
    }

    pub fn add_node(&self, node: FakeNode) {
        self.state.borrow_mut().nodes.push(node);
    }

    pub fn node(&self, uuid: &str) -> FakeNode {
        self.state
            .borrow()
            .nodes
            .iter()
            .find(|n| n.uuid == uuid)
            .cloned()
            .unwrap_or_else(|| panic!("the fake Ironic has no node {uuid}"))
    }

    pub fn update_node(&self, uuid: &str, change: impl FnOnce(&mut FakeNode)) {
        let mut state = self.state.borrow_mut();
        let node = state
            .nodes
            .iter_mut()
            .find(|n| n.uuid == uuid)
            .unwrap_or_else(|| panic!("the fake Ironic has no node {uuid}"));
        change(node);
    }

    pub fn remove_node(&self, uuid: &str) {
        self.state.borrow_mut().nodes.retain(|n| n.uuid != uuid);
    }

    /// The node's next deploy ends in `deploy failed` with `last_error`.
    pub fn fail_deploy(&self, uuid: &str, last_error: &str) {
        self.update_node(uuid, |n| n.fail_deploy = Some(last_error.into()));
    }

    /// The node's next clean ends in `clean failed` with `last_error`.
    pub fn fail_clean(&self, uuid: &str, last_error: &str) {
        self.update_node(uuid, |n| n.fail_clean = Some(last_error.into()));
    }

    /// Requests must carry `X-Auth-Token: token`; others get 401.
    pub fn require_token(&self, token: &str) {
        self.state.borrow_mut().token = Some(token.into());
    }

    /// The next `n` requests matching `on` get `fault` instead of their answer.
    pub fn inject(&self, on: On, n: usize, fault: Fault) {
        let mut state = self.state.borrow_mut();
        for _ in 0..n {
            state.faults.push_back((on.clone(), fault.clone()));
        }
    }

    /// Every injected fault not consumed yet is dropped.
    pub fn clear_faults(&self) {
        self.state.borrow_mut().faults.clear();
    }

    pub fn pending_faults(&self) -> usize {
        self.state.borrow().faults.len()
    }

    /// Nodes move only on [`FakeIronic::step`] (true), or each time they are read (false).
    pub fn set_manual(&self, manual: bool) {
        self.state.borrow_mut().manual = manual;
    }

    /// Moves the node one step along its state machine; false when it is at rest.
    pub fn step(&self, uuid: &str) -> bool {
        let mut moved = false;
        self.update_node(uuid, |n| moved = n.advance());
        moved
    }

    /// Moves the node until it rests.
    pub fn settle(&self, uuid: &str) {
        for _ in 0..20 {
            if !self.step(uuid) {
                return;
            }
        }
        panic!("node {uuid} never rests");
    }

    pub fn set_now(&self, now_ns: u64) {
        self.state.borrow_mut().now_ns = now_ns;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.borrow().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.borrow_mut().requests.clear();
    }

    /// Answers held by [`Fault::Defer`], not yet taken.
    pub fn held(&self) -> usize {
        self.state.borrow().held.len()
    }

    /// The answer held for this deferred request (Ironic already did the work).
    pub fn answer_held(&self, request: &HttpRequestArgs) -> HttpReply {
        let mut state = self.state.borrow_mut();
        let position = state
            .held
            .iter()
            .position(|(url, method, body, _)| {
                *url == request.url && *method == request.method && *body == request.body
            })
            .unwrap_or_else(|| panic!("no held answer for {} {:?}", request.url, request.method));
        state.held.remove(position).3
    }
}
