//! `triage`: the triage pipeline on one machine. `triage run` turns a CSV of tickets into
//! decisions, Zendesk calls, alerts and a dashboard; `triage eval` scores the engine
//! against labelled tickets; `triage learn` trains the model; `triage generate` writes
//! synthetic tickets for load tests.

mod generate;
mod learn;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// A run allocates many small strings on the main thread and the log writer threads;
/// mimalloc's per-thread heaps avoid the system allocator's lock contention (see
/// BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "triage",
    version,
    about = "Triage Zendesk support tickets: priority, team, churn risk, revenue intent and draft replies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Triage a CSV of tickets and write decisions, logs and the dashboard.
    Run(RunArgs),
    /// Score the engine against a CSV with label columns.
    Eval(EvalArgs),
    /// Write a CSV of synthetic tickets (load tests and benchmarks).
    Generate(generate::GenerateArgs),
    /// Train the model on labelled CSVs and report cross-validated figures.
    Learn(learn::LearnArgs),
}

/// Where the engine's data comes from.
#[derive(Args, Clone)]
pub struct EngineArgs {
    /// Policy file (weights, thresholds, auto-send rules).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A team's own policy directory: `policy.toml` (used unless --policy is given) and
    /// `phrases/*.toml`, phrases added to the shipped ones (see the README).
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
    /// Directory of knowledge-base JSON files.
    #[arg(long, value_name = "DIR")]
    pub knowledge_base: Option<PathBuf>,
    /// Agents file.
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,
    /// Model file written by `triage learn` (default: the shipped model).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Accounts file (Key Account Managers, organizations).
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunArgs {
    /// Tickets CSV: ticket_id,customer_name,subject,description,actual_priority,channel,timestamp,mrr
    #[arg(long, value_name = "FILE", default_value = "data/tickets_input.csv")]
    pub input: PathBuf,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "outputs")]
    pub out: PathBuf,
    /// Change nothing: Zendesk calls and alerts are recorded, not sent (Claude, when
    /// configured, is still asked: it only reads).
    #[arg(long)]
    pub demo_mode: bool,
    /// No summary on standard output.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Labelled CSV (actual_priority and optionally actual_team, actual_churn, actual_opportunity).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
    /// List every disagreement with the labels.
    #[arg(long)]
    pub misses: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRIAGE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Run(args) => runtime.block_on(run::run(args)),
        Command::Eval(args) => runtime.block_on(run::eval(args)),
        Command::Generate(args) => generate::generate(args),
        Command::Learn(args) => learn::learn_command(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
