//! Project types: named groups of principals a private offer may be shown to.

use candid::{CandidType, Deserialize, Principal};

/// A project: its owner and members may see and hold the private offers that name it
/// (`OfferTerms.visible_to_projects`). The owner is a member and the only one who changes it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub owner: Principal,
    /// Every member, the owner first, then in principal order.
    pub members: Vec<Principal>,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProjectCreateArg {
    pub name: String,
    /// Members besides the caller, who owns the project and is always a member.
    pub members: Vec<Principal>,
}

/// Changes a project: adds, then removes members (the owner stays), and renames it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProjectUpdateArg {
    pub project_id: u64,
    pub add: Vec<Principal>,
    pub remove: Vec<Principal>,
    pub name: Option<String>,
}

/// A page of the caller's projects, and where the next one starts (`None`: no more).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProjectPage {
    pub projects: Vec<Project>,
    pub next: Option<u64>,
}
