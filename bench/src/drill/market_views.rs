//! The market's views for the snapshot: delegations, items, offers, executions, audit log, costs.

use super::calls::{delegate, key, pem, query};
use super::views::Views;
use super::{
    World, IMAGE, IRONIC_ENDPOINT, IRONIC_SECRET, MARKET_SECRET, NODE_CLASS, UNKNOWN_SECRET,
};
use candid::Principal;
use ic0_host::Host;
use marketplace::api::*;
use marketplace::costs::{OutcallCostsArg, ProvisionCostsArg};
use std::collections::BTreeSet;

pub(super) fn market_views(
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
        v.one(
            host,
            anyone,
            "provider_payout",
            name.to_string(),
            provider.clone(),
        );
    }
    v.one(host, anyone, "products", String::new(), ());
    // The drill's project, as its owner, a member, a controller and a stranger see it.
    for (name, who) in [
        ("owner", super::calls::consumer(0)),
        ("member", super::calls::consumer(1)),
        ("controller", controller),
        ("stranger", anyone),
    ] {
        v.one(host, who, "project_get", format!("1 as {name}"), 1u64);
        v.one(host, who, "projects_mine", name.to_string(), None::<u64>);
    }
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

    // Free windows of every item, and of each SKU, over a fixed year (the same range before
    // and after the upgrade).
    let now = ic0_host::DEFAULT_TIME_NANOS;
    let year = 365 * 24 * 3_600 * 1_000_000_000u64;
    let window = |item_id, sku: Option<String>| AvailabilityArg {
        item_id,
        sku,
        from_ns: now,
        to_ns: now + year,
        after: None,
        limit: Some(50),
    };
    for item in &items {
        v.one(
            host,
            anyone,
            "availability",
            format!("item={}", item.id),
            window(Some(item.id), None),
        );
    }
    let skus: BTreeSet<String> = items.iter().map(|i| i.sku.clone()).collect();
    for sku in skus {
        v.one(
            host,
            anyone,
            "availability",
            format!("sku={sku}"),
            window(None, Some(sku.clone())),
        );
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
        for method in [
            "execution_get",
            "contract_get",
            "lease_get",
            "execution_payment",
        ] {
            v.one(
                host,
                execution.consumer,
                method,
                execution.id.to_string(),
                execution.id,
            );
        }
    }
    for method in [
        "execution_get",
        "contract_get",
        "lease_get",
        "execution_payment",
    ] {
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

    // Statements: each consumer's, the provider's (a free drill market: empty pages).
    let mut statements = vec![(
        "provider".to_string(),
        delegate(),
        PaymentsListArg {
            role: Role::Provider,
            provider: Some(key(&MARKET_SECRET)),
            after: None,
            limit: None,
        },
    )];
    for who in &world.consumers {
        statements.push((
            format!("consumer={who}"),
            *who,
            PaymentsListArg {
                role: Role::Consumer,
                provider: None,
                after: None,
                limit: None,
            },
        ));
    }
    for (label, who, arg) in statements {
        v.one(host, who, "payments_list", label, arg);
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
