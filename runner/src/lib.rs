//! The local runner as a library: the marketplace wasm on the embedded ic0 host, its state kept
//! in a directory between invocations. `mkt` (`main.rs`) is its command line; other tools (the
//! MCP server `mkt-mcp`) call the canister in a state directory with [`call_bytes`].

/// `println!` that stops quietly when stdout is closed (`mkt call status | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

pub mod candid_text;
pub mod commands;
pub mod duration;
pub mod json;
pub mod ledger;
pub mod lessee;
pub mod pretty;
pub mod progress;
pub mod provider;
pub mod serve;
pub mod state;

use clap::ValueEnum;
use commands::CallKind;
use state::State;
use std::path::Path;

#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    /// Candid text.
    Idl,
    /// JSON (see the runner's json module for the mapping).
    Json,
    /// The raw reply bytes in hex.
    Hex,
}

/// Calls `method` of the canister in `dir` with an argument already encoded as Candid, and
/// returns the reply's bytes. As `mkt call`: an update runs the work it left behind and saves the
/// state; a query saves nothing. What the canister logs goes to stderr, never to stdout. A
/// reject (a trap included) is the error, prefixed with the method.
pub fn call_bytes(
    dir: &Path,
    method: &str,
    arg: &[u8],
    kind: CallKind,
    caller: &str,
) -> Result<Vec<u8>, String> {
    let mut state = State::load(dir)?;
    let caller = commands::parse_caller(&state.host, caller)?;
    let result = match kind {
        CallKind::Query => {
            let result = state.host.query(caller, method, arg);
            state.print_log();
            result
        }
        CallKind::Update => {
            let result = state.host.update(caller, method, arg);
            state.host.tick();
            state.finish()?;
            result
        }
    };
    result.map_err(|reject| format!("{method}: {reject}"))
}
