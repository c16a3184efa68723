//! The catalog file: serverhunter CSV with a header row. Import maps the header by name and
//! reports every bad row at once, so a provider fixes a file in one pass; export writes the
//! canonical header and the stored rows exactly as they were imported. Every record written
//! neutralises spreadsheet formula cells, and every read undoes it (`formula`).

mod cell_text;
mod errors;
mod formula;
mod import;
mod shared_reader;
mod stored_row;

pub use cell_text::{CellText, RowCells};
pub use errors::{RowError, MAX_ERRORS};
pub use import::{parse, parse_catalog, Catalog, Row};
pub(crate) use stored_row::{read_offering, write_row};

use crate::catalog::offering::COLUMNS;

/// A catalog file: the canonical header, then the stored rows (each from
/// [`Offering::to_csv_row`]) as they are.
///
/// [`Offering::to_csv_row`]: crate::catalog::offering::Offering::to_csv_row
pub fn write_catalog<'a>(rows: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = COLUMNS.join(",").into_bytes();
    out.push(b'\n');
    for row in rows {
        out.extend_from_slice(row);
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod formula_tests;
