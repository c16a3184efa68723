//! Seeded synthetic catalogs for tests and benchmarks. The same seed always gives the same
//! providers, keys and rows, so a benchmark figure or a failing test can be reproduced; the mix
//! (locations, CPUs, GPUs, units, prices) resembles real hosting catalogs, so indexes and filters
//! are exercised with realistic selectivity.
//!
//! Providers are generated one at a time, so a million offerings never sit in memory at once.

use crate::catalog::csv_format::write_catalog;
use crate::catalog::offering::{Column, Offering, COLUMNS};

/// One provider: its Ed25519 secret key (any 32 bytes are a valid key) and its catalog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticProvider {
    pub secret_key: [u8; 32],
    pub csv: Vec<u8>,
}

/// Providers `0..providers` of the catalog `seed`, each with `per_provider` offerings.
pub fn providers(
    seed: u64,
    providers: u32,
    per_provider: u32,
) -> impl Iterator<Item = SyntheticProvider> {
    (0..providers).map(move |index| provider(seed, index, per_provider))
}

/// Provider `index` of the catalog `seed`: the same whichever others are generated.
pub fn provider(seed: u64, index: u32, per_provider: u32) -> SyntheticProvider {
    let mut rng = Rng::for_provider(seed, index);
    let mut secret_key = [0; 32];
    for chunk in secret_key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    let profile = Profile::new(&mut rng, index);
    let mut csv = write_catalog([]);
    for number in 0..per_provider {
        csv.extend(profile.offering(&mut rng, number).to_csv_row());
    }
    SyntheticProvider { secret_key, csv }
}

/// splitmix64: tiny, fast and well mixed, which is all test data needs.
struct Rng(u64);

impl Rng {
    fn for_provider(seed: u64, index: u32) -> Self {
        let base = Rng(seed).next();
        Rng(base ^ u64::from(index).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    fn weighted<'a, T>(&mut self, items: &'a [(u64, T)]) -> &'a T {
        let mut roll = self.below(items.iter().map(|(weight, _)| weight).sum());
        let mut index = 0;
        while roll >= items[index].0 {
            roll -= items[index].0;
            index += 1;
        }
        &items[index].1
    }

    /// Some of `items` in their order, each kept with probability `chance`%, at least one.
    fn some(&mut self, items: &[&str], chance: u64) -> String {
        let mut kept: Vec<&str> = items
            .iter()
            .copied()
            .filter(|_| self.percent(chance))
            .collect();
        if kept.is_empty() {
            kept.push(*self.pick(items));
        }
        kept.join(", ")
    }
}

struct Location {
    country: &'static str,
    city: &'static str,
    country_name: &'static str,
    coordinates: &'static str,
    currency: &'static str,
}

const fn at(
    country: &'static str,
    city: &'static str,
    country_name: &'static str,
    coordinates: &'static str,
    currency: &'static str,
) -> Location {
    Location {
        country,
        city,
        country_name,
        coordinates,
        currency,
    }
}

const LOCATIONS: &[Location] = &[
    at("NL", "Amsterdam", "Netherlands", "52.3676,4.9041", "EUR"),
    at("NL", "Rotterdam", "Netherlands", "51.9229,4.46317", "EUR"),
    at("DE", "Frankfurt", "Germany", "50.1109,8.6821", "EUR"),
    at("DE", "Nuremberg", "Germany", "49.4521,11.0767", "EUR"),
    at("DE", "Falkenstein", "Germany", "50.4779,12.3713", "EUR"),
    at("FI", "Helsinki", "Finland", "60.1699,24.9384", "EUR"),
    at("FR", "Paris", "France", "48.8566,2.3522", "EUR"),
    at("FR", "Roubaix", "France", "50.6942,3.1746", "EUR"),
    at("GB", "London", "United Kingdom", "51.5074,-0.1278", "GBP"),
    at(
        "GB",
        "Manchester",
        "United Kingdom",
        "53.4808,-2.2426",
        "GBP",
    ),
    at("IE", "Dublin", "Ireland", "53.3498,-6.2603", "EUR"),
    at("BE", "Brussels", "Belgium", "50.8503,4.3517", "EUR"),
    at("LU", "Luxembourg", "Luxembourg", "49.6116,6.1319", "EUR"),
    at("CH", "Zürich", "Switzerland", "47.3769,8.5417", "CHF"),
    at("CH", "Geneva", "Switzerland", "46.2044,6.1432", "CHF"),
    at("AT", "Vienna", "Austria", "48.2082,16.3738", "EUR"),
    at("IT", "Milan", "Italy", "45.4642,9.19", "EUR"),
    at("ES", "Madrid", "Spain", "40.4168,-3.7038", "EUR"),
    at("PT", "Lisbon", "Portugal", "38.7223,-9.1393", "EUR"),
    at("PL", "Warsaw", "Poland", "52.2297,21.0122", "EUR"),
    at("CZ", "Prague", "Czechia", "50.0755,14.4378", "EUR"),
    at("SE", "Stockholm", "Sweden", "59.3293,18.0686", "EUR"),
    at("NO", "Oslo", "Norway", "59.9139,10.7522", "EUR"),
    at("DK", "Copenhagen", "Denmark", "55.6761,12.5683", "EUR"),
    at("RO", "Bucharest", "Romania", "44.4268,26.1025", "EUR"),
    at("BG", "Sofia", "Bulgaria", "42.6977,23.3219", "EUR"),
    at("LT", "Vilnius", "Lithuania", "54.6872,25.2797", "EUR"),
    at("US", "Ashburn", "United States", "39.0438,-77.4874", "USD"),
    at("US", "New York", "United States", "40.7128,-74.006", "USD"),
    at("US", "Dallas", "United States", "32.7767,-96.797", "USD"),
    at(
        "US",
        "Los Angeles",
        "United States",
        "34.0522,-118.2437",
        "USD",
    ),
    at("US", "Chicago", "United States", "41.8781,-87.6298", "USD"),
    at("US", "Miami", "United States", "25.7617,-80.1918", "USD"),
    at("US", "Seattle", "United States", "47.6062,-122.3321", "USD"),
    at("CA", "Toronto", "Canada", "43.6532,-79.3832", "USD"),
    at("CA", "Montréal", "Canada", "45.5019,-73.5674", "USD"),
    at("MX", "Querétaro", "Mexico", "20.5888,-100.3899", "USD"),
    at("BR", "São Paulo", "Brazil", "-23.5505,-46.6333", "USD"),
    at(
        "AR",
        "Buenos Aires",
        "Argentina",
        "-34.6037,-58.3816",
        "USD",
    ),
    at("CL", "Santiago", "Chile", "-33.4489,-70.6693", "USD"),
    at("CO", "Bogotá", "Colombia", "4.711,-74.0721", "USD"),
    at("JP", "Tokyo", "Japan", "35.6762,139.6503", "USD"),
    at("JP", "Osaka", "Japan", "34.6937,135.5023", "USD"),
    at("KR", "Seoul", "South Korea", "37.5665,126.978", "USD"),
    at("SG", "Singapore", "Singapore", "1.3521,103.8198", "USD"),
    at("HK", "Hong Kong", "Hong Kong", "22.3193,114.1694", "USD"),
    at("TW", "Taipei", "Taiwan", "25.033,121.5654", "USD"),
    at("IN", "Mumbai", "India", "19.076,72.8777", "USD"),
    at("IN", "Bangalore", "India", "12.9716,77.5946", "USD"),
    at("ID", "Jakarta", "Indonesia", "-6.2088,106.8456", "USD"),
    at("AU", "Sydney", "Australia", "-33.8688,151.2093", "USD"),
    at("AU", "Melbourne", "Australia", "-37.8136,144.9631", "USD"),
    at("NZ", "Auckland", "New Zealand", "-36.8485,174.7633", "USD"),
    at(
        "ZA",
        "Johannesburg",
        "South Africa",
        "-26.2041,28.0473",
        "USD",
    ),
    at("NG", "Lagos", "Nigeria", "6.5244,3.3792", "USD"),
    at("KE", "Nairobi", "Kenya", "-1.2921,36.8219", "USD"),
    at(
        "AE",
        "Dubai",
        "United Arab Emirates",
        "25.2048,55.2708",
        "USD",
    ),
    at("IL", "Tel Aviv", "Israel", "32.0853,34.7818", "USD"),
    at("TR", "Istanbul", "Türkiye", "41.0082,28.9784", "EUR"),
];

struct Cpu {
    brand: &'static str,
    name: &'static str,
    cores: u64,
    mhz: u64,
    memory_type: &'static str,
    /// Desktop parts take unbuffered non-ECC memory.
    ecc: bool,
}

const fn cpu(
    brand: &'static str,
    name: &'static str,
    cores: u64,
    mhz: u64,
    memory_type: &'static str,
    ecc: bool,
) -> Cpu {
    Cpu {
        brand,
        name,
        cores,
        mhz,
        memory_type,
        ecc,
    }
}

const CPUS: &[Cpu] = &[
    cpu("Intel", "Intel® Xeon® E3-1230 v6", 4, 3500, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E3-1270 v6", 4, 3800, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E-2388G", 8, 3200, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E5-1650 v4", 6, 3600, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E5-2620 v4", 8, 2100, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E5-2680 v4", 14, 2400, "DDR4", true),
    cpu("Intel", "Intel® Xeon® E5-2697 v4", 18, 2300, "DDR4", true),
    cpu("Intel", "Intel® Xeon® Silver 4214", 12, 2200, "DDR4", true),
    cpu("Intel", "Intel® Xeon® Silver 4314", 16, 2400, "DDR4", true),
    cpu("Intel", "Intel® Xeon® Gold 6226R", 16, 2900, "DDR4", true),
    cpu("Intel", "Intel® Xeon® Gold 6338", 32, 2000, "DDR4", true),
    cpu("Intel", "Intel® Xeon® Gold 6448Y", 32, 2100, "DDR5", true),
    cpu("AMD", "AMD EPYC 7313P", 16, 3000, "DDR4", true),
    cpu("AMD", "AMD EPYC 7443P", 24, 2850, "DDR4", true),
    cpu("AMD", "AMD EPYC 7543", 32, 2800, "DDR4", true),
    cpu("AMD", "AMD EPYC 7713", 64, 2000, "DDR4", true),
    cpu("AMD", "AMD EPYC 7763", 64, 2450, "DDR4", true),
    cpu("AMD", "AMD EPYC 9124", 16, 3000, "DDR5", true),
    cpu("AMD", "AMD EPYC 9354", 32, 3250, "DDR5", true),
    cpu("AMD", "AMD EPYC 9454", 48, 2750, "DDR5", true),
    cpu("AMD", "AMD EPYC 9654", 96, 2400, "DDR5", true),
    cpu("AMD", "AMD Ryzen 9 5950X", 16, 3400, "DDR4", false),
    cpu("AMD", "AMD Ryzen 9 7950X", 16, 4500, "DDR5", false),
    cpu("AMD", "AMD Ryzen 7 7700", 8, 3800, "DDR5", false),
    cpu("Ampere", "Ampere Altra Q80-30", 80, 3000, "DDR4", true),
    cpu(
        "Ampere",
        "Ampere Altra Max M128-30",
        128,
        3000,
        "DDR4",
        true,
    ),
];

/// GPU models with a monthly price per card in USD.
const GPUS: &[(&str, u64)] = &[
    ("NVIDIA A100 80GB", 1400),
    ("NVIDIA H100 80GB", 2500),
    ("NVIDIA L4", 250),
    ("NVIDIA GeForce RTX 4090", 350),
    ("AMD Instinct MI250", 1600),
];

/// Currencies with their value of one USD in thousandths.
const CURRENCIES: &[(&str, u64)] = &[("USD", 1000), ("EUR", 920), ("GBP", 790), ("CHF", 880)];

const NAME_STARTS: &[&str] = &[
    "Nord", "Blue", "Iron", "Swift", "Terra", "Nimbus", "Alpine", "Coral", "Vertex", "Solid",
    "Quantum", "Harbor", "Polar", "Cedar", "Orbit", "Granite",
];
const NAME_ENDS: &[&str] = &[
    "Host", "Cloud", "Servers", "Networks", "Compute", "DC", "Metal", "Stack",
];
const ADJECTIVES: &[&str] = &[
    "Fast",
    "Reliable",
    "Affordable",
    "Powerful",
    "Compact",
    "Balanced",
    "Premium",
    "Budget",
];
const FEATURES: &[&str] = &[
    "KVM over IP",
    "IPMI",
    "Managed support",
    "Native IPv6",
    "Instant setup",
    "DDoS protection",
    "Daily backups",
    "Snapshots",
    "Private network",
    "Root access",
    "Floating IPs",
    "NVMe storage",
];
const SYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "CentOS",
    "AlmaLinux",
    "Rocky Linux",
    "Windows Server",
    "FreeBSD",
    "Proxmox VE",
    "Arch Linux",
];
const CONTROL_PANELS: &[&str] = &[
    "cPanel",
    "Plesk",
    "DirectAdmin",
    "Virtualizor",
    "SolusVM",
    "Webmin",
];
const PAYMENT_METHODS: &[&str] = &[
    "Credit card",
    "PayPal",
    "Bitcoin",
    "Wire Transfer",
    "ICP",
    "Ethereum",
    "SEPA Direct Debit",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Vps,
    Dedicated,
    Gpu,
    Cloud,
    Managed,
}

const KINDS: &[(u64, Kind)] = &[
    (35, Kind::Vps),
    (30, Kind::Dedicated),
    (15, Kind::Gpu),
    (12, Kind::Cloud),
    (8, Kind::Managed),
];

/// The hardware of one offering.
struct Spec {
    kind: Kind,
    cpu: &'static Cpu,
    processors: u64,
    /// Cores per processor; vCPUs for virtual machines.
    cores: u64,
    memory_gb: u64,
    ssd_count: u64,
    ssd_each_gb: u64,
    hdd_count: u64,
    hdd_each_gb: u64,
    gpu: Option<(&'static (&'static str, u64), u64)>,
}

impl Spec {
    fn draw(rng: &mut Rng) -> Self {
        let kind = *rng.weighted(KINDS);
        let cpu = rng.pick(CPUS);
        let virtual_machine = matches!(kind, Kind::Vps | Kind::Cloud);
        let (processors, cores) = if virtual_machine {
            (1, *rng.pick(&[1, 2, 2, 4, 4, 8, 16, 32]))
        } else {
            (*rng.weighted(&[(70, 1), (27, 2), (3, 4)]), cpu.cores)
        };
        let memory_gb = if virtual_machine {
            cores * rng.pick(&[1, 2, 4])
        } else {
            *rng.pick(&[16, 32, 64, 128, 256, 512, 768, 1024])
        };
        let (ssd_count, ssd_each_gb) = if virtual_machine {
            (1, memory_gb * rng.pick(&[10, 20, 25]))
        } else if rng.percent(85) {
            (
                *rng.pick(&[1, 2, 2, 4]),
                *rng.pick(&[240, 480, 960, 1920, 3840]),
            )
        } else {
            (0, 0)
        };
        let (hdd_count, hdd_each_gb) = if !virtual_machine && (ssd_count == 0 || rng.percent(25)) {
            (*rng.pick(&[2, 4, 8]), *rng.pick(&[2000, 4000, 8000, 16000]))
        } else {
            (0, 0)
        };
        let gpu = (kind == Kind::Gpu).then(|| (rng.pick(GPUS), *rng.pick(&[1, 2, 4, 8])));
        Spec {
            kind,
            cpu,
            processors,
            cores,
            memory_gb,
            ssd_count,
            ssd_each_gb,
            hdd_count,
            hdd_each_gb,
            gpu,
        }
    }

    fn virtual_machine(&self) -> bool {
        matches!(self.kind, Kind::Vps | Kind::Cloud)
    }

    /// A going monthly rate in US cents.
    fn usd_cents(&self) -> u64 {
        let cores = self.processors * self.cores;
        let base = if self.virtual_machine() {
            200 + cores * 250 + self.memory_gb * 120 + self.ssd_each_gb * 2
        } else {
            3000 + cores * 150
                + self.memory_gb * 40
                + self.ssd_count * self.ssd_each_gb * 3
                + self.hdd_count * self.hdd_each_gb / 200
        };
        let gpus = self
            .gpu
            .map_or(0, |((_, card_usd), cards)| card_usd * 100 * cards);
        let management = if self.kind == Kind::Managed { 5000 } else { 0 };
        base + gpus + management
    }
}

/// What stays the same across one provider's offerings.
struct Profile {
    domain: String,
    locations: Vec<&'static Location>,
    currency: &'static (&'static str, u64),
    /// Percent of the going rate this provider charges.
    price_level: u64,
    payment_methods: String,
}

impl Profile {
    fn new(rng: &mut Rng, index: u32) -> Self {
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

    fn offering(&self, rng: &mut Rng, number: u32) -> Offering {
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

/// Hundredths as a price, sometimes without a zero fraction ("100" as well as "100.00").
fn money(rng: &mut Rng, hundredths: u64) -> String {
    if hundredths.is_multiple_of(100) && rng.percent(50) {
        (hundredths / 100).to_string()
    } else {
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// A clock in MHz, written in either unit as providers do: "2.45 GHz" or "2450 MHz".
fn speed(rng: &mut Rng, mhz: u64) -> String {
    if rng.percent(50) {
        format!("{mhz} MHz")
    } else if mhz.is_multiple_of(100) {
        format!("{}.{} GHz", mhz / 1000, mhz % 1000 / 100)
    } else {
        format!("{}.{:02} GHz", mhz / 1000, mhz % 1000 / 10)
    }
}

/// Memory in mixed units: "16 GB", "16384 MB", "1 TB".
fn memory(rng: &mut Rng, gb: u64) -> String {
    if gb.is_multiple_of(1024) && rng.percent(50) {
        format!("{} TB", gb / 1024)
    } else if rng.percent(35) {
        format!("{} MB", gb * 1024)
    } else {
        format!("{gb} GB")
    }
}

/// Disk space: "0", "480 GB", "4 TB".
fn disk(rng: &mut Rng, gb: u64) -> String {
    if gb == 0 {
        "0".into()
    } else if gb.is_multiple_of(1000) && rng.percent(60) {
        format!("{} TB", gb / 1000)
    } else {
        format!("{gb} GB")
    }
}

#[cfg(test)]
mod tests;
