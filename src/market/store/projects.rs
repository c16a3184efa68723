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

/// A principal's projects as a bitset: bit `id % 8` of byte `id / 8` is set when it is a member
/// of project `id`. Project ids are dense and capped, so the set is small (1.25 KB at 10 000
/// projects) and one read answers every membership question of a message, however many
/// projects the principal is in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bits(Vec<u8>);

impl Bits {
    /// A member of no project: the common case, answered without looking at an offer's list.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: u64) -> bool {
        let Ok(byte) = usize::try_from(id / 8) else {
            return false;
        };
        self.0.get(byte).is_some_and(|b| b & (1 << (id % 8)) != 0)
    }

    fn set(&mut self, id: u64, on: bool) {
        let byte = usize::try_from(id / 8).expect("project ids are dense and capped");
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        if on {
            self.0[byte] |= 1 << (id % 8);
        } else {
            self.0[byte] &= !(1 << (id % 8));
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// The ids set, from `first` on, in order.
    fn from(&self, first: u64) -> impl Iterator<Item = u64> + '_ {
        let first_byte = usize::try_from(first / 8).unwrap_or(usize::MAX);
        self.0
            .iter()
            .enumerate()
            .skip(first_byte)
            .flat_map(|(byte, bits)| {
                (0..8u64)
                    .filter(move |bit| bits & (1 << bit) != 0)
                    .map(move |bit| byte as u64 * 8 + bit)
            })
            .filter(move |id| *id >= first)
    }
}

fn bits_of(principal: &Principal) -> Bits {
    MEMBER_PROJECTS.with_borrow(|map| Bits(map.get(principal).unwrap_or_default()))
}

fn set_bit(principal: Principal, id: u64, on: bool) {
    let mut bits = bits_of(&principal);
    bits.set(id, on);
    MEMBER_PROJECTS.with_borrow_mut(|map| {
        if bits.0.is_empty() {
            map.remove(&principal);
        } else {
            map.insert(principal, bits.0);
        }
    });
}

/// The projects of the last principal a visibility check asked about, read once: matching
/// checks every private offer it passes against one consumer, so each check is a bit test in
/// memory. Heap only (rebuilt after an upgrade); `GENERATION` counts membership changes, and
/// a set read before the latest one is read again.
struct Viewer {
    principal: Principal,
    generation: u64,
    projects: Bits,
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
pub fn with_projects_of<R>(principal: &Principal, f: impl FnOnce(&Bits) -> R) -> R {
    let generation = GENERATION.get();
    VIEWER.with_borrow_mut(|viewer| {
        let viewer = match viewer {
            Some(v) if v.principal == *principal && v.generation == generation => v,
            _ => viewer.insert(Viewer {
                principal: *principal,
                generation,
                projects: bits_of(principal),
            }),
        };
        f(&viewer.projects)
    })
}

pub fn add_member(id: u64, principal: Principal) {
    GENERATION.set(GENERATION.get() + 1);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.insert((id, principal), ()));
    set_bit(principal, id, true);
}

pub fn remove_member(id: u64, principal: &Principal) {
    GENERATION.set(GENERATION.get() + 1);
    PROJECT_MEMBERS.with_borrow_mut(|set| set.remove(&(id, *principal)));
    set_bit(*principal, id, false);
}

/// A project's members in principal order, at most `limit`.
pub fn project_members(id: u64, limit: usize) -> Vec<Principal> {
    PROJECT_MEMBERS.with_borrow(|set| ids_under(set, id, Principal::management_canister(), limit))
}

/// The projects `principal` is a member of, from id `first` on, at most `limit`.
pub fn member_projects(principal: &Principal, first: u64, limit: usize) -> Vec<u64> {
    bits_of(principal).from(first).take(limit).collect()
}

/// The projects `owner` owns, at most `limit`.
pub fn owned_projects(owner: &Principal, limit: usize) -> Vec<u64> {
    OWNER_PROJECTS.with_borrow(|set| ids_under(set, *owner, 0, limit))
}

/// Records `owner` as the owner of project `id` (once, at creation).
pub fn add_owned(owner: Principal, id: u64) {
    OWNER_PROJECTS.with_borrow_mut(|set| set.insert((owner, id), ()));
}

/// Whether `principal`'s bitset has project `id`.
pub fn member_project_listed(principal: &Principal, id: u64) -> bool {
    bits_of(principal).contains(id)
}

/// Whether `owner`'s list of projects has project `id`.
pub fn owned_project_listed(owner: &Principal, id: u64) -> bool {
    OWNER_PROJECTS.with_borrow(|set| set.contains_key(&(*owner, id)))
}
