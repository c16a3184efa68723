//! The limits drill's state, built natively through the canister's own code: catalogs at the
//! per-provider cap, items, open offers and holds up to the global caps (see `limits.rs`).

use super::*;

pub(super) fn delegate() -> Principal {
    Principal::self_authenticating(b"limits drill delegate")
}

pub(super) fn consumer(i: u64) -> Principal {
    Principal::self_authenticating(format!("limits drill consumer {i}"))
}

pub(super) fn provider_input() -> ProviderKeyInput {
    ProviderKeyInput::Raw(ByteBuf::from(
        signing::provider_of(&SECRET).as_bytes().to_vec(),
    ))
}

pub(super) fn provider_arg() -> String {
    let bytes = signing::provider_of(&SECRET).as_bytes().to_vec();
    let hex: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    format!("variant {{ Raw = blob \"{hex}\" }}")
}

pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(super) fn item_input(i: u64) -> ItemInput {
    let r = mix(i);
    let cores = 2u32 << (r % 6);
    ItemInput {
        resource_type: "ironic_node".into(),
        resource_uuid: format!("limits-node-{i:07}"),
        sku: SKUS[i as usize % SKUS.len()].into(),
        attributes: Attributes {
            cores,
            memory_mb: u64::from(cores) * 4096,
            storage_gb: 250 << ((r >> 20) % 4),
            gpus: u32::from(r.is_multiple_of(7)),
            resource_class: "baremetal.large".into(),
            routable_ips: 1,
            labels: vec![format!("rack-{}", i % 40)],
        },
        offering_key: None,
    }
}

pub(super) fn offer_input(item: &Item, k: u64, from_ns: u64) -> OfferInput {
    let start_ns = from_ns + k * WINDOW_NS;
    OfferInput {
        terms: None,
        item_id: item.id,
        start_ns,
        end_ns: start_ns + WINDOW_NS,
        price_per_hour: 20 * u64::from(item.attributes.cores) + mix(item.id * 8 + k) % 500,
        properties: vec![],
    }
}

pub(super) fn scaled(cap: u64, scale: f64) -> u64 {
    ((cap as f64 * scale).round() as u64).max(1)
}

/// Past the configured caps (`scale` > 1, to show what grows with the state) the global caps
/// are raised by as much, as a controller would with an upgrade argument; the catalog grows by
/// more providers at the per-provider cap.
fn beyond_the_caps(scale: f64) -> Option<InitArg> {
    (scale > 1.0).then(|| InitArg {
        max_offerings: Some(scaled(1_000_000, scale)),
        max_items: Some(scaled(MAX_ITEMS, scale)),
        max_open_offers: Some(scaled(MAX_OPEN_OFFERS, scale)),
        ..InitArg::default()
    })
}

/// Builds the state natively, through the canister's own code; returns what it holds and the
/// items registered (for the offers measured later).
pub(super) fn fill(rt: &FakeRuntime, config: &LimitsConfig, filled: &mut Filled) -> Vec<Item> {
    let scale = config.scale;
    marketplace::lifecycle::setup(rt, Ok(beyond_the_caps(scale))).expect("native setup");

    // The catalog: 50 providers at the per-provider cap, a million offerings in all.
    let per_provider = scaled(u64::from(MAX_OFFERINGS_PER_PROVIDER), scale.min(1.0)) as u32;
    let providers = scaled(u64::from(CATALOG_PROVIDERS), scale.max(1.0)) as u32;
    for i in 0..providers {
        let provider = synthetic::provider(SEED, i, per_provider);
        let hash = signing::payload_hash(&provider.csv);
        let signature = signing::sign(
            &provider.secret_key,
            &FakeRuntime::CANISTER_ID,
            Operation::ReplaceCatalog,
            1,
            &hash,
        );
        let key = signing::provider_of(&provider.secret_key);
        let arg = publish::PublishArg {
            provider: ProviderKeyInput::Raw(ByteBuf::from(key.as_bytes().to_vec())),
            seq: 1,
            signature: ByteBuf::from(signature.to_vec()),
            csv: ByteBuf::from(provider.csv),
        };
        rt.caller.set(Principal::self_authenticating(format!(
            "limits publisher {i}"
        )));
        let receipt = publish::replace(rt, arg).expect("a synthetic catalog imports");
        filled.providers += 1;
        filled.offerings += u64::from(receipt.offerings);
        if i % 10 == 9 {
            (config.progress)(&format!(
                "native: {} providers, {} offerings",
                filled.providers, filled.offerings
            ));
        }
    }

    // The market: one provider's delegate registers items up to the cap, less one call's worth
    // (the measured `inventory_register` brings it to the cap).
    rt.caller.set(delegate());
    delegation::delegate(
        rt,
        delegation::signed(&SECRET, &FakeRuntime::CANISTER_ID, delegate(), true, 1),
    )
    .expect("delegate");
    policy::set(PoliciesUpdate {
        max_open_offersets_per_principal: Some(10_000),
        max_active_leases_per_principal: Some(10_000),
        ..PoliciesUpdate::default()
    })
    .expect("policies");
    let items_target = scaled(MAX_ITEMS, scale).saturating_sub(PER_CALL as u64);
    let mut items: Vec<Item> = Vec::with_capacity(items_target as usize);
    let inputs: Vec<ItemInput> = (0..items_target).map(item_input).collect();
    for chunk in inputs.chunks(PER_CALL) {
        let arg = InventoryRegisterArg {
            provider: provider_input(),
            items: chunk.to_vec(),
        };
        items.extend(inventory::register(rt, arg).expect("inventory_register"));
    }
    filled.items = items.len() as u64;
    (config.progress)(&format!("native: {} items", filled.items));

    // Open offers: five weekly windows per item, up to the cap less one call's worth.
    let offers_target = scaled(MAX_OPEN_OFFERS, scale).saturating_sub(PER_CALL as u64);
    let now = rt.time.get();
    let per_item = offers_target.div_ceil(items.len().max(1) as u64);
    let inputs: Vec<OfferInput> = items
        .iter()
        .flat_map(|item| (0..per_item).map(move |k| offer_input(item, k, now)))
        .take(offers_target as usize)
        .collect();
    for chunk in inputs.chunks(PER_CALL) {
        let arg = OffersCreateArg {
            provider: provider_input(),
            offers: chunk.to_vec(),
        };
        let created = offers::create_batch(rt, arg).expect("offers_create");
        filled.open_offers += created.len() as u64;
    }
    (config.progress)(&format!("native: {} open offers", filled.open_offers));

    // History: offers made and withdrawn after the open ones' windows. Each waits in the queue
    // for its retention to end (and for the end of its window), so the queue passes a million
    // tasks at the caps, as a market that has run for a while holds.
    let history_target = scaled(HISTORY_OFFERS, scale);
    let inputs: Vec<OfferInput> = items
        .iter()
        .flat_map(|item| (per_item..per_item + 3).map(move |k| offer_input(item, k, now)))
        .take(history_target as usize)
        .collect();
    for chunk in inputs.chunks(PER_CALL) {
        let arg = OffersCreateArg {
            provider: provider_input(),
            offers: chunk.to_vec(),
        };
        for offer in offers::create_batch(rt, arg).expect("offers_create") {
            let arg = OfferWithdrawArg {
                provider: provider_input(),
                offer_id: offer.id,
            };
            offers::withdraw(rt, arg).expect("offer_withdraw");
            filled.closed_offers += 1;
        }
    }
    (config.progress)(&format!("native: {} closed offers", filled.closed_offers));

    // Holds: consumers each hold the most items they may, for a day.
    let consumers = scaled(HELD_EXECUTIONS, scale).div_ceil(HELD_PER_CONSUMER);
    for c in 0..consumers {
        rt.caller.set(consumer(c));
        let view = offerset::request(
            rt,
            ResourceRequest {
                duration_seconds: DAY_NS / SECOND_NS,
                image: IMAGE.into(),
                offers: Some(HELD_PER_CONSUMER as u32),
                sku: Some(SKUS[c as usize % SKUS.len()].into()),
                ..ResourceRequest::default()
            },
        )
        .expect("offerset_request");
        filled.held_executions += view.offerset.execution_ids.len() as u64;
    }
    (config.progress)(&format!(
        "native: {} held executions",
        filled.held_executions
    ));

    // Statements at their cap: the executions a `payments_list` call looks at (500) each carry
    // the largest payment a lease may have: every pull (16), settled with a refund, the
    // provider's payout and the market's fee.
    let provider = signing::provider_of(&SECRET);
    for id in store::provider_execution_ids(&provider, 0, payments::MAX_SCANNED) {
        store::put_payment(id, &largest_payment(id));
        filled.paid_executions += 1;
    }
    (config.progress)(&format!(
        "native: {} executions with the largest payment",
        filled.paid_executions
    ));
    items
}

/// A settled payment with every pull a lease may make (a deposit, the price, extensions) and
/// its three transfers out: what a statement's row costs at most.
fn largest_payment(execution_id: u64) -> Payment {
    let account = |owner: Principal| Account {
        owner,
        subaccount: None,
    };
    let transfer = |purpose, owner, amount| LedgerTransfer {
        purpose,
        account: account(owner),
        amount,
        fee: 10_000,
        created_at_time: DEFAULT_TIME_NANOS,
        block: Some(execution_id),
        done: true,
    };
    let pulls: Vec<LedgerTransfer> = (0..payments::MAX_PULLS)
        .map(|i| {
            let purpose = match i {
                0 => Purpose::Deposit,
                1 => Purpose::Price,
                _ => Purpose::Extension,
            };
            transfer(purpose, consumer(0), 1_000_000)
        })
        .collect();
    let paid = 1_000_000 * payments::MAX_PULLS as u64;
    let market = FakeRuntime::CANISTER_ID;
    Payment {
        ledger: Principal::management_canister(),
        escrow: Account {
            owner: market,
            subaccount: Some([7; 32]),
        },
        state: PaymentState::Settled,
        transfers: vec![
            transfer(Purpose::Refund, consumer(0), paid / 4),
            transfer(Purpose::Payout, delegate(), paid / 2),
            transfer(Purpose::MarketFee, market, paid / 8),
        ],
        pulls,
        waived: false,
        market_fee_basis_points: 200,
        treasury: Some(account(market)),
    }
}
