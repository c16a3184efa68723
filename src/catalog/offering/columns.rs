//! The 35 serverhunter columns: header names in canonical order ([`COLUMNS`]) and [`Column`].

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

impl Column {
    /// Every column, in [`COLUMNS`] order.
    pub const ALL: [Column; 35] = [
        Column::OfferName,
        Column::Description,
        Column::UniqueInternalIdentifier,
        Column::ProductPageUrl,
        Column::Currency,
        Column::MonthlyPrice,
        Column::SetupFee,
        Column::Visibility,
        Column::ProductType,
        Column::VirtualizationType,
        Column::BillingInterval,
        Column::Stock,
        Column::ProcessorBrand,
        Column::ProcessorAmount,
        Column::ProcessorCores,
        Column::ProcessorSpeed,
        Column::ProcessorName,
        Column::MemoryErrorCorrection,
        Column::MemoryType,
        Column::MemoryAmount,
        Column::HddAmount,
        Column::HddCapacity,
        Column::SsdAmount,
        Column::SsdCapacity,
        Column::Unmetered,
        Column::UplinkSpeed,
        Column::Traffic,
        Column::DatacenterCountry,
        Column::DatacenterCity,
        Column::DatacenterCoordinates,
        Column::Features,
        Column::OperatingSystems,
        Column::ControlPanel,
        Column::GpuName,
        Column::PaymentMethods,
    ];

    /// The header name, as exports write it.
    pub fn name(self) -> &'static str {
        COLUMNS[self.index()]
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The column a header cell names: case-insensitive, surrounding whitespace ignored.
    pub fn from_header(name: &str) -> Option<Column> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|column| column.name().eq_ignore_ascii_case(name))
    }
}
