//! Spreadsheet formula cells, neutralised by OWASP's CSV injection rule: every record this
//! crate writes (the stored rows, so every export, CSV row and JSON catalog the canister
//! replies with) puts a `'` before a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return, and quotes the cell, so a spreadsheet shows the text instead of running it.
//!
//! Reading a record (import, or a stored row) removes that one `'`. For the round trip to be
//! exact, a cell that itself starts with `'` is written with one more, and a read strips a `'`
//! only before a formula character or another `'`: a file's `'=x` imports as `=x`, `''a` as
//! `'a`, and `'a` stays `'a`.

use crate::catalog::offering::Column;

/// First characters that make a spreadsheet read a cell as a formula.
const FORMULA: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

/// Whether cell `column` (its index in a row) is written with a leading `'`, quoted.
pub(super) fn needs_escape(column: usize, cell: &[u8]) -> bool {
    match cell.first() {
        Some(b'\'') => true,
        // Coordinates are the one column whose values may be negative: they stay numbers.
        Some(b'-') => !(column == Column::DatacenterCoordinates.index() && negative_numbers(cell)),
        Some(first) => FORMULA.contains(first),
        None => false,
    }
}

/// "-33.86,151.21": a '-' then a digit or '.', and nothing but digits, '.', ',', ' ' and '-'.
/// A spreadsheet reads it as numbers or as arithmetic on them: no function, no reference.
fn negative_numbers(cell: &[u8]) -> bool {
    matches!(cell.get(1), Some(b'0'..=b'9' | b'.'))
        && cell
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'.' | b',' | b' ' | b'-'))
}

/// The bytes at the start of a read cell that are the escape a write added: 1 for a `'` before
/// a formula character or another `'`, else 0.
pub(super) fn escape_len(cell: &[u8]) -> usize {
    match cell {
        [b'\'', next, ..] if *next == b'\'' || FORMULA.contains(next) => 1,
        _ => 0,
    }
}

/// `cell` without the escape a write added.
pub(super) fn unescaped(cell: &str) -> &str {
    &cell[escape_len(cell.as_bytes())..]
}
