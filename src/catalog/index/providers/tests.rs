use super::*;
use crate::catalog::signing::provider_of;

#[test]
fn keys_are_found_by_id_and_ids_by_key() {
    let keys: Vec<ProviderKey> = (0..20u8).map(|n| provider_of(&[n; 32])).collect();
    let mut providers = ProviderKeys::default();
    // Ids as the store gives them, and one never added (13).
    for (id, key) in keys.iter().enumerate().filter(|(id, _)| *id != 13) {
        providers.add(id as u32, key);
    }
    for (id, key) in keys.iter().enumerate() {
        let known = id != 13;
        assert_eq!(providers.id(key), known.then_some(id as u32));
        assert_eq!(providers.key(id as u32), known.then_some(*key));
    }
    assert_eq!(providers.key(99), None);
    assert!(providers.is_consistent());
}
