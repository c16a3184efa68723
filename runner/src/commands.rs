//! What each `mkt` command does: load the canister, run it, print, save.

use crate::candid_text::Interface;
use crate::state::{self, State};
use crate::{duration, json, pretty, Output};
use candid::Principal;
use ic0_host::Host;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The market's interface when `--candid` does not name one.
pub const MARKET_DID: &str = "candid/marketplace.did";

/// The argument of a call: Candid text typed with the .did, or raw bytes in hex.
pub enum Arg {
    Text(String),
    Hex(String),
}

#[derive(Clone, Copy)]
pub enum CallKind {
    Query,
    Update,
}

/// A test ledger to deploy beside the market: its module and the initial balances
/// (`PRINCIPAL=AMOUNT`).
pub struct LedgerDeploy<'a> {
    pub wasm: &'a Path,
    pub mint: &'a [String],
}

/// Installs the canister afresh in `dir`. Its controllers are the runner's own (what
/// `--caller controller` acts as) and `controllers` (principals' text), e.g. the identity dfx or
/// an agent uses against `mkt serve`. With `ledger` (a test ledger's wasm), the ledger is
/// installed first, beside it, and the market's init argument names it: a paying market.
pub fn deploy(
    dir: &Path,
    did: &Path,
    wasm: &Path,
    argument: Option<&str>,
    force: bool,
    controllers: &[String],
    ledger: Option<&LedgerDeploy>,
) -> Result<(), String> {
    let mut extra = vec![];
    for text in controllers {
        extra.push(Principal::from_text(text).map_err(|e| format!("--controller {text}: {e}"))?);
    }
    if let Some(url) = crate::serve::serving(dir) {
        return Err(format!(
            "{} is being served by mkt serve at {url}: stop the server first",
            dir.display()
        ));
    }
    if State::exists(dir) && !force {
        return Err(format!(
            "{} already holds a canister: use `mkt upgrade`, or `mkt deploy --force` to replace it",
            dir.display()
        ));
    }
    let wasm = state::read_wasm(wasm)?;
    let interface = Interface::load(did)?;
    // Encoded now, so a bad argument is refused before anything is installed.
    let arg = interface.encode_init(argument)?;
    let mut state = State::fresh(dir);
    let mut all = state.host.controllers();
    all.extend(
        extra
            .into_iter()
            .filter(|p| !all.contains(p))
            .collect::<Vec<_>>(),
    );
    state.host.set_controllers(&all);
    state.host.set_time(wall_clock_nanos());
    let mut names = BTreeMap::new();
    let arg = match ledger {
        None => arg,
        Some(ledger) => {
            let id = crate::ledger::install(&mut state.host, ledger.wasm, &all, ledger.mint)?;
            names.insert(crate::ledger::NAME.to_string(), id);
            let argument = crate::ledger::name_in_init(argument, id)?;
            interface.encode_init(Some(&argument))?
        }
    };
    let installed = state.host.install(&wasm, &arg);
    if let Err(reject) = installed {
        state.print_log();
        return Err(format!("install failed: {reject}"));
    }
    // What the install left queued (the market asks its ledger to describe itself) runs now.
    state.host.tick();
    state.finish()?;
    state.set_names(&names)?;
    say!(
        "deployed canister {} at {} into {}",
        state.host.canister_id(),
        duration::rfc3339(state.host.time()),
        dir.display()
    );
    for (name, id) in &names {
        say!("{name} canister {id} beside it (`mkt call --canister {name} …`)");
    }
    Ok(())
}

pub fn upgrade(dir: &Path, did: &Path, wasm: &Path, argument: Option<&str>) -> Result<(), String> {
    let mut state = State::load(dir)?;
    let wasm = state::read_wasm(wasm)?;
    let arg = Interface::load(did)?.encode_init(argument)?;
    if let Err(reject) = state.host.upgrade(&wasm, &arg) {
        state.print_log(); // the host rolled the canister back: nothing to save
        return Err(format!("upgrade failed: {reject}"));
    }
    state.finish()?;
    say!(
        "upgraded canister {} ({} instructions)",
        state.host.canister_id(),
        state.host.last_instructions()
    );
    Ok(())
}

/// Calls the market's `method` and prints the reply (see [`call_on`]).
pub fn call(
    dir: &Path,
    did: &Path,
    method: &str,
    arg: Arg,
    kind: Option<CallKind>,
    caller: &str,
    output: Output,
) -> Result<(), String> {
    let target = Target {
        canister: state::MARKET,
        did: Some(did),
    };
    call_on(dir, target, method, arg, kind, caller, output)
}

/// Which canister a call goes to, and the interface that types it.
pub struct Target<'a> {
    /// `market`, a name given at deploy (`ledger`), or a hosted canister's id.
    pub canister: &'a str,
    /// The interface; `None`: the market's default .did for the market, a canister's own
    /// `candid:service` metadata for the others.
    pub did: Option<&'a Path>,
}

/// Calls `method` of the target canister and prints the reply; a query's changes are discarded,
/// so only updates save.
pub fn call_on(
    dir: &Path,
    target: Target,
    method: &str,
    arg: Arg,
    kind: Option<CallKind>,
    caller: &str,
    output: Output,
) -> Result<(), String> {
    let mut state = State::load(dir)?;
    let canister = state.canister(target.canister)?;
    let interface = match target.did {
        Some(did) => Interface::load(did)?,
        None if canister == state.host.canister_id() => Interface::load(Path::new(MARKET_DID))?,
        None => {
            let module = state
                .host
                .with_canister(canister, |host| host.module().map(<[u8]>::to_vec))
                .map_err(|reject| reject.to_string())?
                .ok_or_else(|| format!("canister {canister} has no module"))?;
            Interface::from_module(&module, &format!("canister {}", target.canister))?
        }
    };
    let func = interface.method(method)?;
    let kind = kind.unwrap_or(if func.is_query() {
        CallKind::Query
    } else {
        CallKind::Update
    });
    let arg = match arg {
        Arg::Hex(hex) => {
            hex::decode(hex.trim()).map_err(|e| format!("--arg-hex is not hex: {e}"))?
        }
        Arg::Text(text) => interface.encode_call(method, &text)?,
    };
    let caller = parse_caller(&state.host, caller)?;
    let result = match kind {
        CallKind::Query => {
            let result = state.host.query_on(canister, caller, method, &arg);
            state.print_log();
            result
        }
        CallKind::Update => {
            let result = state.host.update_on(canister, caller, method, &arg);
            // Work the message left behind (cleanups, calls it made without awaiting) runs
            // now, as the IC would run it in the next rounds; only an idle canister is saved.
            state.host.tick();
            state.finish()?;
            result
        }
    };
    let reply = result.map_err(|reject| reject.to_string())?;
    print_reply(&interface, method, &reply, output)
}

/// Moves time forward, running timers as they fall due.
pub fn advance_time(dir: &Path, duration: &str) -> Result<(), String> {
    let by = duration::parse(duration)?;
    if let Some(url) = crate::serve::serving(dir) {
        let now = crate::serve::advance_time(&url, by)?;
        say!(
            "time {} (+{duration}) on mkt serve at {url}",
            duration::rfc3339(now)
        );
        return Ok(());
    }
    let mut state = State::load(dir)?;
    let steps = state.host.advance_time_through_timers(by);
    state.finish()?;
    say!(
        "time {} (+{duration}), {steps} steps ran",
        duration::rfc3339(state.host.time())
    );
    Ok(())
}

/// Prints the canister's time in nanoseconds, a bare number for shell arithmetic.
pub fn now(dir: &Path) -> Result<(), String> {
    let state = State::load(dir)?;
    say!("{}", state.host.time());
    Ok(())
}

/// Prints the canister's id, controllers, time, cycles, memory and timer: aligned lines, or
/// with `json` one object for scripts.
pub fn info(dir: &Path, json: bool) -> Result<(), String> {
    let state = State::load(dir)?;
    if json {
        let object = info_json(&state)?;
        say!(
            "{}",
            serde_json::to_string_pretty(&object).map_err(|e| e.to_string())?
        );
    } else {
        print_info(&state)?;
    }
    Ok(())
}

/// `mkt info --json`. Integers follow the `--output json` mapping: JSON numbers up to 2^53,
/// decimal strings beyond (nanosecond times, cycles); `timer_ns` and `timer` are null when no
/// timer is set.
fn info_json(state: &State) -> Result<serde_json::Value, String> {
    let host = &state.host;
    let controllers: Vec<String> = host.controllers().iter().map(Principal::to_text).collect();
    let integer = |n: u128| json::value(&candid::IDLValue::Number(n.to_string()));
    let (timer_ns, timer) = match host.timer_deadline() {
        0 => (serde_json::Value::Null, serde_json::Value::Null),
        at => (integer(at.into()), duration::rfc3339(at).into()),
    };
    let others: serde_json::Map<String, serde_json::Value> = State::names(&state.dir)?
        .into_iter()
        .map(|(name, id)| (name, id.to_text().into()))
        .collect();
    Ok(serde_json::json!({
        "state_dir": state.dir.display().to_string(),
        "canister_id": host.canister_id().to_text(),
        "controllers": controllers,
        "time": duration::rfc3339(host.time()),
        "time_ns": integer(host.time().into()),
        "cycles": integer(host.cycles()),
        "stable_memory_bytes": integer(host.stable_memory().len() as u128),
        "heap_bytes": integer(host.heap_bytes() as u128),
        "timer_ns": timer_ns,
        "timer": timer,
        "canisters": others,
    }))
}

/// `controller`, `anonymous` or a principal's text, as `--caller` takes it.
pub fn parse_caller(host: &Host, text: &str) -> Result<Principal, String> {
    match text {
        "controller" => Ok(host
            .controllers()
            .first()
            .copied()
            .unwrap_or_else(Host::default_controller)),
        "anonymous" => Ok(Principal::anonymous()),
        _ => Principal::from_text(text)
            .map_err(|e| format!("--caller '{text}' is not a principal: {e}")),
    }
}

/// Prints the reply on stdout in the chosen output, whatever it says. A reply that is the
/// `Err` case of a result variant is then the command's error: its shape on stdout stays the
/// same (`--json` prints `{"Err": …}`), and the caller exits non-zero with the error on stderr,
/// so a script can tell a refusal from a success.
pub(crate) fn print_reply(
    interface: &Interface,
    method: &str,
    reply: &[u8],
    output: Output,
) -> Result<(), String> {
    if let Output::Hex = output {
        say!("{}", hex::encode(reply));
        // Typed when the interface can, untyped otherwise; undecodable bytes are no refusal.
        let decoded = interface
            .decode_reply(method, reply)
            .or_else(|_| candid::IDLArgs::from_bytes(reply).map_err(|e| e.to_string()));
        return match decoded {
            Ok(args) => refusal(method, &args),
            Err(_) => Ok(()),
        };
    }
    let decoded = match interface.decode_reply(method, reply) {
        Ok(args) => args,
        Err(typed_error) => {
            // An interface out of step with the wasm: still show what came back.
            let untyped = candid::IDLArgs::from_bytes(reply).map_err(|_| typed_error.clone())?;
            eprintln!("warning: {typed_error}; showing the reply without the interface's types");
            untyped
        }
    };
    match output {
        Output::Json => say!(
            "{}",
            serde_json::to_string_pretty(&json::args(&decoded)).map_err(|e| e.to_string())?
        ),
        _ => say!("{}", pretty::args(&decoded)),
    }
    refusal(method, &decoded)
}

/// `Err` with the refusal when the reply is one value, a variant whose case is `Err` (a
/// `variant { Ok : …; Err : … }` result; untyped replies carry the label's hash, which matches
/// too); `Ok(())` for any other reply.
pub fn refusal(method: &str, reply: &candid::IDLArgs) -> Result<(), String> {
    match reply.args.as_slice() {
        [candid::IDLValue::Variant(case)] if case.0.id.get_id() == candid::idl_hash("Err") => {
            const MAX_CHARS: usize = 500;
            let text = crate::candid_text::one_line(&case.0.val.to_string());
            let shown: String = text.chars().take(MAX_CHARS).collect();
            let more = if shown.len() < text.len() {
                " … (the whole reply is on stdout)"
            } else {
                ""
            };
            Err(format!("{method} refused: {shown}{more}"))
        }
        _ => Ok(()),
    }
}

fn print_info(state: &State) -> Result<(), String> {
    let host = &state.host;
    let controllers: Vec<String> = host.controllers().iter().map(Principal::to_text).collect();
    let timer = match host.timer_deadline() {
        0 => "off".to_string(),
        at => duration::rfc3339(at),
    };
    say!("state dir      {}", state.dir.display());
    say!("canister id    {}", host.canister_id());
    say!("controllers    {}", controllers.join(", "));
    say!(
        "time           {} ({} ns)",
        duration::rfc3339(host.time()),
        host.time()
    );
    say!("cycles         {}", host.cycles());
    say!("stable memory  {} bytes", host.stable_memory().len());
    say!("heap           {} bytes", host.heap_bytes());
    say!("timer          {timer}");
    for (name, id) in State::names(&state.dir)? {
        say!("{name:<15}{id}");
    }
    Ok(())
}

fn wall_clock_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Calls `method` with a Candid text argument like `call`, but returns the reply's bytes for
/// the command to decode instead of printing them (`mkt lessee open`). A query saves nothing.
pub fn call_reply(
    dir: &Path,
    did: &Path,
    method: &str,
    arg: &str,
    caller: &str,
) -> Result<Vec<u8>, String> {
    let mut state = State::load(dir)?;
    let interface = Interface::load(did)?;
    let query = interface.method(method)?.is_query();
    let arg = interface.encode_call(method, arg)?;
    let caller = parse_caller(&state.host, caller)?;
    let result = if query {
        let result = state.host.query(caller, method, &arg);
        state.print_log();
        result
    } else {
        let result = state.host.update(caller, method, &arg);
        state.host.tick();
        state.finish()?;
        result
    };
    result.map_err(|reject| format!("{method}: {reject}"))
}
