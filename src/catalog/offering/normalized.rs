//! The typed values derived from an offering's cells: the enumerations, [`Values`], [`Normalized`].

use super::{list, text, Cells, Column};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductType {
    Vps,
    Dedicated,
    Cloud,
    Managed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Virtualization {
    None,
    Kvm,
    Vmware,
    Xen,
    HyperV,
    OpenVz,
    Lxc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BillingInterval {
    Hourly,
    Daily,
    Monthly,
    Quarterly,
    Yearly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stock {
    InStock,
    Limited,
    OutOfStock,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryEcc {
    NonEcc,
    Ecc,
    EccRegistered,
}

/// Typed values derived from an offering's cells. Amounts are whole units: prices in hundredths
/// of the currency unit, memory in MB, disks in GB, CPU speed in MHz, uplink in Mbit/s.
/// Lists keep the provider's spelling (trimmed); search folds case and accents itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalized {
    /// ISO 4217 code, upper case.
    pub currency: [u8; 3],
    pub price_minor: u64,
    pub setup_fee_minor: u64,
    pub visible: bool,
    pub product_type: ProductType,
    pub virtualization: Virtualization,
    pub billing: BillingInterval,
    pub stock: Stock,
    pub processor_brand: Option<String>,
    pub processor_amount: u32,
    /// Cores per processor, as written.
    pub processor_cores: u32,
    /// All cores of the offering: processors × cores per processor.
    pub total_cores: u32,
    pub cpu_mhz: Option<u32>,
    pub processor_name: Option<String>,
    pub memory_ecc: Option<MemoryEcc>,
    pub memory_type: Option<String>,
    pub memory_mb: u64,
    pub hdd_count: u32,
    pub hdd_gb: u64,
    pub ssd_count: u32,
    pub ssd_gb: u64,
    /// e.g. ["Unmetered inbound", "Unmetered outbound"]; empty when metered.
    pub unmetered: Vec<String>,
    pub uplink_mbit: Option<u32>,
    /// Monthly traffic allowance in GB; `None` when the cell is empty.
    pub traffic_gb: Option<u64>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: [u8; 2],
    pub city: String,
    /// (latitude, longitude) in degrees.
    pub coordinates: Option<(f64, f64)>,
    pub features: Vec<String>,
    pub operating_systems: Vec<String>,
    pub control_panel: Option<String>,
    pub gpu_name: Option<String>,
    pub payment_methods: Vec<String>,
}

/// The typed values [`normalize`] checks and derives, without the texts: what publishing,
/// the index and replies need, built without allocating (the texts are read from the cells,
/// borrowed). Fields as in [`Normalized`].
///
/// [`normalize`]: super::normalize
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Values {
    pub currency: [u8; 3],
    pub price_minor: u64,
    pub setup_fee_minor: u64,
    pub visible: bool,
    pub product_type: ProductType,
    pub virtualization: Virtualization,
    pub billing: BillingInterval,
    pub stock: Stock,
    pub processor_amount: u32,
    pub processor_cores: u32,
    pub total_cores: u32,
    pub cpu_mhz: Option<u32>,
    pub memory_ecc: Option<MemoryEcc>,
    pub memory_mb: u64,
    pub hdd_count: u32,
    pub hdd_gb: u64,
    pub ssd_count: u32,
    pub ssd_gb: u64,
    pub uplink_mbit: Option<u32>,
    pub traffic_gb: Option<u64>,
    pub country: [u8; 2],
    pub coordinates: Option<(f64, f64)>,
}

impl Normalized {
    /// `values` with the texts of `offering`'s cells.
    pub fn new(values: &Values, offering: &impl Cells) -> Self {
        let v = *values;
        let text_of = |column| text(offering.cell(column)).map(String::from);
        let list_of = |column| list(offering.cell(column)).map(String::from).collect();
        Self {
            currency: v.currency,
            price_minor: v.price_minor,
            setup_fee_minor: v.setup_fee_minor,
            visible: v.visible,
            product_type: v.product_type,
            virtualization: v.virtualization,
            billing: v.billing,
            stock: v.stock,
            processor_brand: text_of(Column::ProcessorBrand),
            processor_amount: v.processor_amount,
            processor_cores: v.processor_cores,
            total_cores: v.total_cores,
            cpu_mhz: v.cpu_mhz,
            processor_name: text_of(Column::ProcessorName),
            memory_ecc: v.memory_ecc,
            memory_type: text_of(Column::MemoryType),
            memory_mb: v.memory_mb,
            hdd_count: v.hdd_count,
            hdd_gb: v.hdd_gb,
            ssd_count: v.ssd_count,
            ssd_gb: v.ssd_gb,
            unmetered: list_of(Column::Unmetered),
            uplink_mbit: v.uplink_mbit,
            traffic_gb: v.traffic_gb,
            country: v.country,
            city: offering.cell(Column::DatacenterCity).trim().to_string(),
            coordinates: v.coordinates,
            features: list_of(Column::Features),
            operating_systems: list_of(Column::OperatingSystems),
            control_panel: text_of(Column::ControlPanel),
            gpu_name: text_of(Column::GpuName),
            payment_methods: list_of(Column::PaymentMethods),
        }
    }
}
