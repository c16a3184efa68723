//! Provisioning end to end, through the wasm on the ic0 host, against a fake Ironic that answers
//! like the real API (`tests/common/ironic.rs`) or against the simulated Ironic: configuring a
//! provider's backend, provisioning a node or any node of a resource class, the seed's error
//! table, who may provision and read, leases that deploy and undeploy their node, and secrets
//! that never come back.

mod common;

use candid::Principal;
use common::ironic::*;
use common::market::*;
use common::*;
use ic_management_canister_types::HttpMethod;
use serde_json::Value;

/// Long enough for any operation on the fake Ironic (it moves a step per read).
const OPERATION_MAX_NS: u64 = 10 * MINUTE_NS;

fn not_authorized<T: std::fmt::Debug>(result: ProvisionResult<T>, what: &str) {
    assert!(
        matches!(result, Err(ProvisionError::NotAuthorized { .. })),
        "{what}: {result:?}"
    );
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every request carried the configured microversion and token, went to the endpoint's nodes,
/// reads replicated through the nodes transform, writes non-replicated.
fn assert_requests_well_formed(requests: &[Recorded], microversion: &str) {
    assert!(!requests.is_empty());
    for r in requests {
        assert!(
            r.url.starts_with(&format!("{ENDPOINT}/v1/nodes")),
            "{}",
            r.describe()
        );
        assert_eq!(
            r.header("X-OpenStack-Ironic-API-Version"),
            Some(microversion),
            "{}",
            r.describe()
        );
        assert_eq!(r.header("X-Auth-Token"), Some(TOKEN), "{}", r.describe());
        match r.method {
            HttpMethod::GET => {
                assert_ne!(r.is_replicated, Some(false), "reads are replicated");
                assert_eq!(
                    r.transform.as_deref(),
                    Some(TRANSFORM_NODES),
                    "a replicated read needs the transform: {}",
                    r.describe()
                );
                assert!(r.max_response_bytes.is_some(), "a response bound");
            }
            HttpMethod::PUT | HttpMethod::PATCH => {
                assert_eq!(r.is_replicated, Some(false), "{}", r.describe());
                assert!(r.json().is_some(), "a JSON body: {}", r.describe());
            }
            other => panic!("Ironic is never sent {other:?}: {}", r.describe()),
        }
    }
}

// --- settings ---

#[test]
fn a_delegate_configures_the_provider_ironic_and_settings_never_show_secrets() {
    let mut lab = Lab::new();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    lab.m.canister.driver.set_inspect_ingress(false);
    let provider = lab.m.provider.key();
    let delegate = lab.delegate();

    // Never configured: the simulated Ironic, for anyone to see.
    let fresh = lab
        .m
        .canister
        .ironic_settings(Principal::anonymous(), provider.clone())
        .expect("ironic_settings");
    assert_eq!(
        (
            fresh.backend,
            fresh.credential_set,
            fresh.images.len(),
            fresh.provider_pem.as_str()
        ),
        (Backend::Simulated, false, 0, lab.m.provider.pem().as_str())
    );

    // Nobody but its delegates and controllers may point the provider somewhere.
    let a = consumer("a");
    lab.m.request(a, request(None, 3600));
    for (caller, who) in [
        (stranger(), "a stranger"),
        (Principal::anonymous(), "anonymous"),
        (a, "a consumer"),
    ] {
        not_authorized(
            lab.m.canister.ironic_configure(caller, lab.configure_arg()),
            who,
        );
    }
    assert_eq!(
        lab.m
            .canister
            .ironic_settings(stranger(), provider.clone())
            .unwrap(),
        fresh,
        "refusals change nothing"
    );

    // Bad endpoints are refused.
    for endpoint in [
        "http://ironic.test:6385",
        "ironic.test",
        "https://",
        "https://a b.test",
    ] {
        let result = lab.m.canister.ironic_configure(
            delegate,
            IronicConfigureArg {
                endpoint: Some(endpoint.into()),
                ..lab.configure_arg()
            },
        );
        assert!(
            matches!(result, Err(ProvisionError::InvalidArgument { .. })),
            "{endpoint}: {result:?}"
        );
    }

    let view = lab.configure();
    assert_eq!(
        (view.backend, view.credential_set, view.images.clone()),
        (Backend::Ironic, true, vec![])
    );
    assert_eq!(view.provider_pem, lab.m.provider.pem());

    // The view is what anyone reads, and no reply has the endpoint, microversion or token.
    let raw = lab
        .m
        .canister
        .driver
        .query(
            stranger(),
            "ironic_settings",
            candid::encode_one(provider.clone()).unwrap(),
        )
        .expect("ironic_settings");
    let settings: ProvisionResult<IronicSettingsView> = candid::decode_one(&raw).unwrap();
    assert_eq!(settings, Ok(view.clone()));
    let raw_configure = lab
        .m
        .canister
        .update_raw(
            delegate,
            "ironic_configure",
            candid::encode_one(IronicConfigureArg {
                images: Some(vec![IMAGE.into()]),
                ..lab.configure_arg()
            })
            .unwrap(),
        )
        .expect("ironic_configure");
    for bytes in [&raw, &raw_configure] {
        for secret in [TOKEN, "ironic.test", MICROVERSION] {
            assert!(!contains(bytes, secret), "a reply shows {secret}");
        }
    }

    // A controller may configure too; fields not given are kept.
    let controller = lab.controller();
    let kept = lab
        .m
        .canister
        .ironic_configure(
            controller,
            IronicConfigureArg {
                provider: provider.clone(),
                endpoint: None,
                microversion: None,
                auth_token: None,
                images: None,
            },
        )
        .expect("a controller configures");
    assert_eq!(
        (kept.backend, kept.credential_set, kept.images),
        (Backend::Ironic, true, vec![IMAGE.to_string()])
    );

    // An empty endpoint goes back to the simulated Ironic.
    let back = lab
        .m
        .canister
        .ironic_configure(
            delegate,
            IronicConfigureArg {
                provider,
                endpoint: Some(String::new()),
                microversion: None,
                auth_token: None,
                images: None,
            },
        )
        .expect("back to the simulated Ironic");
    assert_eq!(back.backend, Backend::Simulated);
}

// --- provisioning a node directly ---

#[test]
fn provisions_a_specific_node_through_ironic_with_increasing_progress() {
    let mut lab = Lab::new();
    lab.configure();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.node(NODE_B, "rack1-node02", LARGE_CLASS);
    let now = lab.now();

    let response = lab
        .provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    assert_eq!(
        (
            response.operation_id.as_str(),
            response.server_id.as_str(),
            response.server_name.as_str(),
            response.item_id,
            response.started_at_ns
        ),
        (NODE_A, NODE_A, "rack1-node01", item.id, now)
    );
    assert!(
        matches!(
            response.status,
            OperationStatus::Accepted | OperationStatus::InProgress
        ),
        "{response:?}"
    );
    assert!(!response.message.is_empty());

    // Progress only goes up, through at least one step between start and end.
    let mut progress: Vec<u8> = vec![];
    let mut states: Vec<String> = vec![];
    lab.wait_until("the deploy completes", OPERATION_MAX_NS, |lab| {
        let status = lab.status(NODE_A);
        assert_eq!(status.kind, OperationKind::Deploy);
        assert_ne!(status.status, OperationStatus::Failed, "{status:?}");
        if let Some(p) = status.progress_percent {
            progress.push(p);
        }
        if states.last() != Some(&status.provision_state) {
            states.push(status.provision_state.clone());
        }
        status.status == OperationStatus::Completed
    });
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress goes back: {progress:?}"
    );
    assert_eq!(progress.last(), Some(&100), "{progress:?}");
    assert!(
        progress.iter().any(|p| (1..100).contains(p)),
        "no progress seen between start and end: {progress:?} (states {states:?})"
    );
    assert!(states.contains(&"deploying".to_string()), "{states:?}");

    let done = lab.status(NODE_A);
    assert_eq!(
        (
            done.operation_id.as_str(),
            done.server_id.as_str(),
            done.item_id,
            done.provision_state.as_str(),
            done.started_at_ns,
            done.execution_id
        ),
        (NODE_A, NODE_A, item.id, "active", now, None)
    );
    let completed_at = done.completed_at_ns.expect("completed_at_ns");
    assert!(completed_at > now && completed_at <= lab.now());
    assert!(done.checked_at_ns >= completed_at);

    // Ironic deployed the image on the node; the other node was never touched.
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.provision_state, "active");
    assert_eq!(node.image_source().as_deref(), Some(IMAGE));
    assert!(node.lessee.as_deref().is_some_and(|l| !l.is_empty()));
    assert_eq!(lab.ironic.node(NODE_B).history, vec!["available"]);
    assert!(lab
        .ironic
        .requests()
        .iter()
        .all(|r| !r.path.contains(NODE_B) || r.method == HttpMethod::GET));

    // The image was set before the deploy was asked for, and the deploy asked once.
    let requests = lab.requests_on(NODE_A);
    assert_requests_well_formed(&lab.ironic.requests(), MICROVERSION);
    let patch = requests
        .iter()
        .position(|r| r.method == HttpMethod::PATCH && r.succeeded())
        .expect("a PATCH of the node");
    let deploys: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_target("active"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(deploys.len(), 1, "{requests:#?}");
    assert!(patch < deploys[0]);
    let ops = requests[patch].json().unwrap();
    let paths: Vec<&str> = ops
        .as_array()
        .expect("a JSON patch is a list")
        .iter()
        .filter_map(|op| op.get("path").and_then(Value::as_str))
        .collect();
    assert!(
        paths.contains(&"/instance_info/image_source") && paths.contains(&"/lessee"),
        "{ops}"
    );

    // Afterwards, the query answers what a refresh reads.
    let refreshed = lab.refresh(NODE_A);
    assert_eq!(refreshed.status, OperationStatus::Completed);
    assert_eq!(refreshed.provision_state, "active");
    assert_eq!(refreshed.checked_at_ns, lab.now());
    assert_eq!(lab.status(NODE_A), refreshed);

    // A deployed node is not available any more.
    let again = lab.provision(provision_node(NODE_A, IMAGE));
    assert_eq!(
        again,
        Err(ProvisionError::ServerNotAvailable {
            server_id: NODE_A.into(),
            provision_state: "active".into()
        })
    );
}

#[test]
fn the_config_drive_reaches_ironic_as_cloud_init_user_data() {
    let mut lab = Lab::new();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let user_data = "#cloud-config\nhostname: rack1-node01\n";
    lab.provision(ProvisionRequest {
        config_drive: Some(user_data.into()),
        ..provision_node(NODE_A, IMAGE)
    })
    .expect("provision_server");
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (done.status, done.provision_state.as_str()),
        (OperationStatus::Completed, "active"),
        "{done:?}"
    );
    // Since 1.56 Ironic builds the ISO itself from `{"user_data": ...}`.
    let drive = lab.ironic.node(NODE_A).configdrive.expect("a config drive");
    let sent = drive
        .get("user_data")
        .and_then(Value::as_str)
        .or_else(|| drive.as_str());
    assert_eq!(sent, Some(user_data), "{drive}");
}

#[test]
fn auto_selects_an_available_node_of_the_resource_class() {
    let mut lab = Lab::new();
    lab.configure();
    // Small; large but in maintenance; large but deployed; large but not the provider's item.
    lab.node(NODE_B, "rack1-node02", SMALL_CLASS);
    lab.node(NODE_C, "rack2-node03", LARGE_CLASS);
    lab.ironic.update_node(NODE_C, |n| {
        n.maintenance = true;
        n.maintenance_reason = Some("fan failure".into());
    });
    lab.node(NODE_D, "rack2-node04", LARGE_CLASS);
    lab.ironic.update_node(NODE_D, |n| {
        n.provision_state = "active".into();
        n.lessee = Some("someone-else".into());
    });
    lab.ironic.add_node(FakeNode::new(
        NODE_UNKNOWN,
        "rack9-unregistered",
        LARGE_CLASS,
    ));
    let item = lab.node(NODE_A, "rack2-node05", LARGE_CLASS);

    let provider = lab.m.provider.key();
    let auto = |class: &str| ProvisionRequest {
        resource_class: Some(class.into()),
        image_id: IMAGE.into(),
        provider: Some(provider.clone()),
        ..ProvisionRequest::default()
    };
    let response = lab.provision(auto(LARGE_CLASS)).expect("auto-select");
    assert_eq!(
        (
            response.server_id.as_str(),
            response.operation_id.as_str(),
            response.server_name.as_str(),
            response.item_id
        ),
        (NODE_A, NODE_A, "rack2-node05", item.id)
    );
    // Ironic was asked for available nodes of the class.
    let list = lab
        .ironic
        .requests()
        .into_iter()
        .find(Recorded::is_list)
        .expect("a node list");
    assert_eq!(list.param("provision_state"), Some("available"));
    assert_eq!(list.param("resource_class"), Some(LARGE_CLASS));
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(done.status, OperationStatus::Completed, "{done:?}");
    for other in [NODE_B, NODE_C, NODE_D, NODE_UNKNOWN] {
        assert!(
            !lab.ironic
                .requests()
                .iter()
                .any(|r| r.method != HttpMethod::GET && r.path.contains(other)),
            "{other} was changed"
        );
    }

    // Now no large node is left; a class nobody has neither.
    for class in [LARGE_CLASS, "baremetal.gpu"] {
        assert_eq!(
            lab.provision(auto(class)),
            Err(ProvisionError::NoAvailableServers {
                resource_class: Some(class.into())
            })
        );
    }
    // The small one is still there.
    let small = lab.provision(auto(SMALL_CLASS)).expect("the small node");
    assert_eq!(small.server_id, NODE_B);
}

#[test]
fn each_error_row_of_the_seed_is_a_typed_error_and_changes_nothing() {
    let mut lab = Lab::new();
    lab.configure();
    lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.node(NODE_C, "rack2-node03", LARGE_CLASS);
    lab.ironic.update_node(NODE_C, |n| {
        n.provision_state = "active".into();
        n.instance_info
            .insert("image_source".into(), Value::String("debian-12".into()));
    });
    lab.node(NODE_D, "rack2-node04", LARGE_CLASS);
    lab.ironic.update_node(NODE_D, |n| {
        n.maintenance = true;
        n.maintenance_reason = Some("disk swap".into());
    });
    // Registered, but Ironic has no such node.
    lab.item(NODE_B, LARGE_CLASS);
    let provider = lab.m.provider.key();

    // Server not found: not a node of any provider; a node Ironic does not know.
    for uuid in [NODE_UNKNOWN, NODE_B] {
        assert_eq!(
            lab.provision(provision_node(uuid, IMAGE)),
            Err(ProvisionError::ServerNotFound {
                server_id: uuid.into()
            }),
            "{uuid}"
        );
    }
    // Server not available: deployed, or in maintenance.
    assert_eq!(
        lab.provision(provision_node(NODE_C, IMAGE)),
        Err(ProvisionError::ServerNotAvailable {
            server_id: NODE_C.into(),
            provision_state: "active".into()
        })
    );
    let maintenance = lab.provision(provision_node(NODE_D, IMAGE));
    assert!(
        matches!(&maintenance, Err(ProvisionError::ServerNotAvailable { server_id, .. }) if server_id == NODE_D),
        "{maintenance:?}"
    );
    // No available servers matching the criteria.
    assert_eq!(
        lab.provision(ProvisionRequest {
            resource_class: Some("baremetal.gpu".into()),
            provider: Some(provider.clone()),
            image_id: IMAGE.into(),
            ..ProvisionRequest::default()
        }),
        Err(ProvisionError::NoAvailableServers {
            resource_class: Some("baremetal.gpu".into())
        })
    );
    // Image not found: the provider deploys only the images it lists.
    let delegate = lab.delegate();
    lab.m
        .canister
        .ironic_configure(
            delegate,
            IronicConfigureArg {
                images: Some(vec![IMAGE.into(), "debian-12".into()]),
                ..lab.configure_arg()
            },
        )
        .expect("images");
    assert_eq!(
        lab.provision(provision_node(NODE_A, "windows-2003")),
        Err(ProvisionError::ImageNotFound {
            image_id: "windows-2003".into()
        })
    );
    // Malformed requests.
    for request in [
        ProvisionRequest {
            image_id: IMAGE.into(),
            ..ProvisionRequest::default()
        },
        provision_node(NODE_A, ""),
        ProvisionRequest {
            resource_class: Some(LARGE_CLASS.into()),
            image_id: IMAGE.into(),
            ..ProvisionRequest::default()
        },
    ] {
        let result = lab.provision(request.clone());
        assert!(
            matches!(result, Err(ProvisionError::InvalidArgument { .. })),
            "{request:?}: {result:?}"
        );
    }

    // Ironic API errors: it fails, or it cannot be reached.
    lab.ironic.inject(On::Any, 50, Fault::InternalError);
    let failed = lab.provision(provision_node(NODE_A, IMAGE));
    assert!(
        matches!(
            failed,
            Err(ProvisionError::IronicFailed {
                status: Some(500),
                ..
            })
        ),
        "{failed:?}"
    );
    lab.ironic.clear_faults();
    lab.ironic.inject(On::Any, 50, Fault::Refused);
    let unreachable = lab.provision(provision_node(NODE_A, IMAGE));
    assert!(
        matches!(unreachable, Err(ProvisionError::IronicUnreachable { .. })),
        "{unreachable:?}"
    );
    lab.ironic.clear_faults();
    // A token Ironic refuses.
    lab.ironic.require_token("another-token");
    let refused = lab.provision(provision_node(NODE_A, IMAGE));
    assert!(
        matches!(
            refused,
            Err(ProvisionError::IronicFailed {
                status: Some(401),
                ..
            })
        ),
        "{refused:?}"
    );
    lab.ironic.require_token(TOKEN);

    // None of these changed a node or left an operation behind.
    assert!(
        lab.ironic
            .requests()
            .iter()
            .all(|r| r.method == HttpMethod::GET),
        "a refused request wrote to Ironic"
    );
    for uuid in [NODE_A, NODE_B, NODE_C, NODE_D] {
        let status = lab.m.canister.provision_status(lab.controller(), uuid);
        assert!(status.is_err(), "{uuid}: {status:?}");
    }
    // And the node is still there to provision.
    lab.provision(provision_node(NODE_A, IMAGE))
        .expect("provision after the errors");
}

// --- who may ---

#[test]
fn the_lessee_the_provider_and_controllers_may_provision_and_read_nobody_else() {
    let mut lab = Lab::new();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    lab.m.canister.driver.set_inspect_ingress(false);
    lab.configure();
    let leased = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.node(NODE_B, "rack1-node02", LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(leased.id, now, now + DAY_NS, 100);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 4);
    lab.wait_phase(lease.id, Phase::Available, OPERATION_MAX_NS);
    // Another consumer with an offerset of its own.
    let b = consumer("b");
    lab.m.request(b, request(None, 3600));
    let provider = lab.m.provider.key();
    let auto = ProvisionRequest {
        resource_class: Some(LARGE_CLASS.into()),
        provider: Some(provider),
        image_id: IMAGE.into(),
        ..ProvisionRequest::default()
    };

    // Nobody else: not for the leased node, the free one, or any node.
    for (caller, who) in [
        (stranger(), "a stranger"),
        (b, "another consumer"),
        (Principal::anonymous(), "anonymous"),
    ] {
        for uuid in [NODE_A, NODE_B] {
            not_authorized(
                lab.m
                    .canister
                    .provision_server(caller, provision_node(uuid, IMAGE)),
                &format!("{who} provisions {uuid}"),
            );
        }
        not_authorized(
            lab.m.canister.provision_server(caller, auto.clone()),
            &format!("{who} auto-selects"),
        );
        not_authorized(
            lab.m.canister.provision_status(caller, NODE_A),
            &format!("{who} reads"),
        );
        not_authorized(
            lab.m.canister.provision_refresh(caller, NODE_A),
            &format!("{who} refreshes"),
        );
    }
    // The lessee only for its node.
    not_authorized(
        lab.m
            .canister
            .provision_server(a, provision_node(NODE_B, IMAGE)),
        "the lessee provisions another node",
    );
    assert!(lab
        .ironic
        .requests()
        .iter()
        .all(|r| !r.path.contains(NODE_B)));

    // The lessee reads its node and may ask to provision it (it is deployed: not available).
    let read = lab
        .m
        .canister
        .provision_status(a, NODE_A)
        .expect("lessee reads");
    assert_eq!(
        (read.kind, read.status, read.execution_id),
        (
            OperationKind::Deploy,
            OperationStatus::Completed,
            Some(lease.id)
        )
    );
    let refreshed = lab
        .m
        .canister
        .provision_refresh(a, NODE_A)
        .expect("lessee refreshes");
    assert_eq!(refreshed.provision_state, "active");
    assert_eq!(
        lab.m
            .canister
            .provision_server(a, provision_node(NODE_A, IMAGE)),
        Err(ProvisionError::ServerNotAvailable {
            server_id: NODE_A.into(),
            provision_state: "active".into()
        })
    );

    // The provider's delegate provisions the free node; controllers read it.
    let delegate = lab.delegate();
    lab.m
        .canister
        .provision_server(delegate, provision_node(NODE_B, IMAGE))
        .expect("the delegate provisions");
    lab.m
        .canister
        .provision_status(delegate, NODE_A)
        .expect("the delegate reads");
    let controller = lab.controller();
    lab.m
        .canister
        .provision_status(controller, NODE_B)
        .expect("a controller reads");
    lab.m
        .canister
        .provision_refresh(controller, NODE_B)
        .expect("a controller refreshes");
    // A revoked delegate may no more.
    lab.m
        .canister
        .delegate(&mut lab.m.provider, delegate, false)
        .expect("revoke");
    not_authorized(
        lab.m.canister.provision_status(delegate, NODE_B),
        "a revoked delegate",
    );
}

// --- leases on an Ironic-configured provider ---

#[test]
fn a_lease_deploys_its_node_for_the_project_and_undeploys_it_at_its_end() {
    let mut lab = Lab::new();
    lab.configure();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-ironic", 2);

    // PREPARING while Ironic deploys; the item is reserving.
    lab.advance(SECOND_NS);
    assert_eq!(lab.m.phase(lease.id), Phase::Preparing);
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Reserving);
    let mut seen_preparing_while_deploying = false;
    lab.wait_until("the lease is AVAILABLE", OPERATION_MAX_NS, |lab| {
        let phase = lab.m.phase(lease.id);
        assert!(
            matches!(phase, Phase::Preparing | Phase::Available),
            "{phase:?}"
        );
        if phase == Phase::Preparing && lab.ironic.node(NODE_A).provision_state != "available" {
            seen_preparing_while_deploying = true;
        }
        if phase == Phase::Available {
            assert_eq!(
                lab.ironic.node(NODE_A).provision_state,
                "active",
                "AVAILABLE before the node is active"
            );
        }
        phase == Phase::Available
    });
    assert!(seen_preparing_while_deploying);
    let leased = lab.m.item(item.id);
    assert_eq!(
        (leased.status, leased.lease_id),
        (ItemStatus::Leased, Some(lease.id))
    );
    let node = lab.ironic.node(NODE_A);
    assert_eq!(
        (
            node.provision_state.as_str(),
            node.lessee.as_deref(),
            node.image_source().as_deref()
        ),
        ("active", Some("proj-ironic"), Some(IMAGE))
    );
    let deployed = lab.m.canister.provision_status(a, NODE_A).unwrap();
    assert_eq!(
        (
            deployed.kind,
            deployed.status,
            deployed.execution_id,
            deployed.item_id,
            deployed.progress_percent
        ),
        (
            OperationKind::Deploy,
            OperationStatus::Completed,
            Some(lease.id),
            item.id,
            Some(100)
        )
    );
    assert_requests_well_formed(&lab.ironic.requests(), MICROVERSION);

    // Its end: RELEASING while Ironic undeploys and cleans, then COMPLETED.
    let end = lease.end_ns;
    lab.advance(end - lab.now());
    let mut releasing_seen = false;
    let done = lab.wait_until("the lease is COMPLETED", OPERATION_MAX_NS, |lab| {
        let phase = lab.m.phase(lease.id);
        releasing_seen |= phase == Phase::Releasing;
        assert!(
            matches!(
                phase,
                Phase::Available | Phase::Releasing | Phase::Completed
            ),
            "{phase:?}"
        );
        phase == Phase::Completed
    });
    assert!(done < OPERATION_MAX_NS);
    lab.wait_until("the node is clean", OPERATION_MAX_NS, |lab| {
        lab.ironic.node(NODE_A).provision_state == "available"
    });
    let node = lab.ironic.node(NODE_A);
    assert_eq!(node.lessee, None, "the lessee is cleared");
    assert_eq!(node.image_source(), None);
    assert!(
        node.history.ends_with(&[
            "deleting".to_string(),
            "cleaning".to_string(),
            "clean wait".to_string(),
            "cleaning".to_string(),
            "available".to_string()
        ]),
        "{:?}",
        node.history
    );
    assert!(lab
        .requests_on(NODE_A)
        .iter()
        .any(|r| r.is_target("deleted") || r.is_target("undeploy")));
    let undeploy = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (
            undeploy.kind,
            undeploy.status,
            undeploy.provision_state.as_str(),
            undeploy.execution_id
        ),
        (
            OperationKind::Undeploy,
            OperationStatus::Completed,
            "available",
            Some(lease.id)
        )
    );
    lab.wait_until("the item is available", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    let phases = lab.m.history(Entity::Execution(lease.id));
    assert_in_order(
        &phases,
        &[
            "ACCEPTED",
            "PREPARING",
            "AVAILABLE",
            "RELEASING",
            "COMPLETED",
        ],
    );
    let _ = releasing_seen;
    let statuses = lab.m.history(Entity::Item(item.id));
    assert_in_order(
        &statuses,
        &["reserving", "leased", "rebuilding", "available"],
    );
    assert_requests_well_formed(&lab.ironic.requests(), MICROVERSION);
}

// --- the simulated Ironic ---

#[test]
fn the_simulated_ironic_takes_a_lease_from_offerset_to_completed() {
    let mut lab = Lab::new();
    let item = lab.item(NODE_A, LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let settings = lab
        .m
        .canister
        .ironic_settings(stranger(), lab.m.provider.key())
        .unwrap();
    assert_eq!(settings.backend, Backend::Simulated);

    let a = consumer("a");
    let start = now + MINUTE_NS;
    let view = lab.m.request(
        a,
        ResourceRequest {
            project: Some("proj-sim".into()),
            ..one_offer(start, 3600)
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    let lease = lab
        .m
        .accept(a, view.offerset.execution_ids[0], &lessee_key(3));
    assert_eq!(lease.phase, Phase::Waiting);
    lab.advance(start - lab.now());

    let mut states = vec![];
    let mut progress = vec![];
    lab.wait_until("the lease is AVAILABLE", OPERATION_MAX_NS, |lab| {
        let phase = lab.m.phase(lease.id);
        assert!(
            matches!(phase, Phase::Waiting | Phase::Preparing | Phase::Available),
            "{phase:?}"
        );
        if let Ok(status) = lab.m.canister.provision_status(a, NODE_A) {
            if states.last() != Some(&status.provision_state) {
                states.push(status.provision_state.clone());
            }
            progress.extend(status.progress_percent);
        }
        phase == Phase::Available
    });
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress goes back: {progress:?}"
    );
    assert!(states.contains(&"deploying".to_string()), "{states:?}");
    let deployed = lab.status(NODE_A);
    assert_eq!(
        (
            deployed.kind,
            deployed.status,
            deployed.provision_state.as_str(),
            deployed.execution_id
        ),
        (
            OperationKind::Deploy,
            OperationStatus::Completed,
            "active",
            Some(lease.id)
        )
    );
    let refreshed = lab.refresh(NODE_A);
    assert_eq!(refreshed.provision_state, "active");
    assert_eq!(lab.status(NODE_A), refreshed);
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Leased);

    lab.advance(lease.end_ns - lab.now());
    let done = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    lab.wait_until("the simulated node is available", OPERATION_MAX_NS, |lab| {
        let status = lab.status(NODE_A);
        status.kind == OperationKind::Undeploy && status.status == OperationStatus::Completed
    });
    let cleaned = lab.refresh(NODE_A);
    assert_eq!(
        (cleaned.kind, cleaned.provision_state.as_str()),
        (OperationKind::Undeploy, "available")
    );
    lab.wait_until("the item is available", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    assert_in_order(
        &lab.m.history(Entity::Execution(lease.id)),
        &[
            "OFFERED",
            "ACCEPTED",
            "WAITING",
            "PREPARING",
            "AVAILABLE",
            "RELEASING",
            "COMPLETED",
        ],
    );
    assert!(
        lab.ironic.requests().is_empty(),
        "the simulated Ironic makes no outcall"
    );

    // The node can be leased again.
    lab.offer_again(item.id);
    let b = consumer("b");
    let again = lab.lease_now(b, "proj-b", 1);
    lab.wait_phase(again.id, Phase::Available, OPERATION_MAX_NS);
}

#[test]
fn a_delegate_provisions_a_simulated_node_directly() {
    let mut lab = Lab::new();
    let item = lab.item(NODE_A, LARGE_CLASS);
    lab.item(NODE_B, SMALL_CLASS);
    let response = lab
        .provision(provision_node(NODE_A, IMAGE))
        .expect("provision_server");
    assert_eq!(
        (response.server_id.as_str(), response.item_id),
        (NODE_A, item.id)
    );
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (
            done.status,
            done.provision_state.as_str(),
            done.progress_percent
        ),
        (OperationStatus::Completed, "active", Some(100)),
        "{done:?}"
    );
    assert_eq!(
        lab.provision(provision_node(NODE_A, IMAGE)),
        Err(ProvisionError::ServerNotAvailable {
            server_id: NODE_A.into(),
            provision_state: "active".into()
        })
    );
    // Auto-select among the simulated nodes, by their items' resource class.
    let provider = lab.m.provider.key();
    let small = lab
        .provision(ProvisionRequest {
            resource_class: Some(SMALL_CLASS.into()),
            provider: Some(provider.clone()),
            image_id: IMAGE.into(),
            ..ProvisionRequest::default()
        })
        .expect("auto-select a simulated node");
    assert_eq!(small.server_id, NODE_B);
    assert_eq!(
        lab.provision(ProvisionRequest {
            resource_class: Some(LARGE_CLASS.into()),
            provider: Some(provider),
            image_id: IMAGE.into(),
            ..ProvisionRequest::default()
        }),
        Err(ProvisionError::NoAvailableServers {
            resource_class: Some(LARGE_CLASS.into())
        })
    );
    assert_eq!(
        lab.provision(provision_node(NODE_UNKNOWN, IMAGE)),
        Err(ProvisionError::ServerNotFound {
            server_id: NODE_UNKNOWN.into()
        })
    );
    assert!(lab.ironic.requests().is_empty());

    // Provisioned outside the market, the item left it; putting it back undeploys first.
    assert_eq!(lab.m.item(item.id).status, ItemStatus::Maintenance);
    let delegate = lab.delegate();
    let back = InventorySetStatusArg {
        provider: lab.m.provider.key(),
        item_id: item.id,
        status: ItemStatus::Available,
        reason: "done with it".into(),
    };
    let moved = lab.m.canister.inventory_set_status(delegate, back);
    assert_eq!(moved.map(|i| i.status), Ok(ItemStatus::Rebuilding));
    lab.wait_until("the node is cleaned", 10 * MINUTE_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    let undeploy = lab.status(NODE_A);
    assert_eq!(
        (
            undeploy.kind,
            undeploy.status,
            undeploy.provision_state.as_str()
        ),
        (
            OperationKind::Undeploy,
            OperationStatus::Completed,
            "available"
        )
    );
}

#[test]
fn a_simulated_deploy_failure_fails_the_lease_and_the_node_is_cleaned() {
    let mut lab = Lab::new();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    lab.m.canister.driver.set_inspect_ingress(false);
    let item = lab.item(NODE_A, LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let fail = |fail_deploy, fail_clean| SimFailureArg {
        provider: lab.m.provider.key(),
        server_id: NODE_A.into(),
        fail_deploy,
        fail_clean,
    };
    for caller in [stranger(), consumer("a"), Principal::anonymous()] {
        not_authorized(
            lab.m
                .canister
                .ironic_sim_set_failure(caller, fail(true, false)),
            "set a simulated failure",
        );
    }
    let delegate = lab.delegate();
    lab.m
        .canister
        .ironic_sim_set_failure(delegate, fail(true, false))
        .expect("ironic_sim_set_failure");

    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-sim", 2);
    let failed = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(failed.phase, Phase::Failed, "{failed:?}");
    assert!(
        failed.reason.as_deref().is_some_and(|r| !r.is_empty()),
        "{failed:?}"
    );
    assert!(!lab
        .m
        .history(Entity::Execution(lease.id))
        .contains(&"AVAILABLE".to_string()));
    lab.wait_until("the failed node is cleaned", OPERATION_MAX_NS, |lab| {
        let status = lab.status(NODE_A);
        status.kind == OperationKind::Undeploy && status.provision_state == "available"
    });
    lab.wait_until("the item is available", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Available
    });
    // The failure was for one deploy: the next lease gets the node.
    lab.offer_again(item.id);
    let b = consumer("b");
    let next = lab.lease_now(b, "proj-b", 1);
    lab.wait_phase(next.id, Phase::Available, OPERATION_MAX_NS);
}

#[test]
fn a_simulated_clean_failure_completes_the_lease_and_puts_the_item_in_maintenance() {
    let mut lab = Lab::new();
    let item = lab.item(NODE_A, LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let controller = lab.controller();
    lab.m
        .canister
        .ironic_sim_set_failure(
            controller,
            SimFailureArg {
                provider: lab.m.provider.key(),
                server_id: NODE_A.into(),
                fail_deploy: false,
                fail_clean: true,
            },
        )
        .expect("a controller sets a simulated failure");
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-sim", 1);
    lab.wait_phase(lease.id, Phase::Available, OPERATION_MAX_NS);
    lab.advance(lease.end_ns - lab.now());
    let done = lab.wait_final(lease.id, OPERATION_MAX_NS);
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    lab.wait_until("the item is in maintenance", OPERATION_MAX_NS, |lab| {
        lab.m.item(item.id).status == ItemStatus::Maintenance
    });
    let status = lab.status(NODE_A);
    assert_eq!(
        (status.kind, status.status, status.provision_state.as_str()),
        (
            OperationKind::Undeploy,
            OperationStatus::Failed,
            "clean failed"
        )
    );
    // Nobody gets the node while it is in maintenance.
    let b = consumer("b");
    let view = lab.m.request(b, request(None, 3600));
    assert!(view.offers.iter().all(|e| e.item_id != item.id), "{view:?}");
}

// --- secrets ---

#[test]
fn no_reply_of_any_method_contains_the_token() {
    let mut lab = Lab::on_host();
    lab.configure();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.node(NODE_B, "rack1-node02", LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 1);
    lab.wait_phase(lease.id, Phase::Available, OPERATION_MAX_NS);
    let delegate = lab.delegate();
    lab.provision(provision_node(NODE_B, IMAGE))
        .expect("provision_server");
    lab.wait_operation(NODE_B, OPERATION_MAX_NS);
    // A failing call too: Ironic down.
    lab.ironic.inject(On::Any, 3, Fault::InternalError);
    let _ = lab.m.canister.provision_refresh(delegate, NODE_B);
    lab.ironic.clear_faults();
    lab.advance(lease.end_ns - lab.now());
    lab.wait_final(lease.id, OPERATION_MAX_NS);

    // An Ironic (or a proxy) that echoes the token in its errors.
    let echo = format!(
        r#"{{"error_message": "{{\"faultstring\": \"Token {TOKEN} is not valid for this project\", \"faultcode\": \"Client\", \"debuginfo\": null}}"}}"#
    );
    lab.ironic.inject(On::Any, 2, Fault::Answer(403, echo));
    let controller = lab.controller();
    for method in ["provision_refresh", "provision_server"] {
        let arg = if method == "provision_server" {
            candid::encode_one(provision_node(NODE_A, IMAGE)).unwrap()
        } else {
            candid::encode_one(NODE_B).unwrap()
        };
        let bytes = lab
            .m
            .canister
            .update_raw(controller, method, arg)
            .expect("a reply");
        let reply: ProvisionResult<candid::Reserved> = candid::decode_one(&bytes)
            .map(|r: ProvisionResult<ProvisionStatus>| r.map(|_| candid::Reserved))
            .or_else(|_| {
                candid::decode_one(&bytes)
                    .map(|r: ProvisionResult<ProvisionResponse>| r.map(|_| candid::Reserved))
            })
            .expect("decodes");
        assert!(
            matches!(
                reply,
                Err(ProvisionError::IronicFailed {
                    status: Some(403),
                    ..
                })
            ),
            "{method}: {reply:?}"
        );
        assert!(!contains(&bytes, TOKEN), "{method} echoes the token");
    }
    lab.ironic.clear_faults();
    let provider = lab.m.provider.key();
    let mut calls: Vec<(Principal, &str, Vec<u8>, bool)> = vec![];
    let mut add = |caller: Principal, method: &'static str, arg: Vec<u8>, update: bool| {
        calls.push((caller, method, arg, update))
    };
    for caller in [controller, delegate, a, stranger(), Principal::anonymous()] {
        add(
            caller,
            "ironic_settings",
            candid::encode_one(provider.clone()).unwrap(),
            false,
        );
        for uuid in [NODE_A, NODE_B] {
            add(
                caller,
                "provision_status",
                candid::encode_one(uuid).unwrap(),
                false,
            );
            add(
                caller,
                "provision_refresh",
                candid::encode_one(uuid).unwrap(),
                true,
            );
        }
        add(
            caller,
            "execution_get",
            candid::encode_one(lease.id).unwrap(),
            false,
        );
        add(
            caller,
            "lease_get",
            candid::encode_one(lease.id).unwrap(),
            false,
        );
        add(
            caller,
            "contract_get",
            candid::encode_one(lease.id).unwrap(),
            false,
        );
        add(
            caller,
            "audit_log",
            candid::encode_one(AuditArg {
                limit: Some(500),
                ..AuditArg::default()
            })
            .unwrap(),
            false,
        );
        add(caller, "status", candid::encode_args(()).unwrap(), false);
        add(
            caller,
            "inventory_list",
            candid::encode_one(all_items()).unwrap(),
            false,
        );
        add(
            caller,
            "market_delegation",
            candid::encode_one(provider.clone()).unwrap(),
            false,
        );
        add(
            caller,
            "executions_list",
            candid::encode_one(ExecutionsListArg {
                role: Role::Provider,
                provider: Some(provider.clone()),
                phase: None,
                after: None,
                limit: None,
            })
            .unwrap(),
            false,
        );
        add(
            caller,
            "provision_server",
            candid::encode_one(provision_node(NODE_A, IMAGE)).unwrap(),
            true,
        );
        add(
            caller,
            "ironic_configure",
            candid::encode_one(IronicConfigureArg {
                images: None,
                ..lab.configure_arg()
            })
            .unwrap(),
            true,
        );
    }
    for (caller, method, arg, update) in calls {
        let reply = if update {
            lab.m.canister.update_raw(caller, method, arg)
        } else {
            lab.m.canister.driver.query(caller, method, arg)
        };
        let bytes = match reply {
            Ok(bytes) => bytes,
            Err(reject) => reject.message.into_bytes(),
        };
        assert!(
            !contains(&bytes, TOKEN),
            "{method} by {caller} shows the token"
        );
    }
    let log = lab.host.as_ref().unwrap().borrow_mut().take_debug_log();
    assert!(
        log.iter().all(|line| !line.contains(TOKEN)),
        "the token is logged"
    );
}

// --- upgrades, several providers ---

#[test]
fn an_upgrade_during_a_deploy_loses_neither_the_operation_nor_the_lease() {
    let mut lab = Lab::new();
    lab.configure();
    let item = lab.node(NODE_A, "rack1-node01", LARGE_CLASS);
    lab.node(NODE_B, "rack1-node02", LARGE_CLASS);
    let now = lab.now();
    lab.m.offer(item.id, now, now + DAY_NS, 100);
    lab.ironic.set_manual(true);
    let a = consumer("a");
    let lease = lab.lease_now(a, "proj-a", 2);
    lab.provision(provision_node(NODE_B, IMAGE))
        .expect("provision_server");
    lab.wait_until("both deploys are asked for", 5 * MINUTE_NS, |lab| {
        lab.ironic.node(NODE_A).provision_state == "deploying"
            && lab.ironic.node(NODE_B).provision_state == "deploying"
    });
    let before = (lab.status(NODE_A), lab.status(NODE_B));
    let settings = lab
        .m
        .canister
        .ironic_settings(stranger(), lab.m.provider.key())
        .unwrap();

    lab.m
        .canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    assert_eq!((lab.status(NODE_A), lab.status(NODE_B)), before);
    assert_eq!(
        lab.m
            .canister
            .ironic_settings(stranger(), lab.m.provider.key())
            .unwrap(),
        settings
    );
    assert_eq!(lab.m.phase(lease.id), Phase::Preparing);

    // Ironic goes on; so does the canister, with the same endpoint and token.
    lab.ironic.set_manual(false);
    lab.wait_phase(lease.id, Phase::Available, OPERATION_MAX_NS);
    let b = lab.wait_operation(NODE_B, OPERATION_MAX_NS);
    assert_eq!(b.status, OperationStatus::Completed, "{b:?}");
    assert_eq!(lab.ironic.node(NODE_A).lessee.as_deref(), Some("proj-a"));
    assert_requests_well_formed(&lab.ironic.requests(), MICROVERSION);
}

#[test]
fn a_node_uuid_two_providers_have_needs_the_provider_named() {
    let mut lab = Lab::new();
    let mine = lab.item(NODE_A, LARGE_CLASS);
    // A second provider registers a node with the same UUID in its own (simulated) Ironic.
    let mut other = Provider::new(8);
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    lab.m
        .canister
        .delegate(&mut other, other_delegate, true)
        .expect("market_delegate");
    let theirs = lab
        .m
        .canister
        .inventory_register(
            other_delegate,
            InventoryRegisterArg {
                provider: other.key(),
                items: vec![Market::node_input(
                    LARGE,
                    NODE_A,
                    attributes(32, 128, 1000, 0),
                )],
            },
        )
        .expect("inventory_register")
        .remove(0);
    assert_ne!(mine.id, theirs.id);

    let controller = lab.controller();
    let ambiguous = lab
        .m
        .canister
        .provision_server(controller, provision_node(NODE_A, IMAGE));
    assert!(
        matches!(ambiguous, Err(ProvisionError::InvalidArgument { .. })),
        "{ambiguous:?}"
    );
    // Each delegate names its provider, and gets its own node; not the other's.
    let named = lab
        .m
        .canister
        .provision_server(
            other_delegate,
            ProvisionRequest {
                provider: Some(other.key()),
                ..provision_node(NODE_A, IMAGE)
            },
        )
        .expect("the other provider's node");
    assert_eq!(named.item_id, theirs.id);
    not_authorized(
        lab.m.canister.provision_server(
            other_delegate,
            ProvisionRequest {
                provider: Some(lab.m.provider.key()),
                ..provision_node(NODE_A, IMAGE)
            },
        ),
        "a delegate provisions another provider's node",
    );
    let status = lab
        .m
        .canister
        .provision_status(other_delegate, NODE_A)
        .expect("its own operation");
    assert_eq!(status.item_id, theirs.id);
    let done = lab.wait_operation(NODE_A, OPERATION_MAX_NS);
    assert_eq!(
        (done.item_id, done.status),
        (theirs.id, OperationStatus::Completed)
    );
    // The first provider's node of that UUID is untouched and still available.
    let delegate = lab.delegate();
    let mine_now = lab
        .m
        .canister
        .provision_server(
            delegate,
            ProvisionRequest {
                provider: Some(lab.m.provider.key()),
                ..provision_node(NODE_A, IMAGE)
            },
        )
        .expect("the first provider's node is still available");
    assert_eq!(mine_now.item_id, mine.id);
}
