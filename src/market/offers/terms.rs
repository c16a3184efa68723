//! An offer's terms: the shortest lease, the grid windows snap to, and who may see it.

use crate::market::index::OpenOffer;
use crate::market::offerset::MIN_LEASE_SECONDS;
use crate::market::types::{Offer, OfferTerms};
use crate::market::MarketError;
use crate::time::{DAY_NS, SECOND_NS};
use candid::Principal;

/// Most principals a private offer may name.
pub const MAX_VISIBLE_TO: usize = 32;
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
    /// `None`: public.
    pub visible_to: Option<Vec<Principal>>,
}

impl Rules {
    pub fn of(terms: Option<&OfferTerms>) -> Self {
        let Some(terms) = terms else {
            return Self::default();
        };
        Self {
            min_ns: terms
                .min_duration_seconds
                .unwrap_or(0)
                .saturating_mul(SECOND_NS),
            step_ns: terms
                .granularity_seconds
                .unwrap_or(0)
                .saturating_mul(SECOND_NS),
            visible_to: terms.visible_to.clone(),
        }
    }

    /// Whether `principal` may see and hold the offer (the provider's delegates and the
    /// controllers are let through by the caller).
    pub fn visible(&self, principal: &Principal) -> bool {
        self.visible_to
            .as_ref()
            .is_none_or(|list| list.contains(principal))
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
