//! Progress bars on stderr for long work (chunked catalog uploads), drawn only when stderr is a
//! terminal: piped or captured stderr (scripts, tests) never sees an escape code.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting `total` bytes, labelled `what`; hidden unless stderr is a terminal.
pub fn bytes(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:32.cyan/blue}] {binary_bytes}/{binary_total_bytes} ({eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// stderr when it is a terminal, else nothing at all.
fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
