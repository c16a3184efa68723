use super::*;
use crate::catalog::signing::provider_of;

#[test]
fn providers_get_increasing_ids_and_both_lookups() {
    let (a, b) = (provider_of(&[1; 32]), provider_of(&[2; 32]));
    assert_eq!(provider(&a), None);
    let first = add_provider(&a, 5);
    let second = add_provider(&b, 6);
    assert_eq!((first.id, second.id), (0, 1));
    assert_eq!(provider(&a), Some(first));
    assert_eq!(provider_key(1), Some(b));
    assert_eq!(provider_key(2), None);
    let updated = ProviderRecord {
        seq: 9,
        offerings: 2,
        csv_bytes: 1_000,
        ..second
    };
    set_provider(&b, &updated);
    assert_eq!(provider(&b), Some(updated));
    assert_eq!(provider_count(), 2);
    assert_eq!((new_upload_id(), new_upload_id()), (0, 1));
}

#[test]
fn rows_round_trip_are_replaced_in_place_or_moved_and_ids_are_not_reused() {
    let (a, b) = (new_offering_id(), new_offering_id());
    assert_eq!((a, b, row(a), row(7)), (0, 1, None, None));
    put_offering(a, 3, b"a,b\n");
    put_offering(b, 3, &[b'x'; 100]);
    assert_eq!((row(a), offering_count()), (Some(b"a,b\n".to_vec()), 2));
    let address = |id| SLOTS.with(|slots| slots.get(id)).unwrap().address;
    let first = address(a);
    put_offering(a, 3, b"c,d,e\n");
    assert_eq!((row(a), address(a)), (Some(b"c,d,e\n".to_vec()), first));
    // A larger row moves to another class; its old block is reused by the next small row.
    put_offering(a, 3, &[b'y'; 200]);
    assert_ne!(address(a), first);
    let c = new_offering_id();
    put_offering(c, 4, b"z\n");
    assert_eq!(address(c), first);
    assert_eq!(row(a), Some(vec![b'y'; 200]));
    assert_eq!(offering_count(), 3);
    remove_offering(a);
    remove_offering(a);
    assert_eq!((row(a), offering_count()), (None, 2));
    assert_eq!(new_offering_id(), 3);
    assert_eq!(row(b), Some(vec![b'x'; 100]));
}

#[test]
fn rows_grow_the_region_across_pages() {
    let ids: Vec<u64> = (0..300).map(|_| new_offering_id()).collect();
    for &id in &ids {
        put_offering(id, 0, &vec![id as u8; 500 + id as usize]);
    }
    assert!(ids
        .iter()
        .all(|&id| row(id) == Some(vec![id as u8; 500 + id as usize])));
}

#[test]
fn slots_round_trip() {
    let key = provider_of(&[1; 32]);
    for slot in [Slot::Counters, Slot::Key(key), Slot::Id(0x0102_0304)] {
        assert_eq!(Slot::from_bytes(slot.to_bytes()), slot);
    }
    let record = ProviderRecord {
        id: 1,
        seq: 2,
        offerings: 3,
        csv_bytes: 4,
        updated_at_ns: 5,
    };
    assert_eq!(ProviderRecord::decode(&record.encode()), record);
    let row_slot = RowSlot {
        address: 1,
        len: 2,
        provider_id: 3,
    };
    assert_eq!(RowSlot::from_bytes(row_slot.to_bytes()), row_slot);
}
