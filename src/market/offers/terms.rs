//! An offer's terms: the shortest lease, the grid windows snap to, and who may see it.

use crate::market::index::OpenOffer;
use crate::market::offerset::MIN_LEASE_SECONDS;
use crate::market::types::{Offer, OfferTerms};
use crate::market::{projects, store, MarketError};
use crate::time::{DAY_NS, SECOND_NS};
use candid::Principal;

/// Most principals a private offer may name.
pub const MAX_VISIBLE_TO: usize = 32;
/// Most projects a private offer may name.
pub const MAX_VISIBLE_TO_PROJECTS: usize = 8;
/// Coarsest grid an offer may set.
const MAX_GRANULARITY_SECONDS: u64 = DAY_NS / SECOND_NS;

/// Refuses terms an offer of `window_ns` cannot keep.
pub fn check(terms: &OfferTerms, window_ns: u64) -> Result<(), MarketError> {
    if let Some(min) = terms.min_duration_seconds {
        if min < MIN_LEASE_SECONDS || min.saturating_mul(SECOND_NS) > window_ns {
            return Err(MarketError::InvalidArgument {
                message: format!(
                    "terms.min_duration_seconds must be from {MIN_LEASE_SECONDS} to the \
                     offer's length, got {min}"
                ),
            });
        }
    }
    if let Some(step) = terms.granularity_seconds {
        if !(1..=MAX_GRANULARITY_SECONDS).contains(&step) {
            return Err(MarketError::InvalidArgument {
                message: format!(
                    "terms.granularity_seconds must be from 1 to {MAX_GRANULARITY_SECONDS}, \
                     got {step}"
                ),
            });
        }
    }
    if let Some(principals) = &terms.visible_to {
        if principals.is_empty() {
            return Err(MarketError::InvalidArgument {
                message: "terms.visible_to must name someone (absent makes the offer public)"
                    .into(),
            });
        }
        if principals.len() > MAX_VISIBLE_TO {
            return Err(MarketError::TooMany {
                what: "terms.visible_to".into(),
                max: MAX_VISIBLE_TO as u32,
            });
        }
        if principals.contains(&Principal::anonymous()) {
            return Err(MarketError::InvalidArgument {
                message: "terms.visible_to may not name the anonymous principal".into(),
            });
        }
        // Reserved principals stand for projects in the rules below.
        if principals.iter().any(projects::is_reserved) {
            return Err(MarketError::InvalidArgument {
                message: "terms.visible_to may not name a reserved principal".into(),
            });
        }
    }
    if let Some(ids) = &terms.visible_to_projects {
        if ids.is_empty() {
            return Err(MarketError::InvalidArgument {
                message: "terms.visible_to_projects must name a project (absent: none)".into(),
            });
        }
        if ids.len() > MAX_VISIBLE_TO_PROJECTS {
            return Err(MarketError::TooMany {
                what: "terms.visible_to_projects".into(),
                max: MAX_VISIBLE_TO_PROJECTS as u32,
            });
        }
        projects::check_exist(ids)?;
    }
    Ok(())
}

/// The terms as matching applies them, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Shortest window (0: any the request may ask).
    pub min_ns: u64,
    /// Grid step (0: none).
    pub step_ns: u64,
    /// `None`: public. Boxed: most offers are public, and the index keeps one per open offer.
    private: Option<Box<Private>>,
}

/// Who may see a private offer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Private {
    /// The principals named, then one per project ([`visible_to`]).
    list: Vec<Principal>,
    /// The principals of `list` that stand for no project.
    named: Vec<Principal>,
    /// The projects of `list`, read out once so matching tests no principal's bytes for them.
    projects: Vec<u64>,
}

impl Rules {
    pub fn new(min_ns: u64, step_ns: u64, visible_to: Option<Vec<Principal>>) -> Self {
        let private = visible_to.map(|list| {
            let (projects, named): (Vec<_>, Vec<_>) =
                list.iter().partition(|p| project_of(p).is_some());
            Box::new(Private {
                named,
                projects: projects.iter().filter_map(project_of).collect(),
                list,
            })
        });
        Self {
            min_ns,
            step_ns,
            private,
        }
    }

    /// Who may see the offer, as [`visible_to`] lists them; `None`: everyone.
    pub fn visible_to(&self) -> Option<&[Principal]> {
        self.private.as_deref().map(|p| p.list.as_slice())
    }

    pub fn of(terms: Option<&OfferTerms>) -> Self {
        let Some(terms) = terms else {
            return Self::default();
        };
        Self::new(
            terms
                .min_duration_seconds
                .unwrap_or(0)
                .saturating_mul(SECOND_NS),
            terms
                .granularity_seconds
                .unwrap_or(0)
                .saturating_mul(SECOND_NS),
            visible_to(terms),
        )
    }

    /// Whether `principal` may see and hold the offer (the provider's delegates and the
    /// controllers are let through by the caller): no list lets everyone; a list, the
    /// principals it names and the members of the projects it names (a binary search each in
    /// the caller's projects, read once, then one lookup to confirm a hit). The one statement
    /// of the rule, for matching and for reads of the offer record.
    pub fn visible(&self, principal: &Principal) -> bool {
        let Some(p) = &self.private else {
            return true;
        };
        // A project the caller's list names is confirmed in the project's own members, so a
        // stale list entry could never show an offer to someone who is no member.
        p.named.contains(principal)
            || (!p.projects.is_empty()
                && store::with_projects_of(principal, |mine| {
                    !mine.is_empty()
                        && p.projects
                            .iter()
                            .any(|id| mine.contains(*id) && store::is_member(*id, principal))
                }))
    }
}

/// Who may see a private offer, as one list: the principals its terms name, then a reserved
/// principal standing for each project they name ([`project_principal`]). `None`: everyone.
/// One list keeps the index's rules (and their snapshot) as they were before projects.
pub fn visible_to(terms: &OfferTerms) -> Option<Vec<Principal>> {
    if terms.visible_to.is_none() && terms.visible_to_projects.is_none() {
        return None;
    }
    let mut list = terms.visible_to.clone().unwrap_or_default();
    for id in terms.visible_to_projects.iter().flatten() {
        let principal = project_principal(*id);
        if !list.contains(&principal) {
            list.push(principal);
        }
    }
    Some(list)
}

/// The reserved principal that stands for project `id` in a `visible_to` list: the id's bytes,
/// `P`, then the reserved class byte 0x7f, so no caller can ever be it (the IC issues no
/// reserved principals, and terms and projects refuse them as members).
pub fn project_principal(id: u64) -> Principal {
    let mut bytes = id.to_be_bytes().to_vec();
    bytes.extend([b'P', 0x7f]);
    Principal::from_slice(&bytes)
}

/// The project `principal` stands for, if it is one ([`project_principal`]).
fn project_of(principal: &Principal) -> Option<u64> {
    match principal.as_slice() {
        [a, b, c, d, e, f, g, h, b'P', 0x7f] => {
            Some(u64::from_be_bytes([*a, *b, *c, *d, *e, *f, *g, *h]))
        }
        _ => None,
    }
}

/// An offer's grid: windows start and end on `origin + k·step` (a step of 0 is no grid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    origin: u64,
    step: u64,
}

impl Grid {
    pub fn new(origin: u64, step: u64) -> Self {
        Self { origin, step }
    }

    pub fn of(offer: &Offer) -> Self {
        let step = offer
            .terms
            .as_ref()
            .and_then(|t| t.granularity_seconds)
            .unwrap_or(0);
        Self::new(offer.start_ns, step.saturating_mul(SECOND_NS))
    }

    pub fn of_open(offer: &OpenOffer) -> Self {
        Self::new(offer.start_ns, offer.rules.step_ns)
    }

    /// The grid point at or before `t` (not before the origin).
    pub fn down(self, t: u64) -> u64 {
        if self.step == 0 || t <= self.origin {
            return t;
        }
        t - (t - self.origin) % self.step
    }

    /// The grid point at or after `t`.
    pub fn up(self, t: u64) -> u64 {
        if self.step == 0 || t <= self.origin {
            return t;
        }
        let down = self.down(t);
        if down == t {
            t
        } else {
            down.saturating_add(self.step)
        }
    }

    /// `length` rounded up to whole steps.
    pub fn whole_steps(self, length: u64) -> u64 {
        if self.step == 0 {
            return length;
        }
        length.div_ceil(self.step).saturating_mul(self.step)
    }
}
