//! Publishing catalogs through the wasm: signed replace, upsert and removals, sequence numbers,
//! caps, chunked uploads, the change feed, and every bad input as a typed error that changes nothing.

mod common;

use candid::Principal;
use common::*;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::upload::{
    UploadAppendArg, UploadBeginArg, UploadOperation, UploadProgress, UploadRef,
};
use serde_bytes::ByteBuf;

const HEADER: &str = "Offer Name,Description,Unique Internal identifier,Product page URL,Currency,Monthly price,Setup fee,Visibility,Product Type,Virtualization type,Billing interval,Stock,Processor Brand,Processor Amount,Processor Cores,Processor Speed,Processor Name,Memory Error Correction,Memory Type,Memory Amount,Hard Disk Drive Amount,Total Hard Disk Drive Capacity,Solid State Disk Amount,Total Solid State Disk Capacity,Unmetered,Uplink speed,Traffic,Datacenter Country,Datacenter City,Datacenter Coordinates,Features,Operating Systems,Control Panel,GPU Name,Payment Methods\n";

/// A valid data row with the given key and price.
fn row(key: &str, price: &str) -> String {
    format!("Server {key},A test server.,{key},https://example.com/{key},EUR,{price},0,Visible,Dedicated,None,Monthly,In stock,Intel,1,4,3.2 GHz,Intel Xeon E3,ECC,DDR4,32 GB,0,0,2,480 GB,Unmetered inbound,1000 mbit,10240,DE,Frankfurt,\"50.11,8.68\",Native IPv6,Debian,,,\"Credit card, PayPal\"\n")
}

fn csv(rows: &[String]) -> Vec<u8> {
    let mut out = HEADER.to_string();
    rows.iter().for_each(|r| out.push_str(r));
    out.into_bytes()
}

fn fresh() -> (Canister, Provider) {
    (Canister::install(None), Provider::new(1))
}

#[test]
fn the_fixture_imports_and_every_change_is_in_the_feed() {
    let (mut canister, mut provider) = fresh();
    let receipt = canister
        .replace(&mut provider, FIXTURE)
        .expect("the fixture imports");
    assert_eq!(
        (
            receipt.offerings,
            receipt.upserted,
            receipt.removed,
            receipt.seq
        ),
        (4, 4, 0, 1)
    );
    assert_eq!(receipt.provider_pem, provider.pem());
    assert!(receipt
        .provider_pem
        .starts_with("-----BEGIN PUBLIC KEY-----"));

    let page = canister.changes(0);
    assert_eq!(page.changes.len(), 4);
    assert_eq!(page.latest, receipt.change_seq);
    // Far within the feed's window (the newest million changes).
    assert_eq!((page.oldest, page.fell_behind), (1, false));
    let keys: Vec<_> = page
        .changes
        .iter()
        .map(|c| c.offering_key.as_str())
        .collect();
    assert_eq!(keys, ["DC2993", "QC1494", "2XQC9381", "4XQC3719"]);
    assert!(page
        .changes
        .iter()
        .all(|c| c.kind == ChangeKind::Upsert && c.provider_pem == provider.pem()));
    assert!(
        canister.changes(page.next).changes.is_empty(),
        "polling from `next` gives only newer changes"
    );
}

#[test]
fn replace_upsert_remove_and_remove_provider() {
    let (mut canister, mut provider) = fresh();
    canister
        .replace(
            &mut provider,
            &csv(&[row("a", "10"), row("b", "20"), row("c", "30")]),
        )
        .unwrap();

    // Replacing drops what the new catalog lacks and keeps identical offerings untouched.
    let receipt = canister
        .replace(&mut provider, &csv(&[row("a", "10"), row("b", "25")]))
        .unwrap();
    assert_eq!(
        (
            receipt.offerings,
            receipt.upserted,
            receipt.unchanged,
            receipt.removed
        ),
        (2, 1, 1, 1)
    );

    let receipt = canister
        .upsert(&mut provider, &csv(&[row("d", "40")]))
        .unwrap();
    assert_eq!((receipt.offerings, receipt.upserted), (3, 1));

    provider.seq += 1;
    let keys = vec!["a".to_string()];
    let payload = signing::remove_offerings_payload(&keys);
    let arg = RemoveOfferingsArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(
            canister.id(),
            Operation::RemoveOfferings,
            provider.seq,
            &payload,
        ),
        keys,
    };
    let receipt: Result<Receipt, CatalogError> =
        canister.update(user(), "catalog_remove_offerings", (arg,));
    assert_eq!(
        (
            receipt.as_ref().unwrap().offerings,
            receipt.unwrap().removed
        ),
        (2, 1)
    );

    provider.seq += 1;
    let arg = RemoveProviderArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(canister.id(), Operation::RemoveProvider, provider.seq, &[]),
    };
    let receipt: Result<Receipt, CatalogError> = canister.update(user(), "provider_remove", (arg,));
    assert_eq!(receipt.unwrap().removed, 2);

    let kinds: Vec<_> = canister
        .changes(0)
        .changes
        .iter()
        .map(|c| (c.offering_key.clone(), c.kind))
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|(_, k)| *k == ChangeKind::Remove)
            .count(),
        4,
        "{kinds:?}"
    );
    assert_eq!(kinds.last().unwrap().1, ChangeKind::Remove);
}

/// Each bad input gets its typed error and leaves the canister exactly as it was: the change
/// feed does not move and the sequence number is not used up.
#[test]
fn bad_catalogs_are_typed_errors_and_change_nothing() {
    let (mut canister, mut provider) = fresh();
    canister.replace(&mut provider, FIXTURE).unwrap();
    let latest = canister.changes(0).latest;

    let oversized = row("big", "1").replace("A test server.", &"x".repeat(5000));
    let mut non_utf8 = csv(&[row("a", "1")]);
    non_utf8.extend_from_slice(b"\xff\xfe broken\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong column count",
            csv(&[row("a", "1"), "only,three,cells\n".into()]),
            "",
        ),
        (
            "unknown header",
            HEADER
                .replace("Stock", "Stok")
                .into_bytes()
                .into_iter()
                .chain(row("a", "1").into_bytes())
                .collect(),
            "",
        ),
        (
            "non-numeric price",
            csv(&[row("a", "ten")]),
            "Monthly price",
        ),
        (
            "unknown enum value",
            csv(&[row("a", "1").replace("Dedicated", "Spaceship")]),
            "Product Type",
        ),
        ("oversized cell", csv(&[oversized]), "Description"),
        ("non-UTF-8 bytes", non_utf8, ""),
        ("empty catalog", HEADER.as_bytes().to_vec(), ""),
        (
            "duplicate offering keys",
            csv(&[row("a", "1"), row("a", "2")]),
            "Unique Internal identifier",
        ),
    ];
    for (case, bytes, column) in cases {
        let seq = provider.seq;
        match canister.replace(&mut provider, &bytes) {
            Err(CatalogError::InvalidCsv { errors }) => {
                assert!(!errors.is_empty(), "{case}");
                assert!(
                    errors.iter().all(|e| e.row >= 1 && !e.reason.is_empty()),
                    "{case}: {errors:?}"
                );
                if !column.is_empty() {
                    assert!(
                        errors.iter().any(|e| e.column.as_deref() == Some(column)),
                        "{case}: {errors:?}"
                    );
                }
            }
            other => panic!("{case}: {other:?}"),
        }
        provider.seq = seq;
    }
    assert_eq!(canister.changes(0).latest, latest);
    assert_eq!(
        canister.replace(&mut provider, FIXTURE).unwrap().seq,
        2,
        "no sequence number was used up"
    );
}

#[test]
fn keys_signatures_and_sequence_numbers_are_checked() {
    let (mut canister, mut provider) = fresh();
    canister.replace(&mut provider, FIXTURE).unwrap();
    let latest = canister.changes(0).latest;
    let id = canister.id();
    let good = provider.publish_arg(id, Operation::ReplaceCatalog, FIXTURE);
    provider.seq -= 1;

    let mut send = |arg: &PublishArg| -> Result<Receipt, CatalogError> {
        canister.update(user(), "catalog_replace", (arg.clone(),))
    };
    for (case, bytes) in [("31 bytes", vec![1u8; 31]), ("33 bytes", vec![1u8; 33])] {
        let arg = PublishArg {
            provider: ProviderKeyInput::Raw(ByteBuf::from(bytes)),
            ..good.clone()
        };
        assert!(
            matches!(send(&arg), Err(CatalogError::InvalidKey { .. })),
            "{case}"
        );
    }
    let bad_pem = PublishArg {
        provider: ProviderKeyInput::Pem(
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n".into(),
        ),
        ..good.clone()
    };
    assert!(matches!(
        send(&bad_pem),
        Err(CatalogError::InvalidKey { .. })
    ));

    let mut flipped = good.clone();
    flipped.signature[0] ^= 1;
    assert_eq!(send(&flipped), Err(CatalogError::InvalidSignature));
    let other = Provider::new(2);
    let by_other = PublishArg {
        signature: other.sign(id, Operation::ReplaceCatalog, good.seq, FIXTURE),
        ..good.clone()
    };
    assert_eq!(send(&by_other), Err(CatalogError::InvalidSignature));
    let wrong_op = PublishArg {
        signature: provider.sign(id, Operation::UpsertOfferings, good.seq, FIXTURE),
        ..good.clone()
    };
    assert_eq!(
        send(&wrong_op),
        Err(CatalogError::InvalidSignature),
        "the operation is signed"
    );
    let other_canister = PublishArg {
        signature: provider.sign(
            Principal::from_slice(&[9; 10]),
            Operation::ReplaceCatalog,
            good.seq,
            FIXTURE,
        ),
        ..good.clone()
    };
    assert_eq!(
        send(&other_canister),
        Err(CatalogError::InvalidSignature),
        "the canister id is signed"
    );

    // The PEM form of the key is accepted as well as the raw bytes.
    let as_pem = PublishArg {
        provider: ProviderKeyInput::Pem(provider.pem()),
        ..good.clone()
    };
    assert!(send(&as_pem).is_ok());
    assert_eq!(
        send(&good),
        Err(CatalogError::StaleSequence { last: 2 }),
        "a replay is refused"
    );
    let old = PublishArg {
        seq: 1,
        signature: provider.sign(id, Operation::ReplaceCatalog, 1, FIXTURE),
        ..good.clone()
    };
    assert_eq!(send(&old), Err(CatalogError::StaleSequence { last: 2 }));
    assert!(
        canister.changes(0).latest == latest,
        "identical re-publication changes nothing in the feed"
    );
}

#[test]
fn per_provider_caps_are_enforced() {
    let arg = InitArg {
        max_offerings_per_provider: Some(2),
        max_catalog_bytes: Some(1500),
        ..InitArg::default()
    };
    let mut canister = Canister::install(Some(arg));
    let mut provider = Provider::new(1);
    assert_eq!(
        canister.replace(
            &mut provider,
            &csv(&[row("a", "1"), row("b", "1"), row("c", "1")])
        ),
        Err(CatalogError::TooManyOfferings { max: 2 })
    );
    provider.seq = 0;
    assert!(canister
        .replace(&mut provider, &csv(&[row("a", "1"), row("b", "1")]))
        .is_ok());
    assert_eq!(
        canister.upsert(&mut provider, &csv(&[row("c", "1")])),
        Err(CatalogError::TooManyOfferings { max: 2 })
    );
    let longer = row("a", "1").replace("A test server.", &"y".repeat(1200));
    assert!(matches!(
        canister.upsert(&mut provider, &csv(&[longer])),
        Err(CatalogError::CatalogTooLarge { max_bytes: 1500 })
    ));
}

fn begin(
    canister: &mut Canister,
    provider: &mut Provider,
    csv: &[u8],
) -> Result<u64, CatalogError> {
    provider.seq += 1;
    let hash = signing::payload_hash(csv);
    let arg = UploadBeginArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(canister.id(), Operation::ReplaceCatalog, provider.seq, csv),
        operation: UploadOperation::Replace,
        total_bytes: csv.len() as u64,
        sha256: ByteBuf::from(hash.to_vec()),
    };
    canister.update(user(), "catalog_upload_begin", (arg,))
}

fn append(
    canister: &mut Canister,
    caller: Principal,
    upload_id: u64,
    index: u32,
    bytes: &[u8],
) -> Result<UploadProgress, CatalogError> {
    canister.update(
        caller,
        "catalog_upload_append",
        (UploadAppendArg {
            upload_id,
            index,
            bytes: ByteBuf::from(bytes.to_vec()),
        },),
    )
}

#[test]
fn catalogs_larger_than_an_ingress_message_upload_in_chunks() {
    let (mut canister, mut provider) = fresh();
    let big = marketplace::catalog::synthetic::provider(7, 0, 5_000).csv;
    assert!(big.len() > 2 * 1024 * 1024, "{} bytes", big.len());
    let upload = begin(&mut canister, &mut provider, &big).unwrap();
    let chunks: Vec<&[u8]> = big.chunks(1_500_000).collect();
    let mut rows = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let progress = append(&mut canister, user(), upload, i as u32, chunk).unwrap();
        assert!(progress.rows_received >= rows, "progress only grows");
        rows = progress.rows_received;
    }
    let status: Result<UploadProgress, CatalogError> = {
        let bytes = canister
            .driver
            .query(
                user(),
                "catalog_upload_status",
                candid::encode_one(UploadRef { upload_id: upload }).unwrap(),
            )
            .unwrap();
        candid::decode_one(&bytes).unwrap()
    };
    let status = status.unwrap();
    assert_eq!(
        (status.bytes_received, status.total_bytes),
        (big.len() as u64, big.len() as u64)
    );
    assert_eq!(status.rows_received, 5_000, "every data row");
    let receipt: Result<Receipt, CatalogError> = canister.update(
        user(),
        "catalog_upload_commit",
        (UploadRef { upload_id: upload },),
    );
    assert_eq!(receipt.unwrap().offerings, 5_000);
    let unknown: Result<Receipt, CatalogError> = canister.update(
        user(),
        "catalog_upload_commit",
        (UploadRef { upload_id: upload },),
    );
    assert_eq!(
        unknown,
        Err(CatalogError::UnknownUpload),
        "a committed upload is gone"
    );
}

#[test]
fn upload_errors_are_typed() {
    let (canister, mut provider) = fresh();
    // The method's own answers: inspect_message drops anonymous ingress first (tests/authorization.rs).
    let mut canister = canister.without_inspect();
    let commit = |canister: &mut Canister, upload_id| -> Result<Receipt, CatalogError> {
        canister.update(user(), "catalog_upload_commit", (UploadRef { upload_id },))
    };
    assert_eq!(
        commit(&mut canister, 42),
        Err(CatalogError::UnknownUpload),
        "commit without begin"
    );

    let data = csv(&[row("a", "1"), row("b", "2")]);
    let upload = begin(&mut canister, &mut provider, &data).unwrap();
    let (first, second) = data.split_at(data.len() / 2);
    assert_eq!(
        append(&mut canister, user(), upload, 1, second),
        Err(CatalogError::ChunkOutOfOrder { expected: 0 })
    );
    assert_eq!(
        append(&mut canister, Principal::anonymous(), upload, 0, first),
        Err(CatalogError::NotUploader)
    );
    append(&mut canister, user(), upload, 0, first).unwrap();
    assert!(matches!(
        commit(&mut canister, upload),
        Err(CatalogError::UploadIncomplete { .. })
    ));
    assert!(matches!(
        append(&mut canister, user(), upload, 1, data.as_slice()),
        Err(CatalogError::UploadTooLarge { .. })
    ));
    let mut tampered = second.to_vec();
    tampered[0] ^= 0x20;
    append(&mut canister, user(), upload, 1, &tampered).unwrap();
    assert_eq!(
        commit(&mut canister, upload),
        Err(CatalogError::HashMismatch)
    );
    assert!(canister.changes(0).changes.is_empty());
}

#[test]
fn publishing_survives_an_upgrade() {
    let (mut canister, mut provider) = fresh();
    canister.replace(&mut provider, FIXTURE).unwrap();
    let before = canister.changes(0);
    canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .unwrap();
    assert_eq!(canister.changes(0), before);
    // The sequence number survived: a replay is still refused, the next one works.
    provider.seq -= 1;
    assert_eq!(
        canister.replace(&mut provider, FIXTURE),
        Err(CatalogError::StaleSequence { last: 1 })
    );
    let receipt = canister
        .upsert(&mut provider, &csv(&[row("z", "9")]))
        .unwrap();
    assert_eq!((receipt.seq, receipt.offerings), (2, 5));
}

/// Undecodable arguments to every publishing method, an over-large feed page and an unknown
/// upload: typed errors (replies, not rejects) that leave the catalog as it was.
#[test]
fn malformed_and_unknown_input_to_publishing_methods_is_a_typed_error() {
    let (canister, mut provider) = fresh();
    // The method's own answers: inspect_message would drop this ingress first (tests/malformed.rs).
    let mut canister = canister.without_inspect();
    canister.replace(&mut provider, FIXTURE).unwrap();
    let before = canister.changes(0);
    let mut bomb = b"DIDL\x01\x6d\x7b\x01\x00".to_vec();
    bomb.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x08]);
    for method in [
        "catalog_replace",
        "catalog_upsert",
        "catalog_remove_offerings",
        "provider_remove",
        "catalog_upload_begin",
        "catalog_upload_append",
        "catalog_upload_commit",
    ] {
        for arg in [
            b"garbage".to_vec(),
            candid::encode_one(42u64).unwrap(),
            bomb.clone(),
        ] {
            let bytes = canister
                .update_raw(user(), method, arg)
                .unwrap_or_else(|r| panic!("{method} rejected: {r}"));
            let reply: Result<candid::Reserved, CatalogError> = candid::decode_one(&bytes).unwrap();
            assert!(
                matches!(reply, Err(CatalogError::InvalidArgument { .. })),
                "{method}: {reply:?}"
            );
        }
    }
    type Reply = Result<candid::Reserved, CatalogError>;
    let query = |canister: &mut Canister, method: &str, arg: Vec<u8>| -> Reply {
        let bytes = canister
            .driver
            .query(user(), method, arg)
            .unwrap_or_else(|r| panic!("{method} rejected: {r}"));
        candid::decode_one(&bytes).unwrap()
    };
    let too_many = candid::encode_one(ChangesArg {
        since: 0,
        limit: Some(1_000_000),
    })
    .unwrap();
    assert_eq!(
        query(&mut canister, "catalog_changes", too_many).unwrap_err(),
        CatalogError::LimitTooLarge { max: 1_000 }
    );
    let unknown = candid::encode_one(UploadRef { upload_id: 999 }).unwrap();
    assert_eq!(
        query(&mut canister, "catalog_upload_status", unknown).unwrap_err(),
        CatalogError::UnknownUpload
    );
    for method in ["catalog_changes", "catalog_upload_status"] {
        let reply = query(&mut canister, method, b"garbage".to_vec());
        assert!(
            matches!(reply, Err(CatalogError::InvalidArgument { .. })),
            "{method}: {reply:?}"
        );
    }
    assert_eq!(canister.changes(0), before);
    assert_eq!(
        canister.replace(&mut provider, FIXTURE).unwrap().seq,
        2,
        "no sequence number was used up"
    );
}
