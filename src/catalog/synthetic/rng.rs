//! The random numbers behind every choice: a seeded splitmix64 generator and its draws.

/// splitmix64: tiny, fast and well mixed, which is all test data needs.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn for_provider(seed: u64, index: u32) -> Self {
        let base = Rng(seed).next();
        Rng(base ^ u64::from(index).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub(super) fn next(&mut self) -> u64 {
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

    pub(super) fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    pub(super) fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    pub(super) fn weighted<'a, T>(&mut self, items: &'a [(u64, T)]) -> &'a T {
        let mut roll = self.below(items.iter().map(|(weight, _)| weight).sum());
        let mut index = 0;
        while roll >= items[index].0 {
            roll -= items[index].0;
            index += 1;
        }
        &items[index].1
    }

    /// Some of `items` in their order, each kept with probability `chance`%, at least one.
    pub(super) fn some(&mut self, items: &[&str], chance: u64) -> String {
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
