//! Term ids of texts indexed lately. A catalog repeats most of its cells from offering to
//! offering (city, operating systems, payment methods, processor names), and finding a text
//! here costs a fraction of cutting it into terms and interning each one.
//!
//! Only a cache: it takes no part in comparisons, is not cloned or saved, and is emptied
//! whenever term ids change (compaction).

use super::dict::Dict;
use std::fmt;

/// Texts remembered before the memo starts over, which bounds its memory.
const MAX_TEXTS: usize = 4096;

#[derive(Default)]
pub(super) struct TermMemo {
    /// The texts seen, by id.
    texts: Dict,
    /// Where the term ids of each text end in `ids`.
    ends: Vec<u32>,
    ids: Vec<u32>,
}

impl TermMemo {
    /// The term ids of `text`; `terms` gives them (interning each term) when it is not known.
    pub fn ids(&mut self, text: &[u8], terms: impl FnOnce(&mut Vec<u32>)) -> &[u32] {
        let (start, end) = match self.texts.get(text) {
            Some(id) => self.span(id),
            None => self.add(text, terms),
        };
        &self.ids[start..end]
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn span(&self, id: u32) -> (usize, usize) {
        let id = id as usize;
        let start = id.checked_sub(1).map_or(0, |before| self.ends[before]);
        (start as usize, self.ends[id] as usize)
    }

    #[inline(never)]
    fn add(&mut self, text: &[u8], terms: impl FnOnce(&mut Vec<u32>)) -> (usize, usize) {
        if self.texts.len() >= MAX_TEXTS {
            self.clear();
        }
        let start = self.ids.len();
        terms(&mut self.ids);
        self.texts.intern(text);
        self.ends.push(self.ids.len() as u32);
        (start, self.ids.len())
    }
}

impl Clone for TermMemo {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for TermMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TermMemo {}

impl fmt::Debug for TermMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TermMemo({} texts)", self.texts.len())
    }
}
