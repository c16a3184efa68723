use super::*;
use crate::catalog::publish::testing::*;
use crate::catalog::publish::{self, RemoveProviderArg};
use crate::catalog::signing::{self, Operation};
use crate::catalog::upload::{self, UploadAppendArg, UploadBeginArg, UploadOperation, UploadRef};
use crate::runtime::FakeRuntime;
use candid::Principal;
use serde_bytes::ByteBuf;

fn controller() -> Principal {
    Principal::from_slice(&[3; 29])
}

fn rt() -> FakeRuntime {
    let rt = FakeRuntime::new();
    rt.controllers.borrow_mut().push(controller());
    rt.caller.set(Principal::from_slice(&[42; 29]));
    rt
}

fn set_frozen(rt: &FakeRuntime, frozen: bool) -> Result<(), CatalogError> {
    let caller = rt.caller.replace(controller());
    let result = freeze(
        rt,
        ProviderFreezeArg {
            provider: key_input(&SECRET),
            frozen,
        },
    );
    rt.caller.set(caller);
    result
}

fn replace(rt: &FakeRuntime, seq: u64) -> Result<publish::Receipt, CatalogError> {
    let csv = csv(&[("A1", "10.00")]);
    publish::replace(rt, publish_arg(Operation::ReplaceCatalog, seq, csv))
}

fn begin(rt: &FakeRuntime, seq: u64) -> Result<u64, CatalogError> {
    let csv = csv(&[("A1", "10.00")]);
    upload::begin(
        rt,
        UploadBeginArg {
            provider: key_input(&SECRET),
            seq,
            signature: signature(&SECRET, Operation::ReplaceCatalog, seq, &csv),
            operation: UploadOperation::Replace,
            total_bytes: csv.len() as u64,
            sha256: ByteBuf::from(signing::payload_hash(&csv).to_vec()),
        },
    )
}

fn provider() -> ProviderKey {
    signing::provider_of(&SECRET)
}

#[test]
fn only_controllers_freeze_and_the_state_is_stored_only_while_frozen() {
    let rt = rt();
    let arg = ProviderFreezeArg {
        provider: key_input(&SECRET),
        frozen: true,
    };
    assert!(matches!(
        freeze(&rt, arg.clone()),
        Err(CatalogError::NotAuthorized { .. })
    ));
    assert!(!is_frozen(&provider()));
    assert_eq!(store::key_state(&provider()), None);

    rt.caller.set(controller());
    let bad = ProviderFreezeArg {
        provider: ProviderKeyInput::Raw(ByteBuf::from(vec![1; 5])),
        frozen: true,
    };
    assert!(matches!(
        freeze(&rt, bad),
        Err(CatalogError::InvalidKey { .. })
    ));
    freeze(&rt, arg).unwrap();
    assert!(is_frozen(&provider()));
    assert_eq!(
        check_not_frozen(&provider()),
        Err(CatalogError::ProviderFrozen)
    );
    // Another key is untouched.
    assert!(!is_frozen(&signing::provider_of(&[8; 32])));

    set_frozen(&rt, false).unwrap();
    assert!(!is_frozen(&provider()));
    // Unfrozen is the default: nothing stays stored, and the provider list ignores states.
    assert_eq!(store::key_state(&provider()), None);
}

#[test]
fn a_frozen_providers_signed_changes_are_refused_until_it_is_unfrozen() {
    let rt = rt();
    replace(&rt, 1).unwrap();
    set_frozen(&rt, true).unwrap();
    let before = store::provider(&provider());

    assert_eq!(replace(&rt, 2), Err(CatalogError::ProviderFrozen));
    let remove = RemoveProviderArg {
        provider: key_input(&SECRET),
        seq: 2,
        signature: signature(&SECRET, Operation::RemoveProvider, 2, b""),
    };
    assert_eq!(
        publish::remove_provider(&rt, remove.clone()),
        Err(CatalogError::ProviderFrozen)
    );
    assert_eq!(begin(&rt, 2), Err(CatalogError::ProviderFrozen));
    // Nothing changed: the record (and its sequence number) is as it was.
    assert_eq!(store::provider(&provider()), before);
    assert_eq!(store::providers().len(), 1);
    // A bad signature is still that, frozen or not: only the key's holder learns it is frozen.
    let mut forged = remove.clone();
    forged.signature = signature(&[8; 32], Operation::RemoveProvider, 2, b"");
    assert_eq!(
        publish::remove_provider(&rt, forged),
        Err(CatalogError::InvalidSignature)
    );

    set_frozen(&rt, false).unwrap();
    assert_eq!(replace(&rt, 2).unwrap().seq, 2);
}

#[test]
fn an_upload_begun_before_the_freeze_is_not_committed() {
    let rt = rt();
    let upload_id = begin(&rt, 1).unwrap();
    let csv = csv(&[("A1", "10.00")]);
    upload::append(
        &rt,
        UploadAppendArg {
            upload_id,
            index: 0,
            bytes: ByteBuf::from(csv),
        },
    )
    .unwrap();
    set_frozen(&rt, true).unwrap();
    let commit = UploadRef { upload_id };
    assert_eq!(
        upload::commit(&rt, commit),
        Err(CatalogError::ProviderFrozen)
    );
    assert_eq!(store::provider(&provider()), None);
    // The session is kept: once unfrozen, the commit goes through.
    set_frozen(&rt, false).unwrap();
    assert_eq!(upload::commit(&rt, commit).unwrap().offerings, 1);
}

const NEW: [u8; 32] = [11; 32];

fn rotate_arg(old: &[u8; 32], new: &[u8; 32], seq: u64) -> RotateKeyArg {
    let new_key = signing::provider_of(new);
    RotateKeyArg {
        provider: key_input(old),
        new_key: key_input(new),
        seq,
        signature: signature(old, Operation::RotateKey, seq, new_key.as_bytes()),
    }
}

/// A replace signed by `secret` (not necessarily the account's first key).
fn replace_by(
    rt: &FakeRuntime,
    secret: &[u8; 32],
    seq: u64,
) -> Result<publish::Receipt, CatalogError> {
    let csv = csv(&[("A1", "10.00"), ("A2", "12.00")]);
    let arg = publish::PublishArg {
        provider: key_input(secret),
        seq,
        signature: signature(secret, Operation::ReplaceCatalog, seq, &csv),
        csv: ByteBuf::from(csv),
    };
    publish::replace(rt, arg)
}

#[test]
fn a_rotation_signed_by_the_old_key_moves_the_provider_and_retires_the_old_key() {
    let rt = rt();
    // Only a provider that published rotates (the sequence is its catalog's).
    assert_eq!(
        rotate(&rt, rotate_arg(&SECRET, &NEW, 1)),
        Err(CatalogError::UnknownProvider)
    );
    replace(&rt, 1).unwrap();
    // Signed by another key, a stale seq, a new key already in use: refused, nothing changed.
    let mut forged = rotate_arg(&SECRET, &NEW, 2);
    forged.signature = signature(
        &NEW,
        Operation::RotateKey,
        2,
        signing::provider_of(&NEW).as_bytes(),
    );
    assert_eq!(rotate(&rt, forged), Err(CatalogError::InvalidSignature));
    assert_eq!(
        rotate(&rt, rotate_arg(&SECRET, &NEW, 1)),
        Err(CatalogError::StaleSequence { last: 1 })
    );
    assert!(matches!(
        rotate(&rt, rotate_arg(&SECRET, &SECRET, 2)),
        Err(CatalogError::InvalidKey { .. })
    ));
    assert_eq!(store::key_state(&provider()), None);

    rotate(&rt, rotate_arg(&SECRET, &NEW, 2)).unwrap();
    let new = signing::provider_of(&NEW);
    assert_eq!(account_of(&new), provider());
    assert_eq!(signer(&new), Ok(provider()));
    assert_eq!(
        signer(&provider()),
        Err(CatalogError::KeyRotated {
            successor_pem: new.to_pem()
        })
    );
    // The old key is refused; the new one continues the account's sequence.
    assert!(matches!(
        replace(&rt, 3),
        Err(CatalogError::KeyRotated { .. })
    ));
    let receipt = replace_by(&rt, &NEW, 3).unwrap();
    assert_eq!(receipt.provider_pem, provider().to_pem());
    assert_eq!(receipt.offerings, 2);
    assert_eq!(
        store::provider(&new),
        None,
        "the records stay under the account"
    );
    assert_eq!(store::providers().len(), 1);

    // A second rotation, by the new key; then a freeze of any key freezes the account.
    rotate(&rt, rotate_arg(&NEW, &[12; 32], 4)).unwrap();
    assert!(matches!(signer(&new), Err(CatalogError::KeyRotated { .. })));
    assert_eq!(signer(&signing::provider_of(&[12; 32])), Ok(provider()));
    let caller = rt.caller.replace(controller());
    freeze(
        &rt,
        ProviderFreezeArg {
            provider: key_input(&[12; 32]),
            frozen: true,
        },
    )
    .unwrap();
    rt.caller.set(caller);
    assert!(is_frozen(&provider()));
    assert_eq!(
        replace_by(&rt, &[12; 32], 5),
        Err(CatalogError::ProviderFrozen)
    );
}

#[test]
fn controllers_recover_a_stolen_key_without_its_signature() {
    let rt = rt();
    replace(&rt, 1).unwrap();
    set_frozen(&rt, true).unwrap();
    let arg = RecoverKeyArg {
        provider: key_input(&SECRET),
        new_key: key_input(&NEW),
    };
    assert!(matches!(
        recover(&rt, arg.clone()),
        Err(CatalogError::NotAuthorized { .. })
    ));
    assert!(
        signer(&signing::provider_of(&NEW)).is_ok(),
        "unknown keys are their own account"
    );
    rt.caller.set(controller());
    assert_eq!(recover(&rt, arg.clone()), Ok(provider()));
    // The thief's (old) key is retired, the freeze lifted, the new key signs for the account.
    assert!(matches!(
        signer(&provider()),
        Err(CatalogError::KeyRotated { .. })
    ));
    assert!(!is_frozen(&provider()));
    assert_eq!(
        replace_by(&rt, &NEW, 2).unwrap().provider_pem,
        provider().to_pem()
    );
    // Recovering again (the new key was stolen too) retires the current key, not the account's.
    assert!(matches!(
        recover(&rt, arg),
        Err(CatalogError::InvalidKey { .. })
    ));
    let again = RecoverKeyArg {
        provider: key_input(&SECRET),
        new_key: key_input(&[12; 32]),
    };
    recover(&rt, again).unwrap();
    assert!(matches!(
        signer(&signing::provider_of(&NEW)),
        Err(CatalogError::KeyRotated { .. })
    ));
    assert_eq!(replace_by(&rt, &[12; 32], 3).unwrap().seq, 3);
}
