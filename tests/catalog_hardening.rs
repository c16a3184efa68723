//! Catalog hardening through the wasm (issue 12, findings L1, L2, H4): exports neutralise
//! formula cells and import back as they were, offering keys are NFC without invisible
//! characters, and idle throwaway uploads can no longer keep a provider from publishing.

mod common;

use candid::{CandidType, Deserialize};
use common::*;
use marketplace::catalog::offering::{Column, Offering};
use marketplace::catalog::search::{CatalogExport, CatalogExportArg, OfferingGetArg};
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::upload::{
    UploadAppendArg, UploadBeginArg, UploadOperation, UploadProgress, UploadRef,
};
use serde_bytes::ByteBuf;
use std::time::Duration;

const MINUTE_NS: u64 = 60_000_000_000;

/// The fixture's first offering with `edits` applied, as a stored row.
fn row(edits: &[(Column, &str)]) -> Vec<u8> {
    let header_and_row: Vec<u8> = FIXTURE
        .split_inclusive(|&b| b == b'\n')
        .take(2)
        .flatten()
        .copied()
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(header_and_row.as_slice());
    let record = reader.records().next().unwrap().unwrap();
    let mut offering = Offering::new(record.iter().map(String::from).collect()).unwrap();
    for (column, value) in edits {
        offering.cells[column.index()] = value.to_string();
    }
    offering.to_csv_row()
}

fn catalog(rows: &[Vec<u8>]) -> Vec<u8> {
    let header = FIXTURE.split(|&b| b == b'\n').next().unwrap();
    let mut out = [header, b"\n"].concat();
    rows.iter().for_each(|r| out.extend(r));
    out
}

fn query<A: CandidType, R: for<'a> Deserialize<'a> + CandidType>(
    canister: &mut Canister,
    method: &str,
    arg: A,
) -> R {
    let bytes = canister
        .driver
        .query(user(), method, candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
    candid::decode_one(&bytes).unwrap()
}

fn get(canister: &mut Canister, provider: &Provider, key: &str) -> Option<String> {
    let arg = OfferingGetArg {
        provider: provider.key(),
        key: key.into(),
    };
    let reply: Result<marketplace::catalog::encode::OfferingRecords, SearchError> =
        query(canister, "offering_get", arg);
    reply.ok().map(|records| records.offerings[0].key.clone())
}

fn export(canister: &mut Canister, provider: &Provider) -> String {
    let arg = CatalogExportArg {
        provider: provider.key(),
        cursor: None,
    };
    let reply: Result<CatalogExport, SearchError> = query(canister, "provider_catalog_export", arg);
    reply.unwrap().csv
}

/// Every cell of `csv` (header first) as a spreadsheet reads it.
fn cells(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[test]
fn exports_neutralise_formula_cells_and_import_back_unchanged() {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(1);
    let formula = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let data = catalog(&[
        row(&[
            (Column::UniqueInternalIdentifier, "-k1"),
            (Column::OfferName, "@SUM(A1:A2)"),
            (Column::Description, formula),
            (Column::DatacenterCoordinates, "-33.8688,151.2093"),
        ]),
        row(&[
            (Column::UniqueInternalIdentifier, "k2"),
            (Column::Description, "+1 and '=quoted"),
        ]),
    ]);
    canister.replace(&mut provider, &data).unwrap();
    let exported = export(&mut canister, &provider);
    let grid = cells(&exported);
    let first = &grid[1];
    assert_eq!(first[Column::UniqueInternalIdentifier.index()], "'-k1");
    assert_eq!(first[Column::OfferName.index()], "'@SUM(A1:A2)");
    assert_eq!(first[Column::Description.index()], format!("'{formula}"));
    assert_eq!(
        first[Column::DatacenterCoordinates.index()],
        "-33.8688,151.2093",
        "a negative number stays a number"
    );
    assert_eq!(grid[2][Column::Description.index()], "'+1 and '=quoted");
    // No cell a spreadsheet reads starts a formula.
    for cell in grid.iter().flatten() {
        let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
            || (cell.starts_with('-') && !cell.starts_with("-33.8688,"));
        assert!(!formula, "{cell:?} in {exported}");
    }
    // Lookups and views use the offering as published.
    assert_eq!(get(&mut canister, &provider, "-k1").as_deref(), Some("-k1"));
    // Re-imported, the export is the same catalog.
    let receipt = canister
        .replace(&mut provider, exported.as_bytes())
        .unwrap();
    assert_eq!((receipt.offerings, receipt.unchanged), (2, 2));
    assert_eq!(export(&mut canister, &provider), exported);
}

#[test]
fn keys_are_nfc_and_invisible_characters_are_refused_changing_nothing() {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(1);
    let decomposed = "Cafe\u{301}";
    canister
        .replace(
            &mut provider,
            &catalog(&[row(&[(Column::UniqueInternalIdentifier, decomposed)])]),
        )
        .unwrap();
    // Stored as NFC; found by either spelling.
    assert_eq!(
        get(&mut canister, &provider, "Caf\u{e9}").as_deref(),
        Some("Caf\u{e9}")
    );
    assert_eq!(
        get(&mut canister, &provider, decomposed).as_deref(),
        Some("Caf\u{e9}")
    );
    let latest = canister.changes(0).latest;
    for key in [
        "Caf\u{e9}\u{200B}",
        "\u{202E}\u{e9}faC",
        "Caf\u{e9}\u{FEFF}",
    ] {
        let bad = catalog(&[
            row(&[(Column::UniqueInternalIdentifier, "ok")]),
            row(&[(Column::UniqueInternalIdentifier, key)]),
        ]);
        match canister.upsert(&mut provider, &bad) {
            Err(CatalogError::InvalidCsv { errors }) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert_eq!(errors[0].row, 3);
                assert_eq!(
                    errors[0].column.as_deref(),
                    Some("Unique Internal identifier")
                );
                assert!(errors[0].reason.contains("invisible"), "{errors:?}");
            }
            other => panic!("{key:?}: {other:?}"),
        }
    }
    assert_eq!(
        canister.changes(0).latest,
        latest,
        "refusals change nothing"
    );
    // An upsert in the other normal form updates the same offering.
    let receipt = canister
        .upsert(
            &mut provider,
            &catalog(&[row(&[
                (Column::UniqueInternalIdentifier, decomposed),
                (Column::Description, "Updated."),
            ])]),
        )
        .unwrap();
    assert_eq!((receipt.offerings, receipt.upserted), (1, 1));
}

fn begin(
    canister: &mut Canister,
    provider: &mut Provider,
    csv: &[u8],
) -> Result<u64, CatalogError> {
    provider.seq += 1;
    let arg = UploadBeginArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(canister.id(), Operation::ReplaceCatalog, provider.seq, csv),
        operation: UploadOperation::Replace,
        total_bytes: csv.len() as u64,
        sha256: ByteBuf::from(signing::payload_hash(csv).to_vec()),
    };
    canister.update(user(), "catalog_upload_begin", (arg,))
}

fn append(
    canister: &mut Canister,
    upload_id: u64,
    index: u32,
    bytes: &[u8],
) -> Result<UploadProgress, CatalogError> {
    let arg = UploadAppendArg {
        upload_id,
        index,
        bytes: ByteBuf::from(bytes.to_vec()),
    };
    canister.update(user(), "catalog_upload_append", (arg,))
}

fn upload_status(canister: &mut Canister, upload_id: u64) -> Result<UploadProgress, CatalogError> {
    query(canister, "catalog_upload_status", UploadRef { upload_id })
}

#[test]
fn throwaway_keys_holding_every_upload_slot_no_longer_block_a_provider() {
    let mut canister = Canister::install(None);
    let data = catalog(&[row(&[]), row(&[(Column::UniqueInternalIdentifier, "k2")])]);
    // Before: 11 keys × 3 sessions held all 32 slots for an hour with no bytes sent.
    let mut held = vec![];
    for seed in 100..116u8 {
        let mut stranger = Provider::new(seed);
        for _ in 0..3 {
            if let Ok(id) = begin(&mut canister, &mut stranger, &data) {
                held.push(id);
            }
        }
    }
    assert_eq!(held.len(), 32, "16 keys, two sessions each");
    let mut provider = Provider::new(1);
    let id = begin(&mut canister, &mut provider, &data).expect("a free or reclaimed slot");
    let (first, second) = data.split_at(data.len() / 2);
    append(&mut canister, id, 0, first).unwrap();
    // Idle strangers are gone two minutes after their last chunk (here: their begin).
    canister
        .driver
        .advance_time(Duration::from_nanos(MINUTE_NS));
    append(&mut canister, id, 1, second).unwrap();
    canister
        .driver
        .advance_time(Duration::from_nanos(MINUTE_NS));
    for &stale in &held {
        assert_eq!(
            upload_status(&mut canister, stale),
            Err(CatalogError::UnknownUpload)
        );
    }
    let receipt: Result<Receipt, CatalogError> = canister.update(
        user(),
        "catalog_upload_commit",
        (UploadRef { upload_id: id },),
    );
    assert_eq!(receipt.unwrap().offerings, 2);
}
