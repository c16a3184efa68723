use super::*;
use crate::runtime::FakeRuntime;
use candid::Principal;

#[test]
fn only_controllers_pass() {
    let admin = Principal::from_slice(&[7; 29]);
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(admin);
    assert!(!caller_is_controller(&rt));
    rt.caller.set(admin);
    assert!(caller_is_controller(&rt));
}
