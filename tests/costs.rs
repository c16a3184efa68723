//! `outcall_costs` end to end, through the wasm on the ic0 host: the quote for
//! `ironic_discover` is exactly what the canister attaches to the outcall (the host refunds all
//! of it when the outcall is rejected, so the refund measures the attachment), and quotes grow
//! with the config drive and with `max_response_bytes`.

mod common;

use candid::Principal;
use common::{wasm, Backend, InitArg, IronicConfigureArg, IronicDiscoverArg, Provider, Status};
use ic0_host::{Host, HttpHeader, HttpReply, HttpRequestResult, RejectCode};
use marketplace::costs::{OutcallCosts, OutcallCostsArg, OutcallCostsResult, ProvisionCostsArg};

const ENDPOINT: &str = "https://ironic.example:6385";

fn install() -> Host {
    let mut host = Host::new();
    host.install(&wasm(), &candid::encode_one(None::<InitArg>).unwrap())
        .expect("install");
    // Runs what install queued (timers), so nothing else moves the balance later.
    host.tick();
    host
}

fn controller() -> Principal {
    Host::default_controller()
}

fn costs(host: &mut Host, arg: OutcallCostsArg) -> OutcallCosts {
    let bytes = host
        .query(
            Principal::anonymous(),
            "outcall_costs",
            &candid::encode_one(arg).unwrap(),
        )
        .expect("outcall_costs");
    candid::decode_one::<OutcallCostsResult>(&bytes)
        .unwrap()
        .expect("costs")
}

fn discover_arg(endpoint: &str) -> IronicDiscoverArg {
    IronicDiscoverArg {
        endpoint: endpoint.into(),
    }
}

fn discover_quote(host: &mut Host, endpoint: &str) -> u128 {
    costs(
        host,
        OutcallCostsArg {
            ironic_discover: Some(discover_arg(endpoint)),
            provision: None,
        },
    )
    .ironic_discover
    .unwrap()
}

fn status(host: &mut Host) -> Status {
    let bytes = host
        .query(
            Principal::anonymous(),
            "status",
            &candid::encode_args(()).unwrap(),
        )
        .unwrap();
    candid::decode_one(&bytes).unwrap()
}

#[test]
fn the_discover_quote_is_what_the_outcall_attaches() {
    let mut host = install();
    host.set_http_responder(|_| HttpReply::Defer);
    for endpoint in [
        ENDPOINT,
        "https://ironic.example:6385/a/much/longer/base/path",
    ] {
        let quote = discover_quote(&mut host, endpoint);
        let arg = candid::encode_one(discover_arg(endpoint)).unwrap();
        let id = host.submit_update(controller(), "ironic_discover", &arg);
        // Delivers the call to the management canister, whose responder defers it.
        host.tick();
        let pending = host.pending_http();
        assert_eq!(pending.len(), 1);
        let awaiting = host.cycles();
        // A rejected outcall refunds everything attached.
        host.answer_http(
            pending[0].0,
            HttpReply::Reject(RejectCode::SysTransient, "down".into()),
        )
        .unwrap();
        host.tick();
        assert!(host.take_result(id).is_some());
        let refunded = host.cycles() - awaiting;
        assert_eq!(quote, refunded, "{endpoint}");
        assert_eq!(status(&mut host).counters.outcall_cycles, 0);
    }
    // The longer URL costs more.
    assert!(
        discover_quote(
            &mut host,
            "https://ironic.example:6385/a/much/longer/base/path"
        ) > discover_quote(&mut host, ENDPOINT)
    );
}

#[test]
fn an_answered_discover_spends_at_most_its_quote() {
    let mut host = install();
    host.set_http_responder(|_| {
        HttpReply::Response(HttpRequestResult {
            status: 200u16.into(),
            headers: vec![HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            body: br#"{"versions": [{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.87"}]}"#.to_vec(),
        })
    });
    let quote = discover_quote(&mut host, ENDPOINT);
    let before = host.cycles();
    let arg = candid::encode_one(discover_arg(ENDPOINT)).unwrap();
    host.update(controller(), "ironic_discover", &arg).unwrap();
    let spent = u128::from(status(&mut host).counters.outcall_cycles);
    assert!(spent > 0 && spent < quote, "{spent} vs {quote}");
    // The balance paid the outcall and the call fee, never more than the quote plus the fee.
    let paid = before - host.cycles();
    assert!(paid >= spent && paid < quote + 10_000_000, "{paid}");
}

fn provision_arg(provider: &Provider, server_id: Option<&str>, drive: u64) -> OutcallCostsArg {
    OutcallCostsArg {
        ironic_discover: None,
        provision: Some(ProvisionCostsArg {
            provider: provider.key(),
            server_id: server_id.map(Into::into),
            resource_class: Some("baremetal.gpu".into()),
            image_id: "ubuntu-24.04".into(),
            config_drive_bytes: Some(drive),
            lessee: None,
        }),
    }
}

#[test]
fn provisioning_costs_nothing_simulated_and_grows_with_the_request_on_ironic() {
    let mut host = install();
    let provider = Provider::new(42);
    let uuid = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
    // A provider on the simulated Ironic: no outcall, no cost.
    let sim = costs(&mut host, provision_arg(&provider, Some(uuid), 4096))
        .provision
        .unwrap();
    assert_eq!(sim.backend, Backend::Simulated);
    assert_eq!((sim.provision_server, sim.lease_undeploy.max), (0, 0));
    assert!(sim.lease_deploy.typical_polls > 0);

    let configure = IronicConfigureArg {
        provider: provider.key(),
        endpoint: Some(ENDPOINT.into()),
        microversion: None,
        auth_token: Some("gAAAAAB-token".into()),
        images: None,
    };
    host.update(
        controller(),
        "ironic_configure",
        &candid::encode_one(configure).unwrap(),
    )
    .unwrap();
    let small = costs(&mut host, provision_arg(&provider, Some(uuid), 0))
        .provision
        .unwrap();
    let large = costs(&mut host, provision_arg(&provider, Some(uuid), 60_000))
        .provision
        .unwrap();
    assert_eq!(small.backend, Backend::Ironic);
    assert!(small.provision_refresh > 0);
    assert!(large.provision_server > small.provision_server);
    assert_eq!(large.provision_refresh, small.provision_refresh);
    let deploy = &small.lease_deploy;
    assert!(deploy.min < deploy.typical && deploy.typical < deploy.max);
    assert_eq!(deploy.per_poll, small.provision_refresh);
    // Auto-selection lists up to 2 MB rather than reading one node (64 KiB).
    let auto = costs(&mut host, provision_arg(&provider, None, 0))
        .provision
        .unwrap();
    assert!(auto.provision_server > small.provision_server);
    let quote = |call: &str| {
        auto.outcalls
            .iter()
            .find(|q| q.call == call)
            .cloned()
            .unwrap()
    };
    let (list, read) = (quote("list_available"), quote("read_node"));
    assert!(list.max_response_bytes > read.max_response_bytes);
    assert!(list.cycles > read.cycles);
    assert!(read.replicated && !quote("set_instance").replicated);
}
