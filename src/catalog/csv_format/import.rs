//! Catalog import: the header mapped by name, every row checked, the offerings kept in [`Catalog`].

use super::cell_text::{utf8_record, CellText, RowCells};
use super::errors::{error, Report, RowError};
use super::formula;
use super::shared_reader::with_reader;
use crate::catalog::index::Dict;
use crate::catalog::offering::{
    nfc_key, values, Cells, Column, Normalized, Offering, Values, COLUMNS,
};
use csv::{ByteRecord, Position};
use std::borrow::Cow;
use std::io;

/// Longest unknown header name quoted back in an error.
const SHOWN_HEADER_CHARS: usize = 64;

/// A catalog file, parsed and checked: each offering's cells in canonical order, its typed
/// values and the canonical CSV record it is stored as, in flat buffers.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    cells: CellText,
    values: Vec<Values>,
    /// The records, one after the other.
    records: Vec<u8>,
    record_ends: Vec<usize>,
}

/// One offering of a [`Catalog`].
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub cells: RowCells<'a>,
    pub values: &'a Values,
    /// What the store keeps: [`RowCells::write_record`] of the cells.
    pub record: &'a [u8],
}

impl Catalog {
    fn len(&self) -> usize {
        self.values.len()
    }

    pub fn row(&self, row: usize) -> Row<'_> {
        let start = row
            .checked_sub(1)
            .map_or(0, |before| self.record_ends[before]);
        Row {
            cells: self.cells.row(row),
            values: &self.values[row],
            record: &self.records[start..self.record_ends[row]],
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        (0..self.len()).map(|row| self.row(row))
    }

    /// Keeps the row whose cells were pushed last.
    fn keep(&mut self, values: Values) {
        let row = self.cells.row(self.values.len());
        row.write_record(&mut self.records);
        self.record_ends.push(self.records.len());
        self.values.push(values);
    }
}

/// Every offering of a catalog file with its normalised values, or every reason to refuse it.
/// Nothing is partial: one bad row refuses the whole catalog.
pub fn parse_catalog(bytes: &[u8]) -> Result<Vec<(Offering, Normalized)>, Vec<RowError>> {
    let catalog = parse(bytes)?;
    let owned = catalog.rows().map(|row| {
        let cells = Column::ALL.map(|column| row.cells.cell(column).to_string());
        let normalized = Normalized::new(row.values, &row.cells);
        (Offering::from(cells), normalized)
    });
    Ok(owned.collect())
}

/// [`parse_catalog`] into a [`Catalog`]: what publishing uses.
pub fn parse(bytes: &[u8]) -> Result<Catalog, Vec<RowError>> {
    with_reader(bytes, |reader, record| parse_records(bytes, reader, record))
}

/// [`parse`] with `reader` on `bytes`.
fn parse_records<R: io::Read>(
    bytes: &[u8],
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<Catalog, Vec<RowError>> {
    // The reader drops a UTF-8 byte order mark at the start of the input.
    let Some(header_row) = next_record(bytes, reader, record).map_err(|e| vec![e])? else {
        return Err(vec![error(1, None, "empty catalog: no header row")]);
    };
    let width = record.len();
    // Capped like row errors: a header of a million unknown columns must not make a reply of a
    // million errors.
    let positions = header(record, header_row).map_err(|errors| {
        let mut report = Report::default();
        errors.into_iter().for_each(|e| report.push(e));
        report.finish()
    })?;
    let in_order = positions.iter().enumerate().all(|(i, &at)| i == at);

    let mut report = Report::default();
    let mut rows = 0usize;
    let mut catalog = Catalog {
        cells: CellText::with_capacity(bytes.len()),
        records: Vec::with_capacity(bytes.len()),
        ..Catalog::default()
    };
    // Each key's first row, by the key's id in `keys`.
    let mut keys = Dict::default();
    let mut first_rows: Vec<u32> = Vec::new();
    loop {
        let row = match next_record(bytes, reader, record) {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                report.push(e);
                break;
            }
        };
        rows += 1;
        let kept = catalog.cells.len();
        let columns = (positions.as_slice(), in_order);
        if let Err(errors) = cells(record, row, width, columns, &mut catalog.cells) {
            errors.into_iter().for_each(|e| report.push(e));
            catalog.cells.truncate(kept);
            continue;
        }
        catalog.cells.rewrite_from(kept, imported_cell);
        let offering = catalog.cells.row(catalog.len());
        let key = offering.key();
        if !key.is_empty() {
            let id = keys.intern(key.as_bytes()) as usize;
            match first_rows.get(id) {
                Some(first) => report.push(error(
                    row,
                    Some(Column::UniqueInternalIdentifier),
                    &format!("duplicate offering key, first on row {first}"),
                )),
                None => first_rows.push(row),
            }
        }
        match values(&offering) {
            // Once the catalog is refused its offerings are of no use: stop keeping them.
            Ok(values) if report.is_empty() => catalog.keep(values),
            Ok(_) => catalog.cells.truncate(kept),
            Err(errors) => {
                errors
                    .into_iter()
                    .for_each(|e| report.push(error(row, Some(e.column), &e.reason)));
                catalog.cells.truncate(kept);
            }
        }
    }
    if rows == 0 {
        report.push(error(
            header_row.saturating_add(1),
            None,
            "empty catalog: no offerings",
        ));
    }
    if report.is_empty() {
        Ok(catalog)
    } else {
        Err(report.finish())
    }
}

/// The cell as stored, if it differs from the file's: without the escape exports put before
/// formula cells (`formula`), and, for the offering key, in NFC, so spellings that differ only
/// in composed and decomposed characters are one key (and a duplicate within a file).
fn imported_cell(column: usize, cell: &str) -> Option<String> {
    let unescaped = formula::unescaped(cell);
    let nfc = match column == Column::UniqueInternalIdentifier.index() {
        true => nfc_key(unescaped),
        false => Cow::Borrowed(unescaped),
    };
    (nfc.len() != cell.len() || nfc != cell).then(|| nfc.into_owned())
}

/// Reads the next record of `bytes`; its row is the line it starts on.
fn next_record<R: io::Read>(
    bytes: &[u8],
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<Option<u32>, RowError> {
    match reader.read_byte_record(record) {
        Ok(true) => Ok(Some(record.position().map_or(0, |p| line(bytes, p)))),
        Ok(false) => Ok(None),
        Err(e) => Err(RowError {
            row: e.position().map_or(0, |p| line(bytes, p)),
            column: None,
            reason: e.to_string(),
        }),
    }
}

/// The line of the record at `position`. The reader places a record where it started looking,
/// before the line ends it then skips (the "\n" of a "\r\n", blank lines), so those count here.
fn line(bytes: &[u8], position: &Position) -> u32 {
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(position.line().saturating_add(skipped as u64)).unwrap_or(u32::MAX)
}

/// Where each column sits in a row, in [`Column::ALL`] order.
fn header(record: &ByteRecord, row: u32) -> Result<Vec<usize>, Vec<RowError>> {
    let mut positions = [None; COLUMNS.len()];
    let mut errors = Vec::new();
    for (position, cell) in record.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(cell) else {
            errors.push(error(
                row,
                None,
                &format!("header cell {} is not valid UTF-8", position + 1),
            ));
            continue;
        };
        match Column::from_header(name) {
            Some(column) if positions[column.index()].is_some() => {
                errors.push(error(row, Some(column), "duplicate column"));
            }
            Some(column) => positions[column.index()] = Some(position),
            None => errors.push(RowError {
                row,
                column: Some(name.trim().chars().take(SHOWN_HEADER_CHARS).collect()),
                reason: "unknown column".into(),
            }),
        }
    }
    for column in Column::ALL {
        if positions[column.index()].is_none() {
            errors.push(error(row, Some(column), "missing column"));
        }
    }
    match positions.into_iter().collect::<Option<Vec<usize>>>() {
        Some(positions) if errors.is_empty() => Ok(positions),
        _ => Err(errors),
    }
}

/// Appends the row's cells to `cells` in canonical order, checked for count and UTF-8.
fn cells(
    record: &ByteRecord,
    row: u32,
    width: usize,
    (positions, in_order): (&[usize], bool),
    cells: &mut CellText,
) -> Result<(), Vec<RowError>> {
    if record.len() != width {
        return Err(vec![error(
            row,
            None,
            &format!("expected {width} cells, found {}", record.len()),
        )]);
    }
    if in_order {
        // Columns in canonical order (as exports write them): the cells go in as they are.
        return cells
            .push_record(record)
            .ok_or_else(|| utf8_errors(record, row, positions));
    }
    let text = utf8_record(record).ok_or_else(|| utf8_errors(record, row, positions))?;
    for &position in positions {
        cells.push(
            record
                .range(position)
                .and_then(|r| text.get(r))
                .unwrap_or_default(),
        );
    }
    Ok(())
}

/// The cells of `record` that are not UTF-8.
#[cold]
fn utf8_errors(record: &ByteRecord, row: u32, positions: &[usize]) -> Vec<RowError> {
    let columns = Column::ALL.into_iter().zip(positions);
    columns
        .filter(|(_, &position)| std::str::from_utf8(&record[position]).is_err())
        .map(|(column, _)| error(row, Some(column), "not valid UTF-8"))
        .collect()
}
