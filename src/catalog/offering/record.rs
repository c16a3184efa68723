//! An offering's cells as its provider wrote them ([`Offering`]); read access to cells ([`Cells`]).

use super::{Column, COLUMNS};
use crate::catalog::csv_format;

/// Read access to an offering's cells, whatever holds them.
pub trait Cells {
    /// The cell as written; "" for a cell that is not there.
    fn cell(&self, column: Column) -> &str;

    /// The offering key: unique within its provider's catalog.
    fn key(&self) -> &str {
        self.cell(Column::UniqueInternalIdentifier)
    }
}

impl Cells for Offering {
    fn cell(&self, column: Column) -> &str {
        Offering::cell(self, column)
    }
}

/// An offering as its provider wrote it: exactly 35 cells in [`COLUMNS`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offering {
    pub cells: Vec<String>,
}

impl Offering {
    pub fn new(cells: Vec<String>) -> Result<Self, String> {
        if cells.len() == COLUMNS.len() {
            Ok(Self { cells })
        } else {
            Err(format!(
                "expected {} cells, found {}",
                COLUMNS.len(),
                cells.len()
            ))
        }
    }

    /// The cell as written; "" for a cell missing from a hand-built, short `cells`.
    pub fn cell(&self, column: Column) -> &str {
        self.cells.get(column.index()).map_or("", String::as_str)
    }

    /// The offering key: unique within its provider's catalog.
    pub fn key(&self) -> &str {
        self.cell(Column::UniqueInternalIdentifier)
    }

    /// One CSV record ending in "\n", quoted only where needed, so stored rows concatenate into a
    /// CSV file and the fixture's rows come out byte for byte as written.
    pub fn to_csv_row(&self) -> Vec<u8> {
        csv_format::write_row(&self.cells)
    }

    /// The offering stored by [`Offering::to_csv_row`]: exactly one record of 35 UTF-8 cells.
    pub fn from_csv_row(row: &[u8]) -> Result<Offering, String> {
        let cells = csv_format::read_offering(row)?;
        Ok(Self {
            cells: cells.iter().map(String::from).collect(),
        })
    }
}

impl From<[String; COLUMNS.len()]> for Offering {
    fn from(cells: [String; COLUMNS.len()]) -> Self {
        Self {
            cells: cells.into(),
        }
    }
}
