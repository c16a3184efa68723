use super::*;
use crate::candid_io::decode_arg;
use crate::catalog::csv_format;
use crate::catalog::publish::testing::*;
use crate::catalog::publish::CatalogError::*;
use crate::runtime::FakeRuntime;

fn uploader() -> Principal {
    Principal::from_slice(&[42; 29])
}

fn rt() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.caller.set(uploader());
    rt
}

fn begin_arg(seq: u64, csv: &[u8]) -> UploadBeginArg {
    UploadBeginArg {
        provider: key_input(&SECRET),
        seq,
        signature: signature(&SECRET, Operation::ReplaceCatalog, seq, csv),
        operation: UploadOperation::Replace,
        total_bytes: csv.len() as u64,
        sha256: ByteBuf::from(signing::payload_hash(csv).to_vec()),
    }
}

fn chunk(upload_id: u64, index: u32, bytes: &[u8]) -> UploadAppendArg {
    UploadAppendArg {
        upload_id,
        index,
        bytes: ByteBuf::from(bytes.to_vec()),
    }
}

fn commit_id(rt: &FakeRuntime, upload_id: u64) -> Result<Receipt, CatalogError> {
    commit(rt, UploadRef { upload_id })
}

/// Three offerings, the second with a quoted newline in its description.
fn catalog() -> Vec<u8> {
    let rows = [
        offering("a", "1.00", "A server."),
        offering("b", "2.00", "Two lines:\n\"quoted\", and more"),
        offering("c", "3.00", "A server."),
    ];
    csv_format::write_catalog(rows.iter().map(Vec::as_slice))
}

#[test]
fn three_chunks_upload_count_rows_across_boundaries_and_commit() {
    let rt = rt();
    let csv = catalog();
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    // Cut inside b's quoted description, right after its newline.
    let cut = csv.windows(11).position(|w| w == b"Two lines:\n").unwrap() + 11;
    let parts = [&csv[..cut], &csv[cut..cut + 10], &csv[cut + 10..]];
    let mut rows = vec![];
    for (index, part) in parts.iter().enumerate() {
        let progress = append(&rt, chunk(id, index as u32, part)).unwrap();
        rows.push(progress.rows_received);
    }
    // The header and a are complete after the first chunk; b only ends in the third.
    assert_eq!(rows, [1, 1, 3]);
    let progress = status(&rt, UploadRef { upload_id: id }).unwrap();
    assert_eq!(
        progress,
        UploadProgress {
            upload_id: id,
            total_bytes: csv.len() as u64,
            bytes_received: csv.len() as u64,
            chunks: 3,
            rows_received: 3,
            expires_at_ns: rt.time() + UPLOAD_IDLE_NS,
        }
    );
    let receipt = commit_id(&rt, id).unwrap();
    assert_eq!(
        (receipt.seq, receipt.offerings, receipt.upserted),
        (1, 3, 3)
    );
    let provider = signing::provider_of(&SECRET);
    let b = crate::catalog::index::lookup(store::provider(&provider).unwrap().id, "b");
    assert_eq!(
        store::row(b.unwrap()),
        Some(offering("b", "2.00", "Two lines:\n\"quoted\", and more"))
    );
    // The session and its chunks are gone.
    assert_eq!(status(&rt, UploadRef { upload_id: id }), Err(UnknownUpload));
    assert_eq!(commit_id(&rt, id), Err(UnknownUpload));
    assert!(UPLOADS.with_borrow(|map| map.is_empty()));
}

#[test]
fn begin_checks_caller_size_signature_and_sequence() {
    let rt = rt();
    let csv = catalog();
    let ok = begin_arg(2, &csv);
    rt.caller.set(Principal::anonymous());
    assert!(matches!(
        begin(&rt, ok.clone()),
        Err(InvalidArgument { .. })
    ));
    rt.caller.set(uploader());
    let mut short_hash = ok.clone();
    short_hash.sha256.pop();
    assert!(matches!(
        begin(&rt, short_hash),
        Err(InvalidArgument { .. })
    ));
    let mut empty = ok.clone();
    empty.total_bytes = 0;
    assert!(matches!(begin(&rt, empty), Err(InvalidArgument { .. })));
    let mut huge = ok.clone();
    huge.total_bytes = config::get().max_catalog_bytes + 1;
    let max_bytes = config::get().max_catalog_bytes;
    assert_eq!(begin(&rt, huge), Err(CatalogTooLarge { max_bytes }));
    let mut upsert = ok.clone();
    upsert.operation = UploadOperation::Upsert;
    assert_eq!(begin(&rt, upsert), Err(InvalidSignature));
    let mut other_hash = ok.clone();
    other_hash.sha256 = ByteBuf::from(signing::payload_hash(b"other").to_vec());
    assert_eq!(begin(&rt, other_hash), Err(InvalidSignature));
    let mut bad_key = ok.clone();
    bad_key.provider = ProviderKeyInput::Raw(ByteBuf::from(vec![0; 33]));
    assert!(matches!(begin(&rt, bad_key), Err(InvalidKey { .. })));
    assert_eq!(begin(&rt, ok.clone()), Ok(0));
    // Committed at seq 2, the same signed upload cannot begin again.
    for (index, part) in csv.chunks(1_000).enumerate() {
        append(&rt, chunk(0, index as u32, part)).unwrap();
    }
    commit_id(&rt, 0).unwrap();
    assert_eq!(begin(&rt, ok), Err(StaleSequence { last: 2 }));
}

#[test]
fn appends_must_come_in_order_from_the_uploader_within_the_total() {
    let rt = rt();
    let csv = catalog();
    assert_eq!(append(&rt, chunk(7, 0, b"x")), Err(UnknownUpload));
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    append(&rt, chunk(id, 0, &csv[..100])).unwrap();
    let before = status(&rt, UploadRef { upload_id: id }).unwrap();
    assert_eq!(
        append(&rt, chunk(id, 0, &csv[100..200])),
        Err(ChunkOutOfOrder { expected: 1 })
    );
    assert_eq!(
        append(&rt, chunk(id, 2, &csv[100..200])),
        Err(ChunkOutOfOrder { expected: 1 })
    );
    assert!(matches!(
        append(&rt, chunk(id, 1, b"")),
        Err(InvalidArgument { .. })
    ));
    let too_much = [&csv[100..], b"x"].concat();
    let total_bytes = csv.len() as u64;
    assert_eq!(
        append(&rt, chunk(id, 1, &too_much)),
        Err(UploadTooLarge { total_bytes })
    );
    rt.caller.set(Principal::from_slice(&[43; 29]));
    assert_eq!(append(&rt, chunk(id, 1, &csv[100..])), Err(NotUploader));
    assert_eq!(commit_id(&rt, id), Err(NotUploader));
    // Anyone may look.
    assert_eq!(status(&rt, UploadRef { upload_id: id }), Ok(before));
    rt.caller.set(uploader());
    assert_eq!(
        commit_id(&rt, id),
        Err(UploadIncomplete {
            bytes_received: 100,
            total_bytes
        })
    );
    assert_eq!(status(&rt, UploadRef { upload_id: id }), Ok(before));
}

#[test]
fn commit_checks_the_hash_and_applies_like_a_publish() {
    let rt = rt();
    assert_eq!(commit_id(&rt, 0), Err(UnknownUpload));
    let csv = catalog();
    // Declared and signed: `csv`; sent: the same length, one byte changed.
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    let mut tampered = csv.clone();
    *tampered.last_mut().unwrap() = b' ';
    append(&rt, chunk(id, 0, &tampered)).unwrap();
    assert_eq!(commit_id(&rt, id), Err(HashMismatch));
    assert_eq!(status(&rt, UploadRef { upload_id: id }), Err(UnknownUpload));
    assert_eq!(store::offering_count(), 0);

    // A change accepted after begin makes the upload's sequence number stale.
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    append(&rt, chunk(id, 0, &csv)).unwrap();
    publish::replace(&rt, publish_arg(Operation::ReplaceCatalog, 1, csv.clone())).unwrap();
    assert_eq!(commit_id(&rt, id), Err(StaleSequence { last: 1 }));

    // A bad row refuses the catalog exactly as a direct publish does.
    let bad = [csv.as_slice(), &offering("d", "free", "x")].concat();
    let id = begin(&rt, begin_arg(2, &bad)).unwrap();
    append(&rt, chunk(id, 0, &bad)).unwrap();
    let direct = publish::replace(&rt, publish_arg(Operation::ReplaceCatalog, 2, bad.clone()));
    assert!(matches!(direct, Err(InvalidCsv { .. })));
    assert_eq!(commit_id(&rt, id), direct);
    assert_eq!(store::offering_count(), 3);
}

fn stranger(secret: u8, seq: u64) -> UploadBeginArg {
    let csv = catalog();
    UploadBeginArg {
        provider: key_input(&[secret; 32]),
        signature: signature(&[secret; 32], Operation::ReplaceCatalog, seq, &csv),
        ..begin_arg(seq, &csv)
    }
}

const PER_PROVIDER: u32 = MAX_UPLOADS_PER_PROVIDER;
const IDLE_NS: u64 = UPLOAD_IDLE_NS;

#[test]
fn a_provider_holds_at_most_its_share_of_uploads() {
    let rt = rt();
    let csv = catalog();
    for seq in 1..=PER_PROVIDER as u64 {
        begin(&rt, begin_arg(seq, &csv)).unwrap();
    }
    let max = PER_PROVIDER;
    let before = UPLOADS.with_borrow(|map| map.len());
    assert_eq!(begin(&rt, begin_arg(9, &csv)), Err(TooManyUploads { max }));
    assert_eq!(
        UPLOADS.with_borrow(|map| map.len()),
        before,
        "refused: nothing written"
    );
    // Other providers are not limited by this one's uploads.
    assert!(begin(&rt, stranger(9, 1)).is_ok());
}

#[test]
fn sessions_without_a_chunk_for_two_minutes_expire_and_their_slot_is_reused() {
    let rt = rt();
    let csv = catalog();
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    rt.time.set(rt.time() + IDLE_NS - 1);
    // A chunk keeps the session alive for another two minutes.
    append(&rt, chunk(id, 0, &csv[..10])).unwrap();
    rt.time.set(rt.time() + IDLE_NS - 1);
    let alive = status(&rt, UploadRef { upload_id: id }).unwrap();
    assert_eq!(alive.expires_at_ns, rt.time() + 1);
    rt.time.set(rt.time() + 1);
    assert_eq!(status(&rt, UploadRef { upload_id: id }), Err(UnknownUpload));
    assert_eq!(append(&rt, chunk(id, 1, b"x")), Err(UnknownUpload));
    assert_eq!(commit_id(&rt, id), Err(UnknownUpload));
    // Never past an hour from begin, however busy.
    let id = begin(&rt, begin_arg(2, &csv)).unwrap();
    let start = rt.time();
    for index in 0..40 {
        rt.time
            .set(rt.time() + IDLE_NS / 2 + crate::time::MINUTE_NS / 2);
        let sent = append(&rt, chunk(id, index, b"x"));
        if rt.time() >= start + UPLOAD_TTL_NS {
            assert_eq!(sent, Err(UnknownUpload));
            break;
        }
        sent.unwrap();
    }
}

#[test]
fn strangers_holding_every_slot_never_block_a_provider() {
    let rt = rt();
    let csv = catalog();
    // Throwaway keys take every slot and send nothing.
    let mut held = 0;
    for secret in 100..=255u8 {
        for seq in 1..=3 {
            held += u32::from(begin(&rt, stranger(secret, seq)).is_ok());
        }
    }
    assert!(held > MAX_UPLOADS, "begins take slots from idle strangers");
    let sessions = UPLOADS.with_borrow(|map| map.len()) as u32;
    assert_eq!(sessions, MAX_UPLOADS, "never more than the slots");
    // The provider still begins at once, uploads and commits.
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    append(&rt, chunk(id, 0, &csv[..100])).unwrap();
    // Fresh begins take the slots of sessions with fewer bytes, not this one's.
    for secret in 0..=99u8 {
        begin(&rt, stranger(secret, 1)).unwrap();
    }
    append(&rt, chunk(id, 1, &csv[100..])).unwrap();
    assert!(commit_id(&rt, id).is_ok());
    assert_eq!(store::offering_count(), 3);
}

#[test]
fn an_evicted_session_and_its_chunks_are_gone() {
    let rt = rt();
    let csv = catalog();
    let first = begin(&rt, stranger(1, 1)).unwrap();
    append(&rt, chunk(first, 0, b"x")).unwrap();
    for secret in 2..=MAX_UPLOADS as u8 {
        let id = begin(&rt, stranger(secret, 1)).unwrap();
        append(&rt, chunk(id, 0, b"xy")).unwrap();
    }
    // Full: the session with the fewest bytes (the first, one byte) makes room.
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    assert_eq!(
        status(&rt, UploadRef { upload_id: first }),
        Err(UnknownUpload)
    );
    assert!(UPLOADS.with_borrow(|map| !map.contains_key(&(first, 0))));
    assert!(status(&rt, UploadRef { upload_id: id }).is_ok());
}

#[test]
fn row_counter_follows_quotes_crlf_and_blank_lines() {
    let mut rows = RowCounter::default();
    rows.feed(b"h1,h2\r\n\r\na,\"x\r\ny\"\"\"\r\n\nb,c");
    assert_eq!(rows.records, 2);
    rows.feed(b"\n");
    assert_eq!(rows.records, 3);
}

#[test]
fn a_chunk_as_large_as_an_ingress_message_decodes_within_the_quota() {
    let arg = chunk(u64::MAX, u32::MAX, &vec![b'x'; 2 * 1024 * 1024]);
    let decoded = decode_arg::<UploadAppendArg>(&candid::encode_one(&arg).unwrap());
    assert_eq!(decoded, Ok(arg));
    let too_big = chunk(0, 0, &vec![b'x'; 3_000_000]);
    let decoded = decode_arg::<UploadAppendArg>(&candid::encode_one(&too_big).unwrap());
    assert!(decoded.is_err());
}

#[test]
fn an_upload_has_at_most_max_chunks() {
    let rt = rt();
    let csv = vec![b'x'; MAX_CHUNKS as usize + 1];
    let id = begin(&rt, begin_arg(1, &csv)).unwrap();
    for index in 0..MAX_CHUNKS {
        append(&rt, chunk(id, index, b"x")).unwrap();
    }
    let refused = append(&rt, chunk(id, MAX_CHUNKS, b"x"));
    assert!(
        matches!(refused, Err(InvalidArgument { .. })),
        "{refused:?}"
    );
    assert_eq!(
        status(&rt, UploadRef { upload_id: id }).unwrap().chunks,
        MAX_CHUNKS
    );
}
