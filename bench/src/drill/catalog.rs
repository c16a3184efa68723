//! Building the catalog: synthetic providers, an upsert, removals and an upload in progress.

use super::calls::{key, stranger, update, uploader};
use super::{World, PER_PROVIDER, SEED};
use candid::Principal;
use ic0_host::Host;
use marketplace::api::*;
use marketplace::catalog::csv_format::parse_catalog;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::synthetic;
use serde_bytes::ByteBuf;

/// The catalog: synthetic providers of 100 offerings, then an upsert, a removal of two
/// offerings, a removed provider and an upload in progress.
pub(super) fn build_catalog(
    host: &mut Host,
    offerings: u32,
    world: &mut World,
    progress: fn(&str),
) {
    let canister = host.canister_id();
    let providers = (offerings / PER_PROVIDER).max(4);
    for (index, provider) in synthetic::providers(SEED, providers, PER_PROVIDER).enumerate() {
        if index % 100 == 0 {
            progress(&format!("catalog: provider {index}/{providers}"));
        }
        let replaced: Result<Receipt, CatalogError> = update(
            host,
            Principal::self_authenticating(format!("drill publisher {index}").as_bytes()),
            "catalog_replace",
            (signed(
                &provider.secret_key,
                canister,
                Operation::ReplaceCatalog,
                1,
                &provider.csv,
            ),),
        );
        replaced.expect("catalog_replace");
        let keys = parse_catalog(&provider.csv)
            .expect("a synthetic catalog parses")
            .iter()
            .map(|(offering, _)| offering.key().to_string())
            .collect();
        world.catalog.push((provider.secret_key, keys));
    }
    // Upsert: three rows of another catalog under provider 0's key (new offerings), and its
    // first row again (unchanged).
    let other = synthetic::provider(SEED + 1, 0, 3);
    let upserted: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "catalog_upsert",
        (signed(
            &world.catalog[0].0,
            canister,
            Operation::UpsertOfferings,
            2,
            &other.csv,
        ),),
    );
    upserted.expect("catalog_upsert");
    for (offering, _) in parse_catalog(&other.csv).unwrap() {
        world.catalog[0].1.push(offering.key().to_string());
    }
    world.catalog[0].1.sort();
    world.catalog[0].1.dedup();
    // Two offerings of provider 1 removed.
    let removed_keys: Vec<String> = world.catalog[1].1[..2].to_vec();
    let payload = signing::remove_offerings_payload(&removed_keys);
    let secret = world.catalog[1].0;
    let removed: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "catalog_remove_offerings",
        (RemoveOfferingsArg {
            provider: key(&secret),
            seq: 2,
            signature: signature(&secret, canister, Operation::RemoveOfferings, 2, &payload),
            keys: removed_keys,
        },),
    );
    removed.expect("catalog_remove_offerings");
    // Provider 2 removed.
    let secret = world.catalog[2].0;
    let gone: Result<Receipt, CatalogError> = update(
        host,
        stranger(),
        "provider_remove",
        (RemoveProviderArg {
            provider: key(&secret),
            seq: 2,
            signature: signature(&secret, canister, Operation::RemoveProvider, 2, &[]),
        },),
    );
    gone.expect("provider_remove");
    // An upload in progress: provider 3 replaces its catalog in two chunks, one sent.
    let secret = world.catalog[3].0;
    let csv = synthetic::provider(SEED + 2, 3, 20).csv;
    let hash = signing::payload_hash(&csv);
    let begun: Result<u64, CatalogError> = update(
        host,
        uploader(),
        "catalog_upload_begin",
        (UploadBeginArg {
            provider: key(&secret),
            seq: 2,
            signature: ByteBuf::from(
                signing::sign(&secret, &canister, Operation::ReplaceCatalog, 2, &hash).to_vec(),
            ),
            operation: UploadOperation::Replace,
            total_bytes: csv.len() as u64,
            sha256: ByteBuf::from(hash.to_vec()),
        },),
    );
    world.upload_id = begun.expect("catalog_upload_begin");
    let appended: Result<UploadProgress, CatalogError> = update(
        host,
        uploader(),
        "catalog_upload_append",
        (UploadAppendArg {
            upload_id: world.upload_id,
            index: 0,
            bytes: ByteBuf::from(csv[..csv.len() / 2].to_vec()),
        },),
    );
    appended.expect("catalog_upload_append");
}

fn signature(
    secret: &[u8; 32],
    canister: Principal,
    op: Operation,
    seq: u64,
    payload: &[u8],
) -> ByteBuf {
    ByteBuf::from(
        signing::sign(secret, &canister, op, seq, &signing::payload_hash(payload)).to_vec(),
    )
}

pub(super) fn signed(
    secret: &[u8; 32],
    canister: Principal,
    op: Operation,
    seq: u64,
    csv: &[u8],
) -> PublishArg {
    PublishArg {
        provider: key(secret),
        seq,
        signature: signature(secret, canister, op, seq, csv),
        csv: ByteBuf::from(csv.to_vec()),
    }
}
