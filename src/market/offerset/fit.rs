//! Fitting a request's window into an open offer: the offer's shortest lease, its grid, and
//! the item's calendar (a booked start may move to the nearest free window of the offer).

use super::window::Window;
use crate::market::index::OpenOffer;
use crate::market::store;
use crate::market::types::Offer;

/// Most bookings one search for a free window steps over: a calendar a stranger fragmented
/// costs every request at most this many lookups per item.
pub const MAX_STEPS: usize = 16;

/// An offer's grid: windows start and end on `origin + k·step` (a step of 0 is no grid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    origin: u64,
    step: u64,
}

impl Grid {
    pub fn of(offer: &Offer) -> Self {
        let step = offer
            .terms
            .as_ref()
            .and_then(|t| t.granularity_seconds)
            .unwrap_or(0);
        Self {
            origin: offer.start_ns,
            step: step.saturating_mul(crate::time::SECOND_NS),
        }
    }

    fn of_open(offer: &OpenOffer) -> Self {
        Self {
            origin: offer.start_ns,
            step: offer.rules.step_ns,
        }
    }

    /// The grid point at or before `t` (not before the origin).
    pub fn down(self, t: u64) -> u64 {
        if self.step == 0 || t <= self.origin {
            return t;
        }
        t - (t - self.origin) % self.step
    }

    /// The grid point at or after `t`.
    pub fn up(self, t: u64) -> u64 {
        if self.step == 0 || t <= self.origin {
            return t;
        }
        let down = self.down(t);
        if down == t {
            t
        } else {
            down.saturating_add(self.step)
        }
    }
}

/// How a request fits an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// This window (on the grid); `moved` when it starts at another time than asked.
    Free { window: Window, moved: bool },
    /// Shorter than the offer's shortest lease.
    TooShort,
    /// Outside the offer's window.
    Outside,
    /// Booked, and no free window found (or none allowed).
    Booked,
}

/// How to search when the asked window is booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Only the window asked.
    Exact,
    /// The earliest free window from the asked start on (as soon as possible).
    Later,
    /// The free window whose start is nearest the asked one, earlier (not before `not_before`)
    /// or later.
    Nearest { not_before: u64 },
}

/// Fits `want` (its start already moved to the offer's start for as-soon-as-possible requests)
/// into `offer` on `item_id`'s calendar.
pub fn fit(offer: &OpenOffer, want: Window, search: Search) -> Fit {
    let length = want.end_ns - want.start_ns;
    if length < offer.rules.min_ns {
        return Fit::TooShort;
    }
    if want.start_ns < offer.start_ns || want.end_ns > offer.end_ns {
        return Fit::Outside;
    }
    let grid = Grid::of_open(offer);
    let window = Window {
        start_ns: grid.down(want.start_ns),
        end_ns: grid.up(want.end_ns).min(offer.end_ns),
    };
    if store::overlapping_booking(offer.item_id, window.start_ns, window.end_ns).is_none() {
        return Fit::Free {
            window,
            moved: false,
        };
    }
    let length = window.end_ns - window.start_ns;
    let later = || free_later(offer, grid, window.start_ns, length);
    let found = match search {
        Search::Exact => None,
        Search::Later => later(),
        Search::Nearest { not_before } => {
            let earlier = free_earlier(offer, grid, window.start_ns, length, not_before);
            match (earlier, later()) {
                (Some(e), Some(l)) => Some(if window.start_ns - e <= l - window.start_ns {
                    e
                } else {
                    l
                }),
                (e, l) => e.or(l),
            }
        }
    };
    match found {
        Some(start_ns) => Fit::Free {
            window: Window {
                start_ns,
                end_ns: (start_ns + length).min(offer.end_ns),
            },
            moved: true,
        },
        None => Fit::Booked,
    }
}

/// The earliest grid start at or after `from` whose `length` fits the offer unbooked.
fn free_later(offer: &OpenOffer, grid: Grid, from: u64, length: u64) -> Option<u64> {
    let mut start = from;
    for _ in 0..MAX_STEPS {
        let end = start
            .checked_add(length)
            .filter(|&end| end <= offer.end_ns)?;
        match store::overlapping_booking(offer.item_id, start, end) {
            None => return Some(start),
            Some(booking) => start = grid.up(booking.end_ns),
        }
    }
    None
}

/// The latest grid start before `from`, not before `not_before` or the offer's start, whose
/// `length` fits unbooked.
fn free_earlier(
    offer: &OpenOffer,
    grid: Grid,
    from: u64,
    length: u64,
    not_before: u64,
) -> Option<u64> {
    let floor = not_before.max(offer.start_ns);
    let mut start = from;
    for _ in 0..MAX_STEPS {
        match store::overlapping_booking(offer.item_id, start, start.checked_add(length)?) {
            None => return (start < from).then_some(start),
            Some(booking) => {
                start = grid.down(booking.start_ns.checked_sub(length)?);
                if start < floor {
                    return None;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
