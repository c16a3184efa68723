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

#[cfg(test)]
mod tests;
