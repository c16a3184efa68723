use super::*;
use ic_stable_structures::VectorMemory;

#[test]
fn sections_round_trip_once() {
    let memory = VectorMemory::default();
    assert_eq!(
        load(&memory, 1, |r| r.take::<u32>()),
        Err("no snapshot".into())
    );
    let size = save(&memory, 1, |w| {
        w.put(&[1u32, 2, 3]);
        w.put(&[[1u8, 2, 3]]);
        w.put::<u64>(&[]);
    })
    .unwrap();
    assert_eq!(size, 24 + 8 + 12 + 8 + 3 + 8);
    let read = |r: &mut Reader<_>| Ok((r.take::<u32>()?, r.take::<[u8; 3]>()?, r.take::<u64>()?));
    assert_eq!(
        load(&memory, 2, read),
        Err("snapshot format 1 is not 2".into())
    );
    assert_eq!(
        load(&memory, 1, read),
        Ok((vec![1, 2, 3], vec![[1, 2, 3]], vec![]))
    );
    assert_eq!(
        load(&memory, 1, read),
        Err("the snapshot was already loaded once".into())
    );
}

#[test]
fn a_smaller_snapshot_never_reads_the_stale_tail() {
    let memory = VectorMemory::default();
    save(&memory, 1, |w| w.put(&vec![7u64; 1000])).unwrap();
    save(&memory, 1, |w| w.put(&[1u64])).unwrap();
    let result = load(&memory, 1, |r| Ok((r.take::<u64>()?, r.take::<u64>())));
    assert_eq!(result, Ok((vec![1], Err("the snapshot ends early".into()))));
}

#[test]
fn a_section_claiming_more_than_the_body_is_an_error() {
    let memory = VectorMemory::default();
    save(&memory, 1, |w| w.put(&[1u8, 2])).unwrap();
    memory.write(HEADER_BYTES, &u64::MAX.to_le_bytes());
    let result = load(&memory, 1, |r| r.take::<u32>());
    assert_eq!(result, Err("a section runs past the snapshot's end".into()));
}
