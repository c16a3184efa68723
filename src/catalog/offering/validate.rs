//! [`normalize`] and [`values`]: every cell of an offering checked and parsed, all refusals kept.

use super::cell_parsers::{
    choice, coordinates, count, letters, money, offering_key, optional, or_default, required,
};
use super::units::{quantity, to_u32, DISK_UNITS, MEMORY_UNITS, UPLINK_UNITS};
use super::{
    cpu_mhz, BillingInterval, Cells, Column, MemoryEcc, Normalized, ProductType, Stock, Values,
    Virtualization, MAX_CELL_BYTES,
};

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
