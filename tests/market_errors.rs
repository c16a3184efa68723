//! Bad input to the market, end to end: every refusal is a typed `MarketError` reply (never a
//! reject or a trap) and changes nothing: items, offers, the audit log, products, policies and
//! the executions concerned read the same before and after.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

const UNKNOWN: u64 = 999_999;

/// A market with one offered item and consumer a's lease on it starting in an hour.
fn with_lease() -> (Market, Item, Offer, Execution) {
    let mut m = Market::new();
    let (item, offer) = m.offered_item(LARGE, "err-x", 16, 100, 3);
    let start = m.now() + HOUR_NS;
    let lease = m.lease(consumer("a"), start, 3600);
    (m, item, offer, lease)
}

/// Runs `call`, which must be refused with an error `check` accepts, and checks that it changed
/// nothing.
fn refused<T: std::fmt::Debug>(
    m: &mut Market,
    executions: &[u64],
    call: impl FnOnce(&mut Market) -> MarketResult<T>,
    check: impl FnOnce(&MarketError) -> bool,
) {
    let before = m.snapshot(executions);
    let reply = call(m);
    match &reply {
        Err(e) if check(e) => {}
        other => panic!("unexpected reply: {other:?}"),
    }
    assert_eq!(
        m.snapshot(executions),
        before,
        "a refused call changed state"
    );
}

fn set_status(m: &Market, item_id: u64, status: ItemStatus) -> InventorySetStatusArg {
    InventorySetStatusArg {
        provider: m.provider.key(),
        item_id,
        status,
        reason: "test".into(),
    }
}

fn consumer_meta(m: &Market, execution_id: u64, key: &serde_bytes::ByteBuf) -> SetConsumerMetaArg {
    SetConsumerMetaArg {
        provider: m.provider.key(),
        execution_id,
        sealed: sealed(key),
    }
}

fn procurement_meta(m: &Market, execution_id: u64) -> SetProcurementMetaArg {
    SetProcurementMetaArg {
        provider: m.provider.key(),
        execution_id,
        meta: vec![Property {
            key: "po".into(),
            value: "1".into(),
        }],
    }
}

#[test]
fn unknown_ids_are_typed_errors_for_every_method_taking_one() {
    let (mut m, item, _, lease) = with_lease();
    let before = m.snapshot(&[lease.id]);
    let (a, d, ctrl) = (consumer("a"), m.delegate, m.controller());
    let key = lessee_key(1);
    let item_err: MarketResult<()> = Err(MarketError::UnknownItem { id: UNKNOWN });
    assert_eq!(m.canister.inventory_get(UNKNOWN).map(|_| ()), item_err);
    let arg = set_status(&m, UNKNOWN, ItemStatus::Maintenance);
    assert_eq!(
        m.canister.inventory_set_status(d, arg).map(|_| ()),
        item_err
    );
    let provider = m.provider.key();
    let remove = InventoryRemoveArg {
        provider: provider.clone(),
        item_id: UNKNOWN,
    };
    assert_eq!(m.canister.inventory_remove(d, remove), item_err);
    let now = m.now();
    let offer = m.offer_arg(UNKNOWN, now, now + DAY_NS, 10);
    assert_eq!(m.canister.offer_create(d, offer).map(|_| ()), item_err);

    let offer_err = Err(MarketError::UnknownOffer { id: UNKNOWN });
    assert_eq!(m.canister.offer_get(UNKNOWN).map(|_| ()), offer_err);
    let withdraw = OfferWithdrawArg {
        provider: provider.clone(),
        offer_id: UNKNOWN,
    };
    assert_eq!(
        m.canister.offer_withdraw(d, withdraw).map(|_| ()),
        offer_err
    );

    for caller in [a, ctrl] {
        assert_eq!(
            m.canister.offerset_get(caller, UNKNOWN).map(|_| ()),
            Err(MarketError::UnknownOfferset { id: UNKNOWN })
        );
    }

    let unknown = Err(MarketError::UnknownExecution { id: UNKNOWN });
    let cm = consumer_meta(&m, UNKNOWN, &key);
    let pm = procurement_meta(&m, UNKNOWN);
    let c = &mut m.canister;
    let replies: Vec<(&str, MarketResult<()>)> = vec![
        (
            "execution_accept",
            c.execution_accept(a, accept_arg(UNKNOWN, &key)).map(|_| ()),
        ),
        (
            "execution_cancel",
            c.execution_cancel(
                a,
                CancelArg {
                    execution_id: UNKNOWN,
                    reason: "x".into(),
                },
            )
            .map(|_| ()),
        ),
        (
            "lease_extend",
            c.lease_extend(
                a,
                ExtendArg {
                    execution_id: UNKNOWN,
                    new_end_ns: now + 2 * DAY_NS,
                },
            )
            .map(|_| ()),
        ),
        ("lease_end", c.lease_end(a, UNKNOWN).map(|_| ())),
        ("execution_get", c.execution_get(a, UNKNOWN).map(|_| ())),
        (
            "execution_get (controller)",
            c.execution_get(ctrl, UNKNOWN).map(|_| ()),
        ),
        ("contract_get", c.contract_get(a, UNKNOWN).map(|_| ())),
        ("lease_get", c.lease_get(a, UNKNOWN).map(|_| ())),
        (
            "lease_set_consumer_meta",
            c.lease_set_consumer_meta(d, cm).map(|_| ()),
        ),
        (
            "lease_set_procurement_meta",
            c.lease_set_procurement_meta(d, pm).map(|_| ()),
        ),
    ];
    for (method, reply) in replies {
        assert_eq!(reply, unknown, "{method}");
    }
    // Filters naming unknown ids find nothing; they are not errors.
    let none = m
        .canister
        .offers_list(OffersListArg {
            item_id: Some(UNKNOWN),
            ..all_offers()
        })
        .unwrap();
    assert!(none.offers.is_empty());
    assert!(m
        .audit(AuditArg {
            entity: Some(Entity::Execution(UNKNOWN)),
            ..AuditArg::default()
        })
        .is_empty());
    assert_eq!(m.snapshot(&[lease.id]), before);
    assert_eq!(m.item(item.id).status, ItemStatus::Available);
}

#[test]
fn an_expired_offer_cannot_be_accepted_before_or_after_its_expiry_task_ran() {
    let mut m = Market::new();
    m.offered_item(LARGE, "expire-x", 16, 100, 3);
    let a = consumer("a");
    let start = m.now() + HOUR_NS;
    let view = m.request(a, one_offer(start, 3600));
    let e = view.offerset.execution_ids[0];
    let key = lessee_key(1);
    // Past the hold's end, before the task queue ran the expiry.
    m.canister
        .driver
        .advance_time(std::time::Duration::from_nanos(OFFER_TTL_NS + SECOND_NS));
    refused(
        &mut m,
        &[e],
        |m| m.canister.execution_accept(a, accept_arg(e, &key)),
        |_| true,
    );
    assert_eq!(m.phase(e), Phase::Offered);
    m.canister.driver.tick();
    assert_eq!(m.phase(e), Phase::Expired);
    refused(
        &mut m,
        &[e],
        |m| m.canister.execution_accept(a, accept_arg(e, &key)),
        |e| {
            matches!(
                e,
                MarketError::WrongPhase {
                    phase: Phase::Expired,
                    ..
                }
            )
        },
    );
}

#[test]
fn rejected_siblings_other_consumers_offers_and_bad_lessee_keys_cannot_be_accepted() {
    let mut m = Market::new();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    m.canister.driver.set_inspect_ingress(false);
    m.offered_item(LARGE, "sib-x", 16, 100, 3);
    m.offered_item(LARGE, "sib-y", 16, 200, 3);
    let (a, b) = (consumer("a"), consumer("b"));
    let start = m.now() + HOUR_NS;
    let view = m.request(
        a,
        ResourceRequest {
            offers: Some(2),
            ..request(Some(start), 3600)
        },
    );
    let ids = view.offerset.execution_ids.clone();
    assert_eq!(ids.len(), 2);
    let key = lessee_key(1);
    refused(
        &mut m,
        &ids,
        |m| m.canister.execution_accept(b, accept_arg(ids[0], &key)),
        |e| matches!(e, MarketError::NotAuthorized { .. }),
    );
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister
                .execution_accept(Principal::anonymous(), accept_arg(ids[0], &key))
        },
        |e| matches!(e, MarketError::NotAuthorized { .. }),
    );
    for bad_key in [vec![1u8; 31], vec![1u8; 33], vec![]] {
        let bad_key = serde_bytes::ByteBuf::from(bad_key);
        refused(
            &mut m,
            &ids,
            |m| m.canister.execution_accept(a, accept_arg(ids[0], &bad_key)),
            |e| {
                matches!(
                    e,
                    MarketError::InvalidArgument { .. } | MarketError::InvalidKey { .. }
                )
            },
        );
    }
    m.accept(a, ids[0], &key);
    refused(
        &mut m,
        &ids,
        |m| m.canister.execution_accept(a, accept_arg(ids[1], &key)),
        |e| {
            matches!(
                e,
                MarketError::WrongPhase {
                    phase: Phase::Rejected,
                    ..
                }
            )
        },
    );
    refused(
        &mut m,
        &ids,
        |m| m.canister.execution_accept(a, accept_arg(ids[0], &key)),
        |e| {
            matches!(
                e,
                MarketError::WrongPhase {
                    phase: Phase::Accepted | Phase::Waiting,
                    ..
                }
            )
        },
    );
}

#[test]
fn offer_windows_must_be_ordered_in_the_future_and_not_overlap_an_open_offer() {
    let mut m = Market::new();
    let (item, offer) = m.offered_item(LARGE, "window-x", 16, 100, 3);
    let spare = m.register(LARGE, "window-y", attributes(16, 64, 500, 0));
    let d = m.delegate;
    let now = m.now();
    for (start, end) in [
        (now + 2 * HOUR_NS, now + HOUR_NS),
        (now + HOUR_NS, now + HOUR_NS),
        (now - 3 * HOUR_NS, now - HOUR_NS),
    ] {
        refused(
            &mut m,
            &[],
            |m| {
                let arg = m.offer_arg(spare.id, start, end, 100);
                m.canister.offer_create(d, arg)
            },
            |e| matches!(e, MarketError::InvalidWindow { .. }),
        );
    }
    refused(
        &mut m,
        &[],
        |m| {
            let arg = m.offer_arg(item.id, now + DAY_NS, now + 5 * DAY_NS, 100);
            m.canister.offer_create(d, arg)
        },
        |e| e == &MarketError::OfferOverlap { offer_id: offer.id },
    );
    // Right after the open offer is fine.
    let next = m.offer(item.id, offer.end_ns, offer.end_ns + DAY_NS, 120);
    assert_eq!(next.status, OfferStatus::Open);
}

/// Which error a bad input must get.
type Expect = fn(&MarketError) -> bool;

#[test]
fn requests_with_a_past_start_oversized_fields_or_too_many_offers_are_refused() {
    let mut m = Market::new();
    m.offered_item(LARGE, "req-x", 16, 100, 3);
    let a = consumer("a");
    let now = m.now();
    let bad: Vec<(ResourceRequest, Expect)> = vec![
        (request(Some(now - HOUR_NS), 3600), |e| {
            matches!(e, MarketError::InvalidWindow { .. })
        }),
        (
            ResourceRequest {
                image: "i".repeat(600),
                ..request(Some(now + HOUR_NS), 3600)
            },
            |e| {
                matches!(
                    e,
                    MarketError::InvalidArgument { .. } | MarketError::TooMany { .. }
                )
            },
        ),
        (
            ResourceRequest {
                project: Some("p".repeat(300)),
                ..request(Some(now + HOUR_NS), 3600)
            },
            |e| {
                matches!(
                    e,
                    MarketError::InvalidArgument { .. } | MarketError::TooMany { .. }
                )
            },
        ),
        (
            ResourceRequest {
                offers: Some(21),
                ..request(Some(now + HOUR_NS), 3600)
            },
            |e| matches!(e, MarketError::TooMany { max: 20, .. }),
        ),
        (request(Some(now + HOUR_NS), 0), |e| {
            matches!(
                e,
                MarketError::InvalidWindow { .. } | MarketError::InvalidArgument { .. }
            )
        }),
    ];
    for (req, check) in bad {
        refused(
            &mut m,
            &[],
            |m| m.canister.offerset_request(a, req.clone()),
            check,
        );
    }
    assert_eq!(
        m.canister.offerset_get(a, 1).map(|_| ()),
        Err(MarketError::UnknownOfferset { id: 1 }),
        "no offerset was created"
    );
    let short_key = serde_bytes::ByteBuf::from(vec![7u8; 31]);
    refused(
        &mut m,
        &[],
        |m| m.canister.lease_by_sku(a, by_sku(LARGE, 3600, &short_key)),
        |e| {
            matches!(
                e,
                MarketError::InvalidArgument { .. } | MarketError::InvalidKey { .. }
            )
        },
    );
}

#[test]
fn invalid_skus_are_refused_in_register_list_and_lease_by_sku() {
    let mut m = Market::new();
    m.offered_item(LARGE, "sku-x", 16, 100, 3);
    let (d, a) = (m.delegate, consumer("a"));
    for sku in ["5Z.huge", "4D", "", "4D.la rge"] {
        // One bad SKU refuses the whole batch.
        refused(
            &mut m,
            &[],
            |m| {
                let arg = m.register_arg(vec![
                    Market::item_input(LARGE, "sku-good", attributes(8, 32, 100, 0)),
                    Market::item_input(sku, "sku-bad", attributes(8, 32, 100, 0)),
                ]);
                m.canister.inventory_register(d, arg)
            },
            |e| matches!(e, MarketError::InvalidSku { sku: echoed, .. } if echoed == sku),
        );
        refused(
            &mut m,
            &[],
            |m| {
                m.canister.inventory_list(InventoryListArg {
                    sku: Some(sku.into()),
                    ..all_items()
                })
            },
            |e| matches!(e, MarketError::InvalidSku { .. }),
        );
        refused(
            &mut m,
            &[],
            |m| {
                m.canister
                    .lease_by_sku(a, by_sku(sku, 3600, &lessee_key(1)))
            },
            |e| matches!(e, MarketError::InvalidSku { .. }),
        );
    }
    // A valid SKU in another spelling is the same SKU.
    let listed = m
        .canister
        .inventory_list(InventoryListArg {
            sku: Some("4d.LARGE".into()),
            ..all_items()
        })
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[test]
fn forbidden_item_status_transitions_are_refused() {
    let (mut m, item, _, lease) = with_lease();
    let d = m.delegate;
    for to in [
        ItemStatus::Leased,
        ItemStatus::Reserving,
        ItemStatus::Rebuilding,
    ] {
        refused(
            &mut m,
            &[lease.id],
            |m| {
                let arg = set_status(m, item.id, to);
                m.canister.inventory_set_status(d, arg)
            },
            |e| {
                e == &MarketError::InvalidTransition {
                    from: ItemStatus::Available,
                    to,
                }
            },
        );
    }
    // Once leased, the provider cannot take the item away from under the lease.
    m.advance_to(lease.start_ns);
    assert_eq!(m.item(item.id).status, ItemStatus::Leased);
    for to in [
        ItemStatus::Available,
        ItemStatus::Rebuilding,
        ItemStatus::Maintenance,
    ] {
        refused(
            &mut m,
            &[lease.id],
            |m| {
                let arg = set_status(m, item.id, to);
                m.canister.inventory_set_status(d, arg)
            },
            |e| {
                matches!(
                    e,
                    MarketError::InvalidTransition {
                        from: ItemStatus::Leased,
                        ..
                    } | MarketError::ItemBusy { .. }
                )
            },
        );
    }
    // Only an archiving item may be removed.
    let spare = m.register(LARGE, "spare", attributes(8, 32, 100, 0));
    refused(
        &mut m,
        &[lease.id],
        |m| {
            let arg = InventoryRemoveArg {
                provider: m.provider.key(),
                item_id: spare.id,
            };
            m.canister.inventory_remove(d, arg)
        },
        |e| {
            matches!(
                e,
                MarketError::InvalidTransition { .. } | MarketError::InvalidArgument { .. }
            )
        },
    );
    let maintenance = m
        .canister
        .inventory_set_status(d, set_status(&m, spare.id, ItemStatus::Maintenance))
        .unwrap();
    assert_eq!(maintenance.status, ItemStatus::Maintenance);
    refused(
        &mut m,
        &[lease.id],
        |m| {
            let arg = set_status(m, spare.id, ItemStatus::Leased);
            m.canister.inventory_set_status(d, arg)
        },
        |e| {
            e == &MarketError::InvalidTransition {
                from: ItemStatus::Maintenance,
                to: ItemStatus::Leased,
            }
        },
    );
}

#[test]
fn the_open_offerset_quota_is_enforced_per_principal() {
    let mut m = Market::new();
    m.offered_item(LARGE, "quota-x", 16, 100, 3);
    m.offered_item(LARGE, "quota-y", 16, 100, 3);
    let controller = m.controller();
    m.canister
        .policies_set(
            controller,
            PoliciesUpdate {
                max_open_offersets_per_principal: Some(1),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    let (a, b) = (consumer("a"), consumer("b"));
    let start = m.now() + HOUR_NS;
    let one = one_offer(start, 3600);
    let first = m.request(a, one.clone());
    assert_eq!(first.offerset.result, OffersetResult::Yes);
    refused(
        &mut m,
        &first.offerset.execution_ids,
        |m| m.canister.offerset_request(a, one.clone()),
        |e| matches!(e, MarketError::QuotaExceeded { max: 1, .. }),
    );
    // Another principal has its own quota; and once a's offerset expires, a may ask again.
    assert_eq!(
        m.request(b, one.clone()).offerset.result,
        OffersetResult::Yes
    );
    m.advance(OFFER_TTL_NS);
    assert_eq!(m.request(a, one).offerset.result, OffersetResult::Yes);
}

#[test]
fn anonymous_consumers_strangers_and_non_delegates_are_not_authorized() {
    let (mut m, item, offer, lease) = with_lease();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    m.canister.driver.set_inspect_ingress(false);
    let (a, anonymous, outsider) = (consumer("a"), Principal::anonymous(), stranger());
    let key = lessee_key(1);
    let not_authorized = |e: &MarketError| matches!(e, MarketError::NotAuthorized { .. });
    let ids = [lease.id];
    let start = m.now() + 2 * HOUR_NS;

    // Consumers must be authenticated.
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister
                .offerset_request(anonymous, request(Some(start), 3600))
        },
        not_authorized,
    );
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister
                .lease_by_sku(anonymous, by_sku(LARGE, 3600, &key))
        },
        not_authorized,
    );

    // An execution is its consumer's (and its provider's, and controllers').
    for caller in [anonymous, outsider, consumer("b")] {
        refused(
            &mut m,
            &ids,
            |m| m.canister.execution_get(caller, lease.id),
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| m.canister.contract_get(caller, lease.id),
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| m.canister.lease_get(caller, lease.id),
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| m.canister.offerset_get(caller, lease.offerset_id.unwrap()),
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                m.canister.execution_cancel(
                    caller,
                    CancelArg {
                        execution_id: lease.id,
                        reason: "not mine".into(),
                    },
                )
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                m.canister.lease_extend(
                    caller,
                    ExtendArg {
                        execution_id: lease.id,
                        new_end_ns: lease.end_ns + HOUR_NS,
                    },
                )
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| m.canister.lease_end(caller, lease.id),
            not_authorized,
        );
    }

    // Provider methods: the provider's delegates only (a consumer, a stranger, a revoked one).
    let revoked = Principal::self_authenticating(b"a revoked delegate");
    m.canister.delegate(&mut m.provider, revoked, true).unwrap();
    m.canister
        .delegate(&mut m.provider, revoked, false)
        .unwrap();
    for caller in [a, outsider, anonymous, revoked] {
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = m.register_arg(vec![Market::item_input(
                    LARGE,
                    "intruder",
                    attributes(8, 32, 100, 0),
                )]);
                m.canister.inventory_register(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = set_status(m, item.id, ItemStatus::Maintenance);
                m.canister.inventory_set_status(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = InventoryRemoveArg {
                    provider: m.provider.key(),
                    item_id: item.id,
                };
                m.canister.inventory_remove(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = m.offer_arg(item.id, offer.end_ns, offer.end_ns + DAY_NS, 1);
                m.canister.offer_create(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = OfferWithdrawArg {
                    provider: m.provider.key(),
                    offer_id: offer.id,
                };
                m.canister.offer_withdraw(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = consumer_meta(m, lease.id, &key);
                m.canister.lease_set_consumer_meta(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = procurement_meta(m, lease.id);
                m.canister.lease_set_procurement_meta(caller, arg)
            },
            not_authorized,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = ExecutionsListArg {
                    role: Role::Provider,
                    provider: Some(m.provider.key()),
                    phase: None,
                    after: None,
                    limit: None,
                };
                m.canister.executions_list(caller, arg)
            },
            not_authorized,
        );
    }
    // A delegate of another provider does not act for this one.
    let mut other = Provider::new(8);
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    m.canister
        .delegate(&mut other, other_delegate, true)
        .unwrap();
    refused(
        &mut m,
        &ids,
        |m| {
            let arg = set_status(m, item.id, ItemStatus::Maintenance);
            m.canister.inventory_set_status(other_delegate, arg)
        },
        not_authorized,
    );
    refused(
        &mut m,
        &ids,
        |m| m.canister.execution_get(other_delegate, lease.id),
        not_authorized,
    );
}

#[test]
fn bad_delegation_signatures_and_replayed_sequences_are_refused() {
    let mut m = Market::new();
    let p = Provider::new(9);
    let who = Principal::self_authenticating(b"provider-9 delegate");
    let canister = m.canister.id();
    let sign = |secret: &[u8; 32], principal, allow, seq, on: &Principal| {
        marketplace::market::delegation::signed(secret, on, principal, allow, seq)
    };
    let empty = m.canister.market_delegation(p.key()).unwrap();
    assert_eq!((empty.seq, empty.principals.len()), (0, 0));

    let mut forged = Vec::new();
    // Signed for another canister.
    forged.push(sign(
        &p.secret,
        who,
        true,
        1,
        &Principal::management_canister(),
    ));
    // Changed after signing: the principal, the allow bit, the sequence number.
    let mut arg = sign(&p.secret, consumer("a"), true, 1, &canister);
    arg.principal = who;
    forged.push(arg);
    let mut arg = sign(&p.secret, who, false, 1, &canister);
    arg.allow = true;
    forged.push(arg);
    let mut arg = sign(&p.secret, who, true, 1, &canister);
    arg.seq = 2;
    forged.push(arg);
    // Signed by another key in p's name.
    let mut arg = sign(&Provider::new(10).secret, who, true, 1, &canister);
    arg.provider = p.key();
    forged.push(arg);
    for arg in forged {
        assert_eq!(
            m.canister.market_delegate(arg),
            Err(MarketError::InvalidSignature)
        );
    }
    assert_eq!(m.canister.market_delegation(p.key()).unwrap(), empty);

    let granted = m
        .canister
        .market_delegate(sign(&p.secret, who, true, 5, &canister))
        .unwrap();
    assert_eq!((granted.seq, granted.principals.clone()), (5, vec![who]));
    assert_eq!(granted.provider_pem, p.pem());
    for seq in [5, 3] {
        assert_eq!(
            m.canister
                .market_delegate(sign(&p.secret, who, false, seq, &canister)),
            Err(MarketError::StaleSequence { last: 5 })
        );
    }
    assert_eq!(m.canister.market_delegation(p.key()).unwrap(), granted);
    // The fixture's own delegation cannot be replayed either.
    let replay = sign(
        &m.provider.secret,
        m.delegate,
        false,
        m.provider.seq,
        &canister,
    );
    assert_eq!(
        m.canister.market_delegate(replay),
        Err(MarketError::StaleSequence {
            last: m.provider.seq
        })
    );
    assert!(m
        .canister
        .market_delegation(m.provider.key())
        .unwrap()
        .principals
        .contains(&m.delegate));
}

#[test]
fn phase_and_window_errors_on_leases() {
    let (mut m, item, offer, lease) = with_lease();
    let a = consumer("a");
    let ids = [lease.id];
    let extend = |new_end_ns| ExtendArg {
        execution_id: lease.id,
        new_end_ns,
    };
    // Not running yet: nothing to end.
    refused(
        &mut m,
        &ids,
        |m| m.canister.lease_end(a, lease.id),
        |e| matches!(e, MarketError::WrongPhase { .. }),
    );
    // An end earlier than the current one, or past the offer.
    for new_end in [
        lease.end_ns - MINUTE_NS,
        lease.start_ns,
        offer.end_ns + HOUR_NS,
    ] {
        refused(
            &mut m,
            &ids,
            |m| m.canister.lease_extend(a, extend(new_end)),
            |e| {
                matches!(
                    e,
                    MarketError::InvalidWindow { .. } | MarketError::InvalidArgument { .. }
                )
            },
        );
    }
    // Longer than the policy allows.
    let controller = m.controller();
    m.canister
        .policies_set(
            controller,
            PoliciesUpdate {
                max_lease_seconds: Some(2 * 3600),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister
                .lease_extend(a, extend(lease.start_ns + 3 * HOUR_NS))
        },
        |e| e == &MarketError::LeaseTooLong { max_seconds: 7200 },
    );
    // Credentials sealed to another key than the lessee's.
    let d = m.delegate;
    refused(
        &mut m,
        &ids,
        |m| {
            let arg = consumer_meta(m, lease.id, &lessee_key(99));
            m.canister.lease_set_consumer_meta(d, arg)
        },
        |e| {
            matches!(
                e,
                MarketError::InvalidArgument { .. } | MarketError::InvalidKey { .. }
            )
        },
    );
    // A lease books only its window and never claims its offer: the provider may withdraw
    // the offer, the lease keeps its window, and what needs the offer open is refused.
    let withdraw = |m: &mut Market| {
        let arg = OfferWithdrawArg {
            provider: m.provider.key(),
            offer_id: offer.id,
        };
        m.canister.offer_withdraw(d, arg)
    };
    let withdrawn = withdraw(&mut m).expect("withdraw an offer a lease books");
    assert_eq!(withdrawn.status, OfferStatus::Withdrawn);
    let kept = m.execution(lease.id);
    assert_eq!(
        (kept.phase, kept.start_ns, kept.end_ns),
        (lease.phase, lease.start_ns, lease.end_ns)
    );
    let closed = |e: &MarketError| {
        e == &MarketError::OfferClosed {
            offer_id: offer.id,
            status: OfferStatus::Withdrawn,
        }
    };
    refused(&mut m, &ids, withdraw, closed);
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister
                .lease_extend(a, extend(lease.end_ns + 30 * MINUTE_NS))
        },
        closed,
    );
    // After the end, nothing more can be done to the lease.
    m.advance_to(lease.start_ns);
    assert_eq!(m.phase(lease.id), Phase::Available);
    m.advance_to(lease.end_ns);
    assert_eq!(m.phase(lease.id), Phase::Completed);
    assert_eq!(m.item(item.id).status, ItemStatus::Available);
    let cancel = CancelArg {
        execution_id: lease.id,
        reason: "too late".into(),
    };
    let wrong_phase = |e: &MarketError| {
        matches!(
            e,
            MarketError::WrongPhase {
                phase: Phase::Completed,
                ..
            }
        )
    };
    refused(
        &mut m,
        &ids,
        |m| m.canister.execution_cancel(a, cancel.clone()),
        wrong_phase,
    );
    refused(
        &mut m,
        &ids,
        |m| m.canister.lease_end(a, lease.id),
        wrong_phase,
    );
    refused(
        &mut m,
        &ids,
        |m| m.canister.lease_extend(a, extend(lease.end_ns + MINUTE_NS)),
        wrong_phase,
    );
}

/// Undecodable arguments are the typed `InvalidArgument` of every market method, never a
/// reject or a trap, and change nothing.
#[test]
fn undecodable_arguments_get_invalid_argument_not_a_reject() {
    let (mut m, _, _, lease) = with_lease();
    // The method's own answers: inspect_message would drop this ingress first (tests/malformed.rs).
    m.canister.driver.set_inspect_ingress(false);
    let controller = m.controller();
    let mut vec_bomb = b"DIDL\x01\x6d\x7b\x01\x00".to_vec();
    vec_bomb.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x08]);
    let args = [
        b"garbage".to_vec(),
        candid::encode_one("not the argument").unwrap(),
        b"DIDL\x00\x01\x71\xff\xff\xff\xff\x0f".to_vec(),
        vec_bomb,
    ];
    let updates = [
        "market_delegate",
        "inventory_register",
        "inventory_set_status",
        "inventory_remove",
        "offer_create",
        "offer_withdraw",
        "lease_set_consumer_meta",
        "lease_set_procurement_meta",
        "offerset_request",
        "execution_accept",
        "execution_cancel",
        "lease_extend",
        "lease_end",
        "lease_by_sku",
        "policies_set",
    ];
    let queries = [
        "market_delegation",
        "inventory_get",
        "inventory_list",
        "offer_get",
        "offers_list",
        "offerset_get",
        "execution_get",
        "executions_list",
        "contract_get",
        "lease_get",
        "audit_log",
    ];
    type Reply = Result<candid::Reserved, MarketError>;
    let before = m.snapshot(&[lease.id]);
    for method in updates.iter().chain(&queries) {
        for arg in &args {
            let reply = if updates.contains(method) {
                m.canister.update_raw(controller, method, arg.clone())
            } else {
                m.canister.driver.query(controller, method, arg.clone())
            };
            let bytes = reply.unwrap_or_else(|r| panic!("{method} rejected: {r}"));
            let reply: Reply = candid::decode_one(&bytes).unwrap();
            assert!(
                matches!(reply, Err(MarketError::InvalidArgument { .. })),
                "{method}: {reply:?}"
            );
        }
    }
    assert_eq!(m.snapshot(&[lease.id]), before);
}

#[test]
fn page_limits_audit_ranges_and_listing_roles_are_checked() {
    let (mut m, _, _, lease) = with_lease();
    let (a, d, ctrl) = (consumer("a"), m.delegate, m.controller());
    let ids = [lease.id];
    let invalid = |e: &MarketError| matches!(e, MarketError::InvalidArgument { .. });
    let too_many = |e: &MarketError| matches!(e, MarketError::TooMany { max: 500, .. });
    for (limit, check) in [(0, invalid as fn(&MarketError) -> bool), (501, too_many)] {
        refused(
            &mut m,
            &ids,
            |m| {
                m.canister.inventory_list(InventoryListArg {
                    limit: Some(limit),
                    ..InventoryListArg::default()
                })
            },
            check,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                m.canister.offers_list(OffersListArg {
                    limit: Some(limit),
                    ..OffersListArg::default()
                })
            },
            check,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                m.canister.audit_log(
                    ctrl,
                    AuditArg {
                        limit: Some(limit),
                        ..AuditArg::default()
                    },
                )
            },
            check,
        );
        refused(
            &mut m,
            &ids,
            |m| {
                let arg = ExecutionsListArg {
                    role: Role::Consumer,
                    provider: None,
                    phase: None,
                    after: None,
                    limit: Some(limit),
                };
                m.canister.executions_list(a, arg)
            },
            check,
        );
    }
    let now = m.now();
    refused(
        &mut m,
        &ids,
        |m| {
            m.canister.audit_log(
                ctrl,
                AuditArg {
                    from_ns: Some(now),
                    to_ns: Some(now - 1),
                    ..AuditArg::default()
                },
            )
        },
        |e| matches!(e, MarketError::InvalidWindow { .. }),
    );
    // The provider role names its provider.
    refused(
        &mut m,
        &ids,
        |m| {
            let arg = ExecutionsListArg {
                role: Role::Provider,
                provider: None,
                phase: None,
                after: None,
                limit: None,
            };
            m.canister.executions_list(d, arg)
        },
        invalid,
    );
}
