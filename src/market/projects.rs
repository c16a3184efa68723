//! Projects: named groups of principals that private offers may be shown to
//! (`OfferTerms.visible_to_projects`). Anyone with an identity creates one and owns it; only
//! the owner changes its members. Membership is what the canister checks, so a project name a
//! consumer types (`ResourceRequest.project`) never grants anything.
//!
//! Strangers mint principals for free, so every count is capped: members per project, projects
//! per owner, projects in all (then `CapacityReached`). A principal added to many projects by
//! others lists them a page at a time, and an offer's visibility checks at most its own named
//! projects (one membership lookup each).

use crate::market::store::{self, ProjectRecord};
use crate::market::types::{Project, ProjectCreateArg, ProjectPage, ProjectUpdateArg};
use crate::market::{check_text, MarketError};
use crate::runtime::Runtime;
use candid::Principal;
use std::collections::BTreeSet;

/// Most members a project has, its owner included.
pub const MAX_MEMBERS: usize = 64;
/// Most projects one principal owns.
pub const MAX_PROJECTS_PER_OWNER: usize = 16;
/// Most projects in the canister.
pub const MAX_PROJECTS: u64 = 10_000;
/// Projects one page of `projects_mine` returns.
pub const PROJECTS_PAGE: usize = 20;

/// Creates a project owned by the caller, with the members given.
pub fn create(rt: &impl Runtime, arg: ProjectCreateArg) -> Result<Project, MarketError> {
    let owner = rt.caller();
    if owner == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal cannot own a project".into(),
        });
    }
    check_text("name", &arg.name, false)?;
    let members = checked_members(&arg.members, "members")?;
    let others: BTreeSet<Principal> = members.into_iter().filter(|p| *p != owner).collect();
    if others.len() + 1 > MAX_MEMBERS {
        return Err(too_many_members());
    }
    if store::owned_projects(&owner, MAX_PROJECTS_PER_OWNER + 1).len() >= MAX_PROJECTS_PER_OWNER {
        return Err(MarketError::TooMany {
            what: "projects owned by one principal".into(),
            max: MAX_PROJECTS_PER_OWNER as u32,
        });
    }
    if store::project_count() >= MAX_PROJECTS {
        return Err(MarketError::CapacityReached {
            what: "projects".into(),
            max: MAX_PROJECTS,
        });
    }
    let now = rt.time();
    let id = store::next_project_id();
    let record = ProjectRecord {
        name: arg.name,
        owner,
        members: others.len() as u32 + 1,
        created_at_ns: now,
        updated_at_ns: now,
    };
    store::put_project(id, &record);
    store::add_owned(owner, id);
    store::add_member(id, owner);
    for member in others {
        store::add_member(id, member);
    }
    Ok(view(id, record))
}

/// Adds, then removes members, and renames: the owner only. All or nothing.
pub fn update(rt: &impl Runtime, arg: ProjectUpdateArg) -> Result<Project, MarketError> {
    let id = arg.project_id;
    let mut record = store::project(id).ok_or(MarketError::UnknownProject { id })?;
    if rt.caller() != record.owner {
        return Err(MarketError::NotAuthorized {
            message: "only the project's owner changes it".into(),
        });
    }
    if let Some(name) = &arg.name {
        check_text("name", name, false)?;
    }
    let add = checked_members(&arg.add, "add")?;
    let remove = checked_members(&arg.remove, "remove")?;
    if remove.contains(&record.owner) {
        return Err(MarketError::InvalidArgument {
            message: "the owner stays a member of its project".into(),
        });
    }
    let added: Vec<Principal> = add
        .into_iter()
        .filter(|p| !remove.contains(p) && !store::is_member(id, p))
        .collect();
    let removed: Vec<Principal> = remove
        .into_iter()
        .filter(|p| store::is_member(id, p))
        .collect();
    let members = record.members as usize + added.len() - removed.len();
    if members > MAX_MEMBERS {
        return Err(too_many_members());
    }
    for member in &added {
        store::add_member(id, *member);
    }
    for member in &removed {
        store::remove_member(id, member);
    }
    if let Some(name) = arg.name {
        record.name = name;
    }
    record.members = members as u32;
    record.updated_at_ns = rt.time();
    store::put_project(id, &record);
    Ok(view(id, record))
}

/// One project, for its members and the controllers.
pub fn get(rt: &impl Runtime, id: u64) -> Result<Project, MarketError> {
    let record = store::project(id).ok_or(MarketError::UnknownProject { id })?;
    let caller = rt.caller();
    if !store::is_member(id, &caller) && !rt.is_controller(&caller) {
        return Err(MarketError::NotAuthorized {
            message: "only a project's members and the controllers see it".into(),
        });
    }
    Ok(view(id, record))
}

/// The projects the caller is a member of (owned ones included), in id order from the id after
/// `after`, a page at a time, with the id to go on from when more may follow.
pub fn mine(rt: &impl Runtime, after: Option<u64>) -> Result<ProjectPage, MarketError> {
    if rt.caller() == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal is a member of no project".into(),
        });
    }
    let first = after.map_or(0, |id| id.saturating_add(1));
    let ids = store::member_projects(&rt.caller(), first, PROJECTS_PAGE + 1);
    let more = ids.len() > PROJECTS_PAGE;
    let ids = &ids[..ids.len().min(PROJECTS_PAGE)];
    let projects = ids
        .iter()
        .filter_map(|id| store::project(*id).map(|record| view(*id, record)))
        .collect();
    Ok(ProjectPage {
        projects,
        next: if more { ids.last().copied() } else { None },
    })
}

/// Refuses any project of `ids` that does not exist (an offer naming it).
pub fn check_exist(ids: &[u64]) -> Result<(), MarketError> {
    match ids.iter().find(|id| store::project(**id).is_none()) {
        Some(id) => Err(MarketError::UnknownProject { id: *id }),
        None => Ok(()),
    }
}

fn view(id: u64, record: ProjectRecord) -> Project {
    let mut members = vec![record.owner];
    members.extend(
        store::project_members(id, MAX_MEMBERS)
            .into_iter()
            .filter(|p| *p != record.owner),
    );
    Project {
        id,
        name: record.name,
        owner: record.owner,
        members,
        created_at_ns: record.created_at_ns,
        updated_at_ns: record.updated_at_ns,
    }
}

/// `list` as a set, refusing the anonymous principal, reserved principals (the IC never
/// issues them; the canister names projects with them, see `offers::terms`) and lists longer
/// than a project holds.
fn checked_members(list: &[Principal], what: &str) -> Result<BTreeSet<Principal>, MarketError> {
    if list.len() > MAX_MEMBERS {
        return Err(MarketError::TooMany {
            what: what.into(),
            max: MAX_MEMBERS as u32,
        });
    }
    for principal in list {
        if *principal == Principal::anonymous() || is_reserved(principal) {
            return Err(MarketError::InvalidArgument {
                message: format!("{what} may not name {principal}"),
            });
        }
    }
    Ok(list.iter().copied().collect())
}

/// A principal of the reserved class (last byte 0x7f): never a caller.
pub fn is_reserved(principal: &Principal) -> bool {
    principal.as_slice().last() == Some(&0x7f)
}

fn too_many_members() -> MarketError {
    MarketError::TooMany {
        what: "members of a project".into(),
        max: MAX_MEMBERS as u32,
    }
}

#[cfg(test)]
mod tests;
