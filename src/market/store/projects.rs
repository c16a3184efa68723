//! Projects and their members (`market::projects`).

use super::{ids_under, MEMBER_PROJECTS, OWNER_PROJECTS, PROJECTS, PROJECT_MEMBERS};
use candid::{CandidType, Deserialize, Principal};
use std::cell::{Cell, RefCell};

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

/// A principal's projects: their ids in order, stored as 8 bytes each, so one read gives all
/// of them however many, and a principal in few projects stores little whatever their ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memberships(Vec<u64>);

impl Memberships {
    /// A member of no project: the common case, answered without looking at an offer's list.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    fn set(&mut self, id: u64, on: bool) {
        match (self.0.binary_search(&id), on) {
            (Err(at), true) => self.0.insert(at, id),
            (Ok(at), false) => {
                self.0.remove(at);
            }
            _ => {}
        }
    }

    /// The ids from `first` on, in order.
    fn from(&self, first: u64) -> &[u64] {
        let at = self.0.partition_point(|id| *id < first);
        &self.0[at..]
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|id| id.to_le_bytes()).collect()
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let ids = bytes
            .chunks_exact(8)
            .map(|chunk| {
                let mut id = [0; 8];
                id.copy_from_slice(chunk);
                u64::from_le_bytes(id)
            })
            .collect();
        Self(ids)
    }
}

fn memberships_of(principal: &Principal) -> Memberships {
    MEMBER_PROJECTS.with_borrow(|map| {
        map.get(principal)
            .map_or_else(Memberships::default, |bytes| {
                Memberships::from_bytes(&bytes)
            })
    })
}

fn set_membership(principal: Principal, id: u64, on: bool) {
    let mut memberships = memberships_of(&principal);
    memberships.set(id, on);
    MEMBER_PROJECTS.with_borrow_mut(|map| {
        if memberships.is_empty() {
            map.remove(&principal);
        } else {
            map.insert(principal, memberships.to_bytes());
        }
    });
}

/// The projects of the last principal a visibility check asked about, read once: matching
/// checks every private offer it passes against one consumer, so each check is a binary search
/// in memory. Heap only (rebuilt after an upgrade); `GENERATION` counts membership changes, and
/// a set read before the latest one is read again.
struct Viewer {
    principal: Principal,
    generation: u64,
    projects: Memberships,
}

thread_local! {
    static VIEWER: RefCell<Option<Viewer>> = const { RefCell::new(None) };
    static GENERATION: Cell<u64> = const { Cell::new(0) };
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

/// Whether `principal` is a member of project `id`: one lookup.
pub fn is_member(id: u64, principal: &Principal) -> bool {
    PROJECT_MEMBERS.with_borrow(|set| set.contains_key(&(id, *principal)))
}

/// `f` of the projects `principal` is a member of. Reads them (one record) the first time the
/// principal is asked about after a change, then answers from the heap.
pub fn with_projects_of<R>(principal: &Principal, f: impl FnOnce(&Memberships) -> R) -> R {
    let generation = GENERATION.get();
    VIEWER.with_borrow_mut(|viewer| {
        let viewer = match viewer {
            Some(v) if v.principal == *principal && v.generation == generation => v,
            _ => viewer.insert(Viewer {
                principal: *principal,
                generation,
                projects: memberships_of(principal),
            }),
        };
        f(&viewer.projects)
    })
}

pub fn add_member(id: u64, principal: Principal) {
    GENERATION.set(GENERATION.get() + 1);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.insert((id, principal), ()));
    set_membership(principal, id, true);
}

pub fn remove_member(id: u64, principal: &Principal) {
    GENERATION.set(GENERATION.get() + 1);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.remove(&(id, *principal)));
    set_membership(*principal, id, false);
}

/// A project's members in principal order, at most `limit`.
pub fn project_members(id: u64, limit: usize) -> Vec<Principal> {
    PROJECT_MEMBERS.with_borrow(|set| ids_under(set, id, Principal::management_canister(), limit))
}

/// The projects `principal` is a member of, from id `first` on, at most `limit`.
pub fn member_projects(principal: &Principal, first: u64, limit: usize) -> Vec<u64> {
    let memberships = memberships_of(principal);
    let from = memberships.from(first);
    from[..from.len().min(limit)].to_vec()
}

/// The projects `owner` owns, at most `limit`.
pub fn owned_projects(owner: &Principal, limit: usize) -> Vec<u64> {
    OWNER_PROJECTS.with_borrow(|set| ids_under(set, *owner, 0, limit))
}

/// Records `owner` as the owner of project `id` (once, at creation).
pub fn add_owned(owner: Principal, id: u64) {
    OWNER_PROJECTS.with_borrow_mut(|set| set.insert((owner, id), ()));
}

/// Whether `principal`'s list of projects has project `id`.
pub fn member_project_listed(principal: &Principal, id: u64) -> bool {
    memberships_of(principal).contains(id)
}

/// Whether `owner`'s list of projects has project `id`.
pub fn owned_project_listed(owner: &Principal, id: u64) -> bool {
    OWNER_PROJECTS.with_borrow(|set| set.contains_key(&(*owner, id)))
}
