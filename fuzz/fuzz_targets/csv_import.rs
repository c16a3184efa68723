//! The catalog CSV import as `catalog_replace` and `catalog_upsert` run it
//! (`publish::plan_rows` → `csv_format::parse`: header by name, every row checked and normalised
//! into offerings), on arbitrary bytes.
//!
//! Never panics; and what it accepts is consistent: every stored record reads back as the same
//! 35 cells (`Offering::from_csv_row`, what search and export read), the cells normalise to the
//! values the import computed, and the catalog file written
//! from the stored records (what `provider_catalog_export` gives) imports to the same records.
//! A refusal lists at least one error, at most `MAX_ERRORS` of them plus a count line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marketplace::catalog::csv_format::{self, MAX_ERRORS};
use marketplace::catalog::offering::{normalize, Cells, Column, Normalized, Offering, COLUMNS};

fuzz_target!(|bytes: &[u8]| {
    let catalog = match csv_format::parse(bytes) {
        Ok(catalog) => catalog,
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused catalog without a reason");
            // Listed errors, and one more line counting the rest.
            assert!(errors.len() <= MAX_ERRORS + 1, "{} errors", errors.len());
            return;
        }
    };
    let rows: Vec<_> = catalog.rows().collect();
    assert!(!rows.is_empty(), "an accepted catalog without offerings");
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let cells: Vec<String> = Column::ALL
            .iter()
            .map(|&c| row.cells.cell(c).to_string())
            .collect();
        assert_eq!(cells.len(), COLUMNS.len());
        // The stored record reads back as the same cells.
        let read = Offering::from_csv_row(row.record).unwrap_or_else(|e| {
            panic!("a stored record does not read back: {e}: {:?}", row.record)
        });
        assert_eq!(
            read.cells,
            cells,
            "record {:?}",
            String::from_utf8_lossy(row.record)
        );
        // Written again by the writer of single rows, it is the same record.
        assert_eq!(read.to_csv_row(), row.record, "the record is not canonical");
        // Normalising the read cells gives the import's values.
        let normalized = normalize(&read)
            .unwrap_or_else(|e| panic!("stored cells do not normalise: {e:?}: {cells:?}"));
        assert!(same(&normalized, &Normalized::new(row.values, &row.cells)));
        records.push(row.record.to_vec());
    }
    // The export of the stored records imports to the same records.
    let exported = csv_format::write_catalog(records.iter().map(Vec::as_slice));
    let again = csv_format::parse(&exported).unwrap_or_else(|e| {
        panic!(
            "the export of an accepted catalog is refused: {e:?}\n{}",
            String::from_utf8_lossy(&exported)
        )
    });
    let again: Vec<&[u8]> = again.rows().map(|row| row.record).collect();
    assert_eq!(again, records.iter().map(Vec::as_slice).collect::<Vec<_>>());
});

/// Equal, with coordinates compared bit for bit (NaN is refused on import, but be exact).
fn same(a: &Normalized, b: &Normalized) -> bool {
    let bits = |n: &Normalized| n.coordinates.map(|(x, y)| (x.to_bits(), y.to_bits()));
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    a2.coordinates = None;
    b2.coordinates = None;
    a2 == b2 && bits(a) == bits(b)
}
