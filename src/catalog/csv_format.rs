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
mod tests;
