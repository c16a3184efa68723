use super::*;

/// The fixture's first data row.
const ROW: &str = "Intel Dual Core Dedicated Server,Here goes a product description.,DC2993,\
https://test.com/DC2993/,EUR,99.99,99.99,Visible,VPS,KVM,Monthly,In stock,Intel,1,2,2.6 GHz,\
Intel® Xeon® Processor E5-1620 v4,non-ECC,DDR4,8192 MB,0,0,2,160 GB,Unmetered inbound,1000 mbit,\
10240,NL,\"Rotterdam, Netherlands\",\"51.9229,4.46317\",\"KVM over IP, Managed support, Native IPv6, \
Instant setup\",\"Debian, CentOs, VMWare\",cPanel,,\"Bitcoin, Credit card, PayPal, Wire Transfer\"\n";

fn sample() -> Offering {
    Offering::from_csv_row(ROW.as_bytes()).expect("the fixture row parses")
}

/// The sample with `column` set to `value`.
fn with(column: Column, value: &str) -> Offering {
    let mut offering = sample();
    offering.cells[column.index()] = value.to_string();
    offering
}

fn value_of<T>(column: Column, value: &str, field: impl Fn(Normalized) -> T) -> T {
    field(normalize(&with(column, value)).expect("acceptable cell"))
}

/// The one error normalising the sample with `column` set to `value`.
fn reason(column: Column, value: &str) -> String {
    let errors = normalize(&with(column, value)).expect_err("refused cell");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].column, column);
    errors[0].reason.clone()
}

#[test]
fn columns_follow_the_canonical_order() {
    for (i, column) in Column::ALL.into_iter().enumerate() {
        assert_eq!(column.index(), i);
        assert_eq!(column.name(), COLUMNS[i]);
    }
}

#[test]
fn headers_match_by_name_ignoring_case_and_surrounding_space() {
    assert_eq!(Column::from_header("Offer Name"), Some(Column::OfferName));
    assert_eq!(
        Column::from_header("  total solid STATE disk capacity\t"),
        Some(Column::SsdCapacity)
    );
    assert_eq!(Column::from_header("GPU"), None);
    assert_eq!(Column::from_header("OfferName"), None);
    assert_eq!(Column::from_header(""), None);
}

#[test]
fn an_offering_has_exactly_35_cells() {
    assert!(Offering::new(vec![String::new(); 35]).is_ok());
    assert_eq!(
        Offering::new(vec![String::new(); 34]),
        Err("expected 35 cells, found 34".to_string())
    );
    let short = Offering { cells: vec![] };
    assert_eq!(short.cell(Column::GpuName), "");
    assert_eq!(sample().key(), "DC2993");
    assert_eq!(sample().cell(Column::GpuName), "");
}

#[test]
fn rows_are_written_quoted_only_where_needed() {
    assert_eq!(sample().to_csv_row(), ROW.as_bytes());
}

#[test]
fn any_cells_survive_a_row_round_trip() {
    let tricky = [
        "",
        " ",
        "a,b",
        "say \"hi\"",
        "\"",
        "line\nbreak",
        "cr\ronly",
        "crlf\r\n",
        "Zürich ® 東京",
        "  padded  ",
        "#comment",
        "\u{feff}bom",
        "'single'",
    ];
    for first in tricky {
        for other in tricky {
            let mut cells = vec![other.to_string(); 35];
            cells[0] = first.to_string();
            let offering = Offering { cells };
            let row = offering.to_csv_row();
            assert_eq!(Offering::from_csv_row(&row), Ok(offering), "{row:?}");
        }
    }
}

#[test]
fn a_stored_row_is_exactly_one_record_of_35_utf8_cells() {
    let two = [ROW, ROW].concat();
    assert!(Offering::from_csv_row(two.as_bytes()).is_err());
    assert!(Offering::from_csv_row(b"").is_err());
    assert!(Offering::from_csv_row(b"a,b\n").is_err());
    let mut bad = ROW.as_bytes().to_vec();
    bad[0] = 0xff;
    assert!(Offering::from_csv_row(&bad).is_err());
}

#[test]
fn the_fixture_row_normalizes() {
    let expected = Normalized {
        currency: *b"EUR",
        price_minor: 9999,
        setup_fee_minor: 9999,
        visible: true,
        product_type: ProductType::Vps,
        virtualization: Virtualization::Kvm,
        billing: BillingInterval::Monthly,
        stock: Stock::InStock,
        processor_brand: Some("Intel".into()),
        processor_amount: 1,
        processor_cores: 2,
        total_cores: 2,
        cpu_mhz: Some(2600),
        processor_name: Some("Intel® Xeon® Processor E5-1620 v4".into()),
        memory_ecc: Some(MemoryEcc::NonEcc),
        memory_type: Some("DDR4".into()),
        memory_mb: 8192,
        hdd_count: 0,
        hdd_gb: 0,
        ssd_count: 2,
        ssd_gb: 160,
        unmetered: vec!["Unmetered inbound".into()],
        uplink_mbit: Some(1000),
        traffic_gb: Some(10240),
        country: *b"NL",
        city: "Rotterdam, Netherlands".into(),
        coordinates: Some((51.9229, 4.46317)),
        features: vec![
            "KVM over IP".into(),
            "Managed support".into(),
            "Native IPv6".into(),
            "Instant setup".into(),
        ],
        operating_systems: vec!["Debian".into(), "CentOs".into(), "VMWare".into()],
        control_panel: Some("cPanel".into()),
        gpu_name: None,
        payment_methods: vec![
            "Bitcoin".into(),
            "Credit card".into(),
            "PayPal".into(),
            "Wire Transfer".into(),
        ],
    };
    assert_eq!(normalize(&sample()), Ok(expected));
}

#[test]
fn prices_are_hundredths() {
    let price = |s| value_of(Column::MonthlyPrice, s, |n| n.price_minor);
    assert_eq!(price("99.99"), 9999);
    assert_eq!(price("100"), 10000);
    assert_eq!(price(" 9.5 "), 950);
    assert_eq!(price("0.07"), 7);
    assert_eq!(value_of(Column::SetupFee, "", |n| n.setup_fee_minor), 0);
    for bad in ["", "-1", "1.999", "abc", "1,5", "1.", ".5", "1e3", "+1"] {
        assert!(!reason(Column::MonthlyPrice, bad).is_empty(), "{bad}");
    }
    assert!(reason(Column::MonthlyPrice, "-5").contains("negative"));
    assert!(reason(Column::MonthlyPrice, "1.234").contains("2 decimals"));
    assert!(reason(Column::SetupFee, "184467440737095517").contains("too large"));
    assert!(reason(Column::SetupFee, "99999999999999999999999").contains("too large"));
}

#[test]
fn codes_are_upper_cased_letters() {
    assert_eq!(value_of(Column::Currency, " chf ", |n| n.currency), *b"CHF");
    assert_eq!(
        value_of(Column::DatacenterCountry, "de", |n| n.country),
        *b"DE"
    );
    for bad in ["", "EU", "EURO", "E1R", "€UR"] {
        assert!(reason(Column::Currency, bad).contains("3 letters"), "{bad}");
    }
    assert!(reason(Column::DatacenterCountry, "NLD").contains("2 letters"));
}

#[test]
fn enums_match_case_insensitively_with_aliases() {
    let field = |c, s| normalize(&with(c, s)).expect("acceptable");
    assert!(!field(Column::Visibility, "invisible").visible);
    assert_eq!(
        field(Column::ProductType, "cloud").product_type,
        ProductType::Cloud
    );
    let virt = |s| field(Column::VirtualizationType, s).virtualization;
    assert_eq!(virt(""), Virtualization::None);
    assert_eq!(virt("hyperv"), Virtualization::HyperV);
    assert_eq!(virt("Hyper-V"), Virtualization::HyperV);
    assert_eq!(virt("openvz"), Virtualization::OpenVz);
    let billing = |s| field(Column::BillingInterval, s).billing;
    assert_eq!(billing("Annually"), BillingInterval::Yearly);
    assert_eq!(billing("hourly"), BillingInterval::Hourly);
    assert_eq!(
        field(Column::Stock, "out of stock").stock,
        Stock::OutOfStock
    );
    let ecc = |s| field(Column::MemoryErrorCorrection, s).memory_ecc;
    assert_eq!(ecc(""), None);
    assert_eq!(ecc("ecc registered"), Some(MemoryEcc::EccRegistered));
    assert_eq!(ecc("ECC"), Some(MemoryEcc::Ecc));
    assert_eq!(
        reason(Column::ProductType, "Bare metal"),
        "unknown product type \"Bare metal\"; expected one of: VPS, Dedicated, Cloud, Managed"
    );
    assert!(reason(Column::Stock, "").contains("unknown stock"));
    assert!(reason(Column::Visibility, "Hidden").contains("visibility"));
}

#[test]
fn memory_is_megabytes() {
    let mb = |s| value_of(Column::MemoryAmount, s, |n| n.memory_mb);
    assert_eq!(mb("8192 MB"), 8192);
    assert_eq!(mb("16 GB"), 16384);
    assert_eq!(mb("16gb"), 16384);
    assert_eq!(mb("1 TB"), 1 << 20);
    assert_eq!(mb("2 TiB"), 2 << 20);
    assert_eq!(mb("1.5 GB"), 1536);
    assert_eq!(mb("0.3 GiB"), 307);
    assert_eq!(mb("512 MiB"), 512);
    assert_eq!(mb("4096"), 4096);
    for bad in ["", "GB", "16 GBs", "-1 GB", "1.5.1 GB", "1. GB", "lots"] {
        assert!(
            reason(Column::MemoryAmount, bad).contains("expected"),
            "{bad}"
        );
    }
    assert!(reason(Column::MemoryAmount, "99999999999999999 TB").contains("too large"));
}

#[test]
fn disks_and_traffic_are_gigabytes() {
    let ssd = |s| value_of(Column::SsdCapacity, s, |n| n.ssd_gb);
    assert_eq!(ssd("160 GB"), 160);
    assert_eq!(ssd("2 TB"), 2000);
    assert_eq!(ssd("1.92TB"), 1920);
    assert_eq!(ssd("0"), 0);
    assert_eq!(ssd(""), 0);
    assert_eq!(value_of(Column::HddCapacity, "4 GB", |n| n.hdd_gb), 4);
    let traffic = |s| value_of(Column::Traffic, s, |n| n.traffic_gb);
    assert_eq!(traffic(""), None);
    assert_eq!(traffic("10240"), Some(10240));
    assert_eq!(traffic("20 TB"), Some(20000));
    assert!(reason(Column::HddCapacity, "2 PB").contains("expected"));
}

#[test]
fn speeds_are_megahertz_and_megabits() {
    let mhz = |s| value_of(Column::ProcessorSpeed, s, |n| n.cpu_mhz);
    assert_eq!(mhz("2.6 GHz"), Some(2600));
    assert_eq!(mhz("2200 MHz"), Some(2200));
    assert_eq!(mhz("3.45ghz"), Some(3450));
    assert_eq!(mhz(""), None);
    assert!(reason(Column::ProcessorSpeed, "2.6").contains("MHz, GHz"));
    assert!(reason(Column::ProcessorSpeed, "5000000 GHz").contains("too large"));
    let uplink = |s| value_of(Column::UplinkSpeed, s, |n| n.uplink_mbit);
    assert_eq!(uplink("1000 mbit"), Some(1000));
    assert_eq!(uplink("10 gbit"), Some(10_000));
    assert_eq!(uplink("1 Gbps"), Some(1000));
    assert_eq!(uplink("2.5 Gbit/s"), Some(2500));
    assert_eq!(uplink("100"), Some(100));
    assert_eq!(uplink(""), None);
    assert!(reason(Column::UplinkSpeed, "fast").contains("expected"));
}

#[test]
fn processors_multiply_into_total_cores() {
    let cpu = |amount: &str, cores: &str| {
        let mut offering = with(Column::ProcessorAmount, amount);
        offering.cells[Column::ProcessorCores.index()] = cores.into();
        normalize(&offering)
    };
    let n = cpu("2", "64").expect("valid");
    assert_eq!(
        (n.processor_amount, n.processor_cores, n.total_cores),
        (2, 64, 128)
    );
    let n = cpu("", "").expect("valid");
    assert_eq!(
        (n.processor_amount, n.processor_cores, n.total_cores),
        (1, 0, 0)
    );
    let overflow = cpu("65536", "65536").expect_err("overflow");
    assert_eq!(overflow[0].column, Column::ProcessorCores);
    assert!(reason(Column::ProcessorCores, "2.5").contains("whole number"));
    assert!(reason(Column::HddAmount, "-1").contains("whole number"));
    assert!(reason(Column::SsdAmount, "99999999999").contains("too large"));
}

#[test]
fn coordinates_are_checked_degrees() {
    let at = |s| value_of(Column::DatacenterCoordinates, s, |n| n.coordinates);
    assert_eq!(at(" -33.8688 , 151.2093 "), Some((-33.8688, 151.2093)));
    assert_eq!(at("90,-180"), Some((90.0, -180.0)));
    assert_eq!(at(""), None);
    for bad in ["51.9", "91,0", "0,181", "NaN,0", "inf,0", "a,b", "1,2,3"] {
        assert!(
            reason(Column::DatacenterCoordinates, bad).contains("latitude,longitude"),
            "{bad}"
        );
    }
}

#[test]
fn text_and_lists_are_trimmed() {
    let n = normalize(&Offering {
        cells: {
            let mut cells = sample().cells;
            cells[Column::Features.index()] = " a ,, b,".into();
            cells[Column::ControlPanel.index()] = "  ".into();
            cells[Column::GpuName.index()] = " NVIDIA H100 ".into();
            cells[Column::DatacenterCity.index()] = " Zürich ".into();
            cells[Column::PaymentMethods.index()] = String::new();
            cells
        },
    })
    .expect("valid");
    assert_eq!(n.features, ["a", "b"]);
    assert_eq!(n.control_panel, None);
    assert_eq!(n.gpu_name.as_deref(), Some("NVIDIA H100"));
    assert_eq!(n.city, "Zürich");
    assert!(n.payment_methods.is_empty());
}

#[test]
fn names_and_keys_are_required_and_bounded() {
    assert_eq!(reason(Column::OfferName, "  "), "required");
    assert_eq!(reason(Column::UniqueInternalIdentifier, ""), "required");
    let long = "k".repeat(MAX_KEY_BYTES + 1);
    assert!(reason(Column::UniqueInternalIdentifier, &long).contains("at most 128"));
    assert!(normalize(&with(Column::UniqueInternalIdentifier, &long[1..])).is_ok());
    assert!(reason(Column::UniqueInternalIdentifier, " DC1").contains("whitespace"));
    assert!(reason(Column::UniqueInternalIdentifier, "a\tb").contains("control"));
}

#[test]
fn oversized_cells_are_refused_once_each() {
    let big = "x".repeat(MAX_CELL_BYTES + 1);
    assert_eq!(
        reason(Column::Description, &big),
        format!("oversized cell: 4097 bytes, at most {MAX_CELL_BYTES}")
    );
    assert!(reason(Column::MonthlyPrice, &big).starts_with("oversized cell"));
    assert!(normalize(&with(Column::Description, &big[1..])).is_ok());
}

#[test]
fn every_bad_cell_is_reported() {
    let mut offering = sample();
    for (column, value) in [
        (Column::Currency, "euro"),
        (Column::MonthlyPrice, "free"),
        (Column::Stock, "plenty"),
        (Column::MemoryAmount, "lots"),
        (Column::DatacenterCoordinates, "north"),
    ] {
        offering.cells[column.index()] = value.into();
    }
    let columns: Vec<Column> = normalize(&offering)
        .expect_err("refused")
        .into_iter()
        .map(|e| e.column)
        .collect();
    assert_eq!(
        columns,
        [
            Column::Currency,
            Column::MonthlyPrice,
            Column::Stock,
            Column::MemoryAmount,
            Column::DatacenterCoordinates
        ]
    );
}

#[test]
fn keys_with_invisible_or_direction_characters_are_refused() {
    let keys = [
        "DC\u{200B}2993",  // zero width space
        "DC\u{200D}2993",  // zero width joiner
        "DC2993\u{200E}",  // left-to-right mark
        "\u{202E}3992CD",  // right-to-left override
        "DC\u{2066}2993",  // left-to-right isolate
        "DC\u{2060}2993",  // word joiner
        "\u{FEFF}DC2993",  // byte order mark
        "DC\u{00AD}2993",  // soft hyphen
        "DC\u{180E}2993",  // Mongolian vowel separator
        "DC\u{E0001}2993", // language tag
    ];
    for key in keys {
        let reason = reason(Column::UniqueInternalIdentifier, key);
        assert!(reason.contains("invisible"), "{key:?}: {reason}");
    }
    assert!(reason(Column::UniqueInternalIdentifier, "DC\u{7}2993").contains("control"));
    // Visible non-ASCII keys are fine.
    for key in ["Café-1", "サーバー", "Ωmega"] {
        assert!(normalize(&with(Column::UniqueInternalIdentifier, key)).is_ok());
    }
}

#[test]
fn keys_are_nfc_so_look_alike_spellings_are_one_key() {
    // An offering built by hand with a decomposed key is refused: import makes keys NFC.
    let reason = reason(Column::UniqueInternalIdentifier, "Cafe\u{301}");
    assert!(reason.contains("NFC"), "{reason}");
    assert_eq!(nfc_key("Cafe\u{301}"), "Caf\u{e9}");
    assert_eq!(nfc_key("DC2993"), "DC2993");
}
