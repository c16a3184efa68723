use super::errors::error;
use super::shared_reader::reader;
use super::stored_row::{read_any_row, read_row, read_written};
use super::*;
use crate::catalog::offering::{
    Column, MemoryEcc, Normalized, Offering, ProductType, MAX_CELL_BYTES,
};

const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/serverhunter-offering-example.csv");

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
    let bytes = edited(|grid| grid[4][Column::UniqueInternalIdentifier.index()] = "QC1494".into());
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
        // Cells starting with a quote or a formula character differ: `formula_tests`.
        "single'",
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
