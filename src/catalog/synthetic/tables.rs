//! The fixed tables offerings are drawn from: locations, CPUs, GPUs, currencies, names, options.

pub(super) struct Location {
    pub(super) country: &'static str,
    pub(super) city: &'static str,
    pub(super) country_name: &'static str,
    pub(super) coordinates: &'static str,
    pub(super) currency: &'static str,
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

pub(super) const LOCATIONS: &[Location] = &[
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

pub(super) struct Cpu {
    pub(super) brand: &'static str,
    pub(super) name: &'static str,
    pub(super) cores: u64,
    pub(super) mhz: u64,
    pub(super) memory_type: &'static str,
    /// Desktop parts take unbuffered non-ECC memory.
    pub(super) ecc: bool,
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

pub(super) const CPUS: &[Cpu] = &[
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
pub(super) const GPUS: &[(&str, u64)] = &[
    ("NVIDIA A100 80GB", 1400),
    ("NVIDIA H100 80GB", 2500),
    ("NVIDIA L4", 250),
    ("NVIDIA GeForce RTX 4090", 350),
    ("AMD Instinct MI250", 1600),
];

/// Currencies with their value of one USD in thousandths.
pub(super) const CURRENCIES: &[(&str, u64)] =
    &[("USD", 1000), ("EUR", 920), ("GBP", 790), ("CHF", 880)];

pub(super) const NAME_STARTS: &[&str] = &[
    "Nord", "Blue", "Iron", "Swift", "Terra", "Nimbus", "Alpine", "Coral", "Vertex", "Solid",
    "Quantum", "Harbor", "Polar", "Cedar", "Orbit", "Granite",
];
pub(super) const NAME_ENDS: &[&str] = &[
    "Host", "Cloud", "Servers", "Networks", "Compute", "DC", "Metal", "Stack",
];
pub(super) const ADJECTIVES: &[&str] = &[
    "Fast",
    "Reliable",
    "Affordable",
    "Powerful",
    "Compact",
    "Balanced",
    "Premium",
    "Budget",
];
pub(super) const FEATURES: &[&str] = &[
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
pub(super) const SYSTEMS: &[&str] = &[
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
pub(super) const CONTROL_PANELS: &[&str] = &[
    "cPanel",
    "Plesk",
    "DirectAdmin",
    "Virtualizor",
    "SolusVM",
    "Webmin",
];
pub(super) const PAYMENT_METHODS: &[&str] = &[
    "Credit card",
    "PayPal",
    "Bitcoin",
    "Wire Transfer",
    "ICP",
    "Ethereum",
    "SEPA Direct Debit",
];
