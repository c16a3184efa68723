//! Text search terms: the same folding for what is indexed and what is asked.
//!
//! Text is split on anything that is not a letter or digit (so "Xeon®" gives "xeon" and
//! "E5-1620" gives "e5" and "1620"), decomposed (NFKD) with combining marks dropped, so accents
//! fold ("Zürich" → "zurich"), and lower-cased.

use crate::catalog::offering::{Column, Offering};
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Longest term kept; longer runs (hashes, junk) are cut, so terms stay cheap to store.
pub const MAX_TERM_BYTES: usize = 32;

/// The columns whose words text search finds.
pub const SEARCHABLE: [Column; 17] = [
    Column::OfferName,
    Column::Description,
    Column::UniqueInternalIdentifier,
    Column::ProductType,
    Column::VirtualizationType,
    Column::ProcessorBrand,
    Column::ProcessorName,
    Column::MemoryErrorCorrection,
    Column::MemoryType,
    Column::Unmetered,
    Column::DatacenterCountry,
    Column::DatacenterCity,
    Column::Features,
    Column::OperatingSystems,
    Column::ControlPanel,
    Column::GpuName,
    Column::PaymentMethods,
];

/// The folded terms of `text`, in order, with repeats.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut terms = Terms::default();
    for c in text.chars() {
        if c.is_ascii() {
            // Most catalog text is ASCII: no decomposition needed, and cheap to fold.
            if c.is_ascii_alphanumeric() {
                terms.push(c.to_ascii_lowercase());
            } else {
                terms.end();
            }
        } else {
            decompose_compatible(c, |d| {
                if is_combining_mark(d) {
                } else if d.is_alphanumeric() {
                    d.to_lowercase().for_each(|lower| terms.push(lower));
                } else {
                    terms.end();
                }
            });
        }
    }
    terms.end();
    terms.done
}

/// Terms being cut out of a text.
#[derive(Default)]
struct Terms {
    done: Vec<String>,
    current: String,
}

impl Terms {
    fn push(&mut self, c: char) {
        if self.current.len() + c.len_utf8() <= MAX_TERM_BYTES {
            self.current.push(c);
        }
    }

    fn end(&mut self) {
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }
}

/// The distinct terms of an offering's searchable cells, sorted.
pub fn offering_terms(offering: &Offering) -> Vec<String> {
    let mut terms: Vec<String> = SEARCHABLE
        .iter()
        .flat_map(|column| tokenize(&offering.cells[*column as usize]))
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
