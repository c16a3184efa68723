use super::testing::{edited, fixture, index_of, synthetic, Sample};
use super::*;
use crate::catalog::offering::Column;
use crate::catalog::text::offering_terms;
use ic_stable_structures::VectorMemory;
use std::collections::HashSet;

fn keyed(key: &str) -> Sample {
    edited(&[(Column::UniqueInternalIdentifier, key)])
}

fn slots_of(index: &Index, term: &[u8]) -> Vec<u32> {
    index
        .term(term)
        .map_or(vec![], |t| index.term_cursor(t).collect())
}

fn live_ids(index: &Index, term: &[u8]) -> Vec<u64> {
    let slots = slots_of(index, term).into_iter();
    let live = slots.filter(|&slot| index.columns.has(slot, LIVE));
    let mut ids: Vec<u64> = live.map(|slot| index.columns.id[slot as usize]).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn inserted_offerings_are_found_by_key_and_listed_in_key_order() {
    let mut index = Index::default();
    for (id, key) in [(10, "b"), (11, "c"), (12, "a")] {
        keyed(key).insert_into(&mut index, id, 7);
    }
    keyed("a").insert_into(&mut index, 13, 8);
    assert_eq!(lookup_id(&index, 7, "a"), Some(12));
    assert_eq!(lookup_id(&index, 8, "a"), Some(13));
    assert_eq!(lookup_id(&index, 7, "d"), None);
    assert_eq!(lookup_id(&index, 9, "a"), None);
    let keys: Vec<&[u8]> = index
        .provider_slots(7)
        .iter()
        .map(|&s| index.key(s))
        .collect();
    assert_eq!(keys, [&b"a"[..], b"b", b"c"]);
}

fn lookup_id(index: &Index, provider: u32, key: &str) -> Option<u64> {
    let slot = index.lookup(provider, key.as_bytes())?;
    Some(index.columns.id[slot as usize])
}

#[test]
fn columns_hold_the_normalized_values() {
    let mut index = Index::default();
    let samples = fixture();
    for (id, sample) in samples.iter().enumerate() {
        sample.insert_into(&mut index, id as u64, 0);
    }
    let c = &index.columns;
    assert_eq!(c.price, [9999, 14999, 19999, 24999]);
    assert_eq!(c.currency[2], *b"USD");
    assert_eq!(c.country[0], *b"NL");
    assert_eq!(c.cores, [2, 4, 8, 16]);
    assert_eq!(c.memory_mb, [8192, 16384, 32768, 131072]);
    assert_eq!(c.ssd_gb[3], 960);
    assert_eq!(c.hdd_gb[3], 16);
    assert_eq!(c.product_type[0], kinds::ProductType::Vps as u8);
    assert_eq!(c.flags[2], LIVE | UNMETERED);
    assert_eq!(c.flags[0], LIVE | VISIBLE | UNMETERED);
    assert_eq!(c.gpu, [NO_GPU; 4]);
}

#[test]
fn words_and_tags_have_postings_but_invisible_offerings_do_not() {
    let mut index = Index::default();
    for (id, sample) in fixture().iter().enumerate() {
        sample.insert_into(&mut index, id as u64, 0);
    }
    // The third fixture row is invisible.
    assert_eq!(live_ids(&index, b"xeon"), [0, 1, 3]);
    assert_eq!(live_ids(&index, b"nl"), [0, 1, 3]);
    assert_eq!(live_ids(&index, b"2xqc9381"), Vec::<u64>::new());
    assert_eq!(live_ids(&index, &city_tag("Rotterdam").unwrap()), [0, 1, 3]);
    assert_eq!(live_ids(&index, &tag(Tag::Os, "WINDOWS").unwrap()), [3]);
    assert_eq!(
        live_ids(&index, &tag(Tag::Feature, "native-ipv6").unwrap()),
        [0, 1, 3]
    );
    assert_eq!(live_ids(&index, &code_tag(Tag::Currency, b"USD")), [3]);
    assert_eq!(live_ids(&index, &code_tag(Tag::Country, b"NL")), [0, 1, 3]);
    assert_eq!(index.lookup(0, b"2XQC9381"), Some(2));
}

#[test]
fn tags_fold_values_and_keep_namespaces_apart() {
    assert_eq!(
        city_tag("Rotterdam, Netherlands").unwrap(),
        b"\x01rotterdam"
    );
    assert_eq!(city_tag("  Zürich ").unwrap(), b"\x01zurich");
    assert_eq!(tag(Tag::Os, "Ubuntu 22.04").unwrap(), b"\x02ubuntu 22 04");
    assert_eq!(tag(Tag::Feature, " - "), None);
    // Cut at a character boundary: 21 bytes of three-byte characters and spaces would not fit.
    let long = tag(Tag::Os, &"日本語 ".repeat(20)).unwrap();
    assert_eq!(long.len(), MAX_TAG_BYTES);
    assert!(std::str::from_utf8(&long[1..]).is_ok());
    let long = tag(Tag::Os, &"ab ".repeat(40)).unwrap();
    assert_eq!(long.len(), 1 + MAX_TAG_BYTES);
    assert_eq!(fold("NVIDIA® RTX-4090"), "nvidia rtx 4090");
}

#[test]
fn the_same_key_replaces_and_removal_forgets() {
    let mut index = Index::default();
    keyed("a").insert_into(&mut index, 1, 0);
    let cheaper = edited(&[
        (Column::UniqueInternalIdentifier, "a"),
        (Column::MonthlyPrice, "5"),
    ]);
    cheaper.insert_into(&mut index, 2, 0);
    assert_eq!(lookup_id(&index, 0, "a"), Some(2));
    assert_eq!(index.provider_slots(0).len(), 1);
    assert_eq!(live_ids(&index, b"xeon"), [2]);
    // The replaced id is gone for good: removing it leaves the new offering alone.
    index.remove(1);
    assert_eq!(lookup_id(&index, 0, "a"), Some(2));
    index.remove(2);
    index.remove(2);
    index.remove(99);
    assert_eq!(lookup_id(&index, 0, "a"), None);
    assert!(index.provider_slots(0).is_empty());
    assert_eq!(live_ids(&index, b"xeon"), Vec::<u64>::new());
}

#[test]
fn an_id_inserted_again_moves_to_its_new_key() {
    let mut index = Index::default();
    keyed("a").insert_into(&mut index, 1, 0);
    keyed("b").insert_into(&mut index, 1, 0);
    assert_eq!(lookup_id(&index, 0, "a"), None);
    assert_eq!(lookup_id(&index, 0, "b"), Some(1));
    assert_eq!(index.provider_slots(0).len(), 1);
    // The id a key moved away from is forgotten: removing it touches nothing.
    keyed("b").insert_into(&mut index, 2, 0);
    assert_eq!(index.slot_of_id(1), None);
    index.remove(1);
    assert_eq!(lookup_id(&index, 0, "b"), Some(2));
}

#[test]
fn an_upsert_keeps_its_id() {
    let mut index = Index::default();
    keyed("a").insert_into(&mut index, 1, 0);
    index.remove(1);
    let renamed = edited(&[
        (Column::UniqueInternalIdentifier, "a"),
        (Column::OfferName, "Zeta"),
    ]);
    renamed.insert_into(&mut index, 1, 0);
    assert_eq!(lookup_id(&index, 0, "a"), Some(1));
    assert_eq!(live_ids(&index, b"zeta"), [1]);
    assert_eq!(live_ids(&index, b"dual"), Vec::<u64>::new());
}

#[test]
fn remove_provider_drops_only_its_offerings() {
    let samples = synthetic(1, 3, 20);
    let mut index = index_of(&samples);
    index.remove_provider(1);
    index.remove_provider(42);
    assert!(index.provider_slots(1).is_empty());
    assert_eq!(index.provider_slots(0).len(), 20);
    assert_eq!(index.provider_slots(2).len(), 20);
    assert_eq!(lookup_id(&index, 1, samples[1][0].key()), None);
    assert_eq!(lookup_id(&index, 2, samples[2][5].key()), Some(2_000_005));
    let live = (0..index.columns.slots() as u32).filter(|&s| index.columns.has(s, LIVE));
    assert!(live
        .map(|s| index.columns.provider[s as usize])
        .all(|p| p != 1));
}

#[test]
fn compaction_renumbers_slots_and_keeps_every_answer() {
    let samples = synthetic(2, 4, 50);
    let mut index = index_of(&samples);
    let term = b"dedicated";
    let before = live_ids(&index, term);
    // Removing half of provider 0 and all of provider 3 passes the quarter-dead mark.
    for n in (0..50).step_by(2) {
        index.remove(n);
    }
    assert_eq!(index.dead, 25);
    index.remove_provider(3);
    assert_eq!(index.dead, 0, "compacted");
    assert_eq!(index.columns.slots(), 125);
    let kept = |id: &u64| id / 1_000_000 != 3 && !(id / 1_000_000 == 0 && id.is_multiple_of(2));
    let expected: Vec<u64> = before.into_iter().filter(kept).collect();
    assert_eq!(live_ids(&index, term), expected);
    for (provider, offerings) in samples.iter().enumerate() {
        for (n, sample) in offerings.iter().enumerate() {
            let id = provider as u64 * 1_000_000 + n as u64;
            let found = lookup_id(&index, provider as u32, sample.key());
            assert_eq!(found, Some(id).filter(kept), "{id}");
        }
    }
    // Exactly the terms of the visible offerings left stay in the dictionary.
    let mut all_terms = HashSet::new();
    let mut kept_terms = HashSet::new();
    for (provider, offerings) in samples.iter().enumerate() {
        for (n, sample) in offerings.iter().enumerate() {
            let terms = offering_terms(&sample.offering);
            let id = provider as u64 * 1_000_000 + n as u64;
            if kept(&id) && sample.normalized.visible {
                kept_terms.extend(terms.iter().cloned());
            }
            all_terms.extend(terms);
        }
    }
    assert!(kept_terms.len() < all_terms.len());
    for term in &all_terms {
        assert_eq!(
            index.term(term.as_bytes()).is_some(),
            kept_terms.contains(term),
            "{term}"
        );
    }
    // New offerings go on from the compacted slots.
    keyed("new").insert_into(&mut index, 9_000_000, 9);
    assert_eq!(index.lookup(9, b"new"), Some(125));
    assert_eq!(index.check_shape(), Ok(()));
}

#[test]
fn unused_gpu_names_are_dropped_by_compaction() {
    let mut index = Index::default();
    let gpu = |name: &str, key: &str| {
        edited(&[
            (Column::GpuName, name),
            (Column::UniqueInternalIdentifier, key),
        ])
    };
    for n in 0..100u64 {
        gpu("NVIDIA A100", &format!("a{n}")).insert_into(&mut index, n, 0);
    }
    gpu("NVIDIA H100", "h").insert_into(&mut index, 100, 0);
    assert_eq!(index.gpus.len(), 2);
    for n in 0..100 {
        index.remove(n);
    }
    index.compact();
    let names: Vec<(u32, &[u8])> = index.gpu_names().collect();
    assert_eq!(names, [(0, &b"nvidia h100"[..])]);
    assert_eq!(index.columns.gpu, [0]);
}

#[test]
fn snapshot_round_trip_gives_the_same_index_once() {
    let samples = synthetic(3, 5, 40);
    let mut index = index_of(&samples);
    for n in 0..10 {
        index.remove(1_000_000 + n);
    }
    for id in 0..5u8 {
        let key = crate::catalog::signing::provider_of(&[id; 32]);
        index.providers.add(u32::from(id), &key);
    }
    let memory = VectorMemory::default();
    let bytes = index.save(&memory).unwrap();
    assert!(bytes > 200 * 100, "{bytes}");
    let loaded = Index::load(&memory).unwrap();
    assert_eq!(loaded, index);
    assert_eq!(
        Index::load(&memory),
        Err("the snapshot was already loaded once".into())
    );
    // A smaller index saved over a larger one loads as itself.
    let small = index_of(&samples[..1]);
    small.save(&memory).unwrap();
    assert_eq!(Index::load(&memory).unwrap(), small);
}

#[test]
fn an_inconsistent_snapshot_is_refused() {
    let mut index = index_of(&synthetic(4, 1, 5));
    index.by_provider.insert(5, vec![99]);
    let memory = VectorMemory::default();
    index.save(&memory).unwrap();
    assert_eq!(
        Index::load(&memory),
        Err("the snapshot's index is inconsistent".into())
    );
}

#[test]
fn the_global_index_serves_the_publishing_side() {
    let samples = synthetic(5, 1, 3);
    for (n, sample) in samples[0].iter().enumerate() {
        insert(n as u64, 4, &sample.offering, &sample.values());
    }
    let mut listed = provider_offerings(4);
    assert_eq!(listed.len(), 3);
    listed.sort_by_key(|(_, id)| *id);
    assert_eq!(listed[1], (samples[0][1].key().to_string(), 1));
    assert_eq!(lookup(4, samples[0][2].key()), Some(2));
    remove(2);
    assert_eq!(lookup(4, samples[0][2].key()), None);
    assert!(save().unwrap() > 0);
    remove_provider(4);
    assert!(provider_offerings(4).is_empty());
    load().unwrap();
    assert_eq!(provider_offerings(4).len(), 2);
}

#[test]
fn a_rebuild_from_stored_rows_gives_the_inserted_index() {
    let samples = synthetic(6, 3, 30);
    let rows = samples
        .iter()
        .enumerate()
        .flat_map(|(provider, offerings)| {
            offerings.iter().enumerate().map(move |(n, sample)| {
                (
                    provider as u64 * 1_000_000 + n as u64,
                    provider as u32,
                    sample.row(),
                )
            })
        });
    rebuild(rows.chain([(7, 7, b"not a row".to_vec())]));
    assert_eq!(with(Index::clone), index_of(&samples));
}

#[test]
fn offerings_indexed_after_a_compaction_are_found_by_every_term() {
    // The memo of texts' term ids outlives inserts but not compactions, which renumber terms.
    let samples = synthetic(8, 1, 200);
    let mut index = index_of(&samples);
    for n in 0..100 {
        index.remove(n);
    }
    assert!(index.dead < 64, "compacted");
    for (n, sample) in samples[0][..100].iter().enumerate() {
        sample.insert_into(&mut index, 1_000 + n as u64, 0);
    }
    for (n, sample) in samples[0].iter().enumerate() {
        let id = match n < 100 {
            true => 1_000 + n as u64,
            false => n as u64,
        };
        if !sample.normalized.visible {
            continue;
        }
        for term in offering_terms(&sample.offering) {
            assert!(live_ids(&index, term.as_bytes()).contains(&id), "{term}");
        }
        let city = city_tag(&sample.normalized.city).unwrap();
        assert!(live_ids(&index, &city).contains(&id));
    }
}
