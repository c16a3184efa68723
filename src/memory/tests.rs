use super::*;

#[test]
fn regions_are_listed_once_in_id_order() {
    for (i, (id, _)) in REGIONS.iter().enumerate() {
        assert_eq!(*id, MemoryId::new(i as u8));
    }
}

#[test]
fn stable_pages_grow_with_regions() {
    let before = stable_pages();
    region(CONFIG).grow(1);
    assert!(stable_pages() > before);
    assert_eq!(heap_bytes(), 0);
}
