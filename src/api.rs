//! The Candid types of the public interface in one place, for Rust clients and the end-to-end
//! tests (`candid/marketplace.did` is the same interface in Candid).

pub use crate::config::{Config, InitArg};
pub use crate::counters::Counters;
pub use crate::digest::{
    DigestChunk, DigestCursor, DigestError, DigestPageError, RegionDigest, StateDigest,
    StateDigestPage, StateDigestPageArg,
};
pub use crate::ironic::{IronicApi, IronicDiscoverArg, IronicError};
pub use crate::status::Status;

// Catalogs: publishing.
pub use crate::catalog::changes::{Change, ChangeKind, ChangesArg, ChangesPage};
pub use crate::catalog::keys::{ProviderFreezeArg, RecoverKeyArg, RotateKeyArg};
pub use crate::catalog::provider::ProviderKeyInput;
pub use crate::catalog::publish::{
    CatalogError, CsvError, PublishArg, Receipt, RemoveOfferingsArg, RemoveProviderArg,
};
pub use crate::catalog::upload::{
    UploadAppendArg, UploadBeginArg, UploadOperation, UploadProgress, UploadRef,
};

// Catalogs: search and export.
pub use crate::catalog::encode::{OfferingRecords, OfferingView, Offerings, ProviderCatalog};
pub use crate::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
pub use crate::catalog::search::query::{
    Filters, Format, GpuFilter, PriceFilter, SearchQuery, SortOrder,
};
pub use crate::catalog::search::{
    CatalogExport, CatalogExportArg, OfferingGetArg, ProviderOfferingsArg, SearchError, SearchPage,
};

// The market: inventory, offers, offersets, executions (contracts, leases), policies, audit.
pub use crate::market::invariants::{SelfCheckArg, SelfCheckPage, Violation};
pub use crate::market::types::*;
pub use crate::market::MarketError;

// Provisioning through Ironic.
pub use crate::provision::types::*;
pub use crate::provision::ProvisionError;
