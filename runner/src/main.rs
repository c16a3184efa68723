//! `mkt`: the marketplace canister on the embedded ic0 host, living on in a state directory
//! between invocations the way a canister lives on between messages.

use clap::{Parser, Subcommand};
use runner::candid_text::one_line;
use runner::commands::{self, Arg, CallKind};
use runner::{duration, ledger, lessee, provider, serve, Output};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mkt",
    about = "Run the marketplace canister locally, state kept in a directory",
    version
)]
struct Cli {
    /// Directory holding the canister's state between invocations.
    #[arg(long, global = true, env = "MKT_STATE", default_value = ".mkt")]
    state: PathBuf,
    /// The Candid interface that types arguments and replies (default: candid/marketplace.did
    /// for the market; for another canister, the interface its module declares).
    #[arg(long, global = true)]
    candid: Option<PathBuf>,
    /// The canister module (plain or gzipped wasm), built by scripts/build.sh.
    #[arg(long, global = true, default_value = "target/wasm/marketplace.wasm.gz")]
    wasm: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the canister afresh; time starts at the current wall-clock time.
    Deploy {
        /// Init argument as Candid text, typed by the service's init arguments (default: omitted).
        #[arg(long)]
        argument: Option<String>,
        /// Replace a canister already in the state directory.
        #[arg(long)]
        force: bool,
        /// Another controller besides the runner's own (repeatable): e.g. your dfx identity's
        /// principal, so `dfx canister status` works against `mkt serve`.
        #[arg(long)]
        controller: Vec<String>,
        /// Install a test ledger (ICRC-1/ICRC-2, token TEST, fee 10000) beside the market and
        /// name it in the init argument: leases are paid. Mint with `mkt ledger mint`.
        #[arg(long)]
        ledger: bool,
        /// The test ledger's module, built by scripts/build.sh.
        #[arg(
            long,
            default_value = "target/wasm/test-ledger.wasm",
            requires = "ledger"
        )]
        ledger_wasm: PathBuf,
        /// An initial balance on the test ledger, PRINCIPAL=AMOUNT in base units (repeatable):
        /// e.g. your dfx identity's, to pay through `mkt serve`.
        #[arg(long, requires = "ledger")]
        mint: Vec<String>,
    },
    /// Upgrade to the (rebuilt) wasm, keeping stable memory.
    Upgrade {
        /// Upgrade argument as Candid text, typed by the service's init arguments.
        #[arg(long)]
        argument: Option<String>,
    },
    /// Call a method; arguments are Candid text typed by the method's argument types. A reply
    /// that is the `Err` case of a result is printed as usual and exits with status 1, the
    /// refusal on stderr.
    Call {
        /// A method of the service (see the .did).
        method: String,
        /// The canister: `market`, `ledger` (deployed with --ledger) or a canister id.
        #[arg(long, default_value = "market")]
        canister: String,
        /// Candid arguments, e.g. '(record { endpoint = "https://x" })' (default: `()`).
        #[arg(conflicts_with = "arg_hex")]
        args: Option<String>,
        /// Raw argument bytes in hex, sent as they are.
        #[arg(long)]
        arg_hex: Option<String>,
        /// Call as a query, whatever the interface says.
        #[arg(long, conflicts_with = "update")]
        query: bool,
        /// Call as an update, whatever the interface says.
        #[arg(long)]
        update: bool,
        /// A principal, `anonymous`, or `controller` (the installer).
        #[arg(long, default_value = "controller")]
        caller: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Move time forward (90s, 5m, 2h, 3d or seconds), running timers as they fall due.
    AdvanceTime { duration: String },
    /// Print the local canister's time in nanoseconds since the epoch (for `start_ns` and the
    /// like: the runner's clock moves only with `advance-time`, not with the wall clock).
    Now,
    /// Show the canister's id, controllers, time, cycles, memory and timer.
    Info {
        /// One JSON object (numbers beyond 2^53 as decimal strings, as `--output json`).
        #[arg(long)]
        json: bool,
    },
    /// Serve the canister on a local endpoint speaking the IC's HTTP interface (for dfx, icp,
    /// agent-js, ic-agent) until interrupted; time follows the wall clock.
    Serve {
        /// The port on 127.0.0.1 (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 4943)]
        port: u16,
        /// Time moves only with `mkt advance-time`, not with the wall clock.
        #[arg(long)]
        manual_time: bool,
    },
    /// Provider tools: a signing key, signed catalog changes, credentials sealed to a lessee.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Lessee tools: the X25519 key lease credentials are sealed to, and opening them.
    #[command(subcommand)]
    Lessee(LesseeCommand),
    /// The test ledger beside the market (`mkt deploy --ledger`): mint, approve, balances.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Mint tokens to a principal's account (a transfer from the minting account, the controller).
    Mint {
        #[arg(long)]
        to: String,
        /// In base units (8 decimals: 100000000 is one TEST).
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Let the market pull up to an amount from the caller's account (icrc2_approve; costs the
    /// caller the fee). Leases and hold deposits are paid from this allowance.
    Approve {
        /// Whose account: a principal or `controller`.
        #[arg(long)]
        caller: String,
        /// In base units; cover the prices and deposits plus one fee per transfer.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Print a principal's balance, in base units.
    Balance {
        owner: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Subcommand)]
enum LesseeCommand {
    /// Write a new X25519 secret key (hex, owner-readable only) and print its public key as the
    /// Candid `opt blob "…"` to give as `lessee_key` (`execution_accept`, `lease_by_sku`).
    NewKey { path: PathBuf },
    /// Print the public key of a secret key file as the Candid `opt blob "…"`.
    Show {
        /// The lessee's secret key file (from `mkt lessee new-key`).
        #[arg(long)]
        key: PathBuf,
        /// A JSON object: the key as hex (`public_key`) and as the Candid blob (`candid`).
        #[arg(long)]
        json: bool,
    },
    /// Read a lease's credentials from the local canister (`lease_get`) and print them opened.
    Open {
        /// The lessee's secret key file (from `mkt lessee new-key`).
        #[arg(long)]
        key: PathBuf,
        /// The lease (execution) id.
        #[arg(long)]
        execution: u64,
        /// Who asks: the lessee's principal (or `controller`).
        #[arg(long, default_value = "controller")]
        caller: String,
    },
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Write a new secret key (hex, owner-readable only) and print its public key as PEM.
    NewKey { path: PathBuf },
    /// Print the public key of a secret key file: PEM, or with --as-arg the Candid
    /// `variant { Pem = "…" }` the market methods take as `provider`.
    Show {
        /// The provider's secret key file.
        #[arg(long)]
        key: PathBuf,
        #[arg(long, conflicts_with = "json")]
        as_arg: bool,
        /// A JSON object: `pem`, the raw key as hex (`public_key`), the `candid` argument and
        /// the key's `principal` (what `dfx identity import` of the key signs in as).
        #[arg(long)]
        json: bool,
    },
    /// Sign a catalog with the key and publish it to the local canister: in one message, or
    /// for a catalog over 1.5 MiB (or with --chunked) as a chunked upload, with a progress bar
    /// on stderr when it is a terminal. The upload is sent as the controller.
    Publish {
        #[command(flatten)]
        change: ChangeArgs,
        /// Upload in chunks (catalog_upload_begin/append/commit) whatever the size.
        #[arg(long)]
        chunked: bool,
        /// Bytes per chunk of a chunked upload (at most 2 MiB less 16 KiB).
        #[arg(long, default_value_t = provider::DEFAULT_CHUNK_BYTES)]
        chunk_size: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Print the signed argument as Candid text for `dfx canister call --argument-file` (or
    /// with --hex as encoded bytes).
    Sign {
        #[command(flatten)]
        change: ChangeArgs,
        /// The canister the change is for (default: the local runner's canister).
        #[arg(long)]
        canister: Option<String>,
        /// Print the argument encoded (typed by the .did) as hex bytes, for an agent's raw call.
        #[arg(long)]
        hex: bool,
    },
    /// Seal lease credentials to the lessee's X25519 key (crypto_box: X25519 +
    /// XSalsa20-Poly1305, a fresh ephemeral key, a random nonce) and print the `SealedBox` as
    /// Candid text for the `sealed` field of `lease_set_consumer_meta`.
    Seal {
        /// The lessee's public key: the execution's `lessee_key` as `blob "…"` or 64 hex digits.
        #[arg(long)]
        lessee_key: String,
        /// A file holding the credentials (at most 4080 bytes).
        #[arg(long, required_unless_present = "text", conflicts_with = "text")]
        file: Option<PathBuf>,
        /// The credentials as text.
        #[arg(long)]
        text: Option<String>,
    },
    /// Sign a market delegation (a principal acts for the provider) and send it to the local
    /// canister, or with --print only print it for `dfx canister call market_delegate`.
    Delegate {
        /// The provider's secret key file (from `mkt provider new-key`).
        #[arg(long)]
        key: PathBuf,
        /// The principal that may act for the provider.
        #[arg(long)]
        principal: String,
        /// Stop the principal from acting for the provider.
        #[arg(long)]
        revoke: bool,
        /// The delegation's sequence number (default: the Unix time in seconds).
        #[arg(long)]
        seq: Option<u64>,
        /// The delegation ends this long from now (e.g. 30d, 12h; signed as expires_at_ns):
        /// the local runner's time, or with --print the wall clock. Default: until revoked.
        #[arg(long, conflicts_with = "revoke")]
        expires_in: Option<String>,
        /// Print the argument instead of sending it.
        #[arg(long)]
        print: bool,
        /// With --print: the canister it is for (default: the local runner's canister).
        #[arg(long)]
        canister: Option<String>,
        /// With --print: the argument encoded (typed by the .did) as hex bytes, not Candid text.
        #[arg(long, requires = "print")]
        hex: bool,
    },
}

/// How a reply is printed: `--output FORMAT`, or `--json` for `--output json`.
#[derive(clap::Args)]
struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Output::Idl)]
    output: Output,
    /// Print the reply as JSON: short for `--output json`.
    #[arg(long, conflicts_with = "output")]
    json: bool,
}

impl OutputArgs {
    fn get(&self) -> Output {
        if self.json {
            Output::Json
        } else {
            self.output
        }
    }
}

#[derive(clap::Args)]
struct ChangeArgs {
    /// The provider's secret key file (from `mkt provider new-key`).
    #[arg(long)]
    key: PathBuf,
    /// The catalog, serverhunter CSV.
    #[arg(long)]
    csv: PathBuf,
    /// Add or update these offerings instead of replacing the whole catalog.
    #[arg(long)]
    upsert: bool,
    /// The change's sequence number (default: the Unix time in seconds).
    #[arg(long)]
    seq: Option<u64>,
}

impl ChangeArgs {
    fn change(&self) -> provider::Change<'_> {
        provider::Change {
            key: &self.key,
            csv: &self.csv,
            upsert: self.upsert,
            seq: self.seq,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {}", one_line(&message));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let (dir, wasm) = (&cli.state, &cli.wasm);
    let did = &cli
        .candid
        .clone()
        .unwrap_or_else(|| PathBuf::from(commands::MARKET_DID));
    match cli.command {
        Command::Deploy {
            argument,
            force,
            controller,
            ledger: with_ledger,
            ledger_wasm,
            mint,
        } => {
            let ledger = commands::LedgerDeploy {
                wasm: &ledger_wasm,
                mint: &mint,
            };
            commands::deploy(
                dir,
                did,
                wasm,
                argument.as_deref(),
                force,
                &controller,
                with_ledger.then_some(&ledger),
            )
        }
        Command::Upgrade { argument } => commands::upgrade(dir, did, wasm, argument.as_deref()),
        Command::Call {
            method,
            canister,
            args,
            arg_hex,
            query,
            update,
            caller,
            output,
        } => {
            let kind = match (query, update) {
                (true, _) => Some(CallKind::Query),
                (_, true) => Some(CallKind::Update),
                _ => None,
            };
            let arg = match arg_hex {
                Some(hex) => Arg::Hex(hex),
                None => Arg::Text(args.unwrap_or_else(|| "()".into())),
            };
            let target = commands::Target {
                canister: &canister,
                did: cli.candid.as_deref(),
            };
            commands::call_on(dir, target, &method, arg, kind, &caller, output.get())
        }
        Command::Ledger(LedgerCommand::Mint { to, amount, output }) => {
            ledger::mint(dir, &to, amount, output.get())
        }
        Command::Ledger(LedgerCommand::Approve {
            caller,
            amount,
            output,
        }) => ledger::approve(dir, &caller, amount, output.get()),
        Command::Ledger(LedgerCommand::Balance { owner, output }) => {
            ledger::balance(dir, &owner, output.get())
        }
        Command::AdvanceTime { duration } => commands::advance_time(dir, &duration),
        Command::Now => commands::now(dir),
        Command::Serve { port, manual_time } => {
            serve::serve(dir, serve::Options { port, manual_time })
        }
        Command::Provider(ProviderCommand::NewKey { path }) => provider::new_key(&path),
        Command::Provider(ProviderCommand::Show { key, as_arg, json }) => {
            provider::show(&key, as_arg, json)
        }
        Command::Provider(ProviderCommand::Publish {
            change,
            chunked,
            chunk_size,
            output,
        }) => {
            let transfer = provider::Transfer {
                chunked,
                chunk_size,
            };
            provider::publish(dir, did, &change.change(), transfer, output.get())
        }
        Command::Provider(ProviderCommand::Sign {
            change,
            canister,
            hex,
        }) => provider::sign(
            dir,
            &change.change(),
            canister.as_deref(),
            hex.then_some(did.as_path()),
        ),
        Command::Provider(ProviderCommand::Delegate {
            key,
            principal,
            revoke,
            seq,
            expires_in,
            print,
            canister,
            hex,
        }) => {
            let expires_in = expires_in.as_deref().map(duration::parse).transpose()?;
            let delegation = provider::Delegation {
                key: &key,
                principal: &principal,
                allow: !revoke,
                seq,
                expires_in,
            };
            if print {
                provider::print_delegation(
                    dir,
                    &delegation,
                    canister.as_deref(),
                    hex.then_some(did.as_path()),
                )
            } else {
                provider::delegate(dir, did, &delegation)
            }
        }
        Command::Provider(ProviderCommand::Seal {
            lessee_key,
            file,
            text,
        }) => {
            let plaintext = match (&file, &text) {
                (Some(path), _) => provider::Plaintext::File(path),
                (None, Some(text)) => provider::Plaintext::Text(text),
                (None, None) => return Err("give the credentials with --file or --text".into()),
            };
            provider::seal(&lessee_key, plaintext)
        }
        Command::Lessee(LesseeCommand::NewKey { path }) => lessee::new_key(&path),
        Command::Lessee(LesseeCommand::Show { key, json }) => lessee::show(&key, json),
        Command::Lessee(LesseeCommand::Open {
            key,
            execution,
            caller,
        }) => lessee::open_lease(dir, did, &key, execution, &caller),
        Command::Info { json } => commands::info(dir, json),
    }
}
