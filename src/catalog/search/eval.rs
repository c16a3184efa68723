//! Running a checked query on the index: candidate slots, filters, and the best page.
//!
//! Candidates are the intersection of the query's posting lists (words and tags, shortest list
//! leading) or, without any, every slot. Country and currency filters have lists too, but are
//! also column checks: their list only leads when it is the shortest, since seeking in a long
//! list costs more than checking a column. Each candidate passes cheap column checks and
//! competes for the page in a heap bounded by the page size, so the cost is one pass over the
//! candidates and never a sort of all matches.

use super::cursor::SortKey;
use super::query::{Gpu, Query};
use crate::catalog::index::{code_tag, intersect, Index, Tag, LIVE, NO_GPU, UNMETERED, VISIBLE};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A page of slots in order, and whether more matches follow it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matches {
    pub slots: Vec<u32>,
    pub more: bool,
}

/// The first `limit` matches of `query` after `after`, in the query's order.
pub fn search(index: &Index, query: &Query, after: Option<&SortKey>, limit: usize) -> Matches {
    let Some(plan) = Plan::new(index, query) else {
        return Matches::default();
    };
    let mut best = Best {
        index,
        descending: query.descending,
        after,
        keep: limit.saturating_add(1),
        heap: BinaryHeap::new(),
    };
    let consider = |slot| {
        if plan.matches(index, slot) {
            best.offer(slot);
        }
    };
    if plan.terms.is_empty() {
        (0..index.columns.slots() as u32).for_each(consider);
    } else {
        let mut cursors: Vec<_> = plan.terms.iter().map(|&t| index.term_cursor(t)).collect();
        intersect(&mut cursors, consider);
    }
    let mut slots: Vec<u32> = best.heap.into_sorted_vec().iter().map(|r| r.slot).collect();
    let more = slots.len() > limit;
    slots.truncate(limit);
    Matches { slots, more }
}

/// Up to `limit` of `provider`'s offerings after key `after`, in key order; invisible ones
/// only with `invisible`.
pub fn browse(
    index: &Index,
    provider: u32,
    after: Option<&[u8]>,
    invisible: bool,
    limit: usize,
) -> Matches {
    let slots = index.provider_slots(provider);
    let start = after.map_or(0, |after| slots.partition_point(|&s| index.key(s) <= after));
    let mut shown = slots[start..]
        .iter()
        .copied()
        .filter(|&slot| invisible || index.columns.has(slot, VISIBLE));
    let page: Vec<u32> = shown.by_ref().take(limit).collect();
    Matches {
        more: shown.next().is_some(),
        slots: page,
    }
}

/// Where `slot` sorts among search results.
pub fn sort_key(index: &Index, slot: u32) -> SortKey {
    let at = slot as usize;
    SortKey {
        price: index.columns.price[at],
        provider: index.columns.provider[at],
        key: index.key(slot).to_vec(),
    }
}

/// A query resolved against the index.
struct Plan<'q> {
    query: &'q Query,
    /// Term ids of the words and tags, shortest posting list first.
    terms: Vec<u32>,
    /// For a GPU name filter: which GPU name ids match.
    gpu_names: Vec<bool>,
}

impl<'q> Plan<'q> {
    /// `None` when nothing can match (a word or tag no offering has).
    fn new(index: &Index, query: &'q Query) -> Option<Self> {
        if query.impossible {
            return None;
        }
        let words = query.words.iter().map(String::as_bytes);
        let tags = query.tags.iter().map(Vec::as_slice);
        let mut terms = words
            .chain(tags)
            .map(|term| index.term(term))
            .collect::<Option<Vec<u32>>>()?;
        terms.sort_unstable();
        terms.dedup();
        terms.sort_by_key(|&term| index.term_len(term));
        let country = query.country.map(|c| code_tag(Tag::Country, &c));
        let currency = query
            .price
            .as_ref()
            .map(|p| code_tag(Tag::Currency, &p.currency));
        let codes = country.iter().chain(&currency).map(|code| index.term(code));
        let shortest = codes
            .collect::<Option<Vec<u32>>>()?
            .into_iter()
            .min_by_key(|&t| index.term_len(t));
        if let Some(code) = shortest {
            if terms
                .first()
                .is_none_or(|&lead| index.term_len(code) < index.term_len(lead))
            {
                terms.insert(0, code);
            }
        }
        let gpu_names = match &query.gpu {
            Some(Gpu::Name(name)) => index
                .gpu_names()
                .map(|(_, gpu)| gpu.windows(name.len()).any(|w| w == name.as_bytes()))
                .collect(),
            _ => vec![],
        };
        Some(Self {
            query,
            terms,
            gpu_names,
        })
    }

    fn matches(&self, index: &Index, slot: u32) -> bool {
        let c = &index.columns;
        let q = self.query;
        if !c.has(slot, LIVE) || !c.has(slot, VISIBLE) {
            return false;
        }
        // In bounds from here: `has` checked the slot.
        let s = slot as usize;
        let equal = |want: Option<u8>, have: u8| want.is_none_or(|want| want == have);
        q.price
            .as_ref()
            .is_none_or(|p| c.currency[s] == p.currency && (p.min..=p.max).contains(&c.price[s]))
            && q.country.is_none_or(|country| c.country[s] == country)
            && c.cores[s] >= q.min_cores
            && c.memory_mb[s] >= q.min_memory_mb
            && c.ssd_gb[s] >= q.min_ssd_gb
            && c.hdd_gb[s] >= q.min_hdd_gb
            && equal(q.product_type, c.product_type[s])
            && equal(q.virtualization, c.virtualization[s])
            && equal(q.billing, c.billing[s])
            && equal(q.stock, c.stock[s])
            && q.unmetered.is_none_or(|u| u == c.has(slot, UNMETERED))
            && match &q.gpu {
                None => true,
                Some(Gpu::Present(present)) => *present == (c.gpu[s] != NO_GPU),
                Some(Gpu::Name(_)) => self.gpu_names.get(c.gpu[s] as usize) == Some(&true),
            }
    }
}

/// The best `keep` candidates so far; the heap's top is the worst of them.
struct Best<'a> {
    index: &'a Index,
    descending: bool,
    after: Option<&'a SortKey>,
    keep: usize,
    heap: BinaryHeap<Ranked<'a>>,
}

impl<'a> Best<'a> {
    /// Out of line: most candidates fail the filters, and the ic0 host (wasmi) charges all of a
    /// loop's body on each turn, so the heap's work inlined into the intersection's loop would
    /// be paid for every candidate.
    #[inline(never)]
    fn offer(&mut self, slot: u32) {
        let at = slot as usize;
        let ranked = Ranked {
            price: self.index.columns.price[at],
            provider: self.index.columns.provider[at],
            key: self.index.key(slot),
            slot,
            descending: self.descending,
        };
        if let Some(after) = self.after {
            let order = (ranked.price, ranked.provider, ranked.key).cmp(&(
                after.price,
                after.provider,
                after.key.as_slice(),
            ));
            if ranked.directed(order) != Ordering::Greater {
                return;
            }
        }
        if self.heap.len() < self.keep {
            self.heap.push(ranked);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if ranked < *worst {
                *worst = ranked;
            }
        }
    }
}

/// A candidate in page order: smaller comes first.
struct Ranked<'a> {
    price: u64,
    provider: u32,
    key: &'a [u8],
    slot: u32,
    descending: bool,
}

impl Ranked<'_> {
    fn directed(&self, ascending: Ordering) -> Ordering {
        match self.descending {
            true => ascending.reverse(),
            false => ascending,
        }
    }
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let ascending =
            (self.price, self.provider, self.key).cmp(&(other.price, other.provider, other.key));
        self.directed(ascending)
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
