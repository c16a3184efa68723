//! The catalog file: serverhunter CSV with a header row. Import maps the header by name and
//! reports every bad row at once, so a provider fixes a file in one pass; export writes the
//! canonical header and the stored rows exactly as they were imported.

use crate::catalog::index::Dict;
use crate::catalog::offering::{values, Cells, Column, Normalized, Offering, Values, COLUMNS};
use csv::{ByteRecord, Position};
use std::cell::RefCell;
use std::io::{self, Cursor, SeekFrom};

/// Errors listed one by one; past this many they are only counted, which keeps the reply small
/// when a whole file is wrong.
pub const MAX_ERRORS: usize = 100;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest unknown header name quoted back in an error.
const SHOWN_HEADER_CHARS: usize = 64;

/// Why a catalog was refused. `row` is the line the record starts on (the header is usually line
/// 1, so the first offering is line 2); `column` names the header when a cell is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

/// Records of any length (counts are checked by the caller, row by row), "\r\n" or "\n" lines.
pub(crate) fn reader<R: io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input)
}

thread_local! {
    // Building a reader compiles its state machine: about 1.4 M instructions on wasm, more than
    // a hundred rows take to parse. Every parse (catalogs and single rows) rewinds this one,
    // and reads into the same record, whose buffers are then already allocated.
    static READER: RefCell<(csv::Reader<Cursor<Vec<u8>>>, ByteRecord)> =
        RefCell::new((rewound_reader(), ByteRecord::new()));
}

/// Input kept by the shared reader between parses; a larger catalog's copy is released.
const KEPT_INPUT_BYTES: usize = 64 * 1024;

/// A reader on an empty input, rewound once: the first rewind reads the headers (`has_headers`
/// is off, so they are never used), which would otherwise happen on a later rewind, on a real
/// input.
fn rewound_reader() -> csv::Reader<Cursor<Vec<u8>>> {
    let mut reader = reader(Cursor::new(Vec::new()));
    rewind(&mut reader);
    reader
}

/// Rewinds `reader`, which also resets its parser: it then reads its source exactly as a new
/// reader would (byte order mark and positions included).
fn rewind(reader: &mut csv::Reader<Cursor<Vec<u8>>>) {
    // Seeking a Cursor has no failure mode, and the headers were read from an empty input.
    reader
        .seek_raw(SeekFrom::Start(0), Position::new())
        .expect("a Cursor seeks");
}

/// Runs `read` on the shared reader rewound onto a copy of `input`, and the shared record.
fn with_reader<T>(
    input: &[u8],
    read: impl FnOnce(&mut csv::Reader<Cursor<Vec<u8>>>, &mut ByteRecord) -> T,
) -> T {
    READER.with_borrow_mut(|(reader, record)| {
        let source = reader.get_mut().get_mut();
        source.clear();
        source.extend_from_slice(input);
        rewind(reader);
        let result = read(reader, record);
        let source = reader.get_mut().get_mut();
        source.clear();
        source.shrink_to(KEPT_INPUT_BYTES);
        result
    })
}

/// Offerings' cells one after the other in one buffer, [`COLUMNS`]`.len()` to a row: no `String`
/// per cell, which on wasm would cost more than reading the cell (an allocation takes thousands
/// of instructions there).
#[derive(Clone, Debug, Default)]
pub struct CellText {
    text: String,
    /// Where each cell ends in `text` (it starts where the one before ends).
    ends: Vec<u32>,
}

impl CellText {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(bytes / 8),
        }
    }

    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len() as u32);
    }

    /// Appends the cells of `record` in its order, or `None` if any is not UTF-8.
    fn push_record(&mut self, record: &ByteRecord) -> Option<()> {
        let text = utf8_record(record)?;
        let base = self.text.len() as u32;
        self.text.push_str(text);
        let ends = (0..record.len()).filter_map(|i| record.range(i));
        self.ends.extend(ends.map(|r| base + r.end as u32));
        Some(())
    }

    /// Drops the cells after the first `cells`.
    fn truncate(&mut self, cells: usize) {
        self.ends.truncate(cells);
        self.text
            .truncate(self.ends.last().map_or(0, |&end| end as usize));
    }

    /// How many cells there are.
    fn len(&self) -> usize {
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
    /// empty is `""`; "\n" ends the record. Written here rather than by the `csv` crate's writer,
    /// which takes several times as many instructions per row on wasm: one scan of the row's
    /// text finds the cells to quote, and the others are copied as they are.
    fn write_record(&self, out: &mut Vec<u8>) {
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
            if special < end {
                write_quoted(out, cell);
                special = first_special(text, end);
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

fn write_quoted(out: &mut Vec<u8>, cell: &[u8]) {
    out.push(b'"');
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
fn first_special(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let found = rest
        .iter()
        .position(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    found.map_or(bytes.len(), |at| from + at)
}

/// One record of `cells`, as [`RowCells::write_record`] writes it.
pub(crate) fn write_row(cells: &[String]) -> Vec<u8> {
    let mut text = CellText::default();
    cells.iter().for_each(|cell| text.push(cell));
    let mut row = Vec::new();
    text.row(0).write_record(&mut row);
    row
}

/// The cells of a stored offering's `row`: exactly one record of 35 UTF-8 cells.
pub(crate) fn read_offering(row: &[u8]) -> Result<CellText, String> {
    let cells = read_row(row)?;
    match cells.len() {
        n if n == COLUMNS.len() => Ok(cells),
        n => Err(format!("expected {} cells, found {n}", COLUMNS.len())),
    }
}

/// The cells of `row`, which must hold exactly one record of UTF-8 text.
fn read_row(row: &[u8]) -> Result<CellText, String> {
    match read_written(row) {
        Some(cells) => Ok(cells),
        None => read_any_row(row),
    }
}

/// The cells of `row` if it is a record as [`RowCells::write_record`] writes it, as every
/// stored row is: then one pass over its bytes gives the cells the `csv` crate's reader would,
/// for a quarter of the instructions on wasm. `None` for any other row, which the reader then
/// parses.
fn read_written(row: &[u8]) -> Option<CellText> {
    let text = std::str::from_utf8(row.strip_suffix(b"\n")?).ok()?;
    if text.is_empty() {
        return None;
    }
    let mut cells = CellText::with_capacity(row.len());
    let mut rest = text;
    loop {
        let end = match rest.strip_prefix('"') {
            Some(quoted) => {
                rest = written_quoted(quoted, &mut cells.text)?;
                cells.ends.push(cells.text.len() as u32);
                0
            }
            None => {
                let end = first_special(rest.as_bytes(), 0);
                cells.push(&rest[..end]);
                end
            }
        };
        match rest.as_bytes().get(end) {
            None => return Some(cells),
            Some(b',') => rest = &rest[end + 1..],
            // A quote, or a line break, outside quotes: not as written.
            Some(_) => return None,
        }
    }
}

/// Appends the text of a quoted cell as written (from after its opening quote) to `out`, its
/// quotes undoubled; returns what follows the closing quote.
fn written_quoted<'a>(quoted: &'a str, out: &mut String) -> Option<&'a str> {
    let mut rest = quoted;
    loop {
        let at = rest.find('"')?;
        out.push_str(&rest[..at]);
        match rest[at + 1..].strip_prefix('"') {
            Some(after) => {
                out.push('"');
                rest = after;
            }
            None => return Some(&rest[at + 1..]),
        }
    }
}

/// [`read_row`] by the `csv` crate's reader.
fn read_any_row(row: &[u8]) -> Result<CellText, String> {
    with_reader(row, |reader, record| {
        if !reader.read_byte_record(record).map_err(|e| e.to_string())? {
            return Err("no record".into());
        }
        let mut cells = CellText::with_capacity(row.len());
        // The reader takes a leading U+FEFF for a file's byte order mark; in a row it can only
        // be the start of an unquoted first cell, so it goes back there.
        if row
            .strip_prefix(UTF8_BOM)
            .is_some_and(|rest| !rest.starts_with(b"\""))
        {
            cells.text.push('\u{feff}');
        }
        cells.push_record(record).ok_or("a cell is not UTF-8")?;
        if reader.read_byte_record(record).map_err(|e| e.to_string())? {
            return Err("more than one record".into());
        }
        Ok(cells)
    })
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

/// A catalog file: the canonical header, then the stored rows (each from
/// [`Offering::to_csv_row`]) as they are.
pub fn write_catalog<'a>(rows: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = COLUMNS.join(",").into_bytes();
    out.push(b'\n');
    for row in rows {
        out.extend_from_slice(row);
    }
    out
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

fn error(row: u32, column: Option<Column>, reason: &str) -> RowError {
    RowError {
        row,
        column: column.map(|c| c.name().to_string()),
        reason: reason.to_string(),
    }
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

/// The text of all `record`'s cells if each is UTF-8. One check of the whole record rather
/// than one per cell (a few hundred instructions each on wasm): the cells are valid exactly
/// when the record is and each starts at a character boundary.
fn utf8_record(record: &ByteRecord) -> Option<&str> {
    let text = std::str::from_utf8(record.as_slice()).ok()?;
    let starts = (0..record.len()).filter_map(|i| record.range(i));
    starts
        .map(|r| r.start)
        .all(|start| text.is_char_boundary(start))
        .then_some(text)
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

/// The errors of one import: the first [`MAX_ERRORS`] in full, then a count of the rest.
#[derive(Default)]
struct Report {
    errors: Vec<RowError>,
    omitted: usize,
    first_omitted_row: u32,
}

impl Report {
    fn push(&mut self, error: RowError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        } else {
            if self.omitted == 0 {
                self.first_omitted_row = error.row;
            }
            self.omitted += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    fn finish(mut self) -> Vec<RowError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::offering::{MemoryEcc, ProductType, MAX_CELL_BYTES};

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/serverhunter-offering-example.csv");

    /// The fixture as a grid of cells, header first.
    fn grid() -> Vec<Vec<String>> {
        reader(FIXTURE)
            .records()
            .map(|r| r.expect("fixture").iter().map(String::from).collect())
            .collect()
    }

    /// Rows of any length, as CSV.
    fn to_csv(grid: &[Vec<String>]) -> Vec<u8> {
        grid.iter()
            .flat_map(|cells| {
                Offering {
                    cells: cells.clone(),
                }
                .to_csv_row()
            })
            .collect()
    }

    /// The fixture with `edit` applied to its grid, as CSV.
    fn edited(edit: impl FnOnce(&mut Vec<Vec<String>>)) -> Vec<u8> {
        let mut grid = grid();
        edit(&mut grid);
        to_csv(&grid)
    }

    fn errors(bytes: &[u8]) -> Vec<RowError> {
        parse_catalog(bytes).expect_err("refused catalog")
    }

    #[test]
    fn the_fixture_imports_with_normalised_values() {
        let catalog = parse_catalog(FIXTURE).expect("fixture imports");
        let keys: Vec<&str> = catalog.iter().map(|(o, _)| o.key()).collect();
        assert_eq!(keys, ["DC2993", "QC1494", "2XQC9381", "4XQC3719"]);
        let n: Vec<&Normalized> = catalog.iter().map(|(_, n)| n).collect();
        assert_eq!(
            n.iter().map(|n| n.memory_mb).collect::<Vec<_>>(),
            [8192, 16384, 32768, 131072]
        );
        assert_eq!(
            n.iter().map(|n| n.cpu_mhz).collect::<Vec<_>>(),
            [Some(2600), Some(2200), Some(3500), Some(2600)]
        );
        assert_eq!(
            n.iter().map(|n| n.total_cores).collect::<Vec<_>>(),
            [2, 4, 8, 16]
        );
        assert_eq!(
            n.iter().map(|n| n.visible).collect::<Vec<_>>(),
            [true, true, false, true]
        );
        assert_eq!(
            n.iter().map(|n| n.memory_ecc).collect::<Vec<_>>(),
            [
                Some(MemoryEcc::NonEcc),
                Some(MemoryEcc::Ecc),
                Some(MemoryEcc::EccRegistered),
                Some(MemoryEcc::EccRegistered)
            ]
        );
        assert_eq!(n[0].product_type, ProductType::Vps);
        assert_eq!((n[1].hdd_count, n[1].hdd_gb, n[1].ssd_gb), (2, 4, 240));
        assert_eq!((n[2].currency, n[2].price_minor), (*b"USD", 19999));
        assert_eq!(n[2].unmetered, ["Unmetered inbound", "Unmetered outbound"]);
        assert_eq!(
            (n[2].uplink_mbit, n[2].control_panel.as_deref()),
            (Some(100), None)
        );
        for n in &n {
            assert_eq!(n.coordinates, Some((51.9229, 4.46317)));
            assert_eq!(
                (n.country, n.city.as_str()),
                (*b"NL", "Rotterdam, Netherlands")
            );
        }
    }

    #[test]
    fn export_reproduces_the_fixture_byte_for_byte() {
        let catalog = parse_catalog(FIXTURE).expect("fixture imports");
        let rows: Vec<Vec<u8>> = catalog.iter().map(|(o, _)| o.to_csv_row()).collect();
        let exported = write_catalog(rows.iter().map(Vec::as_slice));
        assert_eq!(
            String::from_utf8_lossy(&exported),
            String::from_utf8_lossy(FIXTURE)
        );
        assert_eq!(exported, FIXTURE);
        assert_eq!(parse_catalog(&exported), Ok(catalog));
    }

    #[test]
    fn columns_import_in_any_order_and_case() {
        let reordered = edited(|grid| {
            for row in grid.iter_mut() {
                row.reverse();
            }
            for (i, name) in grid[0].iter_mut().enumerate() {
                *name = match i % 3 {
                    0 => name.to_uppercase(),
                    1 => format!("  {} ", name.to_lowercase()),
                    _ => name.clone(),
                };
            }
        });
        assert_eq!(parse_catalog(&reordered), parse_catalog(FIXTURE));
    }

    #[test]
    fn a_byte_order_mark_and_crlf_lines_import() {
        let mut windows = b"\xEF\xBB\xBF".to_vec();
        windows.extend(
            String::from_utf8_lossy(FIXTURE)
                .replace('\n', "\r\n")
                .bytes(),
        );
        assert_eq!(parse_catalog(&windows), parse_catalog(FIXTURE));
        // Rows are still lines: the third offering's error is on line 4, or 6 after blank lines.
        let bad = String::from_utf8_lossy(&windows).replace("199.99,199.99", "x,199.99");
        assert_eq!(errors(bad.as_bytes())[0].row, 4);
        let spaced = bad.replace("\r\nIntel Dual Quad", "\r\n\r\n\nIntel Dual Quad");
        assert_eq!(errors(spaced.as_bytes())[0].row, 6);
        assert_eq!(errors(spaced.replace("\r\n", "\n").as_bytes())[0].row, 6);
    }

    #[test]
    fn quoted_line_breaks_keep_row_numbers_as_lines() {
        let bytes = edited(|grid| {
            grid[1][1] = "two\nlines".into();
            grid[2][5] = "free".into();
        });
        assert_eq!(
            errors(&bytes),
            [error(
                4,
                Some(Column::MonthlyPrice),
                "expected an amount such as 99.99, found \"free\""
            )]
        );
    }

    #[test]
    fn a_row_with_the_wrong_cell_count_is_refused() {
        let bytes = edited(|grid| {
            grid[3].pop();
            grid[4].push("extra".into());
        });
        assert_eq!(
            errors(&bytes),
            [
                error(4, None, "expected 35 cells, found 34"),
                error(5, None, "expected 35 cells, found 36"),
            ]
        );
    }

    #[test]
    fn headers_must_name_each_column_once() {
        let unknown = edited(|grid| {
            for row in grid.iter_mut() {
                row.push("blue".into());
            }
            grid[0][35] = "Colour".into();
        });
        assert_eq!(
            errors(&unknown),
            [RowError {
                row: 1,
                column: Some("Colour".into()),
                reason: "unknown column".into()
            }]
        );
        let doubled_and_missing = edited(|grid| grid[0][11] = "visibility".into());
        assert_eq!(
            errors(&doubled_and_missing),
            [
                error(1, Some(Column::Visibility), "duplicate column"),
                error(1, Some(Column::Stock), "missing column"),
            ]
        );
    }

    #[test]
    fn bad_cells_are_refused_with_row_column_and_reason() {
        let bytes = edited(|grid| {
            grid[1][Column::MonthlyPrice.index()] = "cheap".into();
            grid[2][Column::ProductType.index()] = "Bare metal".into();
            grid[3][Column::Description.index()] = "x".repeat(MAX_CELL_BYTES + 1);
            grid[4][Column::Stock.index()] = "soon".into();
            grid[4][Column::Currency.index()] = "€".into();
        });
        let errors = errors(&bytes);
        let found: Vec<(u32, Option<&str>)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (2, Some("Monthly price")),
                (3, Some("Product Type")),
                (4, Some("Description")),
                (5, Some("Currency")),
                (5, Some("Stock")),
            ]
        );
        assert!(errors[1]
            .reason
            .starts_with("unknown product type \"Bare metal\""));
        assert!(errors[2].reason.starts_with("oversized cell"));
    }

    #[test]
    fn non_utf8_bytes_are_refused_with_their_row() {
        let mut bytes = FIXTURE.to_vec();
        let second_row = bytes.iter().position(|&b| b == b'\n').expect("header") + 1;
        let third_row = second_row
            + bytes[second_row..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("row")
            + 1;
        let name = third_row
            + bytes[third_row..]
                .windows(5)
                .position(|w| w == b"Intel")
                .expect("name");
        bytes[name] = 0xff;
        assert_eq!(
            errors(&bytes),
            [error(3, Some(Column::OfferName), "not valid UTF-8")]
        );
        let mut header = FIXTURE.to_vec();
        header[0] = 0xc0;
        assert_eq!(
            errors(&header)[0],
            error(1, None, "header cell 1 is not valid UTF-8")
        );
    }

    #[test]
    fn a_character_split_across_two_cells_is_refused_in_both() {
        // Each cell holds half of "é": the record's bytes together are valid UTF-8.
        let mut bytes = edited(|grid| {
            grid[1][Column::OfferName.index()] = "A".into();
            grid[1][Column::Description.index()] = "B".into();
        });
        let name = bytes.windows(4).position(|w| w == b"\nA,B").unwrap();
        bytes[name + 1] = 0xc3;
        bytes[name + 3] = 0xa9;
        assert_eq!(
            errors(&bytes),
            [
                error(2, Some(Column::OfferName), "not valid UTF-8"),
                error(2, Some(Column::Description), "not valid UTF-8"),
            ]
        );
    }

    #[test]
    fn an_empty_catalog_is_refused() {
        assert_eq!(
            errors(b""),
            [error(1, None, "empty catalog: no header row")]
        );
        assert_eq!(
            errors(b"\xEF\xBB\xBF\r\n\n"),
            [error(1, None, "empty catalog: no header row")]
        );
        let header_only = write_catalog([]);
        assert_eq!(
            errors(&header_only),
            [error(2, None, "empty catalog: no offerings")]
        );
    }

    #[test]
    fn duplicate_offering_keys_are_refused_on_the_later_row() {
        let bytes =
            edited(|grid| grid[4][Column::UniqueInternalIdentifier.index()] = "QC1494".into());
        assert_eq!(
            errors(&bytes),
            [error(
                5,
                Some(Column::UniqueInternalIdentifier),
                "duplicate offering key, first on row 3"
            )]
        );
    }

    #[test]
    fn errors_past_the_cap_are_counted() {
        let bytes = edited(|grid| {
            let bad: Vec<String> = grid[1].iter().map(|_| String::new()).collect();
            grid.extend(std::iter::repeat_n(bad, 200));
        });
        let errors = errors(&bytes);
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        let last = errors.last().expect("summary");
        assert_eq!(last.column, None);
        // Each blank row has 10 bad cells; the first 100 errors cover rows 6 to 15.
        assert_eq!(last.row, 16);
        assert_eq!(
            last.reason,
            format!("{} more errors", 200 * 10 - MAX_ERRORS)
        );
    }

    #[test]
    fn header_errors_past_the_cap_are_counted() {
        // Found by fuzzing (fuzz/fuzz_targets/csv_import.rs): header errors were not capped.
        let mut header = COLUMNS.join(",");
        header.push_str(&",x".repeat(1000));
        header.push('\n');
        let errors = errors(header.as_bytes());
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[0].reason, "unknown column");
        let last = errors.last().expect("summary");
        assert_eq!((last.row, last.column.as_deref()), (1, None));
        // Every "x" is an unknown column: 1000 errors, 100 of them listed.
        assert_eq!(last.reason, format!("{} more errors", 1000 - MAX_ERRORS));
    }

    /// What the `csv` crate's writer makes of `cells` in this crate's dialect.
    fn csv_crate_row(cells: &[&str]) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer.write_record(cells).unwrap();
        writer.into_inner().unwrap()
    }

    #[test]
    fn rows_are_written_as_the_csv_crate_writes_them() {
        let tricky = [
            "",
            " ",
            "a",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "line\nbreak",
            "cr\ronly",
            "crlf\r\n",
            "Zürich ® 東京",
            "  padded  ",
            "#comment",
            "\u{feff}bom",
            "'single'",
        ];
        let mut records: Vec<Vec<&str>> = vec![vec![], vec![""], vec!["", ""]];
        for first in tricky {
            records.push(vec![first]);
            for other in tricky {
                let mut cells = vec![other; COLUMNS.len()];
                cells[0] = first;
                records.push(cells);
            }
        }
        for cells in records {
            let owned: Vec<String> = cells.iter().map(|cell| cell.to_string()).collect();
            assert_eq!(write_row(&owned), csv_crate_row(&cells), "{cells:?}");
        }
    }

    #[test]
    fn written_rows_read_as_the_csv_crate_reads_them() {
        let tricky = [
            "",
            " ",
            "a,b",
            "say \"hi\"",
            "\"",
            "line\nbreak",
            "cr\ronly",
            "crlf\r\n",
            "Zürich",
            "\u{feff}bom",
            "#c",
        ];
        let all = |cells: &CellText| cells.iter().map(String::from).collect::<Vec<_>>();
        for first in tricky {
            for other in tricky {
                let mut cells = vec![other.to_string(); COLUMNS.len()];
                cells[0] = first.to_string();
                let row = write_row(&cells);
                let written = read_written(&row).expect("a written row");
                assert_eq!(all(&written), cells, "{row:?}");
                assert_eq!(all(&read_any_row(&row).unwrap()), cells, "{row:?}");
            }
        }
        assert_eq!(all(&read_written(b"\"\"\n").unwrap()), [""]);
        // Rows not as written are left to the reader.
        for row in [
            &b""[..],
            b"\n",
            b"a,b",
            b"a,b\r\n",
            b"a\"b,c\n",
            b"\"a\"b,c\n",
            b"\"a,b\n",
            b"a\nb\n",
            b"\xff,a\n",
        ] {
            assert!(read_written(row).is_none(), "{row:?}");
        }
        assert_eq!(all(&read_row(b"a,b\r\n").unwrap()), ["a", "b"]);
        assert_eq!(all(&read_row(b"a\"b,c\n").unwrap()), ["a\"b", "c"]);
    }

    #[test]
    fn the_header_is_written_in_canonical_order() {
        let rows = [b"a\n".as_slice(), b"b\n".as_slice()];
        let written = write_catalog(rows);
        let header = COLUMNS.join(",");
        assert_eq!(written, format!("{header}\na\nb\n").into_bytes());
        assert!(FIXTURE.starts_with(header.as_bytes()));
    }
}
