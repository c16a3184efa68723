//! The catalog file: serverhunter CSV with a header row. Import maps the header by name and
//! reports every bad row at once, so a provider fixes a file in one pass; export writes the
//! canonical header and the stored rows exactly as they were imported.

use crate::catalog::offering::{normalize, Column, Normalized, Offering, COLUMNS};
use csv::{ByteRecord, Position};
use std::cell::RefCell;
use std::collections::hash_map::{Entry, HashMap};
use std::io::{self, Cursor, SeekFrom};

/// Errors listed one by one; past this many they are only counted, which keeps the reply small
/// when a whole file is wrong.
pub const MAX_ERRORS: usize = 100;

/// Room for a typical row, so most rows are written with one allocation and one copy.
const ROW_BUFFER_BYTES: usize = 1024;

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
    // Building a reader compiles its state machine, which costs more than decoding a row (about
    // 15 µs natively): single rows reuse one reader.
    static ROW_READER: RefCell<csv::Reader<Cursor<Vec<u8>>>> =
        RefCell::new(reader(Cursor::new(Vec::new())));
}

/// One record of `cells` in the dialect of every CSV this crate writes: quoted only where
/// needed, "\n" after the record.
pub(crate) fn write_row(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::Any(b'\n'))
        // The default 8 KiB buffer would be zeroed for every row; a row fits a few hundred bytes.
        .buffer_capacity(ROW_BUFFER_BYTES)
        .from_writer(Vec::with_capacity(ROW_BUFFER_BYTES));
    // Writing one record into a Vec has no failure mode: no I/O, nothing to compare lengths with.
    writer
        .write_record(cells)
        .expect("a record writes into a Vec");
    writer.into_inner().expect("a Vec flushes")
}

/// The cells of `row`, which must hold exactly one record of UTF-8 text.
pub(crate) fn read_row(row: &[u8]) -> Result<Vec<String>, String> {
    ROW_READER.with_borrow_mut(|reader| {
        let source = reader.get_mut().get_mut();
        source.clear();
        source.extend_from_slice(row);
        // Rewinding also resets the parser, as for a new input.
        reader
            .seek_raw(SeekFrom::Start(0), Position::new())
            .map_err(|e| e.to_string())?;
        let mut records = reader.records();
        let record = records
            .next()
            .ok_or("no record")?
            .map_err(|e| e.to_string())?;
        if records.next().is_some() {
            return Err("more than one record".into());
        }
        let mut cells: Vec<String> = record.iter().map(String::from).collect();
        // The reader takes a leading U+FEFF for a file's byte order mark; in a row it can only
        // be the start of an unquoted first cell, so it goes back there.
        if let (Some(first), Some(rest)) = (cells.first_mut(), row.strip_prefix(UTF8_BOM)) {
            if !rest.starts_with(b"\"") {
                first.insert(0, '\u{feff}');
            }
        }
        Ok(cells)
    })
}

/// Every offering of a catalog file with its normalised values, or every reason to refuse it.
/// Nothing is partial: one bad row refuses the whole catalog.
pub fn parse_catalog(bytes: &[u8]) -> Result<Vec<(Offering, Normalized)>, Vec<RowError>> {
    // The reader drops a UTF-8 byte order mark at the start of the input.
    let mut reader = reader(bytes);
    let mut record = ByteRecord::new();
    let Some(header_row) = next_record(bytes, &mut reader, &mut record).map_err(|e| vec![e])?
    else {
        return Err(vec![error(1, None, "empty catalog: no header row")]);
    };
    let width = record.len();
    let positions = header(&record, header_row)?;

    let mut report = Report::default();
    let mut rows = 0usize;
    let mut offerings = Vec::new();
    let mut first_row_of_key: HashMap<String, u32> = HashMap::new();
    loop {
        let row = match next_record(bytes, &mut reader, &mut record) {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                report.push(e);
                break;
            }
        };
        rows += 1;
        let offering = match cells(&record, row, width, &positions) {
            Ok(offering) => offering,
            Err(errors) => {
                errors.into_iter().for_each(|e| report.push(e));
                continue;
            }
        };
        if !offering.key().is_empty() {
            match first_row_of_key.entry(offering.key().to_string()) {
                Entry::Occupied(first) => report.push(error(
                    row,
                    Some(Column::UniqueInternalIdentifier),
                    &format!("duplicate offering key, first on row {}", first.get()),
                )),
                Entry::Vacant(slot) => {
                    slot.insert(row);
                }
            }
        }
        match normalize(&offering) {
            // Once the catalog is refused its offerings are of no use: stop keeping them.
            Ok(normalized) if report.is_empty() => offerings.push((offering, normalized)),
            Ok(_) => {}
            Err(errors) => errors
                .into_iter()
                .for_each(|e| report.push(error(row, Some(e.column), &e.reason))),
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
        Ok(offerings)
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
fn next_record(
    bytes: &[u8],
    reader: &mut csv::Reader<&[u8]>,
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

/// The row's cells in canonical order, checked for count and UTF-8.
fn cells(
    record: &ByteRecord,
    row: u32,
    width: usize,
    positions: &[usize],
) -> Result<Offering, Vec<RowError>> {
    if record.len() != width {
        return Err(vec![error(
            row,
            None,
            &format!("expected {width} cells, found {}", record.len()),
        )]);
    }
    let mut cells = Vec::with_capacity(COLUMNS.len());
    let mut errors = Vec::new();
    for (column, &position) in Column::ALL.into_iter().zip(positions) {
        match std::str::from_utf8(&record[position]) {
            Ok(cell) => cells.push(cell.to_string()),
            Err(_) => errors.push(error(row, Some(column), "not valid UTF-8")),
        }
    }
    if errors.is_empty() {
        Ok(Offering { cells })
    } else {
        Err(errors)
    }
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
    fn the_header_is_written_in_canonical_order() {
        let rows = [b"a\n".as_slice(), b"b\n".as_slice()];
        let written = write_catalog(rows);
        let header = COLUMNS.join(",");
        assert_eq!(written, format!("{header}\na\nb\n").into_bytes());
        assert!(FIXTURE.starts_with(header.as_bytes()));
    }
}
