//! Cells in flat buffers ([`CellText`], [`RowCells`]), and the CSV record a row is written as.

use super::formula;
use crate::catalog::offering::{Cells, Column, COLUMNS};
use csv::ByteRecord;

/// Offerings' cells one after the other in one buffer, [`COLUMNS`]`.len()` to a row: no `String`
/// per cell, which on wasm would cost more than reading the cell (an allocation takes thousands
/// of instructions there).
#[derive(Clone, Debug, Default)]
pub struct CellText {
    pub(super) text: String,
    /// Where each cell ends in `text` (it starts where the one before ends).
    pub(super) ends: Vec<u32>,
}

impl CellText {
    pub(super) fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(bytes / 8),
        }
    }

    pub(super) fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len() as u32);
    }

    /// Appends the cells of `record` in its order, or `None` if any is not UTF-8.
    pub(super) fn push_record(&mut self, record: &ByteRecord) -> Option<()> {
        let text = utf8_record(record)?;
        let base = self.text.len() as u32;
        self.text.push_str(text);
        let ends = (0..record.len()).filter_map(|i| record.range(i));
        self.ends.extend(ends.map(|r| base + r.end as u32));
        Some(())
    }

    /// Replaces the cells from `first` on for which `fix` (given the cell's index from `first`
    /// and its text) returns a new text. Nothing is copied when no cell changes.
    pub(super) fn rewrite_from(
        &mut self,
        first: usize,
        fix: impl Fn(usize, &str) -> Option<String>,
    ) {
        let fixed: Vec<(usize, String)> = (first..self.len())
            .filter_map(|i| Some((i, fix(i - first, self.cell_at(i))?)))
            .collect();
        if fixed.is_empty() {
            return;
        }
        let base = self.start_of(first);
        let tail = self.text.split_off(base);
        let ends = self.ends.split_off(first);
        let mut fixed = fixed.into_iter().peekable();
        let mut from = 0;
        for (i, end) in (first..).zip(ends) {
            let end = end as usize - base;
            match fixed.next_if(|(at, _)| *at == i) {
                Some((_, cell)) => self.push(&cell),
                None => self.push(&tail[from..end]),
            }
            from = end;
        }
    }

    /// Removes the escape exports put before formula cells (`formula`), from cell `first` on.
    pub(super) fn unescape_from(&mut self, first: usize) {
        self.rewrite_from(first, |_, cell| {
            let unescaped = formula::unescaped(cell);
            (unescaped.len() != cell.len()).then(|| unescaped.to_string())
        });
    }

    fn start_of(&self, cell: usize) -> usize {
        cell.checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize)
    }

    fn cell_at(&self, cell: usize) -> &str {
        &self.text[self.start_of(cell)..self.ends[cell] as usize]
    }

    /// Drops the cells after the first `cells`.
    pub(super) fn truncate(&mut self, cells: usize) {
        self.ends.truncate(cells);
        self.text
            .truncate(self.ends.last().map_or(0, |&end| end as usize));
    }

    /// How many cells there are.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The cells of row `row` (cells `row * 35` on).
    pub fn row(&self, row: usize) -> RowCells<'_> {
        let first = row * COLUMNS.len();
        RowCells {
            text: &self.text,
            start: first
                .checked_sub(1)
                .map_or(0, |before| self.ends[before] as usize),
            ends: self.ends.get(first..).unwrap_or_default(),
        }
    }

    /// Every cell, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&end| end as usize));
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start..end as usize])
    }
}

/// The cells of one row of a [`CellText`].
#[derive(Clone, Copy, Debug)]
pub struct RowCells<'a> {
    text: &'a str,
    start: usize,
    ends: &'a [u32],
}

impl RowCells<'_> {
    /// Appends the row as one record in the dialect of every CSV this crate writes, the `csv`
    /// crate's writer's with `QuoteStyle::Necessary` (a test compares them): a cell holding a
    /// comma, a quote or a line break is quoted, its quotes doubled; a record that would be
    /// empty is `""`; "\n" ends the record; a formula cell is quoted behind a `'` (`formula`,
    /// where the `csv` crate's writer differs). Written here rather than by the `csv` crate's writer,
    /// which takes several times as many instructions per row on wasm: one scan of the row's
    /// text finds the cells to quote, and the others are copied as they are.
    pub(super) fn write_record(&self, out: &mut Vec<u8>) {
        let end = self.ends.last().map_or(self.start, |&end| end as usize);
        let text = &self.text.as_bytes()[self.start..end];
        out.reserve(text.len() + self.ends.len() + 1);
        let start = out.len();
        let mut special = first_special(text, 0);
        let mut from = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            let end = end as usize - self.start;
            if i > 0 {
                out.push(b',');
            }
            let cell = &text[from..end];
            let escape = formula::needs_escape(i, cell);
            if special < end {
                write_quoted(out, escape, cell);
                special = first_special(text, end);
            } else if escape {
                write_quoted(out, escape, cell);
            } else {
                out.extend_from_slice(cell);
            }
            from = end;
        }
        if out.len() == start {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
}

impl Cells for RowCells<'_> {
    fn cell(&self, column: Column) -> &str {
        let i = column.index();
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = match i {
            0 => self.start,
            _ => self.ends[i - 1] as usize,
        };
        self.text.get(start..end as usize).unwrap_or_default()
    }
}

/// `cell` quoted, its quotes doubled; behind a `'` if it is a formula cell (`formula`).
fn write_quoted(out: &mut Vec<u8>, formula: bool, cell: &[u8]) {
    out.push(b'"');
    if formula {
        out.push(b'\'');
    }
    for (i, part) in cell.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part);
    }
    out.push(b'"');
}

/// Where the first byte from `from` on that makes a cell need quotes is: a comma, a quote or a
/// line break; `bytes.len()` if there is none. Out of line, so that its loop is only the test
/// of each byte (the ic0 host, wasmi, charges all of a loop's body on each turn).
#[inline(never)]
pub(super) fn first_special(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let found = rest
        .iter()
        .position(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    found.map_or(bytes.len(), |at| from + at)
}

/// The text of all `record`'s cells if each is UTF-8. One check of the whole record rather
/// than one per cell (a few hundred instructions each on wasm): the cells are valid exactly
/// when the record is and each starts at a character boundary.
pub(super) fn utf8_record(record: &ByteRecord) -> Option<&str> {
    let text = std::str::from_utf8(record.as_slice()).ok()?;
    let starts = (0..record.len()).filter_map(|i| record.range(i));
    starts
        .map(|r| r.start)
        .all(|start| text.is_char_boundary(start))
        .then_some(text)
}
