//! The rules, anchored at one record each: what an item id (with its calendar), an offer, an
//! offerset or an execution must agree with, reading the other records by key.

use super::{NextIds, Records, Report};
use crate::catalog::provider::ProviderKey;
use crate::market::store::{self, Usage};
use crate::market::types::{ItemStatus, OfferStatus, OffersetResult, OffersetStatus, Phase};
use candid::Principal;
use std::collections::{BTreeMap, BTreeSet};

/// Phases that hold a booking in the item's calendar: every phase but the final ones.
fn holds_booking(phase: Phase) -> bool {
    !phase.is_final()
}

/// Whether an execution in `phase` is (or was) a contract: accepted, whatever happened next.
fn is_contract(phase: Phase) -> bool {
    !matches!(phase, Phase::Offered | Phase::Rejected | Phase::Expired)
}

/// Items out of service have nothing in the matching index.
fn in_service(status: ItemStatus) -> bool {
    !matches!(status, ItemStatus::Maintenance | ItemStatus::Archiving)
}

/// What the counting rules need from every page: contracts per offer, the claimed offers, a
/// recount of each principal's open offersets and active leases, and of the holds (OFFERED
/// executions) per consumer and per provider.
#[derive(Debug, Default)]
pub struct Tally {
    contracts: BTreeMap<u64, Vec<u64>>,
    claimed: BTreeSet<u64>,
    usage: BTreeMap<Principal, Usage>,
    consumer_holds: BTreeMap<Principal, u32>,
    provider_holds: BTreeMap<ProviderKey, u32>,
}

impl Tally {
    /// The counting rules, once every page added to the tally: `claimed_offer_has_one_contract`
    /// (offers an older canister claimed whole), `usage_equals_recount`, `hold_counts_equal_recount`. `principals` are recounted too (zero if they hold
    /// nothing).
    pub fn finish(self, src: &impl Records, principals: &[Principal], report: &mut Report) {
        for id in &self.claimed {
            let mine = self.contracts.get(id).map_or(&[][..], Vec::as_slice);
            // None once the contract's retention ended and its record went.
            report.check("claimed_offer_has_one_contract", mine.len() <= 1, || {
                format!("offer {id} Claimed has contracts {mine:?}")
            });
        }
        let mut recount = self.usage;
        let mut held = self.consumer_holds;
        for principal in principals {
            recount.entry(*principal).or_default();
            held.entry(*principal).or_default();
        }
        for (consumer, recount) in &held {
            let counted = src.consumer_holds(consumer);
            report.check("hold_counts_equal_recount", counted == *recount, || {
                format!("{consumer} holds: stored {counted}, recount {recount}")
            });
        }
        for (provider, recount) in &self.provider_holds {
            let counted = src.provider_holds(provider);
            report.check("hold_counts_equal_recount", counted == *recount, || {
                format!("holds on {provider:?}: stored {counted}, recount {recount}")
            });
        }
        for (principal, recount) in &recount {
            let counted = src.usage(principal);
            report.check("usage_equals_recount", counted == *recount, || {
                format!("{principal}: stored {counted:?}, recount {recount:?}")
            });
        }
    }
}

/// An item id: the item's lease and index entries (or, removed, that nothing is left of it),
/// and its calendar.
pub(super) fn item(src: &impl Records, next: NextIds, id: u64, report: &mut Report) {
    let indexed = src.indexed_offers(id);
    match src.item(id) {
        Some(item) => {
            let lease = item.lease_id.and_then(|l| src.execution(l));
            let expected_phase = match item.status {
                ItemStatus::Reserving => Some(Phase::Preparing),
                ItemStatus::Leased => Some(Phase::Available),
                _ => None,
            };
            match expected_phase {
                Some(phase) => report.check(
                    "item_reserved_or_leased_iff_its_lease_runs",
                    lease
                        .as_ref()
                        .is_some_and(|e| e.item_id == id && e.phase == phase),
                    || {
                        let phase = lease.as_ref().map(|e| e.phase);
                        format!("item {id} {:?} lease {phase:?}", item.status)
                    },
                ),
                None => report.check(
                    "item_lease_id_only_while_reserved_or_leased",
                    item.lease_id.is_none(),
                    || format!("item {id} {:?} lease {:?}", item.status, item.lease_id),
                ),
            }
            // Every indexed offer is an open offer of this item in service; the offers check
            // the converse.
            let stray: Vec<u64> = indexed
                .iter()
                .copied()
                .filter(|o| {
                    !in_service(item.status)
                        || src
                            .offer(*o)
                            .is_none_or(|o| o.item_id != id || o.status != OfferStatus::Open)
                })
                .collect();
            report.check("matching_index_agrees_with_store", stray.is_empty(), || {
                format!(
                    "item {id} {:?}: index holds {stray:?}, not its open offers",
                    item.status
                )
            });
        }
        None if (1..next.item).contains(&id) => {
            report.check("removed_item_has_nothing_live", indexed.is_empty(), || {
                format!("item {id} removed, its offers {indexed:?} still indexed")
            })
        }
        None => {}
    }
    let bookings = src.bookings(id);
    for pair in bookings.windows(2) {
        report.check(
            "calendar_no_overlap",
            pair[0].end_ns <= pair[1].start_ns,
            || format!("item {id}: {:?} overlaps {:?}", pair[0], pair[1]),
        );
    }
    for b in bookings.iter() {
        let holder = src.execution(b.execution_id);
        report.check(
            "booking_has_live_execution",
            holder.as_ref().is_some_and(|e| {
                e.item_id == id
                    && holds_booking(e.phase)
                    && e.start_ns == b.start_ns
                    && (e.end_ns == b.end_ns
                        || (e.phase == Phase::Releasing && e.end_ns <= b.end_ns))
            }),
            || format!("item {id}: {b:?} held by {holder:?}"),
        );
        report.check("booking_window_nonempty", b.start_ns < b.end_ns, || {
            format!("item {id}: {b:?}")
        });
    }
}

/// An offer: in the matching index exactly while open on an item in service; nothing open on
/// a removed item.
pub(super) fn offer(src: &impl Records, id: u64, report: &mut Report, tally: Option<&mut Tally>) {
    let Some(o) = src.offer(id) else {
        return;
    };
    let item = src.item(o.item_id);
    let open = o.status == OfferStatus::Open;
    if open {
        report.check("removed_item_has_nothing_live", item.is_some(), || {
            format!("offer {id} open on item {} removed", o.item_id)
        });
    }
    let expected = open && item.as_ref().is_some_and(|i| in_service(i.status));
    let indexed = src.indexed_offers(o.item_id).contains(&id);
    report.check(
        "matching_index_agrees_with_store",
        indexed == expected,
        || {
            let status = item.as_ref().map(|i| i.status);
            format!(
                "offer {id} {:?} of item {} ({status:?}): indexed {indexed}",
                o.status, o.item_id
            )
        },
    );
    if let Some(tally) = tally {
        if o.status == OfferStatus::Claimed {
            tally.claimed.insert(id);
        }
    }
}

/// An offerset: its status agrees with its executions' phases.
pub(super) fn offerset(
    src: &impl Records,
    id: u64,
    report: &mut Report,
    tally: Option<&mut Tally>,
) {
    let Some(s) = src.offerset(id) else {
        return;
    };
    let executions: Vec<_> = s.execution_ids.iter().map(|e| src.execution(*e)).collect();
    let phases: Vec<(u64, Option<Phase>)> = s
        .execution_ids
        .iter()
        .zip(&executions)
        .map(|(id, e)| (*id, e.as_ref().map(|e| e.phase)))
        .collect();
    let accepted: Vec<u64> = phases
        .iter()
        .filter(|(_, p)| p.is_some_and(is_contract))
        .map(|(e, _)| *e)
        .collect();
    let offered = phases
        .iter()
        .filter(|(_, p)| *p == Some(Phase::Offered))
        .count();
    let ok = executions
        .iter()
        .all(|e| e.as_ref().is_some_and(|e| e.offerset_id == Some(id)))
        && match (s.result, s.status) {
            (OffersetResult::No, status) => {
                s.execution_ids.is_empty() && status == OffersetStatus::Expired
            }
            (OffersetResult::Yes, OffersetStatus::Open) => {
                !s.execution_ids.is_empty() && accepted.is_empty()
            }
            (OffersetResult::Yes, OffersetStatus::Accepted { execution_id }) => {
                accepted == [execution_id] && offered == 0
            }
            (OffersetResult::Yes, OffersetStatus::Expired) => {
                !s.execution_ids.is_empty() && accepted.is_empty() && offered == 0
            }
        };
    report.check("offerset_status_agrees_with_its_executions", ok, || {
        format!("offerset {id} {:?} {:?}: {phases:?}", s.result, s.status)
    });
    if let Some(tally) = tally {
        let usage = tally.usage.entry(s.consumer).or_default();
        if s.status == OffersetStatus::Open {
            usage.open_offersets += 1;
        }
    }
}

/// An execution: its booking, its item, its offer and its offerset agree with its phase.
pub(super) fn execution(
    src: &impl Records,
    id: u64,
    report: &mut Report,
    tally: Option<&mut Tally>,
) {
    let Some(e) = src.execution(id) else {
        return;
    };
    // Its own booking is the one at its start; one elsewhere is the calendar's violation
    // (`booking_has_live_execution`, checked from the booking).
    let booking = src.booking_at(e.item_id, e.start_ns);
    let own = booking.is_some_and(|b| b.execution_id == id);
    report.check(
        "live_execution_has_its_booking",
        own == holds_booking(e.phase),
        || {
            format!(
                "execution {id} in {:?}, booking at its start {booking:?}",
                e.phase
            )
        },
    );
    if let Some(payment) = src.payment(id) {
        let coherent = crate::market::payments::check_record(id, &payment);
        report.check("escrow_covers_its_transfers", coherent.is_ok(), || {
            coherent.err().unwrap_or_default()
        });
    }
    let item = src.item(e.item_id);
    if !e.phase.is_final() {
        report.check("removed_item_has_nothing_live", item.is_some(), || {
            format!("execution {id} {:?} on item {} removed", e.phase, e.item_id)
        });
    }
    match e.phase {
        Phase::Preparing | Phase::Available => {
            let status = if e.phase == Phase::Preparing {
                ItemStatus::Reserving
            } else {
                ItemStatus::Leased
            };
            report.check(
                "running_lease_holds_its_item",
                item.as_ref()
                    .is_some_and(|i| i.status == status && i.lease_id == Some(id)),
                || format!("execution {id} {:?}, item {item:?}", e.phase),
            );
        }
        Phase::Releasing => report.check(
            "releasing_lease_gave_its_item_back",
            item.as_ref().is_none_or(|i| i.lease_id != Some(id)),
            || format!("execution {id} RELEASING, item {item:?}"),
        ),
        _ => {}
    }
    let offer = src.offer(e.offer_id);
    report.check(
        "execution_within_its_offer",
        match offer.as_ref() {
            Some(o) => o.item_id == e.item_id && o.start_ns <= e.start_ns && e.end_ns <= o.end_ns,
            // A closed offer's record goes after its retention; a closed execution may outlive it.
            None => e.phase.is_final(),
        },
        || format!("execution {id} {e:?} offer {offer:?}"),
    );
    let offer_status = offer.as_ref().map(|o| o.status);
    if e.phase == Phase::Offered {
        report.check(
            "offered_execution_has_an_unclaimed_offer",
            matches!(offer_status, Some(OfferStatus::Open | OfferStatus::Expired)),
            || format!("execution {id} OFFERED, offer {offer_status:?}"),
        );
    }
    if let Some(reclaim) = e.reclaim.as_ref().filter(|_| !e.phase.is_final()) {
        // Reclaimed: the lease ends by the deadline, or (starting after it) never starts.
        report.check(
            "reclaimed_lease_ends_by_its_deadline",
            e.end_ns <= reclaim.ends_at_ns || e.start_ns >= reclaim.ends_at_ns,
            || {
                format!(
                    "execution {id} {:?} ends {} / {reclaim:?}",
                    e.phase, e.end_ns
                )
            },
        );
    }
    if matches!(
        e.phase,
        Phase::Rejected | Phase::Expired | Phase::Cancelled | Phase::Failed
    ) {
        report.check("final_phase_says_why", e.reason.is_some(), || {
            format!("execution {id} {:?} without a reason", e.phase)
        });
    }
    if let Some(set_id) = e.offerset_id {
        let set = src.offerset(set_id);
        report.check(
            "execution_in_its_offerset",
            set.as_ref()
                .is_some_and(|s| s.execution_ids.contains(&id) && s.consumer == e.consumer),
            || format!("execution {id} of offerset {set_id}: {set:?}"),
        );
        if e.phase == Phase::Offered {
            report.check(
                "hold_expires_with_its_offerset",
                set.as_ref()
                    .is_some_and(|s| s.expires_at_ns == e.expires_at_ns),
                || format!("execution {id} expires {} / {set:?}", e.expires_at_ns),
            );
        }
    }
    if let Some(tally) = tally {
        if is_contract(e.phase) {
            tally.contracts.entry(e.offer_id).or_default().push(id);
        }
        let usage = tally.usage.entry(e.consumer).or_default();
        if e.phase.is_active_lease() {
            usage.active_leases += 1;
        }
        // Every provider with an execution is recounted, holding or not.
        let held = u32::from(e.phase == Phase::Offered);
        *tally.consumer_holds.entry(e.consumer).or_default() += held;
        let provider = store::provider_key(&e.provider_pem);
        *tally.provider_holds.entry(provider).or_default() += held;
    }
}

/// A project's members agree with its record and the reverse maps: the count it keeps, its
/// owner among them, at most the cap, each member listed under the member and the project
/// under its owner.
pub(super) fn project(src: &impl Records, id: u64, report: &mut Report) {
    let Some(p) = src.project(id) else {
        return;
    };
    let ok = p.record.members as usize == p.members.len()
        && p.members.contains(&p.record.owner)
        && p.members.len() <= crate::market::projects::MAX_MEMBERS
        && p.listed.iter().all(|listed| *listed)
        && p.owned;
    report.check("project_membership_agrees", ok, || {
        format!(
            "project {id}: {:?}, members {:?}, listed {:?}, owned {}",
            p.record, p.members, p.listed, p.owned
        )
    });
}
