//! Why a market call was refused.

use super::types::{ItemStatus, Message, OfferStatus, Phase};
use candid::{CandidType, Deserialize};

/// Why a market call was refused. A refused call changes nothing.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum MarketError {
    InvalidArgument {
        message: String,
    },
    /// The caller made too many update calls lately; it may call again after this long.
    RateLimited {
        retry_after_seconds: u64,
    },
    NotAuthorized {
        message: String,
    },
    InvalidKey {
        message: String,
    },
    InvalidSignature,
    StaleSequence {
        last: u64,
    },
    InvalidSku {
        sku: String,
        message: String,
    },
    UnknownItem {
        id: u64,
    },
    UnknownOffer {
        id: u64,
    },
    UnknownProject {
        id: u64,
    },
    UnknownOfferset {
        id: u64,
    },
    UnknownExecution {
        id: u64,
    },
    DuplicateResource {
        item_id: u64,
    },
    InvalidTransition {
        from: ItemStatus,
        to: ItemStatus,
    },
    ItemBusy {
        item_id: u64,
        execution_id: u64,
    },
    /// An open offer of the same resource overlaps the window.
    OfferOverlap {
        offer_id: u64,
    },
    InvalidWindow {
        message: String,
    },
    WrongPhase {
        phase: Phase,
        action: String,
    },
    OfferClosed {
        offer_id: u64,
        status: OfferStatus,
    },
    /// The window is already booked on the resource.
    Booked {
        execution_id: u64,
    },
    LeaseTooLong {
        max_seconds: u64,
    },
    QuotaExceeded {
        what: String,
        max: u32,
    },
    /// Nothing matched a `lease_by_sku`; the messages say why.
    NothingAvailable {
        messages: Vec<Message>,
    },
    TooMany {
        what: String,
        max: u32,
    },
    /// A global cap of the canister (`max_items`, `max_open_offers`) would be passed.
    CapacityReached {
        what: String,
        max: u64,
    },
    /// The controllers froze the provider (`provider_freeze`): its signed delegations and its
    /// delegates' actions are refused until they unfreeze it.
    ProviderFrozen,
    /// The key was rotated (`provider_rotate_key`, `provider_recover`): the successor signs.
    KeyRotated {
        successor_pem: String,
    },
    /// The consumer's account does not hold the price (plus the ledger's fee); nothing moved.
    InsufficientFunds {
        balance: u64,
        needed: u64,
    },
    /// The consumer approved the market (`icrc2_approve`) for less than the price plus the
    /// ledger's fee; nothing moved.
    InsufficientAllowance {
        allowance: u64,
        needed: u64,
    },
    /// A payment of this execution is on its way to the ledger, or its refund is: try again
    /// once it answered.
    PaymentInProgress {
        execution_id: u64,
    },
    /// The ledger refused or could not take the payment; nothing moved.
    PaymentFailed {
        message: String,
    },
}

crate::candid_io::argument_errors!(MarketError);
