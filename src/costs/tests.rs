use super::*;
use crate::catalog::signing;
use crate::ironic::client::Ironic;
use crate::ironic::nodes::{self, HttpIronic};
use crate::provision::IronicConfigureArg;
use crate::runtime::{block_on, FakeRuntime};
use candid::{Nat, Principal};
use ic_cdk_management_canister::HttpRequestResult;

const SECRET: [u8; 32] = [7; 32];
const ENDPOINT: &str = "https://ironic.example:6385";
const TOKEN: &str = "gAAAAABsecret-token-0123456789";
const UUID: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";

fn key() -> ProviderKeyInput {
    ProviderKeyInput::Raw(signing::provider_of(&SECRET).as_bytes().to_vec().into())
}

fn admin() -> Principal {
    Principal::from_slice(&[9; 29])
}

fn rt() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(admin());
    rt.caller.set(admin());
    rt
}

fn configure(rt: &FakeRuntime, endpoint: &str) {
    let arg = IronicConfigureArg {
        provider: key(),
        endpoint: Some(endpoint.into()),
        microversion: None,
        auth_token: Some(TOKEN.into()),
        images: None,
    };
    settings::configure(rt, arg).unwrap();
}

fn provision_arg(server_id: Option<&str>, config_drive_bytes: u64) -> OutcallCostsArg {
    OutcallCostsArg {
        ironic_discover: None,
        provision: Some(ProvisionCostsArg {
            provider: key(),
            server_id: server_id.map(Into::into),
            resource_class: None,
            image_id: "ubuntu-24.04".into(),
            config_drive_bytes: Some(config_drive_bytes),
            lessee: Some("project-1".into()),
        }),
    }
}

fn provision(rt: &FakeRuntime, server_id: Option<&str>, drive: u64) -> ProvisionCosts {
    outcall_costs(rt, provision_arg(server_id, drive))
        .unwrap()
        .provision
        .unwrap()
}

fn ok(body: &str) -> Result<HttpRequestResult, crate::runtime::OutcallError> {
    Ok(nodes::transform(HttpRequestResult {
        status: Nat::from(200u16),
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }))
}

/// What the requests the fake recorded would attach.
fn attached(rt: &FakeRuntime) -> u128 {
    rt.requests
        .borrow()
        .iter()
        .map(|r| rt.outcall_cost(r))
        .sum()
}

#[test]
fn discover_is_quoted_from_the_request_discover_sends() {
    let rt = rt();
    let arg = IronicDiscoverArg {
        endpoint: format!("{ENDPOINT}/"),
    };
    let quote = outcall_costs(
        &rt,
        OutcallCostsArg {
            ironic_discover: Some(arg.clone()),
            provision: None,
        },
    )
    .unwrap();
    rt.reply(Err(crate::runtime::OutcallError {
        code: 2,
        message: "down".into(),
    }));
    let _ = block_on(ironic::discover(&rt, arg));
    assert_eq!(quote.ironic_discover, Some(attached(&rt)));
    assert!(quote.provision.is_none());
    // A longer endpoint costs more; a bad one is refused.
    let longer = outcall_costs(
        &rt,
        OutcallCostsArg {
            ironic_discover: Some(IronicDiscoverArg {
                endpoint: format!("{ENDPOINT}/baremetal/api"),
            }),
            provision: None,
        },
    )
    .unwrap();
    assert!(longer.ironic_discover > quote.ironic_discover);
    let bad = OutcallCostsArg {
        ironic_discover: Some(IronicDiscoverArg {
            endpoint: "http://ironic.example".into(),
        }),
        provision: None,
    };
    assert!(matches!(
        outcall_costs(&rt, bad),
        Err(ProvisionError::InvalidArgument { .. })
    ));
}

#[test]
fn the_simulated_backend_costs_nothing() {
    let rt = rt();
    let costs = provision(&rt, Some(UUID), 1024);
    assert_eq!(costs.backend, Backend::Simulated);
    assert_eq!((costs.provision_server, costs.provision_refresh), (0, 0));
    assert_eq!(costs.lease_deploy.max, 0);
    assert_eq!(costs.lease_undeploy.typical_polls, SIM_UNDEPLOY_POLLS);
    assert!(costs.outcalls.is_empty());
    assert_eq!(
        outcall_costs(&rt, OutcallCostsArg::default())
            .unwrap()
            .provision,
        None
    );
}

#[test]
fn ironic_quotes_equal_what_the_calls_attach() {
    let rt = rt();
    configure(&rt, ENDPOINT);
    let costs = provision(&rt, Some(UUID), 2048);
    assert_eq!(costs.backend, Backend::Ironic);
    let http = HttpIronic {
        rt: &rt,
        endpoint: ENDPOINT.into(),
        microversion: settings::DEFAULT_MICROVERSION.into(),
        auth_token: Some(TOKEN.into()),
        pay: None,
    };
    let node = format!(r#"{{"uuid": "{UUID}", "provision_state": "available"}}"#);
    // provision_server on a named node: read, PATCH, PUT with the config drive.
    rt.reply(ok(&node));
    rt.reply(ok(""));
    rt.reply(ok(""));
    block_on(http.node(UUID)).unwrap();
    block_on(http.set_instance(UUID, "ubuntu-24.04", "project-1")).unwrap();
    let drive = "a".repeat(2048);
    block_on(http.set_provision_state(UUID, Target::Active, Some(&drive))).unwrap();
    assert_eq!(costs.provision_server, attached(&rt));
    rt.requests.borrow_mut().clear();
    rt.reply(ok(&node));
    block_on(http.node(UUID)).unwrap();
    assert_eq!(costs.provision_refresh, attached(&rt));
    assert_eq!(costs.lease_deploy.per_poll, costs.provision_refresh);
    // A lease's undeploy: read + PUT deleted, then read + PATCH clear.
    rt.requests.borrow_mut().clear();
    for _ in 0..2 {
        rt.reply(ok(&node));
        rt.reply(ok(""));
    }
    block_on(http.node(UUID)).unwrap();
    block_on(http.set_provision_state(UUID, Target::Deleted, None)).unwrap();
    block_on(http.node(UUID)).unwrap();
    block_on(http.clear_instance(UUID)).unwrap();
    assert_eq!(costs.lease_undeploy.min, attached(&rt));
    let range = &costs.lease_undeploy;
    assert!(range.min < range.typical && range.typical <= range.max);
    assert_eq!(
        range.max - range.min,
        range.per_poll * u128::from(range.max_polls - 1)
    );
    // The market's default stuck timeout, polled with the real Ironic's backoff: fewer reads
    // than every 10 s.
    let stuck_ns = store::policies().stuck_timeout_seconds * SECOND_NS;
    assert_eq!(
        range.max_polls,
        crate::provision::service::polls_within(Backend::Ironic, stuck_ns)
    );
    assert!(range.max_polls < stuck_ns / POLL_NS / 3);
    // Writes go to one replica, reads through consensus.
    let replicated = |call: &str| {
        costs
            .outcalls
            .iter()
            .find(|q| q.call == call)
            .unwrap()
            .replicated
    };
    assert!(replicated("read_node") && !replicated("set_instance"));
}

#[test]
fn costs_grow_with_the_config_drive_and_the_response_bound() {
    let rt = rt();
    configure(&rt, ENDPOINT);
    let small = provision(&rt, Some(UUID), 0);
    let large = provision(&rt, Some(UUID), 60_000);
    assert!(large.provision_server > small.provision_server);
    // The lease's deploy sends no config drive.
    assert_eq!(large.lease_deploy, small.lease_deploy);
    // Auto-selection lists up to 2 MB instead of reading one node (64 KiB).
    let auto = provision(&rt, None, 0);
    assert!(auto.provision_server > small.provision_server);
    let list = auto
        .outcalls
        .iter()
        .find(|q| q.call == "list_available")
        .unwrap();
    let read = auto
        .outcalls
        .iter()
        .find(|q| q.call == "read_node")
        .unwrap();
    assert!(list.max_response_bytes > read.max_response_bytes && list.cycles > read.cycles);
    assert!(matches!(
        outcall_costs(&rt, provision_arg(Some(UUID), 64 * 1024 + 1)),
        Err(ProvisionError::InvalidArgument { .. })
    ));
    assert!(matches!(
        outcall_costs(&rt, provision_arg(Some("../ports"), 0)),
        Err(ProvisionError::InvalidArgument { .. })
    ));
}

#[test]
fn errors_never_quote_the_credential() {
    let rt = rt();
    configure(&rt, ENDPOINT);
    let e = outcall_costs(&rt, provision_arg(Some(&format!("{TOKEN}/x")), 0)).unwrap_err();
    assert!(!format!("{e:?}").contains(TOKEN));
}
