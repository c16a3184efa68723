//! Building the market: items, offers, policies, an Ironic configuration, leases in every phase.

use super::calls::{
    advance_to, consumer, delegate, ironic_delegate, key, lessee_key, stranger, update,
};
use super::{
    World, FLAKY_CLASS, IMAGE, IRONIC_ENDPOINT, IRONIC_SECRET, MARKET_SECRET, NODE_CLASS, NODE_SKU,
    PEZ_SKU,
};
use candid::Principal;
use ic0_host::Host;
use marketplace::api::*;
use marketplace::market::delegation;
use marketplace::time::{DAY_NS, HOUR_NS, SECOND_NS};
use serde_bytes::ByteBuf;

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
            lessee_key: Some(lessee_key(9)),
            lessee_key_hex: None,
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
pub(super) fn build_market(host: &mut Host, sets: u32, world: &mut World) -> u64 {
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
    // A delegation that expires (a year on), so MARKET_DELEGATE_EXPIRY has an entry to carry.
    let arg = delegation::signed_until(
        &MARKET_SECRET,
        &canister,
        Principal::self_authenticating(b"drill ops for a year"),
        true,
        2,
        Some(t0 + 365 * DAY_NS),
    );
    let delegated: Result<Delegation, MarketError> =
        update(host, stranger(), "market_delegate", (arg,));
    delegated.expect("market_delegate (expiring)");
    let policies = PoliciesUpdate {
        allowed_images: Some(vec![IMAGE.into(), "debian-12".into()]),
        max_lease_seconds: Some(25 * 24 * 3600),
        max_open_offersets_per_principal: Some(500),
        max_active_leases_per_principal: Some(500),
        offer_ttl_seconds: Some(600),
        max_offers_per_offerset: Some(8),
        stuck_timeout_seconds: Some(1800),
        rebuild_seconds: Some(120),
        max_held_items_per_principal: Some(400),
        max_hold_window_seconds: Some(25 * 24 * 3600),
        ..PoliciesUpdate::default()
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
    // The market provider, with items now, names its payout account (its key calling as
    // itself), so the upgrade carries a named one.
    let payout = PayoutSetArg {
        provider: key(&MARKET_SECRET),
        account: Some(Account {
            owner: Principal::self_authenticating(b"drill provider treasury"),
            subaccount: Some([7; 32]),
        }),
    };
    let key_principal = marketplace::catalog::signing::provider_of(&MARKET_SECRET).principal();
    let named: Result<ProviderPayout, MarketError> =
        update(host, key_principal, "provider_payout_set", (payout,));
    named.expect("provider_payout_set");
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
                terms: None,
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
                    terms: None,
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
    // A project (id 1) whose members the views read before and after the upgrade.
    let project: Result<Project, MarketError> = update(
        host,
        consumer(0),
        "project_create",
        (ProjectCreateArg {
            name: "drill lab".into(),
            members: vec![consumer(1), consumer(2)],
        },),
    );
    project.expect("project_create");
    advance_to(host, at);
    at
}
