//! Posting lists: for each term, the slots whose offering has it, in increasing order.
//!
//! A term's slots sit in a chain of blocks in one shared pool: 1, 2, 4, … up to [`MAX_BLOCK`]
//! slots per block, each block led by the pool offset of the next. Slots are only ever appended
//! (a new offering takes the next slot), so a list grows at its tail without moving anything;
//! the pool is plain numbers, saved and loaded as is.

/// Largest block: long lists are chains of these, so skipping ahead skips 4096 slots a step.
const MAX_BLOCK: u32 = 4096;
/// `ilog2(MAX_BLOCK)`: blocks before this index double in size.
const MAX_BLOCK_LOG: u32 = 12;
/// Ends a chain.
const NO_BLOCK: u32 = u32::MAX;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Postings {
    /// Blocks: `[next, slot, slot, …]`.
    pub(super) pool: Vec<u32>,
    /// Per term: offset of the first and of the last block.
    pub(super) heads: Vec<u32>,
    pub(super) tails: Vec<u32>,
    /// Per term: how many slots the list holds.
    pub(super) lens: Vec<u32>,
}

/// Capacity of a chain's block number `k`.
fn capacity(k: u32) -> u32 {
    1 << k.min(MAX_BLOCK_LOG)
}

/// Where a list's element number `n` (from 0) sits: its block number and its place there.
fn place(n: u32) -> (u32, u32) {
    // Blocks 0..12 hold 1 + 2 + … + 2048 = 4095 slots, then every block holds 4096.
    let doubling = MAX_BLOCK - 1;
    if n < doubling {
        let k = (n + 1).ilog2();
        (k, n + 1 - (1 << k))
    } else {
        let rest = n - doubling;
        (MAX_BLOCK_LOG + rest / MAX_BLOCK, rest % MAX_BLOCK)
    }
}

impl Postings {
    /// How many slots `term`'s list holds, removed offerings' included.
    pub fn len(&self, term: u32) -> u32 {
        self.lens.get(term as usize).copied().unwrap_or(0)
    }

    /// Appends `slot`, which must be at least every slot already in `term`'s list: a slot the
    /// list ends with already is not added again, so an offering's repeated terms need no
    /// deduplication of their own.
    pub fn push(&mut self, term: u32, slot: u32) {
        let t = term as usize;
        let Some(&len) = self.lens.get(t) else {
            return self.push_to_new_list(t, slot);
        };
        let (k, offset) = place(len);
        let tail = self.tails[t] as usize;
        if offset == 0 {
            // The tail block is full (or there is none): the slot starts a new one.
            return self.push_to_new_block(t, k, slot);
        }
        if self.pool[tail + offset as usize] != slot {
            self.pool[tail + 1 + offset as usize] = slot;
            self.lens[t] = len + 1;
        }
    }

    /// [`Postings::push`] to a term that has no list yet. Out of line, as is
    /// `push_to_new_block`: the ic0 host (wasmi) charges all the instructions of a function's
    /// body on entry, whichever branches are then taken, and most pushes only store the slot.
    #[inline(never)]
    fn push_to_new_list(&mut self, t: usize, slot: u32) {
        self.heads.resize(t + 1, NO_BLOCK);
        self.tails.resize(t + 1, NO_BLOCK);
        self.lens.resize(t + 1, 0);
        self.push_to_new_block(t, 0, slot);
    }

    /// Appends block number `k` to list `t` and `slot` to it, unless the list ends with it.
    #[inline(never)]
    fn push_to_new_block(&mut self, t: usize, k: u32, slot: u32) {
        if let Some(last) = self.last(t) {
            if last == slot {
                return;
            }
        }
        let block = self.pool.len() as u32;
        self.pool.push(NO_BLOCK);
        self.pool
            .resize(self.pool.len() + capacity(k) as usize, NO_BLOCK);
        match self.lens[t] {
            0 => self.heads[t] = block,
            _ => self.pool[self.tails[t] as usize] = block,
        }
        self.tails[t] = block;
        self.pool[block as usize + 1] = slot;
        self.lens[t] += 1;
    }

    /// The last slot of list `t`.
    fn last(&self, t: usize) -> Option<u32> {
        let len = *self.lens.get(t)?;
        let (_, offset) = place(len.checked_sub(1)?);
        self.pool
            .get((self.tails[t] + 1 + offset) as usize)
            .copied()
    }

    /// A cursor over `term`'s list.
    pub fn cursor(&self, term: u32) -> Cursor<'_> {
        Cursor {
            pool: &self.pool,
            block: self.heads.get(term as usize).copied().unwrap_or(NO_BLOCK),
            k: 0,
            offset: 0,
            left: self.len(term),
        }
    }

    /// Whether every chain stays within the pool: checked on a loaded snapshot.
    pub(super) fn is_consistent(&self) -> bool {
        let terms = self.lens.len();
        let pool = self.pool.len();
        let shaped = self.heads.len() == terms && self.tails.len() == terms;
        shaped
            && (0..terms).all(|t| {
                let last = match self.lens[t] {
                    0 => return true,
                    n => place(n - 1),
                };
                let fits = |block: u32, k: u32| block as usize + 1 + capacity(k) as usize <= pool;
                fits(self.heads[t], 0) && fits(self.tails[t], last.0)
            })
    }
}

/// Walks one posting list forward, skipping whole blocks when asked for a larger slot.
pub struct Cursor<'a> {
    pool: &'a [u32],
    block: u32,
    /// The block's number in its chain, which gives its capacity.
    k: u32,
    /// Position within the block.
    offset: u32,
    /// Slots from the current position to the end of the list.
    left: u32,
}

impl Cursor<'_> {
    /// The first slot at or after `target` (the cursor stays on it), or `None` at the end.
    pub fn seek(&mut self, target: u32) -> Option<u32> {
        loop {
            let here = self.rest_of_block()?;
            let &last = here.last()?;
            if last < target {
                self.next_block();
                continue;
            }
            // The slot sought is usually a few places on: gallop, then search what is left.
            let mut reach = 1;
            while reach < here.len() && here[reach - 1] < target {
                reach *= 2;
            }
            let from = reach / 2;
            let upto = reach.min(here.len());
            let i = from + here[from..upto].partition_point(|&slot| slot < target);
            let slot = here[i];
            self.offset += i as u32;
            self.left -= i as u32;
            return Some(slot);
        }
    }

    /// The slots from the position to the end of the current block.
    fn rest_of_block(&self) -> Option<&[u32]> {
        if self.left == 0 {
            return None;
        }
        let in_block = (capacity(self.k) - self.offset).min(self.left);
        let start = self.block as usize + 1 + self.offset as usize;
        self.pool.get(start..start + in_block as usize)
    }

    /// Moves past the current slot.
    fn step(&mut self) {
        self.offset += 1;
        self.left -= 1;
        if self.offset == capacity(self.k) {
            self.next_block();
        }
    }

    fn next_block(&mut self) {
        self.left -= (capacity(self.k) - self.offset).min(self.left);
        self.block = self
            .pool
            .get(self.block as usize)
            .copied()
            .unwrap_or(NO_BLOCK);
        self.k += 1;
        self.offset = 0;
    }
}

impl Iterator for Cursor<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let slot = self.seek(0)?;
        self.step();
        Some(slot)
    }
}

/// Calls `found` with every slot in all of `cursors`' lists, in increasing order. The first
/// cursor leads and the others seek to it, so the work follows the shortest list when it is
/// first.
pub fn intersect(cursors: &mut [Cursor<'_>], mut found: impl FnMut(u32)) {
    let Some((lead, others)) = cursors.split_first_mut() else {
        return;
    };
    let mut target = 0;
    'next: while let Some(candidate) = lead.seek(target) {
        for other in others.iter_mut() {
            match other.seek(candidate) {
                None => return,
                Some(slot) if slot > candidate => {
                    target = slot;
                    continue 'next;
                }
                Some(_) => {}
            }
        }
        found(candidate);
        match candidate.checked_add(1) {
            Some(next) => target = next,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests;
