use super::*;

#[test]
fn valid_skus_parse_to_their_canonical_form() {
    for (text, canonical_form, tier, kind, size) in [
        ("4D.large", "4D.large", 4, 'D', "large"),
        ("2c.small", "2C.small", 2, 'C', "small"),
        ("1a.X-LARGE-2", "1A.x-large-2", 1, 'A', "x-large-2"),
        ("3E.0", "3E.0", 3, 'E', "0"),
    ] {
        let sku = parse(text).unwrap();
        assert_eq!(
            sku,
            Sku {
                tier,
                kind,
                size: size.into()
            }
        );
        assert_eq!(sku.to_string(), canonical_form);
        assert_eq!(canonical(text).unwrap(), canonical_form);
    }
    let longest = format!("1A.{}", "z".repeat(MAX_SIZE_CHARS));
    assert_eq!(canonical(&longest).unwrap(), longest);
}

#[test]
fn invalid_skus_are_typed_errors_naming_the_input() {
    let too_long = format!("1A.{}", "z".repeat(MAX_SIZE_CHARS + 1));
    for text in [
        "",
        "4D",
        "4Dlarge",
        ".large",
        "4.large",
        "D.large",
        "44D.large",
        "4DD.large",
        "0D.large",
        "5D.large",
        "4F.large",
        "DD.large",
        "4D.",
        "4D.la rge",
        "4D.large_2",
        "4D.gpu.a100",
        "4D.größe",
        "٤D.large",
        "4D.\n",
        too_long.as_str(),
    ] {
        match parse(text) {
            Err(MarketError::InvalidSku { sku, message }) => {
                assert_eq!(sku, text, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn errors_echo_at_most_a_bounded_prefix_of_the_input() {
    let huge = format!("4D.{}", "x".repeat(10_000));
    let Err(MarketError::InvalidSku { sku, .. }) = parse(&huge) else {
        panic!("a 10 kB size was accepted");
    };
    assert_eq!(sku.chars().count(), ECHO_CHARS);
}

#[test]
fn every_tier_and_type_has_a_name() {
    let tiers: Vec<_> = (0..=5).map(tier_name).collect();
    assert_eq!(
        tiers,
        [
            None,
            Some("heritage"),
            Some("PaaS"),
            Some("IaaS"),
            Some("MaaS"),
            None
        ]
    );
    for kind in ['A', 'B', 'C', 'D', 'E'] {
        assert!(kind_name(kind).is_some());
    }
    assert_eq!(kind_name('D'), Some("raw hardware"));
    assert_eq!(kind_name('a'), None);
    assert_eq!(kind_name('F'), None);
}
