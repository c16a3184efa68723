//! The bounds of the text fields callers send, checked by one rule; each area wraps the
//! message in its own error type.

/// What a text field may hold.
#[derive(Clone, Copy, Debug)]
pub struct TextBounds {
    pub max_bytes: usize,
    pub allow_empty: bool,
    /// Names, ids and URLs must not carry control characters (they end up in logs, headers
    /// and Ironic requests); free-form reasons may.
    pub allow_control: bool,
}

/// Checks `text` (the field `what`) against `bounds`; the message names the field and the rule.
pub fn check(what: &str, text: &str, bounds: TextBounds) -> Result<(), String> {
    let min = u8::from(!bounds.allow_empty);
    let rule = if bounds.allow_control {
        ""
    } else {
        " without control characters"
    };
    let max = bounds.max_bytes;
    if (text.is_empty() && !bounds.allow_empty) || text.len() > max {
        return Err(format!(
            "{what} must be {min} to {max} bytes{rule}, got {}",
            text.len()
        ));
    }
    if !bounds.allow_control && text.chars().any(char::is_control) {
        return Err(format!(
            "{what} must be {min} to {max} bytes{rule}, got a control character"
        ));
    }
    Ok(())
}

/// `text` as `N` bytes written in hex (either case), or `None`: exactly `2 * N` digits, no sign,
/// prefix or space (`u8::from_str_radix` would take "+f").
pub fn hex_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    fn nibble(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            b'A'..=b'F' => Some(digit - b'A' + 10),
            _ => None,
        }
    }
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
