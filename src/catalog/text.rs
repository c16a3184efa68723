//! Text search terms: the same folding for what is indexed and what is asked.
//!
//! Text is split on anything that is not a letter or digit (so "Xeon®" gives "xeon" and
//! "E5-1620" gives "e5" and "1620"), decomposed (NFKD) with combining marks dropped, so accents
//! fold ("Zürich" → "zurich"), and lower-cased.

use crate::catalog::offering::Column;
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
    let mut terms = Vec::new();
    for_each_term(text, |term| terms.push(utf8_string(term)));
    terms
}

/// Bytes that hold UTF-8 text as a `String`. `String::from_utf8` checks them in a few
/// instructions a byte where `from_utf8_lossy` takes over a hundred on wasm; only bytes that are
/// not UTF-8 after all are converted lossily.
pub fn utf8_string(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Calls `found` with the UTF-8 bytes of each folded term of `text`, in order, with repeats:
/// [`tokenize`] without a `String` per term (an allocation takes thousands of instructions on
/// wasm, more than cutting the term).
pub fn for_each_term(text: &str, mut found: impl FnMut(&[u8])) {
    let bytes = text.as_bytes();
    let mut term = Term::default();
    let mut at = 0;
    // The ic0 host (wasmi) charges all the instructions of a loop's body as each turn starts,
    // whichever way the turn then branches, so the body is a table lookup and calls: about 70
    // instructions a byte, against 250 with the decomposition inline.
    while let Some(&b) = bytes.get(at) {
        match ASCII_FOLD[usize::from(b)] {
            SEPARATOR => {
                term.end(&mut found);
                at += 1;
            }
            NOT_ASCII => at = fold_char(text, at, &mut term, &mut found),
            folded => {
                term.push_ascii(folded);
                at += 1;
            }
        }
    }
    term.end(&mut found);
}

/// [`ASCII_FOLD`] of ASCII bytes other than letters and digits.
const SEPARATOR: u8 = 0;
/// [`ASCII_FOLD`] of the bytes of non-ASCII characters.
const NOT_ASCII: u8 = 0xff;

/// Most catalog text is ASCII, which folds byte by byte: letters and digits to themselves in
/// lower case, anything else to [`SEPARATOR`]; the bytes of other characters are left to
/// [`fold_char`].
const ASCII_FOLD: [u8; 256] = {
    let mut table = [NOT_ASCII; 256];
    let mut b = 0u8;
    while b < 128 {
        table[b as usize] = match b.is_ascii_alphanumeric() {
            true => b.to_ascii_lowercase(),
            false => SEPARATOR,
        };
        b += 1;
    }
    table
};

/// Folds the non-ASCII character starting at `at` into `term`: decomposed (NFKD), combining
/// marks dropped, lower-cased; returns where the next character starts. Out of line, to keep
/// [`for_each_term`]'s loop small.
#[inline(never)]
fn fold_char(text: &str, at: usize, term: &mut Term, found: &mut impl FnMut(&[u8])) -> usize {
    let c = text[at..].chars().next().unwrap_or_default();
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
        } else if d.is_alphanumeric() {
            d.to_lowercase().for_each(|lower| term.push(lower));
        } else {
            term.end(found);
        }
    });
    at + c.len_utf8()
}

/// The term being cut out of a text, on the stack: characters that would take it past
/// [`MAX_TERM_BYTES`] are dropped.
struct Term {
    bytes: [u8; MAX_TERM_BYTES],
    len: usize,
}

impl Default for Term {
    fn default() -> Self {
        Self {
            bytes: [0; MAX_TERM_BYTES],
            len: 0,
        }
    }
}

impl Term {
    fn push_ascii(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push(&mut self, c: char) {
        let end = self.len + c.len_utf8();
        if let Some(slot) = self.bytes.get_mut(self.len..end) {
            c.encode_utf8(slot);
            self.len = end;
        }
    }

    /// Out of line, as [`fold_char`], to keep [`for_each_term`]'s loop small.
    #[inline(never)]
    fn end(&mut self, found: &mut impl FnMut(&[u8])) {
        if self.len > 0 {
            found(&self.bytes[..self.len]);
            self.len = 0;
        }
    }
}

/// The distinct terms of an offering's searchable cells, sorted: what the index files an
/// offering under, as the tests see it.
#[cfg(test)]
pub fn offering_terms(offering: &impl crate::catalog::offering::Cells) -> Vec<String> {
    let mut terms = Vec::new();
    for column in SEARCHABLE {
        for_each_term(offering.cell(column), |term| terms.push(utf8_string(term)));
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

#[cfg(test)]
mod tests;
