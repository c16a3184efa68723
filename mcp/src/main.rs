//! `mkt-mcp`: an MCP server on stdio with the provisioning tools `provision_server` and
//! `check_provision_status` and the market tools (`search_offerings`,
//! `products`, `request_offerset`, `accept_offer`, `lease_status`, `end_lease`, `extend_lease`,
//! `cancel_execution`, `lease_by_sku`, `my_leases`), forwarded to the marketplace canister: on
//! a replica through ic-agent with the user's identity, or in the local runner's state
//! directory.
//!
//! stdout carries the protocol (newline-delimited JSON-RPC 2.0); everything else goes to stderr.

mod backend;
mod market;
mod tools;

use backend::Backend;
use clap::Parser;
use rmcp::ServiceExt;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mkt-mcp",
    about = "MCP server (stdio): the market (search, offersets, leases) and provisioning on the marketplace canister",
    version
)]
struct Cli {
    /// The local runner's state directory (`mkt --state`): calls run in-process on it.
    #[arg(long, conflicts_with_all = ["url", "canister", "identity"], required_unless_present = "url")]
    local: Option<PathBuf>,
    /// With --local: who calls, a principal, `anonymous`, or `controller` (the installer).
    #[arg(long, default_value = "controller", requires = "local")]
    caller: String,
    /// The replica or boundary node to call, e.g. https://icp-api.io or http://127.0.0.1:4943
    /// (plain http: a local replica, whose root key is fetched).
    #[arg(long, requires = "canister")]
    url: Option<String>,
    /// The marketplace canister's id.
    #[arg(long, requires = "url")]
    canister: Option<String>,
    /// The user's identity: a PEM file with a Secp256k1 or Ed25519 private key, as dfx keeps
    /// them (~/.config/dfx/identity/NAME/identity.pem). Anonymous without one.
    #[arg(long, requires = "url")]
    identity: Option<PathBuf>,
    /// Where the lessee key accept_offer gives (X25519, made on first use, owner-only) is kept:
    /// `lessee.key` in this directory. Default: DIR/mkt-mcp with --local, else
    /// $XDG_CONFIG_HOME/mkt-mcp (~/.config/mkt-mcp).
    #[arg(long)]
    keys: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mkt-mcp: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let keys = match cli.keys {
        Some(dir) => dir,
        None => market::keys::default_dir(cli.local.as_deref())?,
    };
    let backend = match (cli.local, cli.url, cli.canister) {
        (Some(dir), _, _) => Backend::local(dir, cli.caller)?,
        (None, Some(url), Some(canister)) => {
            Backend::agent(&url, &canister, cli.identity.as_deref()).await?
        }
        _ => return Err("give --local DIR, or --url URL --canister ID".into()),
    };
    let service = tools::ProvisionTools::new(backend, keys)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP initialization failed: {e}"))?;
    service
        .waiting()
        .await
        .map_err(|e| format!("the MCP service stopped: {e}"))?;
    Ok(())
}
