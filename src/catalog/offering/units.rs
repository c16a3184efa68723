//! Amounts with units (memory, disks, traffic, CPU speed, uplink), converted to whole base units.

use super::cell_parsers::{optional, refused, too_large};

/// Memory in MB; RAM is sold in binary units whatever the label, so "16 GB" is 16384 MB.
pub(super) const MEMORY_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("MB", 1),
    ("MiB", 1),
    ("GB", 1 << 10),
    ("GiB", 1 << 10),
    ("TB", 1 << 20),
    ("TiB", 1 << 20),
];

/// Disks and traffic in GB; drives are sold in decimal units, so "2 TB" is 2000 GB.
pub(super) const DISK_UNITS: &[(&str, u64)] = &[("", 1), ("GB", 1), ("TB", 1000)];

const SPEED_UNITS: &[(&str, u64)] = &[("MHz", 1), ("GHz", 1000)];

pub(super) const UPLINK_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("mbit", 1),
    ("mbps", 1),
    ("mbit/s", 1),
    ("gbit", 1000),
    ("gbps", 1000),
    ("gbit/s", 1000),
];

/// A decimal number with a unit from `units` (matched case-insensitively, space optional), in
/// the table's base unit, rounded to the nearest whole one: "1.5 GB" → 1536 (MB).
pub(super) fn quantity(cell: &str, units: &[(&str, u64)]) -> Result<u64, String> {
    let cell = cell.trim();
    let split = cell
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(cell.len());
    let (number, unit) = (&cell[..split], cell[split..].trim());
    let Some(&(_, factor)) = units
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
    else {
        return Err(no_quantity(cell, units));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || number.ends_with('.') {
        return Err(no_quantity(cell, units));
    }
    // Exact: whole × factor plus the rounded fraction × factor. At most 9 decimals times a
    // factor of at most 2^20 fits a u64, and a whole part past u64::MAX is too large anyway
    // (u64 rather than u128 arithmetic, whose division alone costs thousands of instructions on
    // wasm).
    let fraction = &fraction[..fraction.len().min(9)];
    let scale = 10u64.pow(fraction.len() as u32);
    let whole: u64 = whole.parse().map_err(|_| too_large(cell))?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| too_large(cell))?
    };
    whole
        .checked_mul(factor)
        .and_then(|whole| whole.checked_add((fraction * factor + scale / 2) / scale))
        .ok_or_else(|| too_large(cell))
}

#[cold]
#[inline(never)]
fn no_quantity(cell: &str, units: &[(&str, u64)]) -> String {
    let names: Vec<&str> = units
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| !name.is_empty())
        .collect();
    let before = format!(
        "expected a number with a unit ({}), found ",
        names.join(", ")
    );
    refused(&before, cell, "")
}

/// The "Processor Speed" cell in MHz: "2.6 GHz" → 2600; `None` when blank.
pub fn cpu_mhz(cell: &str) -> Result<Option<u32>, String> {
    optional(cell, |s| quantity(s, SPEED_UNITS).and_then(to_u32))
}

pub(super) fn to_u32(value: u64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| value_too_large(value))
}

#[cold]
#[inline(never)]
fn value_too_large(value: u64) -> String {
    format!("{value} is too large")
}
