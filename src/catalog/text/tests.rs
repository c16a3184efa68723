use super::*;
use crate::catalog::offering::Offering;

#[test]
fn splits_on_punctuation_and_folds_case_accents_and_symbols() {
    assert_eq!(
        tokenize("Intel® Xeon® Processor E5-1620 v4"),
        ["intel", "xeon", "processor", "e5", "1620", "v4"]
    );
    assert_eq!(tokenize("Zürich, Schweiz"), ["zurich", "schweiz"]);
    assert_eq!(
        tokenize("  Rotterdam, Netherlands "),
        ["rotterdam", "netherlands"]
    );
    assert_eq!(tokenize("ＦＵＬＬＷＩＤＴＨ"), ["fullwidth"]);
    assert!(tokenize(" ,;- ").is_empty());
}

#[test]
fn long_runs_are_cut_to_the_term_limit() {
    let long = "a".repeat(100);
    assert_eq!(tokenize(&long), ["a".repeat(MAX_TERM_BYTES)]);
}

#[test]
fn offering_terms_cover_the_searchable_columns_once_each() {
    let mut cells = vec![String::new(); 35];
    cells[Column::OfferName as usize] = "Intel Dual Core".into();
    cells[Column::DatacenterCountry as usize] = "NL".into();
    cells[Column::DatacenterCity as usize] = "Rotterdam, Netherlands".into();
    cells[Column::ProductPageUrl as usize] = "https://not-searchable.example".into();
    cells[Column::Features as usize] = "Native IPv6, Dual stack".into();
    let terms = offering_terms(&Offering { cells });
    assert_eq!(
        terms,
        [
            "core",
            "dual",
            "intel",
            "ipv6",
            "native",
            "netherlands",
            "nl",
            "rotterdam",
            "stack"
        ]
    );
}
