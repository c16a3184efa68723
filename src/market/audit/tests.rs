use super::*;

const P1: &str = "provider one";
const P2: &str = "provider two";

fn principal(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

fn add(at_ns: u64, entity: Entity, consumer: Option<Principal>, provider_pem: &str) -> u64 {
    record(
        at_ns,
        &Actor::Canister,
        Change {
            entity,
            from: "a",
            to: "b",
            why: "test",
            consumer,
            provider_pem,
        },
    )
}

fn none(_: &str) -> bool {
    false
}

fn controller() -> Reader<'static> {
    Reader {
        principal: principal(99),
        is_controller: true,
        acts_for: &none,
    }
}

fn consumer(n: u8) -> Reader<'static> {
    Reader {
        principal: principal(n),
        is_controller: false,
        acts_for: &none,
    }
}

fn seqs(page: &AuditPage) -> Vec<u64> {
    page.entries.iter().map(|entry| entry.seq).collect()
}

fn all(reader: &Reader, arg: AuditArg) -> Vec<u64> {
    seqs(&page(reader, &arg).unwrap())
}

#[test]
fn readers_see_what_is_theirs() {
    let (alice, bob) = (principal(1), principal(2));
    add(1, Entity::Item(1), None, P1);
    add(2, Entity::Offerset(1), Some(alice), P2);
    add(3, Entity::Execution(1), Some(alice), P1);
    add(4, Entity::Execution(2), Some(bob), P2);

    assert_eq!(all(&controller(), AuditArg::default()), [1, 2, 3, 4]);
    assert_eq!(all(&consumer(1), AuditArg::default()), [2, 3]);
    assert_eq!(all(&consumer(2), AuditArg::default()), [4]);
    let anonymous = Reader {
        principal: Principal::anonymous(),
        ..consumer(1)
    };
    assert!(matches!(
        page(&anonymous, &AuditArg::default()),
        Err(MarketError::NotAuthorized { .. })
    ));
    let stranger = page(&consumer(3), &AuditArg::default()).unwrap();
    assert_eq!(
        stranger,
        AuditPage {
            entries: vec![],
            next: None
        }
    );

    // A delegate of provider one, asked once per provider.
    let asked = std::cell::RefCell::new(Vec::new());
    let acts_for = |pem: &str| {
        asked.borrow_mut().push(pem.to_string());
        pem == P1
    };
    let delegate = Reader {
        principal: principal(7),
        is_controller: false,
        acts_for: &acts_for,
    };
    assert_eq!(all(&delegate, AuditArg::default()), [1, 3]);
    assert_eq!(*asked.borrow(), [P1, P2]);
    // A delegate who is also a consumer sees both.
    let both = Reader {
        principal: bob,
        ..delegate
    };
    assert_eq!(all(&both, AuditArg::default()), [1, 3, 4]);
}

#[test]
fn entries_of_one_entity() {
    let alice = principal(1);
    add(1, Entity::Execution(1), Some(alice), P1);
    add(2, Entity::Item(1), None, P1);
    add(3, Entity::Execution(2), Some(alice), P1);
    add(4, Entity::Execution(1), Some(alice), P1);
    add(5, Entity::Offer(1), None, P1);
    let of = |entity| AuditArg {
        entity: Some(entity),
        ..AuditArg::default()
    };
    assert_eq!(all(&controller(), of(Entity::Execution(1))), [1, 4]);
    assert_eq!(all(&controller(), of(Entity::Item(1))), [2]);
    assert_eq!(all(&controller(), of(Entity::Offer(1))), [5]);
    assert_eq!(
        all(&controller(), of(Entity::Offerset(1))),
        Vec::<u64>::new()
    );
    // Visibility still applies.
    assert_eq!(all(&consumer(1), of(Entity::Item(1))), Vec::<u64>::new());
    assert_eq!(all(&consumer(1), of(Entity::Execution(1))), [1, 4]);
    // With a cursor and a window.
    let arg = AuditArg {
        after: Some(1),
        ..of(Entity::Execution(1))
    };
    assert_eq!(all(&controller(), arg), [4]);
    let arg = AuditArg {
        to_ns: Some(3),
        ..of(Entity::Execution(1))
    };
    assert_eq!(all(&controller(), arg), [1]);
}

#[test]
fn time_range_is_inclusive_and_checked() {
    for at_ns in [10, 20, 20, 30, 40] {
        add(at_ns, Entity::Item(1), None, P1);
    }
    let window = |from_ns, to_ns| AuditArg {
        from_ns,
        to_ns,
        ..AuditArg::default()
    };
    let c = controller();
    assert_eq!(all(&c, window(Some(20), Some(30))), [2, 3, 4]);
    assert_eq!(all(&c, window(Some(25), None)), [4, 5]);
    assert_eq!(all(&c, window(None, Some(15))), [1]);
    assert_eq!(all(&c, window(Some(20), Some(20))), [2, 3]);
    assert_eq!(all(&c, window(Some(0), Some(9))), Vec::<u64>::new());
    assert_eq!(all(&c, window(Some(41), None)), Vec::<u64>::new());
    assert_eq!(all(&c, window(Some(40), Some(40))), [5]);
    assert_eq!(all(&c, window(None, None)), [1, 2, 3, 4, 5]);
    assert!(matches!(
        page(&c, &window(Some(31), Some(30))),
        Err(MarketError::InvalidWindow { .. })
    ));
    // A window after the cursor, and a cursor past the log.
    let arg = AuditArg {
        after: Some(3),
        ..window(Some(10), Some(30))
    };
    assert_eq!(all(&c, arg), [4]);
    let arg = AuditArg {
        after: Some(99),
        ..AuditArg::default()
    };
    assert_eq!(
        page(&c, &arg).unwrap(),
        AuditPage {
            entries: vec![],
            next: None
        }
    );
}

#[test]
fn time_range_over_an_empty_log() {
    let arg = AuditArg {
        from_ns: Some(5),
        to_ns: Some(9),
        ..AuditArg::default()
    };
    assert_eq!(all(&controller(), arg), Vec::<u64>::new());
}

#[test]
fn pages_follow_the_cursor() {
    for at_ns in 1..=7 {
        add(at_ns, Entity::Item(at_ns % 2), None, P1);
    }
    let arg = |after| AuditArg {
        after,
        limit: Some(3),
        ..AuditArg::default()
    };
    let first = page(&controller(), &arg(None)).unwrap();
    assert_eq!((seqs(&first), first.next), (vec![1, 2, 3], Some(3)));
    let second = page(&controller(), &arg(first.next)).unwrap();
    assert_eq!((seqs(&second), second.next), (vec![4, 5, 6], Some(6)));
    let third = page(&controller(), &arg(second.next)).unwrap();
    assert_eq!((seqs(&third), third.next), (vec![7], None));

    // A page that ends exactly at the last entry says nothing follows.
    let item_one = |after| AuditArg {
        entity: Some(Entity::Item(1)),
        after,
        limit: Some(2),
        ..AuditArg::default()
    };
    let first = page(&controller(), &item_one(None)).unwrap();
    assert_eq!((seqs(&first), first.next), (vec![1, 3], Some(3)));
    let second = page(&controller(), &item_one(first.next)).unwrap();
    assert_eq!((seqs(&second), second.next), (vec![5, 7], None));
}

#[test]
fn limits_are_checked() {
    let zero = AuditArg {
        limit: Some(0),
        ..AuditArg::default()
    };
    assert!(matches!(
        page(&controller(), &zero),
        Err(MarketError::InvalidArgument { .. })
    ));
    let many = AuditArg {
        limit: Some(crate::market::MAX_PAGE + 1),
        ..AuditArg::default()
    };
    assert!(matches!(
        page(&controller(), &many),
        Err(MarketError::TooMany { .. })
    ));
}

#[test]
fn a_reader_who_may_see_little_gets_bounded_pages() {
    let alice = principal(1);
    for at_ns in 1..=95 {
        add(at_ns, Entity::Execution(1), Some(principal(2)), P2);
    }
    let mine = add(96, Entity::Execution(1), Some(alice), P2);
    add(97, Entity::Execution(1), Some(principal(2)), P2);

    for entity in [None, Some(Entity::Execution(1))] {
        let mut after = None;
        let mut pages = 0;
        let mut found = vec![];
        loop {
            let arg = AuditArg {
                entity,
                after,
                limit: Some(1),
                ..AuditArg::default()
            };
            let page = page(&consumer(1), &arg).unwrap();
            pages += 1;
            // At most ten entries examined per page of one.
            if let (Some(next), Some(after)) = (page.next, after) {
                assert!(next - after <= 10, "{after} → {next}");
            }
            found.extend(seqs(&page));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(found, [mine]);
        // Nine pages of ten, one that reaches alice's entry, one for the entry after it.
        assert_eq!(pages, 11, "{entity:?}");
    }
}
