//! One catalog offering in the 35-column serverhunter format: the cells exactly as the provider
//! wrote them (the source of truth, so import → export → import is lossless) and the typed,
//! normalised values derived from them for search.

mod cell_parsers;
mod columns;
mod normalized;
mod record;
mod units;
mod validate;

pub use cell_parsers::{list, nfc_key, text};
pub use columns::{Column, COLUMNS};
pub use normalized::{
    BillingInterval, MemoryEcc, Normalized, ProductType, Stock, Values, Virtualization,
};
pub use record::{Cells, Offering};
pub use units::cpu_mhz;
pub use validate::{normalize, values, CellError};

/// Longest cell accepted: serverhunter cells are short, and the store keeps each row whole.
pub const MAX_CELL_BYTES: usize = 4096;
/// Longest offering key (Unique Internal identifier): it is part of every lookup key.
pub const MAX_KEY_BYTES: usize = 128;

#[cfg(test)]
mod tests;
