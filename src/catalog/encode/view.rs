//! An offering as a typed Candid record: the values a client filters and shows, plus the CSV
//! row itself, which carries every cell losslessly.

use crate::catalog::offering::{normalize, Column, Offering};
use crate::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use candid::{CandidType, Deserialize};

/// Bytes an encoded view takes beyond its texts: numbers, variant and option tags, the lengths
/// of the texts (an upper bound, checked by a test).
pub const VIEW_OVERHEAD: usize = 128;

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferingView {
    /// Position of the offering's provider in the reply's `providers`.
    pub provider: u32,
    pub key: String,
    pub name: String,
    /// Monthly price in hundredths of `currency`.
    pub price_minor: u64,
    pub currency: String,
    pub product_type: ProductType,
    pub virtualization: Virtualization,
    pub billing: BillingInterval,
    pub stock: Stock,
    pub total_cores: u32,
    pub cpu_mhz: Option<u32>,
    pub memory_mb: u64,
    pub ssd_gb: u64,
    pub hdd_gb: u64,
    pub gpu_name: Option<String>,
    pub country: String,
    pub city: String,
    pub unmetered: bool,
    /// False for an offering its provider listed as invisible: found by key, never by search.
    pub visible: bool,
    /// The offering's CSV record (header in `csv_format::COLUMNS` order), "\n" terminated.
    pub csv_row: String,
}

impl OfferingView {
    /// The view of a stored row; `None` only if the row does not parse, which the store rules
    /// out (it keeps rows that passed this same parse on import).
    pub fn of_row(provider: u32, row: &[u8]) -> Option<Self> {
        let offering = Offering::from_csv_row(row).ok()?;
        let n = normalize(&offering).ok()?;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        Some(Self {
            provider,
            key: offering.key().to_string(),
            name: offering.cell(Column::OfferName).trim().to_string(),
            price_minor: n.price_minor,
            currency: text(&n.currency),
            product_type: n.product_type.into(),
            virtualization: n.virtualization.into(),
            billing: n.billing.into(),
            stock: n.stock.into(),
            total_cores: n.total_cores,
            cpu_mhz: n.cpu_mhz,
            memory_mb: n.memory_mb,
            ssd_gb: n.ssd_gb,
            hdd_gb: n.hdd_gb,
            gpu_name: n.gpu_name,
            country: text(&n.country),
            city: n.city,
            unmetered: !n.unmetered.is_empty(),
            visible: n.visible,
            csv_row: text(row),
        })
    }

    /// An upper bound of the view's Candid encoding.
    pub fn encoded_size(&self) -> usize {
        let texts = [
            &self.key,
            &self.name,
            &self.currency,
            &self.country,
            &self.city,
        ];
        let gpu = self.gpu_name.as_ref().map_or(0, String::len);
        texts.iter().map(|t| t.len()).sum::<usize>() + gpu + self.csv_row.len() + VIEW_OVERHEAD
    }
}
