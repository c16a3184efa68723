//! Amounts written into cells the ways providers write them: prices, clocks, memory, disk space.

use super::rng::Rng;

/// Hundredths as a price, sometimes without a zero fraction ("100" as well as "100.00").
pub(super) fn money(rng: &mut Rng, hundredths: u64) -> String {
    if hundredths.is_multiple_of(100) && rng.percent(50) {
        (hundredths / 100).to_string()
    } else {
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// A clock in MHz, written in either unit as providers do: "2.45 GHz" or "2450 MHz".
pub(super) fn speed(rng: &mut Rng, mhz: u64) -> String {
    if rng.percent(50) {
        format!("{mhz} MHz")
    } else if mhz.is_multiple_of(100) {
        format!("{}.{} GHz", mhz / 1000, mhz % 1000 / 100)
    } else {
        format!("{}.{:02} GHz", mhz / 1000, mhz % 1000 / 10)
    }
}

/// Memory in mixed units: "16 GB", "16384 MB", "1 TB".
pub(super) fn memory(rng: &mut Rng, gb: u64) -> String {
    if gb.is_multiple_of(1024) && rng.percent(50) {
        format!("{} TB", gb / 1024)
    } else if rng.percent(35) {
        format!("{} MB", gb * 1024)
    } else {
        format!("{gb} GB")
    }
}

/// Disk space: "0", "480 GB", "4 TB".
pub(super) fn disk(rng: &mut Rng, gb: u64) -> String {
    if gb == 0 {
        "0".into()
    } else if gb.is_multiple_of(1000) && rng.percent(60) {
        format!("{} TB", gb / 1000)
    } else {
        format!("{gb} GB")
    }
}
