//! An offering as a typed Candid record: the values a client filters and shows, plus the CSV
//! row itself, which carries every cell losslessly.

use crate::catalog::csv_format;
use crate::catalog::index;
use crate::catalog::offering::{cpu_mhz, list, text as optional_text, values, Cells, Column};
use crate::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use crate::catalog::text::utf8_string;
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

/// The typed values of a view: from the row's cells, or from the index, which holds them.
struct Numbers {
    price_minor: u64,
    currency: [u8; 3],
    product_type: ProductType,
    virtualization: Virtualization,
    billing: BillingInterval,
    stock: Stock,
    total_cores: u32,
    cpu_mhz: Option<u32>,
    memory_mb: u64,
    ssd_gb: u64,
    hdd_gb: u64,
    country: [u8; 2],
    unmetered: bool,
    visible: bool,
}

impl OfferingView {
    /// The view of a stored row; `None` only if the row does not parse, which the store rules
    /// out (it keeps rows that passed this same parse on import).
    pub fn of_row(provider: u32, row: &[u8]) -> Option<Self> {
        let cells = csv_format::read_offering(row).ok()?;
        let offering = cells.row(0);
        let n = values(&offering).ok()?;
        let numbers = Numbers {
            price_minor: n.price_minor,
            currency: n.currency,
            product_type: n.product_type.into(),
            virtualization: n.virtualization.into(),
            billing: n.billing.into(),
            stock: n.stock.into(),
            total_cores: n.total_cores,
            cpu_mhz: n.cpu_mhz,
            memory_mb: n.memory_mb,
            ssd_gb: n.ssd_gb,
            hdd_gb: n.hdd_gb,
            country: n.country,
            unmetered: list(offering.cell(Column::Unmetered)).next().is_some(),
            visible: n.visible,
        };
        Some(Self::new(provider, row, &offering, numbers))
    }

    /// [`OfferingView::of_row`] of a row the index holds as `indexed`: its typed values are
    /// taken from there rather than parsed again (but the CPU speed, which the index has no
    /// column for), which is most of what a view costs.
    pub fn of_indexed(provider: u32, row: &[u8], indexed: &index::Row) -> Option<Self> {
        let cells = csv_format::read_offering(row).ok()?;
        let offering = cells.row(0);
        let flag = |flag| indexed.flags & flag != 0;
        let numbers = Numbers {
            price_minor: indexed.price,
            currency: indexed.currency,
            product_type: ProductType::from_code(indexed.product_type)?,
            virtualization: Virtualization::from_code(indexed.virtualization)?,
            billing: BillingInterval::from_code(indexed.billing)?,
            stock: Stock::from_code(indexed.stock)?,
            total_cores: indexed.cores,
            cpu_mhz: cpu_mhz(offering.cell(Column::ProcessorSpeed)).ok()?,
            memory_mb: indexed.memory_mb,
            ssd_gb: indexed.ssd_gb,
            hdd_gb: indexed.hdd_gb,
            country: indexed.country,
            unmetered: flag(index::UNMETERED),
            visible: flag(index::VISIBLE),
        };
        Some(Self::new(provider, row, &offering, numbers))
    }

    fn new(provider: u32, row: &[u8], offering: &impl Cells, n: Numbers) -> Self {
        let trimmed = |column| offering.cell(column).trim().to_string();
        Self {
            provider,
            key: offering.key().to_string(),
            name: trimmed(Column::OfferName),
            price_minor: n.price_minor,
            currency: utf8_string(&n.currency),
            product_type: n.product_type,
            virtualization: n.virtualization,
            billing: n.billing,
            stock: n.stock,
            total_cores: n.total_cores,
            cpu_mhz: n.cpu_mhz,
            memory_mb: n.memory_mb,
            ssd_gb: n.ssd_gb,
            hdd_gb: n.hdd_gb,
            gpu_name: optional_text(offering.cell(Column::GpuName)).map(String::from),
            country: utf8_string(&n.country),
            city: trimmed(Column::DatacenterCity),
            unmetered: n.unmetered,
            visible: n.visible,
            csv_row: utf8_string(row),
        }
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
