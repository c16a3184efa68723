//! The calendar: each item's bookings, in stable memory and mirrored on the heap (`index`).

use super::BOOKINGS;
use crate::market::index;

/// A booking of an item: the window's end and the execution holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Booking {
    pub start_ns: u64,
    pub end_ns: u64,
    pub execution_id: u64,
}

/// Whether any booking of the item starts in `[start_ns, end_ns)`.
pub fn booked_between(item_id: u64, start_ns: u64, end_ns: u64) -> bool {
    BOOKINGS.with_borrow(|bookings| {
        bookings
            .range((item_id, start_ns)..(item_id, end_ns))
            .next()
            .is_some()
    })
}

/// The booking on `item_id` that overlaps `[start_ns, end_ns)`, if any. Bookings of one item
/// never overlap, so the last one starting before `end_ns` is the only candidate. Read from the
/// heap mirror (`index`), which `book` and `unbook` keep equal to the stable calendar.
pub fn overlapping_booking(item_id: u64, start_ns: u64, end_ns: u64) -> Option<Booking> {
    index::overlapping_booking(item_id, start_ns, end_ns)
}

/// Books `[start_ns, end_ns)` on the item; the caller has checked nothing overlaps.
pub fn book(item_id: u64, booking: Booking) {
    BOOKINGS.with_borrow_mut(|bookings| {
        bookings.insert(
            (item_id, booking.start_ns),
            (booking.end_ns, booking.execution_id),
        )
    });
    index::book(item_id, booking);
}

/// Removes the execution's booking starting at `start_ns`, if it is there.
pub fn unbook(item_id: u64, start_ns: u64, execution_id: u64) {
    BOOKINGS.with_borrow_mut(|bookings| {
        if bookings
            .get(&(item_id, start_ns))
            .is_some_and(|(_, holder)| holder == execution_id)
        {
            bookings.remove(&(item_id, start_ns));
            index::unbook(item_id, start_ns);
        }
    });
}

/// Every booking of an item, earliest first (from the heap mirror).
pub fn item_bookings(item_id: u64) -> Vec<Booking> {
    index::item_bookings(item_id)
}

/// Every booking in the stable calendar, for rebuilding the heap mirror and for checks.
pub fn for_each_booking(mut f: impl FnMut(u64, Booking)) {
    BOOKINGS.with_borrow(|bookings| {
        for entry in bookings.iter() {
            let (item_id, start_ns) = *entry.key();
            let (end_ns, execution_id) = entry.value();
            let booking = Booking {
                start_ns,
                end_ns,
                execution_id,
            };
            f(item_id, booking);
        }
    })
}
