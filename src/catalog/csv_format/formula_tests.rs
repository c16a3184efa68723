//! Formula cells (OWASP's CSV injection rule): neutralised in every written record, read back
//! as they were, and negative numbers left as numbers.

use super::shared_reader::reader;
use super::*;
use crate::catalog::offering::{Column, Offering};

const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/serverhunter-offering-example.csv");

fn sample() -> Offering {
    parse_catalog(FIXTURE).expect("fixture").remove(0).0
}

fn with(column: Column, value: &str) -> Offering {
    let mut offering = sample();
    offering.cells[column.index()] = value.to_string();
    offering
}

/// The cells of `row` as the `csv` crate (and a spreadsheet) reads them.
fn as_read(row: &[u8]) -> Vec<String> {
    let record = reader(row)
        .records()
        .next()
        .expect("a record")
        .expect("csv");
    record.iter().map(String::from).collect()
}

#[test]
fn formula_cells_are_written_quoted_behind_a_quote_and_read_back_as_they_were() {
    let cells = [
        "=1+1",
        "+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "\tx",
        "\rx",
        "=HYPERLINK(\"http://evil\",\"click\")",
        // A leading quote is written doubled, so the one exports add is always told apart.
        "'",
        "'=x",
        "''a",
    ];
    for cell in cells {
        let offering = with(Column::Description, cell);
        let row = offering.to_csv_row();
        let read = as_read(&row);
        assert_eq!(
            read[Column::Description.index()],
            format!("'{cell}"),
            "{cell:?}"
        );
        let text = String::from_utf8(row.clone()).unwrap();
        let quoted = format!(",\"'{}\",", cell.replace('"', "\"\""));
        assert!(text.contains(&quoted), "{cell:?} is quoted: {text}");
        // Stored rows read back unescaped, and an export imports as the same offering.
        assert_eq!(Offering::from_csv_row(&row).unwrap(), offering, "{cell:?}");
        let (imported, _) = parse_catalog(&write_catalog([row.as_slice()]))
            .unwrap()
            .remove(0);
        assert_eq!(imported, offering, "{cell:?}");
        assert_eq!(imported.to_csv_row(), row, "{cell:?}");
    }
}

#[test]
fn keys_and_names_are_neutralised_too() {
    let mut offering = with(Column::UniqueInternalIdentifier, "=cmd");
    offering.cells[Column::OfferName.index()] = "@name".into();
    let read = as_read(&offering.to_csv_row());
    assert_eq!(read[Column::UniqueInternalIdentifier.index()], "'=cmd");
    assert_eq!(read[Column::OfferName.index()], "'@name");
}

#[test]
fn negative_coordinates_stay_numbers_but_formulas_in_them_do_not() {
    for cell in ["-33.8688,151.2093", "-33.8688, -70.5", "-0.5,0"] {
        let read = as_read(&with(Column::DatacenterCoordinates, cell).to_csv_row());
        assert_eq!(read[Column::DatacenterCoordinates.index()], cell);
    }
    for cell in ["-1+cmd|' /C calc'!A0,2", "-1e1,2", "+1,2", "=1,2"] {
        let read = as_read(&with(Column::DatacenterCoordinates, cell).to_csv_row());
        assert_eq!(
            read[Column::DatacenterCoordinates.index()],
            format!("'{cell}")
        );
    }
    // A negative number in a text column is text: neutralised.
    let read = as_read(&with(Column::Description, "-5").to_csv_row());
    assert_eq!(read[Column::Description.index()], "'-5");
}

#[test]
fn import_strips_the_one_quote_an_export_puts_before_a_formula_or_a_quote() {
    let row = String::from_utf8(sample().to_csv_row()).unwrap();
    let description = sample().cells[Column::Description.index()].clone();
    for (written, imported) in [
        ("'=x", "=x"),
        ("\"'+1\"", "+1"),
        ("''a", "'a"),
        ("'''", "''"),
        // Other leading quotes are the provider's text.
        ("'a", "'a"),
        ("'", "'"),
        ("a'=b", "a'=b"),
    ] {
        let csv = write_catalog([row.replace(&description, written).as_bytes()]);
        let (offering, _) = parse_catalog(&csv).unwrap().remove(0);
        assert_eq!(offering.cells[Column::Description.index()], imported);
    }
}

#[test]
fn keys_import_as_nfc_so_decomposed_and_composed_spellings_collide() {
    let row = String::from_utf8(sample().to_csv_row()).unwrap();
    let composed = row.replace("DC2993", "Caf\u{e9}");
    let decomposed = row.replace("DC2993", "Cafe\u{301}");
    let (offering, _) = parse_catalog(&write_catalog([decomposed.as_bytes()]))
        .unwrap()
        .remove(0);
    assert_eq!(offering.key(), "Caf\u{e9}");
    let both = write_catalog([composed.as_bytes(), decomposed.as_bytes()]);
    let errors = parse_catalog(&both).expect_err("one key twice");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].row, errors[0].column.as_deref()),
        (3, Some("Unique Internal identifier"))
    );
    assert!(
        errors[0].reason.contains("duplicate offering key"),
        "{errors:?}"
    );
}
