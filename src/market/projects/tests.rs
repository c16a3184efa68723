use super::*;
use crate::market::availability;
use crate::market::offers::terms;
use crate::market::offers::{self};
use crate::market::offerset::testing::*;
use crate::market::offerset::{self};
use crate::market::types::*;
use crate::runtime::FakeRuntime;
use crate::time::DAY_NS;

fn carol() -> Principal {
    Principal::from_slice(&[5; 29])
}

fn principal(n: u32) -> Principal {
    let mut bytes = vec![0xe1];
    bytes.extend(n.to_be_bytes());
    Principal::from_slice(&bytes)
}

fn create_as(
    rt: &FakeRuntime,
    who: Principal,
    name: &str,
    members: Vec<Principal>,
) -> Result<Project, MarketError> {
    calling(rt, who, || {
        create(
            rt,
            ProjectCreateArg {
                name: name.into(),
                members,
            },
        )
    })
}

fn update_as(
    rt: &FakeRuntime,
    who: Principal,
    arg: ProjectUpdateArg,
) -> Result<Project, MarketError> {
    calling(rt, who, || update(rt, arg))
}

fn change(project_id: u64) -> ProjectUpdateArg {
    ProjectUpdateArg {
        project_id,
        add: vec![],
        remove: vec![],
        name: None,
    }
}

#[test]
fn owners_create_and_change_projects_members_and_controllers_read_them() {
    let rt = market();
    let project = create_as(&rt, alice(), "lab", vec![bob(), alice(), bob()]).unwrap();
    assert_eq!(project.owner, alice());
    assert_eq!(
        project.members,
        vec![alice(), bob()],
        "owner first, duplicates once"
    );

    let renamed = update_as(
        &rt,
        alice(),
        ProjectUpdateArg {
            add: vec![carol()],
            remove: vec![bob()],
            name: Some("lab 2".into()),
            ..change(project.id)
        },
    )
    .unwrap();
    assert_eq!(renamed.name, "lab 2");
    assert_eq!(renamed.members, vec![alice(), carol()]);

    for who in [alice(), carol(), admin()] {
        assert_eq!(
            calling(&rt, who, || get(&rt, project.id)),
            Ok(renamed.clone())
        );
    }
    for who in [bob(), provider()] {
        assert!(matches!(
            calling(&rt, who, || get(&rt, project.id)),
            Err(MarketError::NotAuthorized { .. })
        ));
    }
    assert_eq!(
        calling(&rt, carol(), || mine(&rt, None)).unwrap().projects,
        vec![renamed.clone()]
    );
    assert!(calling(&rt, bob(), || mine(&rt, None))
        .unwrap()
        .projects
        .is_empty());
    assert_eq!(get(&rt, 99), Err(MarketError::UnknownProject { id: 99 }));
}

#[test]
fn refused_changes_are_typed_and_change_nothing() {
    let rt = market();
    let project = create_as(&rt, alice(), "lab", vec![bob()]).unwrap();
    let refusals = [
        (bob(), change(project.id)),
        (
            alice(),
            ProjectUpdateArg {
                remove: vec![alice()],
                ..change(project.id)
            },
        ),
        (
            alice(),
            ProjectUpdateArg {
                add: vec![Principal::anonymous()],
                ..change(project.id)
            },
        ),
        (
            alice(),
            ProjectUpdateArg {
                add: vec![terms::project_principal(1)],
                ..change(project.id)
            },
        ),
        (
            alice(),
            ProjectUpdateArg {
                name: Some(String::new()),
                ..change(project.id)
            },
        ),
        (
            alice(),
            ProjectUpdateArg {
                add: (0..64).map(principal).collect(),
                ..change(project.id)
            },
        ),
        (
            alice(),
            ProjectUpdateArg {
                add: (0..65).map(principal).collect(),
                ..change(project.id)
            },
        ),
        (alice(), change(7)),
    ];
    for (who, arg) in refusals {
        let refused = update_as(&rt, who, arg.clone());
        assert!(refused.is_err(), "{arg:?}");
        assert_eq!(
            calling(&rt, alice(), || get(&rt, project.id)),
            Ok(project.clone()),
            "{arg:?}"
        );
    }
    assert!(matches!(
        create_as(&rt, Principal::anonymous(), "x", vec![]),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        calling(&rt, Principal::anonymous(), || mine(&rt, None)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        create_as(&rt, carol(), "big", (0..64).map(principal).collect()),
        Err(MarketError::TooMany { .. })
    ));
    assert!(create_as(&rt, carol(), "full", (0..63).map(principal).collect()).is_ok());
}

#[test]
fn owners_and_the_canister_have_caps() {
    let rt = market();
    for n in 0..MAX_PROJECTS_PER_OWNER {
        create_as(&rt, alice(), &format!("p{n}"), vec![]).unwrap();
    }
    assert_eq!(
        create_as(&rt, alice(), "one more", vec![]),
        Err(MarketError::TooMany {
            what: "projects owned by one principal".into(),
            max: MAX_PROJECTS_PER_OWNER as u32,
        })
    );
    // Others still create, up to the canister's cap.
    let mut owner = 0;
    while store::project_count() < MAX_PROJECTS {
        create_as(&rt, principal(owner / 16), "p", vec![]).unwrap();
        owner += 1;
    }
    assert_eq!(
        create_as(&rt, bob(), "late", vec![]),
        Err(MarketError::CapacityReached {
            what: "projects".into(),
            max: MAX_PROJECTS,
        })
    );
}

#[test]
fn a_member_of_many_projects_lists_them_a_page_at_a_time() {
    let rt = market();
    let mut ids = vec![];
    for owner in 0..3 {
        for _ in 0..MAX_PROJECTS_PER_OWNER {
            ids.push(
                create_as(&rt, principal(owner), "p", vec![bob()])
                    .unwrap()
                    .id,
            );
        }
    }
    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = calling(&rt, bob(), || mine(&rt, after)).unwrap();
        assert!(page.projects.len() <= PROJECTS_PAGE);
        seen.extend(page.projects.iter().map(|p| p.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[test]
fn project_principals_are_reserved_and_round_trip() {
    for id in [0, 1, 42, u64::MAX] {
        let principal = terms::project_principal(id);
        assert!(is_reserved(&principal));
        assert_eq!(
            terms::visible_to(&OfferTerms {
                visible_to_projects: Some(vec![id, id]),
                ..OfferTerms::default()
            }),
            Some(vec![principal])
        );
    }
    assert!(!is_reserved(&alice()) && !is_reserved(&Principal::anonymous()));
}

#[test]
fn a_project_private_offer_is_seen_and_held_by_its_members_only() {
    let rt = market();
    let t0 = rt.time.get();
    let project = create_as(&rt, carol(), "lab", vec![bob()]).unwrap();
    let node = item(&rt, "n1", "2C.small", 8);
    let private = offer_with(
        &rt,
        node.id,
        (t0, t0 + DAY_NS),
        100,
        Some(OfferTerms {
            visible_to_projects: Some(vec![project.id]),
            ..OfferTerms::default()
        }),
    );
    let free = |who| {
        let arg = AvailabilityArg {
            item_id: Some(node.id),
            sku: None,
            from_ns: t0,
            to_ns: t0 + DAY_NS,
            after: None,
            limit: None,
        };
        let page = calling(&rt, who, || availability::query(&rt, arg)).unwrap();
        page.items.iter().map(|i| i.windows.len()).sum::<usize>()
    };

    // Alice is no member: she neither sees nor holds it.
    assert_eq!(
        offers::get_as_seen(&rt, private.id),
        Err(MarketError::UnknownOffer { id: private.id })
    );
    assert_eq!(
        offerset::request(&rt, ask(3600)).unwrap().offerset.result,
        OffersetResult::No
    );
    assert_eq!(free(alice()), 0);
    // Bob and the owner are.
    for who in [bob(), carol()] {
        assert!(calling(&rt, who, || offers::get_as_seen(&rt, private.id)).is_ok());
        assert_eq!(free(who), 1);
    }
    let held = calling(&rt, bob(), || offerset::request(&rt, ask(3600))).unwrap();
    assert_eq!(held.offers[0].offer_id, private.id);

    // Removed, Bob sees it no more; added, Alice does.
    update_as(
        &rt,
        carol(),
        ProjectUpdateArg {
            add: vec![alice()],
            remove: vec![bob()],
            ..change(project.id)
        },
    )
    .unwrap();
    assert!(calling(&rt, bob(), || offers::get_as_seen(&rt, private.id)).is_err());
    assert!(offers::get_as_seen(&rt, private.id).is_ok());
}

#[test]
fn offers_name_existing_projects_and_no_reserved_principal() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let create = |terms: OfferTerms| {
        let arg = OfferCreateArg {
            terms: Some(terms),
            provider: key_input(),
            item_id: node.id,
            start_ns: t0,
            end_ns: t0 + DAY_NS,
            price_per_hour: 100,
            properties: vec![],
        };
        calling(&rt, provider(), || offers::create(&rt, arg))
    };
    let before = snapshot();
    assert_eq!(
        create(OfferTerms {
            visible_to_projects: Some(vec![9]),
            ..OfferTerms::default()
        }),
        Err(MarketError::UnknownProject { id: 9 })
    );
    assert!(matches!(
        create(OfferTerms {
            visible_to_projects: Some(vec![]),
            ..OfferTerms::default()
        }),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        create(OfferTerms {
            visible_to_projects: Some((1..=9).collect()),
            ..OfferTerms::default()
        }),
        Err(MarketError::TooMany { .. })
    ));
    assert!(matches!(
        create(OfferTerms {
            visible_to: Some(vec![terms::project_principal(1)]),
            ..OfferTerms::default()
        }),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(snapshot(), before);
}

#[test]
fn the_self_check_sees_projects_agree_and_catches_a_planted_fault() {
    use crate::market::invariants::{check_all, Stored};
    let rt = market();
    let project = create_as(&rt, alice(), "lab", vec![bob(), carol()]).unwrap();
    update_as(
        &rt,
        alice(),
        ProjectUpdateArg {
            remove: vec![bob()],
            ..change(project.id)
        },
    )
    .unwrap();
    assert_eq!(check_all(&Stored, &[]).violations, vec![]);

    let mut record = store::project(project.id).unwrap();
    record.members += 1;
    store::put_project(project.id, &record);
    let violations = check_all(&Stored, &[]).violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].rule, "project_membership_agrees");
}

#[test]
fn a_principals_projects_read_back_in_order_from_any_id() {
    let rt = market();
    let mut ids = vec![];
    for owner in 0..20 {
        let project = create_as(&rt, principal(owner), "p", vec![bob()]).unwrap();
        ids.push(project.id);
    }
    // Leave some: every third.
    for id in ids.iter().step_by(3) {
        let owner = store::project(*id).unwrap().owner;
        update_as(
            &rt,
            owner,
            ProjectUpdateArg {
                remove: vec![bob()],
                ..change(*id)
            },
        )
        .unwrap();
    }
    let kept: Vec<u64> = ids.iter().copied().filter(|id| (id - 1) % 3 != 0).collect();
    assert_eq!(store::member_projects(&bob(), 0, usize::MAX), kept);
    assert_eq!(store::member_projects(&bob(), 9, 2), vec![9, 11]);
    assert_eq!(
        store::member_projects(&bob(), u64::MAX, 5),
        Vec::<u64>::new()
    );
    assert_eq!(store::member_projects(&carol(), 0, 5), Vec::<u64>::new());
    for id in 0..25 {
        assert_eq!(
            store::with_projects_of(&bob(), |p| p.contains(id)),
            kept.contains(&id),
            "{id}"
        );
    }
}

#[test]
fn an_offer_private_to_principals_and_a_project_is_seen_by_both_and_no_one_else() {
    let rt = market();
    let t0 = rt.time.get();
    let project = create_as(&rt, carol(), "lab", vec![]).unwrap();
    let node = item(&rt, "n1", "2C.small", 8);
    let terms = OfferTerms {
        visible_to: Some(vec![bob()]),
        visible_to_projects: Some(vec![project.id]),
        ..OfferTerms::default()
    };
    let offer = offer_with(&rt, node.id, (t0, t0 + DAY_NS), 100, Some(terms.clone()));
    let rules = crate::market::offers::Rules::of(Some(&terms));
    for (who, sees) in [(bob(), true), (carol(), true), (alice(), false)] {
        assert_eq!(rules.visible(&who), sees, "{who}");
        assert_eq!(
            calling(&rt, who, || offers::get_as_seen(&rt, offer.id)).is_ok(),
            sees,
            "{who}"
        );
    }
    // A list in any order reads the same (lists saved before projects existed).
    let mut reversed = terms::visible_to(&terms).unwrap();
    reversed.reverse();
    let rules = crate::market::offers::Rules::new(0, 0, Some(reversed));
    assert!(rules.visible(&bob()) && rules.visible(&carol()) && !rules.visible(&alice()));
}
