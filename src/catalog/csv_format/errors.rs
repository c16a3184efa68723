//! Why a catalog was refused ([`RowError`]), and the report that caps how many errors are listed.

use crate::catalog::offering::Column;

/// Errors listed one by one; past this many they are only counted, which keeps the reply small
/// when a whole file is wrong.
pub const MAX_ERRORS: usize = 100;

/// Why a catalog was refused. `row` is the line the record starts on (the header is usually line
/// 1, so the first offering is line 2); `column` names the header when a cell is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

pub(super) fn error(row: u32, column: Option<Column>, reason: &str) -> RowError {
    RowError {
        row,
        column: column.map(|c| c.name().to_string()),
        reason: reason.to_string(),
    }
}

/// The errors of one import: the first [`MAX_ERRORS`] in full, then a count of the rest.
#[derive(Default)]
pub(super) struct Report {
    errors: Vec<RowError>,
    omitted: usize,
    first_omitted_row: u32,
}

impl Report {
    pub(super) fn push(&mut self, error: RowError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        } else {
            if self.omitted == 0 {
                self.first_omitted_row = error.row;
            }
            self.omitted += 1;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub(super) fn finish(mut self) -> Vec<RowError> {
        if self.omitted > 0 {
            self.errors.push(RowError {
                row: self.first_omitted_row,
                column: None,
                reason: format!("{} more errors", self.omitted),
            });
        }
        self.errors
    }
}
