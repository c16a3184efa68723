//! Projects end to end, through the wasm with Candid in and out: a project's owner creates and
//! changes it, its members and the controllers read it, a member lists its projects; an offer
//! private to a project is seen and held by the project's members only, follows membership
//! changes at once, and keeps its visibility across an upgrade; refusals are typed and change
//! no stable state.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

fn owner() -> Principal {
    consumer("project owner")
}

fn member() -> Principal {
    consumer("project member")
}

fn create(
    m: &mut Market,
    who: Principal,
    name: &str,
    members: Vec<Principal>,
) -> MarketResult<Project> {
    let arg = ProjectCreateArg {
        name: name.into(),
        members,
    };
    m.canister.market_update(who, "project_create", arg)
}

fn update(m: &mut Market, who: Principal, arg: ProjectUpdateArg) -> MarketResult<Project> {
    m.canister.market_update(who, "project_update", arg)
}

fn get(m: &mut Market, who: Principal, id: u64) -> MarketResult<Project> {
    m.canister.market_query(who, "project_get", id)
}

fn mine(m: &mut Market, who: Principal, after: Option<u64>) -> MarketResult<ProjectPage> {
    m.canister.market_query(who, "projects_mine", after)
}

fn change(project_id: u64) -> ProjectUpdateArg {
    ProjectUpdateArg {
        project_id,
        add: vec![],
        remove: vec![],
        name: None,
    }
}

fn private_to(m: &mut Market, item_id: u64, project_id: u64) -> MarketResult<Offer> {
    let now = m.now();
    let arg = OfferCreateArg {
        terms: Some(OfferTerms {
            visible_to_projects: Some(vec![project_id]),
            ..OfferTerms::default()
        }),
        ..m.offer_arg(item_id, now, now + 5 * DAY_NS, 40)
    };
    let delegate = m.delegate;
    m.canister.offer_create(delegate, arg)
}

fn sees(m: &mut Market, who: Principal, offer_id: u64) -> bool {
    let seen: MarketResult<Offer> = m.canister.market_query(who, "offer_get", offer_id);
    seen.is_ok()
}

fn holds(m: &mut Market, who: Principal) -> bool {
    let start = m.now() + HOUR_NS;
    let view = m.request(who, one_offer(start, 3600));
    view.offerset.result == OffersetResult::Yes
}

#[test]
fn owners_manage_projects_and_members_read_them() {
    let mut m = Market::new();
    let project = create(&mut m, owner(), "lab", vec![member()]).expect("project_create");
    assert_eq!(project.members, vec![owner(), member()]);
    let controller = m.controller();
    for who in [owner(), member(), controller] {
        assert_eq!(get(&mut m, who, project.id), Ok(project.clone()));
    }
    assert!(matches!(
        get(&mut m, stranger(), project.id),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(
        mine(&mut m, member(), None)
            .expect("projects_mine")
            .projects,
        vec![project.clone()]
    );

    // Only the owner changes it; a refusal changes nothing.
    let before = m.canister.digest();
    for (who, arg) in [
        (
            member(),
            ProjectUpdateArg {
                add: vec![stranger()],
                ..change(project.id)
            },
        ),
        (
            owner(),
            ProjectUpdateArg {
                remove: vec![owner()],
                ..change(project.id)
            },
        ),
        (owner(), change(project.id + 1)),
    ] {
        assert!(update(&mut m, who, arg).is_err());
    }
    assert!(create(&mut m, owner(), "", vec![]).is_err());
    assert_eq!(m.canister.digest(), before);

    let renamed = update(
        &mut m,
        owner(),
        ProjectUpdateArg {
            name: Some("lab 2".into()),
            remove: vec![member()],
            ..change(project.id)
        },
    )
    .expect("project_update");
    assert_eq!(
        (renamed.name.as_str(), renamed.members.clone()),
        ("lab 2", vec![owner()])
    );
    assert!(mine(&mut m, member(), None)
        .expect("projects_mine")
        .projects
        .is_empty());
}

#[test]
fn a_project_private_offer_follows_membership_and_survives_an_upgrade() {
    let mut m = Market::new();
    let project = create(&mut m, owner(), "lab", vec![member()]).expect("project_create");
    let item = m.register(SMALL, "project-node", attributes(2, 8, 100, 0));
    assert_eq!(
        private_to(&mut m, item.id, project.id + 1),
        Err(MarketError::UnknownProject { id: project.id + 1 })
    );
    let offer = private_to(&mut m, item.id, project.id).expect("offer_create");
    assert_eq!(
        offer
            .terms
            .as_ref()
            .and_then(|t| t.visible_to_projects.clone()),
        Some(vec![project.id])
    );

    assert!(!sees(&mut m, stranger(), offer.id));
    assert!(!holds(&mut m, stranger()));
    assert!(sees(&mut m, owner(), offer.id));
    assert!(sees(&mut m, member(), offer.id));

    // A stranger added sees it at once; the member removed no longer does.
    update(
        &mut m,
        owner(),
        ProjectUpdateArg {
            add: vec![stranger()],
            remove: vec![member()],
            ..change(project.id)
        },
    )
    .expect("project_update");
    assert!(sees(&mut m, stranger(), offer.id));
    assert!(!sees(&mut m, member(), offer.id));

    // The matching index and the projects are kept by an upgrade.
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    assert!(!holds(&mut m, member()));
    assert!(holds(&mut m, stranger()));
    assert_eq!(
        get(&mut m, owner(), project.id)
            .expect("project_get")
            .members,
        {
            let mut members = vec![stranger()];
            members.sort();
            members.insert(0, owner());
            members
        }
    );
}
