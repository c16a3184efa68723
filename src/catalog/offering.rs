//! One catalog offering in the 35-column serverhunter format: the cells exactly as the provider
//! wrote them (the source of truth, so import → export → import is lossless) and the typed,
//! normalised values derived from them for search.

/// The serverhunter columns in their canonical order (the order of exports).
pub const COLUMNS: [&str; 35] = [
    "Offer Name",
    "Description",
    "Unique Internal identifier",
    "Product page URL",
    "Currency",
    "Monthly price",
    "Setup fee",
    "Visibility",
    "Product Type",
    "Virtualization type",
    "Billing interval",
    "Stock",
    "Processor Brand",
    "Processor Amount",
    "Processor Cores",
    "Processor Speed",
    "Processor Name",
    "Memory Error Correction",
    "Memory Type",
    "Memory Amount",
    "Hard Disk Drive Amount",
    "Total Hard Disk Drive Capacity",
    "Solid State Disk Amount",
    "Total Solid State Disk Capacity",
    "Unmetered",
    "Uplink speed",
    "Traffic",
    "Datacenter Country",
    "Datacenter City",
    "Datacenter Coordinates",
    "Features",
    "Operating Systems",
    "Control Panel",
    "GPU Name",
    "Payment Methods",
];

/// A column, by its position in [`COLUMNS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    OfferName,
    Description,
    UniqueInternalIdentifier,
    ProductPageUrl,
    Currency,
    MonthlyPrice,
    SetupFee,
    Visibility,
    ProductType,
    VirtualizationType,
    BillingInterval,
    Stock,
    ProcessorBrand,
    ProcessorAmount,
    ProcessorCores,
    ProcessorSpeed,
    ProcessorName,
    MemoryErrorCorrection,
    MemoryType,
    MemoryAmount,
    HddAmount,
    HddCapacity,
    SsdAmount,
    SsdCapacity,
    Unmetered,
    UplinkSpeed,
    Traffic,
    DatacenterCountry,
    DatacenterCity,
    DatacenterCoordinates,
    Features,
    OperatingSystems,
    ControlPanel,
    GpuName,
    PaymentMethods,
}

/// An offering as its provider wrote it: exactly 35 cells in [`COLUMNS`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offering {
    pub cells: Vec<String>,
}

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

/// Why a cell is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    pub column: Column,
    pub reason: String,
}
