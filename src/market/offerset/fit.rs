//! Fitting a request's window into an open offer: the offer's shortest lease, its grid, and
//! the item's calendar (a booked start may move to the nearest free window of the offer).

use super::window::Window;
use crate::market::index::OpenOffer;
use crate::market::offers::Grid;
use crate::market::store::{self, Booking};

/// Most bookings one search for a free window steps over: a calendar a stranger fragmented
/// costs every request at most this many lookups per item.
pub const MAX_STEPS: usize = 16;

/// Calendar lookups (about 5 to 8 k instructions each on the wasm) one request may make over
/// all the items it examines: fragmented calendars on many items cannot make a request cost
/// more than about 25 M instructions of lookups (`bench` measures it at 10 k items).
pub const MAX_LOOKUPS: u32 = 3_000;

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
/// into `offer` on `item_id`'s calendar, spending calendar lookups from `budget` (a search cut
/// short by it finds nothing).
pub fn fit(offer: &OpenOffer, want: Window, search: Search, budget: &mut u32) -> Fit {
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
    match lookup(budget, offer, window.start_ns, window.end_ns) {
        // The budget is spent: the caller stops searching.
        None => return Fit::Booked,
        Some(None) => {
            return Fit::Free {
                window,
                moved: false,
            }
        }
        Some(Some(_)) => {}
    }
    // A moved window starts on the grid: the asked length in whole steps (not the asked
    // window's widening, which depends on where the asked start fell).
    let length = grid.whole_steps(length);
    let found = match search {
        Search::Exact => None,
        Search::Later => free_later(offer, grid, window.start_ns, length, budget),
        Search::Nearest { not_before } => {
            let earlier = free_earlier(offer, grid, window.start_ns, length, not_before, budget);
            let later = free_later(offer, grid, window.start_ns, length, budget);
            match (earlier, later) {
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

/// The booking overlapping `[start, end)` on the offer's item, for one lookup of `budget`;
/// `None` (no answer) once the budget is spent.
fn lookup(budget: &mut u32, offer: &OpenOffer, start: u64, end: u64) -> Option<Option<Booking>> {
    *budget = budget.checked_sub(1)?;
    Some(store::overlapping_booking(offer.item_id, start, end))
}

/// The earliest grid start at or after `from` whose `length` fits the offer unbooked.
fn free_later(
    offer: &OpenOffer,
    grid: Grid,
    from: u64,
    length: u64,
    budget: &mut u32,
) -> Option<u64> {
    let mut start = from;
    for _ in 0..MAX_STEPS {
        let end = start
            .checked_add(length)
            .filter(|&end| end <= offer.end_ns)?;
        match lookup(budget, offer, start, end)? {
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
    budget: &mut u32,
) -> Option<u64> {
    let floor = not_before.max(offer.start_ns);
    let mut start = from;
    for _ in 0..MAX_STEPS {
        match lookup(budget, offer, start, start.checked_add(length)?)? {
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
