use super::*;
use crate::runtime::FakeRuntime;
use candid::types::FuncMode;
use candid_parser::utils::CandidSource;
use std::collections::BTreeMap;

#[test]
fn the_table_lists_every_method_of_the_did_with_its_kind() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/candid/marketplace.did");
    let (env, actor) = CandidSource::File(path.as_ref()).load().unwrap();
    let actor = actor.unwrap();
    let service = env.as_service(&actor).unwrap();
    let did: BTreeMap<String, Kind> = service
        .iter()
        .map(|(name, ty)| {
            let func = env.as_func(ty).unwrap();
            let kind = if func.modes.contains(&FuncMode::Query) {
                Kind::Query
            } else {
                Kind::Update
            };
            (name.to_string(), kind)
        })
        .collect();
    let table: BTreeMap<String, Kind> = METHODS
        .iter()
        .filter(|m| !m.name.starts_with("transform_"))
        .map(|m| (m.name.to_string(), m.kind))
        .collect();
    assert_eq!(table, did);
    assert_eq!(table.len() + 2, METHODS.len(), "a method is listed twice");
}

#[test]
fn inspect_drops_what_can_never_succeed_and_passes_the_rest() {
    let rt = FakeRuntime::new();
    let id = candid::encode_one(7u64).unwrap();
    rt.caller.set(Principal::from_slice(&[5; 29]));
    assert_eq!(inspect(&rt, "lease_end", &id), Ok(()));
    assert!(inspect(&rt, "lease_end", b"DIDL garbage").is_err());
    assert!(inspect(&rt, "lease_end", &vec![0; 2 * KIB]).is_err());
    assert!(inspect(&rt, "no_such_method", &id).is_err());
    rt.caller.set(Principal::anonymous());
    let refused = inspect(&rt, "lease_end", &id).unwrap_err();
    assert!(refused.contains("anonymous"), "{refused}");
    // Signed methods are the signer's, whoever submits them: an anonymous relay passes when
    // its signature verifies, and is dropped (for free) when it does not.
    let remove = |provider: ProviderKeyInput, signature: Vec<u8>| {
        candid::encode_one(RemoveProviderArg {
            provider,
            seq: 1,
            signature: serde_bytes::ByteBuf::from(signature),
        })
        .unwrap()
    };
    let bogus = remove(ProviderKeyInput::Pem("x".into()), vec![]);
    let refused = inspect(&rt, "provider_remove", &bogus).unwrap_err();
    assert!(refused.contains("not a PEM document"), "{refused}");
    let secret = [6; 32];
    let key = crate::catalog::signing::provider_of(&secret);
    let unsigned = remove(ProviderKeyInput::Pem(key.to_pem()), vec![0; 64]);
    let refused = inspect(&rt, "provider_remove", &unsigned).unwrap_err();
    assert!(refused.contains("does not verify"), "{refused}");
    let op = crate::catalog::signing::Operation::RemoveProvider;
    let hash = crate::catalog::signing::payload_hash(b"");
    let signature = crate::catalog::signing::sign(&secret, &rt.canister_id(), op, 1, &hash);
    let signed = remove(ProviderKeyInput::Pem(key.to_pem()), signature.to_vec());
    assert_eq!(inspect(&rt, "provider_remove", &signed), Ok(()));
    // An identified caller was rate limited as itself: its endpoint checks the signature.
    rt.caller.set(Principal::from_slice(&[5; 29]));
    assert_eq!(inspect(&rt, "provider_remove", &unsigned), Ok(()));
}

#[test]
fn the_matrix_of_each_access() {
    use Class::*;
    let allowed = |access: Access| -> Vec<Class> {
        Class::ALL
            .into_iter()
            .filter(|c| access.allows(*c))
            .collect()
    };
    assert_eq!(allowed(Access::Anyone), Class::ALL);
    assert_eq!(
        allowed(Access::ProviderSignature),
        [Anonymous, Unknown, Owner, Controller]
    );
    assert_eq!(allowed(Access::Delegate), [Owner]);
    assert_eq!(allowed(Access::Controller), [Controller]);
    for method in METHODS {
        assert_eq!(
            method.access.admits_anonymous(),
            method.access.allows(Anonymous),
            "{}",
            method.name
        );
    }
}
