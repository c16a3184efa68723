//! The operations the model test runs, and their generator: few values, so they collide.

use super::*;

/// Who acts for a provider: a delegate of the target's owner, the other provider (through its
/// own delegate and key), or a principal nobody delegated.
#[derive(Clone, Copy, Debug)]
pub(super) enum Who {
    Owner(u8),
    OtherProvider,
    Stranger,
}

/// Who calls about an execution: its consumer, another consumer, or a controller.
#[derive(Clone, Copy, Debug)]
pub(super) enum Caller {
    Owner,
    OtherConsumer,
    Controller,
}

/// Which entity an operation targets: `live` prefers ones the operation can act on (an
/// OFFERED execution for accept, a running lease for cancel, an open offer), the `n`th of
/// those; otherwise the `n`th of all (already accepted, rejected, expired, a sibling...).
#[derive(Clone, Copy, Debug)]
pub(super) struct Pick {
    pub(super) live: bool,
    pub(super) n: u8,
}

#[derive(Clone, Debug)]
pub(super) struct PolicyChange {
    pub(super) max_open_offersets: Option<u32>,
    pub(super) max_active_leases: Option<u32>,
    pub(super) offer_ttl_seconds: Option<u64>,
    pub(super) rebuild_seconds: Option<u64>,
    pub(super) stuck_timeout_seconds: Option<u64>,
    pub(super) max_lease_seconds: Option<u64>,
    pub(super) allowed_images: Option<Vec<String>>,
    pub(super) reclaim_notice_seconds: Option<u64>,
}

/// Who a private offer names: consumers by number, or a list the canister must refuse (empty,
/// the anonymous principal, one more than `offers::MAX_VISIBLE_TO`).
#[derive(Clone, Debug)]
pub(super) enum Visible {
    Consumers(Vec<u8>),
    Nobody,
    Anonymous,
    TooMany,
}

/// An offer's terms as generated: each field absent or a value, the odd one refused.
#[derive(Clone, Debug)]
pub(super) struct TermsPick {
    pub(super) min_s: Option<u64>,
    pub(super) step_s: Option<u64>,
    pub(super) visible: Option<Visible>,
}

impl TermsPick {
    pub(super) fn terms(&self) -> OfferTerms {
        OfferTerms {
            min_duration_seconds: self.min_s,
            granularity_seconds: self.step_s,
            visible_to: self.visible.as_ref().map(|v| match v {
                Visible::Consumers(list) => list.iter().map(|&n| consumer(n)).collect(),
                Visible::Nobody => vec![],
                Visible::Anonymous => vec![consumer(0), Principal::anonymous()],
                Visible::TooMany => (0..=offers::MAX_VISIBLE_TO)
                    .map(|n| Principal::from_slice(&[0xe0, n as u8]))
                    .collect(),
            }),
            visible_to_projects: None,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum Op {
    Register {
        provider: u8,
        delegate: u8,
        resource: u8,
        sku: &'static str,
        cores: u32,
    },
    SetStatus {
        who: Who,
        item: u8,
        status: ItemStatus,
    },
    Remove {
        who: Who,
        item: u8,
    },
    CreateOffer {
        who: Who,
        item: u8,
        start_min: i64,
        len_min: u64,
        price: u64,
        terms: Option<TermsPick>,
    },
    /// A batch: `(item, start_min, len_min, price)` each, all or none.
    CreateOffers {
        who: Who,
        offers: Vec<(u8, i64, u64, u64)>,
    },
    Withdraw {
        who: Who,
        offer: Pick,
    },
    Request {
        consumer: u8,
        start_s: Option<i64>,
        duration_s: u64,
        offers: Option<u32>,
        sku: Option<&'static str>,
        min_cores: Option<u32>,
        max_price: Option<u64>,
        image: &'static str,
        /// `alternative_starts`.
        alternatives: Option<u32>,
    },
    Accept {
        exec: Pick,
        caller: Caller,
        bad_key: bool,
    },
    Cancel {
        exec: Pick,
        caller: Caller,
    },
    Extend {
        exec: Pick,
        by_s: u64,
    },
    EndNow {
        exec: Pick,
        caller: Caller,
    },
    /// `lease_reclaim` by `who` acting for the provider of the lease's item.
    Reclaim {
        exec: Pick,
        who: Who,
        notice_s: Option<u64>,
    },
    LeaseBySku {
        consumer: u8,
        sku: &'static str,
        duration_s: u64,
        max_price: Option<u64>,
    },
    /// Time passes; `timely`: the timer fires at every due time on the way, otherwise once at
    /// the end (a late timer).
    Advance {
        seconds: u64,
        timely: bool,
    },
    SetPolicy(PolicyChange),
    SimFail {
        item: u8,
        deploy: bool,
        clean: bool,
    },
    /// The ledger's next answer to a settlement (its fee, or a transfer out) is a reject or a
    /// trap.
    LedgerFault {
        fee: bool,
        trap: bool,
    },
}

impl Op {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Op::Register { .. } => "register",
            Op::SetStatus { .. } => "set_status",
            Op::Remove { .. } => "remove",
            Op::CreateOffer { .. } => "offer_create",
            Op::CreateOffers { .. } => "offers_create",
            Op::Withdraw { .. } => "offer_withdraw",
            Op::Request { .. } => "offerset_request",
            Op::Accept { .. } => "accept",
            Op::Cancel { .. } => "cancel",
            Op::Extend { .. } => "extend",
            Op::EndNow { .. } => "end_now",
            Op::Reclaim { .. } => "reclaim",
            Op::LeaseBySku { .. } => "lease_by_sku",
            Op::Advance { .. } => "advance",
            Op::SetPolicy(_) => "policies_set",
            Op::SimFail { .. } => "sim_fail",
            Op::LedgerFault { .. } => "ledger_fault",
        }
    }
}

pub(super) fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        18 => (0u8..2).prop_map(Who::Owner),
        1 => Just(Who::OtherProvider),
        1 => Just(Who::Stranger),
    ]
}

pub(super) fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        18 => Just(Caller::Owner),
        1 => Just(Caller::OtherConsumer),
        1 => Just(Caller::Controller),
    ]
}

/// A pick that is `live` with probability `live`.
pub(super) fn pick(live: f64) -> impl Strategy<Value = Pick> {
    (prop::bool::weighted(live), any::<u8>()).prop_map(|(live, n)| Pick { live, n })
}

/// One of `values`, repeated ones more often.
pub(super) fn one_of<T: Clone + std::fmt::Debug + 'static>(
    values: &[T],
) -> impl Strategy<Value = T> {
    prop::sample::select(values.to_vec())
}

/// `None` (keep) mostly, else one of `values`.
pub(super) fn change<T: Clone + std::fmt::Debug + 'static>(
    values: &[T],
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.3, one_of(values))
}

pub(super) fn policy_change() -> impl Strategy<Value = PolicyChange> {
    (
        change(&[1u32, 2, 3, 5, 5]),
        change(&[1u32, 2, 3, 10, 10]),
        change(&[5u64, 30, 300, 300]),
        change(&[0u64, 60, 600]),
        change(&[60u64, 1800]),
        change(&[7200u64, 21 * 24 * 3600]),
        prop::option::weighted(
            0.2,
            prop_oneof![Just(vec![]), Just(vec!["ubuntu".to_string()])],
        ),
        change(&[0u64, 600, 3600]),
    )
        .prop_map(
            |(open, active, ttl, rebuild, stuck, max_lease, images, notice)| PolicyChange {
                max_open_offersets: open,
                max_active_leases: active,
                offer_ttl_seconds: ttl,
                rebuild_seconds: rebuild,
                stuck_timeout_seconds: stuck,
                max_lease_seconds: max_lease,
                allowed_images: images,
                reclaim_notice_seconds: notice,
            },
        )
}

/// Terms: mostly absent; else a grid, a shortest lease and privacy, each at times, the odd
/// value refused (a 30 s shortest lease, one longer than any window, a grid of 0 or over a
/// day, a list naming nobody, the anonymous principal or too many).
pub(super) fn terms_pick() -> impl Strategy<Value = Option<TermsPick>> {
    let visible = prop_oneof![
        12 => prop::collection::vec(0u8..3, 1..=2).prop_map(Visible::Consumers),
        1 => Just(Visible::Nobody),
        1 => Just(Visible::Anonymous),
        1 => Just(Visible::TooMany),
    ];
    prop::option::weighted(
        0.45,
        (
            prop::option::weighted(0.35, one_of(&[30u64, 600, 3600, 3600, 7200, 10_000_000])),
            prop::option::weighted(0.6, one_of(&[0u64, 900, 900, 1800, 1800, 3600, 86_401])),
            prop::option::weighted(0.3, visible),
        )
            .prop_map(|(min_s, step_s, visible)| TermsPick {
                min_s,
                step_s,
                visible,
            }),
    )
}

// Windows and durations: few values, so offers overlap and requests collide; the odd invalid
// one (an empty window, a 30 s lease, a start 2 minutes ago, zero offers) is refused.
pub(super) const OFFER_STARTS_MIN: [i64; 8] = [-60, 0, 0, 0, 10, 60, 120, 300];
pub(super) const OFFER_LENGTHS_MIN: [u64; 12] = [
    0, 60, 180, 180, 480, 480, 1440, 1440, 1440, 1440, 2880, 2880,
];
pub(super) const PRICES: [u64; 4] = [50, 100, 150, 200];
pub(super) const DURATIONS_S: [u64; 20] = [
    30, 600, 600, 1800, 1800, 1800, 3600, 3600, 3600, 3600, 3600, 3600, 7200, 7200, 7200, 7200,
    10_800, 10_800, 21_600, 21_600,
];
pub(super) const REQUEST_STARTS_S: [i64; 12] = [
    -120, -30, 0, 0, 600, 600, 1800, 3600, 3600, 3600, 7200, 10_800,
];
pub(super) const COUNTS: [u32; 16] = [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
pub(super) const ADVANCES_S: [u64; 20] = [
    5, 10, 10, 30, 30, 30, 60, 120, 120, 301, 301, 600, 600, 1200, 1200, 1800, 3600, 3600, 7200,
    43_200,
];
pub(super) const STATUSES: [ItemStatus; 6] = [
    ItemStatus::Available,
    ItemStatus::Available,
    ItemStatus::Available,
    ItemStatus::Available,
    ItemStatus::Maintenance,
    ItemStatus::Archiving,
];

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..2, 0u8..2, 0..RESOURCES, one_of(&SKUS), one_of(&[8u32, 16]))
            .prop_map(|(provider, delegate, resource, sku, cores)| Op::Register {
                provider, delegate, resource, sku, cores
            }),
        4 => (who(), any::<u8>(), one_of(&STATUSES))
            .prop_map(|(who, item, status)| Op::SetStatus { who, item, status }),
        1 => (who(), any::<u8>()).prop_map(|(who, item)| Op::Remove { who, item }),
        20 => (who(), any::<u8>(), one_of(&OFFER_STARTS_MIN), one_of(&OFFER_LENGTHS_MIN),
               one_of(&PRICES), terms_pick())
            .prop_map(|(who, item, start_min, len_min, price, terms)| Op::CreateOffer {
                who, item, start_min, len_min, price, terms
            }),
        3 => (who(), prop::collection::vec(
                (0u8..4, one_of(&OFFER_STARTS_MIN), one_of(&OFFER_LENGTHS_MIN),
                 one_of(&PRICES)), 1..=3))
            .prop_map(|(who, offers)| Op::CreateOffers { who, offers }),
        2 => (who(), pick(0.7)).prop_map(|(who, offer)| Op::Withdraw { who, offer }),
        16 => (0u8..3,
               prop::option::weighted(0.5, one_of(&REQUEST_STARTS_S)),
               one_of(&DURATIONS_S),
               prop::option::weighted(0.8, one_of(&COUNTS)),
               prop::option::weighted(0.3, one_of(&SKUS)),
               prop::option::weighted(0.2, one_of(&[8u32, 16])),
               prop::option::weighted(0.2, one_of(&[50u64, 150])),
               one_of(&["ubuntu", "ubuntu", "ubuntu", "debian"]),
               prop::option::weighted(0.5, 0u32..=2))
            .prop_map(|(consumer, start_s, duration_s, offers, sku, min_cores, max_price,
                        image, alternatives)| Op::Request {
                consumer, start_s, duration_s, offers, sku, min_cores, max_price, image,
                alternatives
            }),
        16 => (pick(0.85), caller(), prop::bool::weighted(0.02))
            .prop_map(|(exec, caller, bad_key)| Op::Accept { exec, caller, bad_key }),
        4 => (pick(0.85), caller()).prop_map(|(exec, caller)| Op::Cancel { exec, caller }),
        4 => (pick(0.85), one_of(&[600u64, 3600, 18_000]))
            .prop_map(|(exec, by_s)| Op::Extend { exec, by_s }),
        4 => (pick(0.85), caller()).prop_map(|(exec, caller)| Op::EndNow { exec, caller }),
        3 => (pick(0.85), who(), prop::option::weighted(0.7, one_of(&[600u64, 3600, 7200, 86_400])))
            .prop_map(|(exec, who, notice_s)| Op::Reclaim { exec, who, notice_s }),
        6 => (0u8..3, one_of(&SKUS), one_of(&DURATIONS_S),
              prop::option::weighted(0.2, one_of(&[50u64, 150])))
            .prop_map(|(consumer, sku, duration_s, max_price)| Op::LeaseBySku {
                consumer, sku, duration_s, max_price
            }),
        14 => (one_of(&ADVANCES_S), prop::bool::weighted(0.7))
            .prop_map(|(seconds, timely)| Op::Advance { seconds, timely }),
        2 => policy_change().prop_map(Op::SetPolicy),
        1 => (any::<u8>(), any::<bool>(), any::<bool>())
            .prop_map(|(item, deploy, clean)| Op::SimFail { item, deploy, clean }),
        2 => (prop::bool::weighted(0.3), any::<bool>())
            .prop_map(|(fee, trap)| Op::LedgerFault { fee, trap }),
    ]
}
