//! The test ledger beside the market (`mkt deploy --ledger`): installing it, naming it in the
//! market's init argument, and `mkt ledger` — minting, approving the market and reading
//! balances — as the everyday ICRC-1/ICRC-2 calls a paying market needs.

use crate::candid_text::Interface;
use crate::commands::{self, Arg, Target};
use crate::state::{self, State};
use crate::Output;
use candid::types::value::IDLField;
use candid::types::Label;
use candid::{IDLArgs, IDLValue, Principal};
use ic0_host::Host;
use std::path::Path;

/// The name `--canister` and `mkt info` give the ledger.
pub const NAME: &str = "ledger";
/// The token's symbol and transfer fee (ICP's fee, in base units of 8 decimals).
pub const SYMBOL: &str = "TEST";
pub const FEE: u64 = 10_000;

/// Installs the test ledger from `wasm` with the runner's controller as its minting account
/// and `mint` (`PRINCIPAL=AMOUNT` texts) as its initial balances; returns its id.
pub fn install(
    host: &mut Host,
    wasm: &Path,
    controllers: &[Principal],
    mint: &[String],
) -> Result<Principal, String> {
    let module = state::read_wasm(wasm)?;
    let interface = Interface::from_module(&module, &wasm.display().to_string())?;
    let minter = commands::parse_caller(host, "controller")?;
    let balances = mint
        .iter()
        .map(|text| initial_balance(text))
        .collect::<Result<Vec<_>, _>>()?
        .join("; ");
    let init = format!(
        "(record {{ token_name = \"Local test token\"; token_symbol = \"{SYMBOL}\"; \
         decimals = opt 8; transfer_fee = {FEE}; \
         minting_account = record {{ owner = principal \"{minter}\" }}; \
         initial_balances = vec {{ {balances} }} }})"
    );
    let arg = interface.encode_init(Some(&init))?;
    host.install_canister(&module, &arg, controllers)
        .map_err(|reject| format!("the ledger's install failed: {reject}"))
}

/// `PRINCIPAL=AMOUNT` as an initial balance's Candid text.
fn initial_balance(text: &str) -> Result<String, String> {
    let (owner, amount) = text
        .split_once('=')
        .ok_or_else(|| format!("--mint '{text}': give PRINCIPAL=AMOUNT"))?;
    let owner = principal(owner, "--mint")?;
    let amount: u128 = amount
        .parse()
        .map_err(|e| format!("--mint '{text}': the amount is not a number of base units: {e}"))?;
    Ok(format!(
        "record {{ record {{ owner = principal \"{owner}\" }}; {amount} : nat }}"
    ))
}

/// The market's init argument (Candid text, or none) with `ledger = opt principal "<id>"` added.
pub fn name_in_init(argument: Option<&str>, ledger: Principal) -> Result<String, String> {
    let mut args = match argument {
        Some(text) => candid_parser::parse_idl_args(text)
            .map_err(|e| format!("--argument is not valid Candid text: {e}"))?,
        None => IDLArgs::new(&[]),
    };
    let field = IDLField {
        id: Label::Named(NAME.into()),
        val: IDLValue::Opt(Box::new(IDLValue::Principal(ledger))),
    };
    match args.args.first_mut() {
        None | Some(IDLValue::Null | IDLValue::None) => {
            args.args = vec![IDLValue::Opt(Box::new(IDLValue::Record(vec![field])))]
        }
        Some(IDLValue::Opt(inner)) => match inner.as_mut() {
            IDLValue::Record(fields) => {
                let named = |f: &IDLField| f.id == Label::Named(NAME.into());
                if fields.iter().any(named) {
                    return Err(
                        "--ledger installs a ledger and names it: leave `ledger` out of --argument"
                            .into(),
                    );
                }
                fields.push(field);
            }
            _ => return Err("--argument with --ledger must be `(opt record { … })`".into()),
        },
        Some(_) => return Err("--argument with --ledger must be `(opt record { … })`".into()),
    }
    Ok(args.to_string())
}

/// Checks a principal's text, so a typo is refused here rather than as a Candid type error.
fn principal(text: &str, what: &str) -> Result<Principal, String> {
    Principal::from_text(text).map_err(|e| format!("{what} '{text}' is not a principal: {e}"))
}

fn call(
    dir: &Path,
    method: &str,
    text: String,
    caller: &str,
    output: Output,
) -> Result<(), String> {
    let target = Target {
        canister: NAME,
        did: None,
    };
    commands::call_on(dir, target, method, Arg::Text(text), None, caller, output)
}

/// Mints `amount` base units to `to`: a transfer from the minting account (the controller).
pub fn mint(dir: &Path, to: &str, amount: u128, output: Output) -> Result<(), String> {
    let to = principal(to, "--to")?;
    let text =
        format!("(record {{ to = record {{ owner = principal \"{to}\" }}; amount = {amount} }})");
    call(dir, "icrc1_transfer", text, "controller", output)
}

/// Lets the market pull up to `amount` from `caller`'s account (`icrc2_approve`; the approval
/// itself costs `caller` the fee).
pub fn approve(dir: &Path, caller: &str, amount: u128, output: Output) -> Result<(), String> {
    let market = State::load(dir)?.host.canister_id();
    let text = format!(
        "(record {{ spender = record {{ owner = principal \"{market}\" }}; amount = {amount} }})"
    );
    call(dir, "icrc2_approve", text, caller, output)
}

/// The balance of `owner`'s default account.
pub fn balance(dir: &Path, owner: &str, output: Output) -> Result<(), String> {
    let owner = principal(owner, "the owner")?;
    let text = format!("(record {{ owner = principal \"{owner}\" }})");
    call(dir, "icrc1_balance_of", text, "anonymous", output)
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
