//! The reference model: what the market should hold, and how matching should pick.

use super::*;

#[derive(Clone, Debug)]
pub(super) struct MItem {
    pub(super) provider: usize,
    pub(super) resource: u8,
    pub(super) sku: &'static str,
    pub(super) cores: u32,
    pub(super) status: ItemStatus,
    pub(super) lease_id: Option<u64>,
    pub(super) removed: bool,
}

#[derive(Clone, Debug)]
pub(super) struct MOffer {
    pub(super) item: u64,
    pub(super) provider: usize,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) price: u64,
    pub(super) status: OfferStatus,
    /// As stored: terms all absent are none.
    pub(super) terms: Option<OfferTerms>,
}

impl MOffer {
    /// Shortest lease, in ns (0: any).
    pub(super) fn min_ns(&self) -> u64 {
        self.terms
            .as_ref()
            .and_then(|t| t.min_duration_seconds)
            .map_or(0, |s| s * SECOND_NS)
    }

    pub(super) fn step_ns(&self) -> u64 {
        self.terms
            .as_ref()
            .and_then(|t| t.granularity_seconds)
            .map_or(0, |s| s * SECOND_NS)
    }

    pub(super) fn visible(&self, who: &Principal) -> bool {
        self.terms
            .as_ref()
            .and_then(|t| t.visible_to.as_ref())
            .is_none_or(|list| list.contains(who))
    }

    /// The grid point (counted from the offer's start) at or before `t`; `t` itself without
    /// a grid or before the start.
    pub(super) fn down(&self, t: u64) -> u64 {
        let step = self.step_ns();
        if step == 0 || t <= self.start {
            t
        } else {
            t - (t - self.start) % step
        }
    }

    /// The grid point at or after `t`.
    pub(super) fn up(&self, t: u64) -> u64 {
        let down = self.down(t);
        if down == t {
            t
        } else {
            down + self.step_ns()
        }
    }
}

/// How matching looks for a free window when the one asked is booked.
#[derive(Clone, Copy, Debug)]
pub(super) enum MSearch {
    Exact,
    /// The first free time (as soon as possible).
    Later,
    /// The free start nearest the asked one, not before this time; ties go earlier.
    Nearest(u64),
}

#[derive(Clone, Debug)]
pub(super) struct MSet {
    pub(super) consumer: Principal,
    pub(super) result: OffersetResult,
    pub(super) status: OffersetStatus,
    pub(super) execs: Vec<u64>,
    pub(super) expires_at: u64,
    pub(super) created: u64,
}

#[derive(Clone, Debug)]
pub(super) struct MExec {
    pub(super) offerset: Option<u64>,
    pub(super) offer: u64,
    pub(super) item: u64,
    pub(super) consumer: Principal,
    pub(super) start: u64,
    pub(super) end: u64,
    /// The end of its calendar booking: `end`, except for a lease ended early that is still
    /// RELEASING (the booking keeps its window until the release is final).
    pub(super) booked_end: u64,
    pub(super) phase: Phase,
    pub(super) expires_at: u64,
    /// A reclaim's deadline.
    pub(super) reclaim: Option<u64>,
}

#[derive(Clone, Debug)]
pub(super) struct MPolicies {
    pub(super) max_open: u32,
    pub(super) max_active: u32,
    pub(super) ttl_s: u64,
    pub(super) max_lease_s: u64,
    pub(super) images: Vec<String>,
    pub(super) reclaim_notice_s: u64,
}

#[derive(Clone, Debug)]
pub(super) struct Model {
    pub(super) items: BTreeMap<u64, MItem>,
    pub(super) offers: BTreeMap<u64, MOffer>,
    pub(super) sets: BTreeMap<u64, MSet>,
    pub(super) execs: BTreeMap<u64, MExec>,
    pub(super) next_item: u64,
    pub(super) next_offer: u64,
    pub(super) next_set: u64,
    pub(super) next_exec: u64,
    pub(super) policies: MPolicies,
}

/// A lease window and the offer and item it is on, as matching picks it.
#[derive(Clone, Copy, Debug)]
pub(super) struct MMatch {
    pub(super) offer: u64,
    pub(super) item: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    /// Not at the start asked (the item was booked then).
    pub(super) moved: bool,
}

/// One offer asked for: its item, window, price and terms.
#[derive(Clone, Debug)]
pub(super) struct OfferIn {
    pub(super) item: u64,
    pub(super) window: (u64, u64),
    pub(super) price: u64,
    pub(super) terms: Option<OfferTerms>,
}

/// What an `offerset_request` asks (times resolved).
#[derive(Clone, Debug)]
pub(super) struct Ask {
    pub(super) start: Option<u64>,
    pub(super) duration_s: u64,
    pub(super) count: Option<u32>,
    pub(super) sku: Option<&'static str>,
    pub(super) min_cores: Option<u32>,
    pub(super) max_price: Option<u64>,
    pub(super) image: &'static str,
    pub(super) alternatives: Option<u32>,
}

/// A typed refusal, by its variant name.
pub(super) type Outcome = Result<(), &'static str>;

impl Model {
    pub(super) fn new() -> Self {
        let defaults = policy::defaults();
        Self {
            items: BTreeMap::new(),
            offers: BTreeMap::new(),
            sets: BTreeMap::new(),
            execs: BTreeMap::new(),
            next_item: 1,
            next_offer: 1,
            next_set: 1,
            next_exec: 1,
            policies: MPolicies {
                max_open: defaults.max_open_offersets_per_principal,
                max_active: defaults.max_active_leases_per_principal,
                ttl_s: defaults.offer_ttl_seconds,
                max_lease_s: defaults.max_lease_seconds,
                images: defaults.allowed_images,
                reclaim_notice_s: defaults.reclaim_notice_seconds.unwrap_or(0),
            },
        }
    }

    pub(super) fn live_item(&self, id: u64) -> Option<&MItem> {
        self.items.get(&id).filter(|item| !item.removed)
    }

    /// A non-final execution booked on `item` overlapping `[start, end)`.
    pub(super) fn booked(&self, item: u64, start: u64, end: u64) -> Option<u64> {
        self.execs
            .iter()
            .find(|(_, e)| {
                e.item == item && !e.phase.is_final() && e.start < end && start < e.booked_end
            })
            .map(|(id, _)| *id)
    }

    pub(super) fn open_offersets(&self, consumer: &Principal) -> u32 {
        self.sets
            .values()
            .filter(|s| s.consumer == *consumer && s.status == OffersetStatus::Open)
            .count() as u32
    }

    pub(super) fn active_leases(&self, consumer: &Principal) -> u32 {
        self.execs
            .values()
            .filter(|e| e.consumer == *consumer && e.phase.is_active_lease())
            .count() as u32
    }

    /// OFFERED executions `which` picks become REJECTED.
    pub(super) fn reject_offered(&mut self, which: impl Fn(u64, &MExec) -> bool) {
        for (id, e) in self.execs.iter_mut() {
            if e.phase == Phase::Offered && which(*id, e) {
                e.phase = Phase::Rejected;
            }
        }
    }

    /// The latest-starting non-final booking on `item` overlapping `[start, end)`, as the
    /// calendar finds it: `(start, booked end)`.
    pub(super) fn latest_booking(&self, item: u64, start: u64, end: u64) -> Option<(u64, u64)> {
        self.execs
            .values()
            .filter(|e| {
                e.item == item && !e.phase.is_final() && e.start < end && start < e.booked_end
            })
            .map(|e| (e.start, e.booked_end))
            .max()
    }

    /// The earliest grid start from `start` on where `length` fits unbooked within the
    /// offer, stepping over at most `fit::MAX_STEPS` bookings (as `offerset::fit` searches).
    pub(super) fn free_later(&self, o: &MOffer, mut start: u64, length: u64) -> Option<u64> {
        for _ in 0..crate::market::offerset::fit::MAX_STEPS {
            let end = start.checked_add(length).filter(|&end| end <= o.end)?;
            match self.latest_booking(o.item, start, end) {
                None => return Some(start),
                Some((_, booked_end)) => start = o.up(booked_end),
            }
        }
        None
    }

    /// The latest grid start before `from`, not before `not_before` nor the offer's start,
    /// where `length` fits unbooked, stepping back over at most `fit::MAX_STEPS` bookings.
    pub(super) fn free_earlier(
        &self,
        o: &MOffer,
        from: u64,
        length: u64,
        not_before: u64,
    ) -> Option<u64> {
        let floor = not_before.max(o.start);
        let mut start = from;
        for _ in 0..crate::market::offerset::fit::MAX_STEPS {
            match self.latest_booking(o.item, start, start + length) {
                None => return (start < from).then_some(start),
                Some((booked_start, _)) => {
                    start = o.down(booked_start.checked_sub(length)?);
                    if start < floor {
                        return None;
                    }
                }
            }
        }
        None
    }

    /// The window `want` gets on offer `o` (the offer's shortest lease, its window, its grid:
    /// start down, end up, within the offer), moved by `search` when booked; `None` when it
    /// does not fit. `true` when moved.
    pub(super) fn fit(
        &self,
        o: &MOffer,
        want: (u64, u64),
        search: MSearch,
    ) -> Option<(u64, u64, bool)> {
        if want.1 - want.0 < o.min_ns() || want.0 < o.start || want.1 > o.end {
            return None;
        }
        let (start, end) = (o.down(want.0), o.up(want.1).min(o.end));
        if self.latest_booking(o.item, start, end).is_none() {
            return Some((start, end, false));
        }
        // A moved window is the asked length in whole steps of the grid.
        let step = o.step_ns();
        let asked = want.1 - want.0;
        let length = if step == 0 {
            asked
        } else {
            asked.div_ceil(step) * step
        };
        let found = match search {
            MSearch::Exact => None,
            MSearch::Later => self.free_later(o, start, length),
            MSearch::Nearest(not_before) => {
                let earlier = self.free_earlier(o, start, length, not_before);
                let later = self.free_later(o, start, length);
                match (earlier, later) {
                    (Some(e), Some(l)) => Some(if start - e <= l - start { e } else { l }),
                    (e, l) => e.or(l),
                }
            }
        };
        found.map(|free| (free, (free + length).min(o.end), true))
    }

    /// What `offerset::find_holds` picks: open offers of in-service items the consumer may
    /// see, cheapest first (then by id), at most one per item, each match its own window of
    /// the offer on its grid (as soon as possible: the first free time; with a fixed start, up
    /// to `alternatives` matches at the nearest free time), and for a window starting by
    /// `now` only Available items; a window the grid widened past `longest` is passed over.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn find(
        &self,
        now: u64,
        longest: u64,
        consumer: &Principal,
        window: (u64, u64),
        asap: bool,
        mut alternatives: u32,
        count: usize,
        sku: Option<&str>,
        min_cores: Option<u32>,
        max_price: Option<u64>,
    ) -> Vec<MMatch> {
        let mut open: Vec<(u64, &MOffer)> = self
            .offers
            .iter()
            .filter(|(_, o)| {
                o.status == OfferStatus::Open
                    && self.live_item(o.item).is_some_and(|item| {
                        !matches!(item.status, ItemStatus::Maintenance | ItemStatus::Archiving)
                    })
            })
            .map(|(id, o)| (*id, o))
            .collect();
        open.sort_by_key(|(id, o)| (o.price, *id));
        let mut found: Vec<MMatch> = Vec::new();
        for (id, o) in open {
            if found.len() >= count {
                break;
            }
            let want = if asap && o.start > window.0 {
                (o.start, o.start.saturating_add(window.1 - window.0))
            } else {
                window
            };
            let item = &self.items[&o.item];
            if item.cores < min_cores.unwrap_or(0)
                || sku.is_some_and(|sku| sku != item.sku)
                || !o.visible(consumer)
                || max_price.is_some_and(|max| o.price > max)
                || found.iter().any(|m| m.item == o.item)
            {
                continue;
            }
            let search = if asap {
                MSearch::Later
            } else if alternatives > 0 {
                MSearch::Nearest(now)
            } else {
                MSearch::Exact
            };
            let Some((start, end, moved)) = self.fit(o, want, search) else {
                continue;
            };
            if end - start > longest || (start <= now && item.status != ItemStatus::Available) {
                continue;
            }
            if moved && !asap {
                alternatives -= 1;
            }
            found.push(MMatch {
                offer: id,
                item: o.item,
                start,
                end,
                moved,
            });
        }
        found
    }

    /// Creates the OFFERED execution for a match (its booking follows from its phase).
    pub(super) fn hold(
        &mut self,
        m: &MMatch,
        consumer: Principal,
        set: Option<u64>,
        expires_at: u64,
    ) -> u64 {
        let id = self.next_exec;
        self.next_exec += 1;
        self.execs.insert(
            id,
            MExec {
                offerset: set,
                offer: m.offer,
                item: m.item,
                consumer,
                start: m.start,
                end: m.end,
                booked_end: m.end,
                phase: Phase::Offered,
                expires_at,
                reclaim: None,
            },
        );
        id
    }

    /// The lease's item back from it: Rebuilding, when the lease held it.
    pub(super) fn take_back(&mut self, exec: u64) -> bool {
        let item_id = self.execs[&exec].item;
        match self.items.get_mut(&item_id) {
            Some(item) if !item.removed && item.lease_id == Some(exec) => {
                item.status = ItemStatus::Rebuilding;
                item.lease_id = None;
                true
            }
            _ => false,
        }
    }

    /// `lease::release` towards `to`: RELEASING, then `to` at once unless the item is an Ironic
    /// node that was taken back (its undeploy ends the lease later).
    pub(super) fn release(&mut self, exec: u64, to: Phase) {
        let ironic =
            resource_type(self.items[&self.execs[&exec].item].resource) == store::IRONIC_NODE;
        self.execs.get_mut(&exec).unwrap().phase = Phase::Releasing;
        if ironic && self.take_back(exec) {
            return;
        }
        self.execs.get_mut(&exec).unwrap().phase = to;
        self.take_back(exec);
    }
}
