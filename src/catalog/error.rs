//! Why a catalog change (or a read of the change feed) was refused.

use candid::{CandidType, Deserialize};

/// Why a catalog change (or a read of the change feed) was refused.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum CatalogError {
    InvalidArgument {
        message: String,
    },
    /// The caller made too many update calls lately; it may call again after this long.
    RateLimited {
        retry_after_seconds: u64,
    },
    InvalidKey {
        message: String,
    },
    InvalidSignature,
    StaleSequence {
        last: u64,
    },
    InvalidCsv {
        errors: Vec<CsvError>,
    },
    TooManyOfferings {
        max: u32,
    },
    CatalogTooLarge {
        max_bytes: u64,
    },
    UnknownOffering {
        key: String,
    },
    UnknownProvider,
    UnknownUpload,
    NotUploader,
    ChunkOutOfOrder {
        expected: u32,
    },
    UploadTooLarge {
        total_bytes: u64,
    },
    UploadIncomplete {
        bytes_received: u64,
        total_bytes: u64,
    },
    HashMismatch,
    TooManyUploads {
        max: u32,
    },
    LimitTooLarge {
        max: u32,
    },
    /// A global cap of the canister (`max_providers`, `max_offerings`) would be passed.
    CapacityReached {
        what: String,
        max: u64,
    },
    /// Only controllers may do this (`provider_freeze`).
    NotAuthorized {
        message: String,
    },
    /// The controllers froze the provider: its signed changes are refused until they unfreeze
    /// it (`provider_freeze`).
    ProviderFrozen,
    /// The key was rotated (`provider_rotate_key`, `provider_recover`): the successor signs.
    KeyRotated {
        successor_pem: String,
    },
}

/// One reason a CSV was refused: `row` is the line the record starts on (the header is line 1).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

crate::candid_io::argument_errors!(CatalogError);
