//! One catalog offering in the 35-column serverhunter format: the cells exactly as the provider
//! wrote them (the source of truth, so import → export → import is lossless) and the typed,
//! normalised values derived from them for search.

use crate::catalog::csv_format;

/// Longest cell accepted: serverhunter cells are short, and the store keeps each row whole.
pub const MAX_CELL_BYTES: usize = 4096;
/// Longest offering key (Unique Internal identifier): it is part of every lookup key.
pub const MAX_KEY_BYTES: usize = 128;

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

/// Read access to an offering's cells, whatever holds them.
pub trait Cells {
    /// The cell as written; "" for a cell that is not there.
    fn cell(&self, column: Column) -> &str;

    /// The offering key: unique within its provider's catalog.
    fn key(&self) -> &str {
        self.cell(Column::UniqueInternalIdentifier)
    }
}

impl Cells for Offering {
    fn cell(&self, column: Column) -> &str {
        Offering::cell(self, column)
    }
}

/// An offering as its provider wrote it: exactly 35 cells in [`COLUMNS`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offering {
    pub cells: Vec<String>,
}

impl Offering {
    pub fn new(cells: Vec<String>) -> Result<Self, String> {
        if cells.len() == COLUMNS.len() {
            Ok(Self { cells })
        } else {
            Err(format!(
                "expected {} cells, found {}",
                COLUMNS.len(),
                cells.len()
            ))
        }
    }

    /// The cell as written; "" for a cell missing from a hand-built, short `cells`.
    pub fn cell(&self, column: Column) -> &str {
        self.cells.get(column.index()).map_or("", String::as_str)
    }

    /// The offering key: unique within its provider's catalog.
    pub fn key(&self) -> &str {
        self.cell(Column::UniqueInternalIdentifier)
    }

    /// One CSV record ending in "\n", quoted only where needed, so stored rows concatenate into a
    /// CSV file and the fixture's rows come out byte for byte as written.
    pub fn to_csv_row(&self) -> Vec<u8> {
        csv_format::write_row(&self.cells)
    }

    /// The offering stored by [`Offering::to_csv_row`]: exactly one record of 35 UTF-8 cells.
    pub fn from_csv_row(row: &[u8]) -> Result<Offering, String> {
        let cells = csv_format::read_offering(row)?;
        Ok(Self {
            cells: cells.iter().map(String::from).collect(),
        })
    }
}

impl From<[String; COLUMNS.len()]> for Offering {
    fn from(cells: [String; COLUMNS.len()]) -> Self {
        Self {
            cells: cells.into(),
        }
    }
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

/// The typed values [`normalize`] checks and derives, without the texts: what publishing,
/// the index and replies need, built without allocating (the texts are read from the cells,
/// borrowed). Fields as in [`Normalized`].
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

/// Why a cell is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    pub column: Column,
    pub reason: String,
}

/// The typed values of `offering`, or every cell that is not acceptable, each with its reason.
pub fn normalize(offering: &impl Cells) -> Result<Normalized, Vec<CellError>> {
    values(offering).map(|values| Normalized::new(&values, offering))
}

/// [`normalize`] without the texts: the checks and every typed value, nothing allocated unless
/// a cell is refused.
pub fn values(offering: &impl Cells) -> Result<Values, Vec<CellError>> {
    let mut check = Check {
        offering,
        errors: Vec::new(),
    };
    check.sizes();
    check.cell(Column::OfferName, |s| required(s).map(drop));
    check.cell(Column::UniqueInternalIdentifier, offering_key);
    let currency = check.cell(Column::Currency, |s| letters(s, "currency code"));
    let price_minor = check.cell(Column::MonthlyPrice, money);
    let setup_fee_minor = check.cell(Column::SetupFee, |s| or_default(s, 0, money));
    let visible = check.cell(Column::Visibility, |s| choice(s, "visibility", VISIBILITY));
    let product_type = check.cell(Column::ProductType, |s| {
        choice(s, "product type", PRODUCT_TYPES)
    });
    let virtualization = check.cell(Column::VirtualizationType, |s| {
        or_default(s, Virtualization::None, |s| {
            choice(s, "virtualization", VIRTUALIZATIONS)
        })
    });
    let billing = check.cell(Column::BillingInterval, |s| {
        choice(s, "billing interval", BILLING_INTERVALS)
    });
    let stock = check.cell(Column::Stock, |s| choice(s, "stock", STOCK));
    let processor_amount = check.cell(Column::ProcessorAmount, |s| or_default(s, 1, count));
    let processor_cores = check.cell(Column::ProcessorCores, |s| or_default(s, 0, count));
    let total_cores = match (processor_amount, processor_cores) {
        (Some(amount), Some(cores)) => check.value(
            Column::ProcessorCores,
            amount
                .checked_mul(cores)
                .ok_or_else(|| "processors × cores is too large".to_string()),
        ),
        _ => None,
    };
    let cpu_mhz = check.cell(Column::ProcessorSpeed, cpu_mhz);
    let memory_ecc = check.cell(Column::MemoryErrorCorrection, |s| {
        optional(s, |s| choice(s, "memory error correction", MEMORY_ECC))
    });
    let memory_mb = check.cell(Column::MemoryAmount, |s| quantity(s, MEMORY_UNITS));
    let hdd_count = check.cell(Column::HddAmount, |s| or_default(s, 0, count));
    let hdd_gb = check.cell(Column::HddCapacity, |s| {
        or_default(s, 0, |s| quantity(s, DISK_UNITS))
    });
    let ssd_count = check.cell(Column::SsdAmount, |s| or_default(s, 0, count));
    let ssd_gb = check.cell(Column::SsdCapacity, |s| {
        or_default(s, 0, |s| quantity(s, DISK_UNITS))
    });
    let uplink_mbit = check.cell(Column::UplinkSpeed, |s| {
        optional(s, |s| quantity(s, UPLINK_UNITS).and_then(to_u32))
    });
    let traffic_gb = check.cell(Column::Traffic, |s| {
        optional(s, |s| quantity(s, DISK_UNITS))
    });
    let country = check.cell(Column::DatacenterCountry, |s| letters(s, "country code"));
    let coordinates = check.cell(Column::DatacenterCoordinates, coordinates);

    // Every value is present exactly when no cell was rejected.
    let values = (|| {
        Some(Values {
            currency: currency?,
            price_minor: price_minor?,
            setup_fee_minor: setup_fee_minor?,
            visible: visible?,
            product_type: product_type?,
            virtualization: virtualization?,
            billing: billing?,
            stock: stock?,
            processor_amount: processor_amount?,
            processor_cores: processor_cores?,
            total_cores: total_cores?,
            cpu_mhz: cpu_mhz?,
            memory_ecc: memory_ecc?,
            memory_mb: memory_mb?,
            hdd_count: hdd_count?,
            hdd_gb: hdd_gb?,
            ssd_count: ssd_count?,
            ssd_gb: ssd_gb?,
            uplink_mbit: uplink_mbit?,
            traffic_gb: traffic_gb?,
            country: country?,
            coordinates: coordinates?,
        })
    })();
    match values {
        Some(values) if check.errors.is_empty() => Ok(values),
        _ => Err(check.errors),
    }
}

/// Collects the errors of one offering's cells, so a provider sees them all at once.
struct Check<'a, C> {
    offering: &'a C,
    errors: Vec<CellError>,
}

impl<C: Cells> Check<'_, C> {
    fn sizes(&mut self) {
        for column in Column::ALL {
            let len = self.offering.cell(column).len();
            if len > MAX_CELL_BYTES {
                self.oversized(column, len);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn oversized(&mut self, column: Column, len: usize) {
        self.errors.push(CellError {
            column,
            reason: format!("oversized cell: {len} bytes, at most {MAX_CELL_BYTES}"),
        });
    }

    /// The parsed cell, or `None` with the reason recorded. An oversized cell is not parsed:
    /// its size is its one error.
    fn cell<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let cell = self.offering.cell(column);
        if cell.len() > MAX_CELL_BYTES {
            return None;
        }
        self.value(column, parse(cell))
    }

    fn value<T>(&mut self, column: Column, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.refuse(column, reason);
                None
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn refuse(&mut self, column: Column, reason: String) {
        self.errors.push(CellError { column, reason });
    }
}

const VISIBILITY: &[(&str, bool)] = &[("Visible", true), ("Invisible", false)];

const PRODUCT_TYPES: &[(&str, ProductType)] = &[
    ("VPS", ProductType::Vps),
    ("Dedicated", ProductType::Dedicated),
    ("Cloud", ProductType::Cloud),
    ("Managed", ProductType::Managed),
];

const VIRTUALIZATIONS: &[(&str, Virtualization)] = &[
    ("None", Virtualization::None),
    ("KVM", Virtualization::Kvm),
    ("VMware", Virtualization::Vmware),
    ("Xen", Virtualization::Xen),
    ("Hyper-V", Virtualization::HyperV),
    ("HyperV", Virtualization::HyperV),
    ("OpenVZ", Virtualization::OpenVz),
    ("LXC", Virtualization::Lxc),
];

const BILLING_INTERVALS: &[(&str, BillingInterval)] = &[
    ("Hourly", BillingInterval::Hourly),
    ("Daily", BillingInterval::Daily),
    ("Monthly", BillingInterval::Monthly),
    ("Quarterly", BillingInterval::Quarterly),
    ("Yearly", BillingInterval::Yearly),
    ("Annually", BillingInterval::Yearly),
];

const STOCK: &[(&str, Stock)] = &[
    ("In stock", Stock::InStock),
    ("Limited", Stock::Limited),
    ("Out of stock", Stock::OutOfStock),
];

const MEMORY_ECC: &[(&str, MemoryEcc)] = &[
    ("non-ECC", MemoryEcc::NonEcc),
    ("ECC", MemoryEcc::Ecc),
    ("ECC Registered", MemoryEcc::EccRegistered),
];

/// Memory in MB; RAM is sold in binary units whatever the label, so "16 GB" is 16384 MB.
const MEMORY_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("MB", 1),
    ("MiB", 1),
    ("GB", 1 << 10),
    ("GiB", 1 << 10),
    ("TB", 1 << 20),
    ("TiB", 1 << 20),
];

/// Disks and traffic in GB; drives are sold in decimal units, so "2 TB" is 2000 GB.
const DISK_UNITS: &[(&str, u64)] = &[("", 1), ("GB", 1), ("TB", 1000)];

const SPEED_UNITS: &[(&str, u64)] = &[("MHz", 1), ("GHz", 1000)];

const UPLINK_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("mbit", 1),
    ("mbps", 1),
    ("mbit/s", 1),
    ("gbit", 1000),
    ("gbps", 1000),
    ("gbit/s", 1000),
];

/// At most this many characters of a bad cell are quoted back in its error.
const SHOWN_CHARS: usize = 40;

/// `cell` quoted for an error message, cut to [`SHOWN_CHARS`].
fn shown(cell: &str) -> String {
    match cell.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{:?}…", &cell[..end]),
        None => format!("{cell:?}"),
    }
}

// The parsers below build their error messages in separate, cold functions: the ic0 host
// (wasmi) charges all the instructions of a function's body on entry, outside its loops,
// whichever branches are then taken, so formatting code inlined into a parser would cost as
// much as the parsing on every valid cell.

/// A message about `cell`: `before`, the cell quoted, `after`.
#[cold]
#[inline(never)]
fn refused(before: &str, cell: &str, after: &str) -> String {
    format!("{before}{}{after}", shown(cell))
}

fn too_large(cell: &str) -> String {
    refused("", cell, " is too large")
}

fn required(cell: &str) -> Result<&str, String> {
    match cell.trim() {
        "" => Err("required".into()),
        trimmed => Ok(trimmed),
    }
}

/// Keys are compared byte for byte, so invisible differences (spaces, control characters) are
/// refused rather than kept as distinct keys.
fn offering_key(cell: &str) -> Result<(), String> {
    required(cell)?;
    if cell.len() > MAX_KEY_BYTES {
        Err(long_key(cell.len()))
    } else if cell.trim() != cell {
        Err("offering key has surrounding whitespace".into())
    } else if cell.chars().any(char::is_control) {
        Err("offering key has control characters".into())
    } else {
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn long_key(len: usize) -> String {
    format!("offering key of {len} bytes, at most {MAX_KEY_BYTES}")
}

/// `parse(cell)`, or `default` when the cell is blank.
fn or_default<T>(
    cell: &str,
    default: T,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    if cell.trim().is_empty() {
        Ok(default)
    } else {
        parse(cell)
    }
}

/// `parse(cell)`, or `None` when the cell is blank.
fn optional<T>(
    cell: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    or_default(cell, None, |cell| parse(cell).map(Some))
}

/// A text cell, trimmed; `None` when blank.
pub fn text(cell: &str) -> Option<&str> {
    Some(cell.trim()).filter(|s| !s.is_empty())
}

/// A comma-separated cell's items, trimmed, empty ones dropped.
pub fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// One of `options` by name, case-insensitively.
fn choice<T: Copy>(cell: &str, what: &str, options: &[(&str, T)]) -> Result<T, String> {
    let cell = cell.trim();
    match options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(cell))
    {
        Some(&(_, value)) => Ok(value),
        None => Err(unknown(cell, what, options)),
    }
}

#[cold]
#[inline(never)]
fn unknown<T>(cell: &str, what: &str, options: &[(&str, T)]) -> String {
    let names: Vec<&str> = options.iter().map(|&(name, _)| name).collect();
    let expected = format!("; expected one of: {}", names.join(", "));
    refused(&format!("unknown {what} "), cell, &expected)
}

/// An ISO code of `N` ASCII letters, upper-cased.
fn letters<const N: usize>(cell: &str, what: &str) -> Result<[u8; N], String> {
    let cell = cell.trim();
    <[u8; N]>::try_from(cell.as_bytes())
        .ok()
        .filter(|code| code.iter().all(u8::is_ascii_alphabetic))
        .map(|code| code.map(|b| b.to_ascii_uppercase()))
        .ok_or_else(|| not_letters(cell, what, N))
}

#[cold]
#[inline(never)]
fn not_letters(cell: &str, what: &str, n: usize) -> String {
    refused(
        &format!("expected a {what} of {n} letters, found "),
        cell,
        "",
    )
}

/// A count: a whole non-negative number.
fn count(cell: &str) -> Result<u32, String> {
    let cell = cell.trim();
    if !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused("expected a whole number, found ", cell, ""));
    }
    cell.parse().map_err(|_| too_large(cell))
}

/// A price with at most two decimals, in hundredths: "99.99" → 9999, "100" → 10000.
fn money(cell: &str) -> Result<u64, String> {
    let cell = cell.trim();
    if cell.starts_with('-') {
        return Err(refused("negative amount ", cell, ""));
    }
    let (whole, cents) = cell.split_once('.').unwrap_or((cell, "00"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(cents) {
        return Err(refused(
            "expected an amount such as 99.99, found ",
            cell,
            "",
        ));
    }
    if cents.len() > 2 {
        return Err(refused("more than 2 decimals in ", cell, ""));
    }
    // One decimal means tenths: "9.5" is 950 hundredths.
    let cents_scale = if cents.len() == 1 { 10 } else { 1 };
    whole
        .parse::<u64>()
        .ok()
        .and_then(|whole| whole.checked_mul(100))
        .zip(cents.parse::<u64>().ok())
        .and_then(|(whole, cents)| whole.checked_add(cents * cents_scale))
        .ok_or_else(|| refused("amount ", cell, " is too large"))
}

/// A decimal number with a unit from `units` (matched case-insensitively, space optional), in
/// the table's base unit, rounded to the nearest whole one: "1.5 GB" → 1536 (MB).
fn quantity(cell: &str, units: &[(&str, u64)]) -> Result<u64, String> {
    let cell = cell.trim();
    let split = cell
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(cell.len());
    let (number, unit) = (&cell[..split], cell[split..].trim());
    let Some(&(_, factor)) = units
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
    else {
        return Err(no_quantity(cell, units));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || number.ends_with('.') {
        return Err(no_quantity(cell, units));
    }
    // Exact: whole × factor plus the rounded fraction × factor. At most 9 decimals times a
    // factor of at most 2^20 fits a u64, and a whole part past u64::MAX is too large anyway
    // (u64 rather than u128 arithmetic, whose division alone costs thousands of instructions on
    // wasm).
    let fraction = &fraction[..fraction.len().min(9)];
    let scale = 10u64.pow(fraction.len() as u32);
    let whole: u64 = whole.parse().map_err(|_| too_large(cell))?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| too_large(cell))?
    };
    whole
        .checked_mul(factor)
        .and_then(|whole| whole.checked_add((fraction * factor + scale / 2) / scale))
        .ok_or_else(|| too_large(cell))
}

#[cold]
#[inline(never)]
fn no_quantity(cell: &str, units: &[(&str, u64)]) -> String {
    let names: Vec<&str> = units
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| !name.is_empty())
        .collect();
    let before = format!(
        "expected a number with a unit ({}), found ",
        names.join(", ")
    );
    refused(&before, cell, "")
}

/// The "Processor Speed" cell in MHz: "2.6 GHz" → 2600; `None` when blank.
pub fn cpu_mhz(cell: &str) -> Result<Option<u32>, String> {
    optional(cell, |s| quantity(s, SPEED_UNITS).and_then(to_u32))
}

fn to_u32(value: u64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| value_too_large(value))
}

#[cold]
#[inline(never)]
fn value_too_large(value: u64) -> String {
    format!("{value} is too large")
}

/// "latitude,longitude" in degrees, each within its range.
fn coordinates(cell: &str) -> Result<Option<(f64, f64)>, String> {
    optional(cell, |cell| {
        let bad = || {
            refused(
                "expected \"latitude,longitude\" in degrees, found ",
                cell.trim(),
                "",
            )
        };
        let (lat, lon) = cell.split_once(',').ok_or_else(bad)?;
        let degrees = |s: &str, limit: f64| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| (-limit..=limit).contains(v))
        };
        degrees(lat, 90.0).zip(degrees(lon, 180.0)).ok_or_else(bad)
    })
}

#[cfg(test)]
mod tests;
