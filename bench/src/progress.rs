//! Progress bars on stderr for the long loading phases, drawn only when stderr is a terminal:
//! a piped or captured run (CI, `bench > table.txt 2> log`) gets no escape codes, and the table
//! on stdout is never interleaved with a bar (each bar is cleared before figures are printed).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting `len` steps of `what` (e.g. "importing providers").
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:<32} [{bar:32.cyan/blue}] {human_pos}/{human_len} ({elapsed}, eta {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
