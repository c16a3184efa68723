//! One provider's [`Profile`] (domain, locations, currency, prices) and the offerings it generates.

use super::amounts::{disk, memory, money, speed};
use super::rng::Rng;
use super::spec::{Kind, Spec};
use super::tables::{
    Location, ADJECTIVES, CONTROL_PANELS, CURRENCIES, FEATURES, LOCATIONS, NAME_ENDS, NAME_STARTS,
    PAYMENT_METHODS, SYSTEMS,
};
use crate::catalog::offering::{Column, Offering, COLUMNS};

/// What stays the same across one provider's offerings.
pub(super) struct Profile {
    domain: String,
    locations: Vec<&'static Location>,
    currency: &'static (&'static str, u64),
    /// Percent of the going rate this provider charges.
    price_level: u64,
    payment_methods: String,
}

impl Profile {
    pub(super) fn new(rng: &mut Rng, index: u32) -> Self {
        let domain = format!(
            "{}{}-{index}.example",
            rng.pick(NAME_STARTS),
            rng.pick(NAME_ENDS)
        )
        .to_lowercase();
        let locations: Vec<&Location> = (0..rng.between(1, 4))
            .map(|_| rng.pick(LOCATIONS))
            .collect();
        let home = CURRENCIES
            .iter()
            .find(|(code, _)| *code == locations[0].currency);
        let currency = match home {
            Some(home) if !rng.percent(25) => home,
            _ => rng.pick(CURRENCIES),
        };
        Profile {
            domain,
            locations,
            currency,
            price_level: rng.between(70, 150),
            payment_methods: rng.some(PAYMENT_METHODS, 45),
        }
    }

    /// The monthly price in hundredths of the provider's currency, between 3 and 5000.
    fn price(&self, rng: &mut Rng, spec: &Spec) -> u64 {
        let (_, per_usd) = self.currency;
        let price =
            spec.usd_cents() * self.price_level / 100 * rng.between(85, 115) / 100 * per_usd / 1000;
        (price / 100 * 100 + rng.pick(&[99, 0, 49, 95])).clamp(300, 500_000)
    }

    pub(super) fn offering(&self, rng: &mut Rng, number: u32) -> Offering {
        let spec = Spec::draw(rng);
        let location = *rng.pick(&self.locations);
        let (code, product_type, noun) = match spec.kind {
            Kind::Vps => ("VPS", "VPS", "VPS"),
            Kind::Dedicated => ("DED", "Dedicated", "dedicated server"),
            Kind::Gpu => ("GPU", *rng.pick(&["Dedicated", "Cloud"]), "GPU server"),
            Kind::Cloud => ("CLD", "Cloud", "cloud instance"),
            Kind::Managed => ("MGD", "Managed", "managed server"),
        };
        let virtualization = match spec.kind {
            Kind::Vps => *rng.weighted(&[
                (60, "KVM"),
                (10, "OpenVZ"),
                (10, "LXC"),
                (5, "Xen"),
                (10, "VMware"),
                (5, "Hyper-V"),
            ]),
            Kind::Cloud => *rng.pick(&["KVM", "Xen", "VMware"]),
            Kind::Managed => *rng.pick(&["None", "KVM", "VMware"]),
            Kind::Dedicated | Kind::Gpu => *rng.pick(&["None", ""]),
        };
        let billing = match spec.kind {
            Kind::Cloud => *rng.pick(&["Hourly", "Monthly"]),
            Kind::Managed => *rng.pick(&["Monthly", "Quarterly", "Yearly"]),
            _ => *rng.weighted(&[
                (70, "Monthly"),
                (8, "Quarterly"),
                (8, "Yearly"),
                (4, "Annually"),
                (5, "Daily"),
                (5, "Hourly"),
            ]),
        };
        let key = format!("{code}{number:06}");
        let total_cores = spec.processors * spec.cores;
        let offer_name = match spec.gpu {
            Some(((gpu, _), cards)) => format!("{cards}x {gpu} GPU Server"),
            None if spec.virtual_machine() => {
                format!("{product_type} {total_cores} vCPU / {} GB", spec.memory_gb)
            }
            None => format!("{} {product_type} Server", spec.cpu.name),
        };
        let description = format!(
            "{} {noun} in {}{}",
            rng.pick(ADJECTIVES),
            location.city,
            if rng.percent(30) {
                " with NVMe storage."
            } else {
                "."
            }
        );
        let price = self.price(rng, &spec);
        let setup_fee = if rng.percent(70) {
            0
        } else {
            *rng.pick(&[999, 1900, 4900, 9900, 14999])
        };
        let memory_ecc = match (spec.cpu.ecc, spec.virtual_machine()) {
            (false, _) => "non-ECC",
            (true, true) => *rng.pick(&["", "ECC"]),
            (true, false) => *rng.pick(&["ECC", "ECC Registered"]),
        };
        let unmetered = *rng.weighted(&[
            (50, ""),
            (30, "Unmetered inbound"),
            (20, "Unmetered inbound, Unmetered outbound"),
        ]);
        let traffic = if unmetered.contains("outbound") {
            String::new()
        } else {
            rng.pick(&[1024, 2048, 5120, 10240, 20480, 102400])
                .to_string()
        };
        let gpu_name = spec.gpu.map_or(String::new(), |((gpu, _), cards)| {
            if cards == 1 {
                gpu.to_string()
            } else {
                format!("{cards}x {gpu}")
            }
        });

        let mut cells = vec![String::new(); COLUMNS.len()];
        let mut set = |column: Column, value: String| cells[column.index()] = value;
        set(Column::OfferName, offer_name);
        set(Column::Description, description);
        set(
            Column::ProductPageUrl,
            format!("https://{}/offers/{key}/", self.domain),
        );
        set(Column::UniqueInternalIdentifier, key);
        set(Column::Currency, self.currency.0.to_string());
        set(Column::MonthlyPrice, money(rng, price));
        set(Column::SetupFee, money(rng, setup_fee));
        let visibility = if rng.percent(5) {
            "Invisible"
        } else {
            "Visible"
        };
        set(Column::Visibility, visibility.to_string());
        set(Column::ProductType, product_type.to_string());
        set(Column::VirtualizationType, virtualization.to_string());
        set(Column::BillingInterval, billing.to_string());
        let stock = rng.weighted(&[(80, "In stock"), (15, "Limited"), (5, "Out of stock")]);
        set(Column::Stock, stock.to_string());
        set(Column::ProcessorBrand, spec.cpu.brand.to_string());
        set(Column::ProcessorAmount, spec.processors.to_string());
        set(Column::ProcessorCores, spec.cores.to_string());
        set(Column::ProcessorSpeed, speed(rng, spec.cpu.mhz));
        set(Column::ProcessorName, spec.cpu.name.to_string());
        set(Column::MemoryErrorCorrection, memory_ecc.to_string());
        set(Column::MemoryType, spec.cpu.memory_type.to_string());
        set(Column::MemoryAmount, memory(rng, spec.memory_gb));
        set(Column::HddAmount, spec.hdd_count.to_string());
        set(
            Column::HddCapacity,
            disk(rng, spec.hdd_count * spec.hdd_each_gb),
        );
        set(Column::SsdAmount, spec.ssd_count.to_string());
        set(
            Column::SsdCapacity,
            disk(rng, spec.ssd_count * spec.ssd_each_gb),
        );
        set(Column::Unmetered, unmetered.to_string());
        let uplink = rng.pick(&[
            "100 mbit",
            "1000 mbit",
            "1 Gbps",
            "10 gbit",
            "10 Gbps",
            "25 Gbps",
        ]);
        set(Column::UplinkSpeed, uplink.to_string());
        set(Column::Traffic, traffic);
        set(Column::DatacenterCountry, location.country.to_string());
        set(
            Column::DatacenterCity,
            format!("{}, {}", location.city, location.country_name),
        );
        set(
            Column::DatacenterCoordinates,
            location.coordinates.to_string(),
        );
        set(Column::Features, rng.some(FEATURES, 30));
        set(Column::OperatingSystems, rng.some(SYSTEMS, 40));
        let control_panel = if rng.percent(40) {
            rng.pick(CONTROL_PANELS)
        } else {
            ""
        };
        set(Column::ControlPanel, control_panel.to_string());
        set(Column::GpuName, gpu_name);
        set(Column::PaymentMethods, self.payment_methods.clone());
        Offering { cells }
    }
}
