//! Parsers of single cells (texts, lists, choices, codes, counts, prices, coordinates).

use super::MAX_KEY_BYTES;
use std::borrow::Cow;

/// At most this many characters of a bad cell are quoted back in its error.
const SHOWN_CHARS: usize = 40;

/// `cell` quoted for an error message, cut to [`SHOWN_CHARS`].
fn shown(cell: &str) -> String {
    match cell.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{:?}…", &cell[..end]),
        None => format!("{cell:?}"),
    }
}

// The parsers below build their error messages in separate, cold functions: the ic0 host
// (wasmi) charges all the instructions of a function's body on entry, outside its loops,
// whichever branches are then taken, so formatting code inlined into a parser would cost as
// much as the parsing on every valid cell.

/// A message about `cell`: `before`, the cell quoted, `after`.
#[cold]
#[inline(never)]
pub(super) fn refused(before: &str, cell: &str, after: &str) -> String {
    format!("{before}{}{after}", shown(cell))
}

pub(super) fn too_large(cell: &str) -> String {
    refused("", cell, " is too large")
}

pub(super) fn required(cell: &str) -> Result<&str, String> {
    match cell.trim() {
        "" => Err("required".into()),
        trimmed => Ok(trimmed),
    }
}

/// Keys are compared byte for byte, so invisible differences (spaces, control and format
/// characters) are refused rather than kept as distinct keys, and keys must be NFC.
pub(super) fn offering_key(cell: &str) -> Result<(), String> {
    required(cell)?;
    if cell.len() > MAX_KEY_BYTES {
        Err(long_key(cell.len()))
    } else if cell.trim() != cell {
        Err("offering key has surrounding whitespace".into())
    } else if cell.chars().any(char::is_control) {
        Err("offering key has control characters".into())
    } else if cell.chars().any(is_format) {
        Err(INVISIBLE.into())
    } else if nfc_key(cell) != cell {
        Err("offering key is not in NFC (catalog import makes keys NFC)".into())
    } else {
        Ok(())
    }
}

const INVISIBLE: &str = "offering key has invisible characters (Unicode format characters, \
    such as U+200B zero width space, U+202E right-to-left override or U+FEFF)";

/// Unicode general category Cf: zero width characters, direction marks, overrides and
/// isolates, the byte order mark, tags. They change how a key looks or not at all.
fn is_format(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory};
    !c.is_ascii() && get_general_category(c) == GeneralCategory::Format
}

/// `key` in Unicode Normalization Form C: what import stores and lookups search for.
pub fn nfc_key(key: &str) -> Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if is_nfc_quick(key.chars()) == IsNormalized::Yes {
        return Cow::Borrowed(key);
    }
    let nfc: String = key.nfc().collect();
    match nfc == key {
        true => Cow::Borrowed(key),
        false => Cow::Owned(nfc),
    }
}

#[cold]
#[inline(never)]
fn long_key(len: usize) -> String {
    format!("offering key of {len} bytes, at most {MAX_KEY_BYTES}")
}

/// `parse(cell)`, or `default` when the cell is blank.
pub(super) fn or_default<T>(
    cell: &str,
    default: T,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    if cell.trim().is_empty() {
        Ok(default)
    } else {
        parse(cell)
    }
}

/// `parse(cell)`, or `None` when the cell is blank.
pub(super) fn optional<T>(
    cell: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    or_default(cell, None, |cell| parse(cell).map(Some))
}

/// A text cell, trimmed; `None` when blank.
pub fn text(cell: &str) -> Option<&str> {
    Some(cell.trim()).filter(|s| !s.is_empty())
}

/// A comma-separated cell's items, trimmed, empty ones dropped.
pub fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// One of `options` by name, case-insensitively.
pub(super) fn choice<T: Copy>(cell: &str, what: &str, options: &[(&str, T)]) -> Result<T, String> {
    let cell = cell.trim();
    match options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(cell))
    {
        Some(&(_, value)) => Ok(value),
        None => Err(unknown(cell, what, options)),
    }
}

#[cold]
#[inline(never)]
fn unknown<T>(cell: &str, what: &str, options: &[(&str, T)]) -> String {
    let names: Vec<&str> = options.iter().map(|&(name, _)| name).collect();
    let expected = format!("; expected one of: {}", names.join(", "));
    refused(&format!("unknown {what} "), cell, &expected)
}

/// An ISO code of `N` ASCII letters, upper-cased.
pub(super) fn letters<const N: usize>(cell: &str, what: &str) -> Result<[u8; N], String> {
    let cell = cell.trim();
    <[u8; N]>::try_from(cell.as_bytes())
        .ok()
        .filter(|code| code.iter().all(u8::is_ascii_alphabetic))
        .map(|code| code.map(|b| b.to_ascii_uppercase()))
        .ok_or_else(|| not_letters(cell, what, N))
}

#[cold]
#[inline(never)]
fn not_letters(cell: &str, what: &str, n: usize) -> String {
    refused(
        &format!("expected a {what} of {n} letters, found "),
        cell,
        "",
    )
}

/// A count: a whole non-negative number.
pub(super) fn count(cell: &str) -> Result<u32, String> {
    let cell = cell.trim();
    if !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused("expected a whole number, found ", cell, ""));
    }
    cell.parse().map_err(|_| too_large(cell))
}

/// A price with at most two decimals, in hundredths: "99.99" → 9999, "100" → 10000.
pub(super) fn money(cell: &str) -> Result<u64, String> {
    let cell = cell.trim();
    if cell.starts_with('-') {
        return Err(refused("negative amount ", cell, ""));
    }
    let (whole, cents) = cell.split_once('.').unwrap_or((cell, "00"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(cents) {
        return Err(refused(
            "expected an amount such as 99.99, found ",
            cell,
            "",
        ));
    }
    if cents.len() > 2 {
        return Err(refused("more than 2 decimals in ", cell, ""));
    }
    // One decimal means tenths: "9.5" is 950 hundredths.
    let cents_scale = if cents.len() == 1 { 10 } else { 1 };
    whole
        .parse::<u64>()
        .ok()
        .and_then(|whole| whole.checked_mul(100))
        .zip(cents.parse::<u64>().ok())
        .and_then(|(whole, cents)| whole.checked_add(cents * cents_scale))
        .ok_or_else(|| refused("amount ", cell, " is too large"))
}

/// "latitude,longitude" in degrees, each within its range.
pub(super) fn coordinates(cell: &str) -> Result<Option<(f64, f64)>, String> {
    optional(cell, |cell| {
        let bad = || {
            refused(
                "expected \"latitude,longitude\" in degrees, found ",
                cell.trim(),
                "",
            )
        };
        let (lat, lon) = cell.split_once(',').ok_or_else(bad)?;
        let degrees = |s: &str, limit: f64| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| (-limit..=limit).contains(v))
        };
        degrees(lat, 90.0).zip(degrees(lon, 180.0)).ok_or_else(bad)
    })
}
