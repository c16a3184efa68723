//! One stored offering's CSV record: written, then read back in one pass or by the `csv` reader.

use super::cell_text::{first_special, CellText};
use super::formula;
use super::shared_reader::with_reader;
use crate::catalog::offering::COLUMNS;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record of `cells`, as [`RowCells::write_record`] writes it.
///
/// [`RowCells::write_record`]: super::RowCells::write_record
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
pub(super) fn read_row(row: &[u8]) -> Result<CellText, String> {
    match read_written(row) {
        Some(cells) => Ok(cells),
        None => read_any_row(row),
    }
}

/// The cells of `row` if it is a record as [`RowCells::write_record`] writes it, as every
/// stored row is: then one pass over its bytes gives the cells the `csv` crate's reader would,
/// for a quarter of the instructions on wasm. `None` for any other row, which the reader then
/// parses.
///
/// [`RowCells::write_record`]: super::RowCells::write_record
pub(super) fn read_written(row: &[u8]) -> Option<CellText> {
    let text = std::str::from_utf8(row.strip_suffix(b"\n")?).ok()?;
    if text.is_empty() {
        return None;
    }
    let mut cells = CellText::with_capacity(row.len());
    let mut rest = text;
    loop {
        let end = match rest.strip_prefix('"') {
            Some(quoted) => {
                let start = cells.text.len();
                rest = written_quoted(quoted, &mut cells.text)?;
                // Formula cells are always quoted: their escape goes here.
                if formula::escape_len(&cells.text.as_bytes()[start..]) > 0 {
                    cells.text.remove(start);
                }
                cells.ends.push(cells.text.len() as u32);
                0
            }
            None => {
                let end = first_special(rest.as_bytes(), 0);
                cells.push(formula::unescaped(&rest[..end]));
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
pub(super) fn read_any_row(row: &[u8]) -> Result<CellText, String> {
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
        cells.unescape_from(0);
        if reader.read_byte_record(record).map_err(|e| e.to_string())? {
            return Err("more than one record".into());
        }
        Ok(cells)
    })
}
