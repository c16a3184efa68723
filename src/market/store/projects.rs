//! Projects and their members (`market::projects`).

use super::{ids_under, MEMBER_PROJECTS, OWNER_PROJECTS, PROJECTS, PROJECT_MEMBERS};
use candid::{CandidType, Deserialize, Principal};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A project as stored; its members are in `PROJECT_MEMBERS`, one entry each, so a visibility
/// check is one lookup, not a decode of the member list.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProjectRecord {
    pub name: String,
    pub owner: Principal,
    /// Its members, the owner included.
    pub members: u32,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

/// Membership answers already looked up, so matching many offers that name the same project
/// looks it up once. Heap only (a cache, rebuilt after an upgrade), dropped on any change of
/// membership and when it grows past `MEMBERSHIP_CACHE_MAX`.
const MEMBERSHIP_CACHE_MAX: usize = 4_096;

thread_local! {
    static MEMBERSHIP: RefCell<BTreeMap<(u64, Principal), bool>> =
        const { RefCell::new(BTreeMap::new()) };
}

pub fn project(id: u64) -> Option<ProjectRecord> {
    PROJECTS.with_borrow(|map| map.get(&id))
}

pub fn put_project(id: u64, record: &ProjectRecord) {
    PROJECTS.with_borrow_mut(|map| map.insert(id, record.clone()));
}

/// The id the next project takes: projects are never removed, so one past the last.
pub fn next_project_id() -> u64 {
    PROJECTS.with_borrow(|map| map.last_key_value().map_or(1, |(id, _)| id + 1))
}

pub fn project_count() -> u64 {
    PROJECTS.with_borrow(|map| map.len())
}

pub fn is_member(id: u64, principal: &Principal) -> bool {
    if let Some(known) = MEMBERSHIP.with_borrow(|cache| cache.get(&(id, *principal)).copied()) {
        return known;
    }
    let member = PROJECT_MEMBERS.with_borrow(|set| set.contains_key(&(id, *principal)));
    MEMBERSHIP.with_borrow_mut(|cache| {
        if cache.len() >= MEMBERSHIP_CACHE_MAX {
            cache.clear();
        }
        cache.insert((id, *principal), member);
    });
    member
}

pub fn add_member(id: u64, principal: Principal) {
    MEMBERSHIP.with_borrow_mut(BTreeMap::clear);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.insert((id, principal), ()));
    MEMBER_PROJECTS.with_borrow_mut(|set| set.insert((principal, id), ()));
}

pub fn remove_member(id: u64, principal: &Principal) {
    MEMBERSHIP.with_borrow_mut(BTreeMap::clear);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.remove(&(id, *principal)));
    MEMBER_PROJECTS.with_borrow_mut(|set| set.remove(&(*principal, id)));
}

/// A project's members in principal order, at most `limit`.
pub fn project_members(id: u64, limit: usize) -> Vec<Principal> {
    PROJECT_MEMBERS.with_borrow(|set| ids_under(set, id, Principal::management_canister(), limit))
}

/// The projects `principal` is a member of, from id `first` on, at most `limit`.
pub fn member_projects(principal: &Principal, first: u64, limit: usize) -> Vec<u64> {
    MEMBER_PROJECTS.with_borrow(|set| ids_under(set, *principal, first, limit))
}

/// The projects `owner` owns, at most `limit`.
pub fn owned_projects(owner: &Principal, limit: usize) -> Vec<u64> {
    OWNER_PROJECTS.with_borrow(|set| ids_under(set, *owner, 0, limit))
}

/// Records `owner` as the owner of project `id` (once, at creation).
pub fn add_owned(owner: Principal, id: u64) {
    OWNER_PROJECTS.with_borrow_mut(|set| set.insert((owner, id), ()));
}

/// Whether the reverse map lists `principal` as a member of project `id`.
pub fn member_project_listed(principal: &Principal, id: u64) -> bool {
    MEMBER_PROJECTS.with_borrow(|set| set.contains_key(&(*principal, id)))
}

/// Whether `owner`'s list of projects has project `id`.
pub fn owned_project_listed(owner: &Principal, id: u64) -> bool {
    OWNER_PROJECTS.with_borrow(|set| set.contains_key(&(*owner, id)))
}
