//! Install: the configuration from the init argument, and the initial balances minted.

use crate::ops::{self, tokens};
use crate::state::Ledger;
use crate::types::{Config, InitArg, DEFAULT_PERMITTED_DRIFT_NANOS, DEFAULT_TX_WINDOW_NANOS};

/// Sets up a fresh ledger, or says why the argument is refused (the install then fails).
pub fn init(ledger: &mut Ledger, now: u64, arg: InitArg) -> Result<(), String> {
    if ledger.config().is_some() {
        return Err("the ledger is already initialised".into());
    }
    let transfer_fee =
        tokens(&arg.transfer_fee).ok_or("transfer_fee must be below 2^128".to_string())?;
    let config = Config {
        token_name: arg.token_name,
        token_symbol: arg.token_symbol,
        decimals: arg.decimals.unwrap_or(8),
        transfer_fee,
        minting_account: arg.minting_account,
        transaction_window_nanos: arg
            .transaction_window_nanos
            .unwrap_or(DEFAULT_TX_WINDOW_NANOS),
        permitted_drift_nanos: arg
            .permitted_drift_nanos
            .unwrap_or(DEFAULT_PERMITTED_DRIFT_NANOS),
        maintenance: false,
    };
    ledger.set_config(config);
    for (account, amount) in arg.initial_balances {
        if account == arg.minting_account {
            return Err("the minting account cannot hold an initial balance".into());
        }
        let amount = tokens(&amount).ok_or("an initial balance must be below 2^128".to_string())?;
        ops::mint_initial(ledger, now, account, amount)?;
    }
    Ok(())
}

/// Switches maintenance on or off (controllers only: the endpoint checks).
pub fn set_maintenance(ledger: &mut Ledger, on: bool) {
    let mut config = ledger.cfg().clone();
    config.maintenance = on;
    ledger.set_config(config);
}
