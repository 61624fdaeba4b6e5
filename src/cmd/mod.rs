//! The command line: one module per command, each owning its clap `Args` and a `run`.

pub mod agent;
pub mod alert;
pub mod client;
pub mod db;
pub mod events;
pub mod fleet;
pub mod image;
pub mod member;
pub mod org;
pub mod repo;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod team;
pub mod token;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Continuous visibility into how containers are used across an organization.
#[derive(Debug, Parser)]
#[command(name = "dockwatch", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log line format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "DOCKWATCH_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the software bill of materials of an image or a filesystem.
    Sbom(sbom::Args),
    /// Scan an image, a filesystem or an SBOM for known vulnerabilities.
    Scan(scan::Args),
    /// Manage the local vulnerability database.
    Db(db::Args),
    /// Manage settings policies, enrollment tokens and the fleet compliance report.
    Fleet(fleet::Args),
    /// Report this machine's Docker settings to a server and fetch (or apply) its policy.
    Agent(agent::Args),
    /// Run the server (API, console) on embedded SQLite or PostgreSQL.
    Serve(serve::Args),
    /// Manage organizations on a server.
    Org(org::Args),
    /// Manage an organization's members and invitations.
    Member(member::Args),
    /// Manage an organization's teams.
    Team(team::Args),
    /// Manage an organization's repositories.
    Repo(repo::Args),
    /// Manage personal and organization access tokens.
    Token(token::Args),
    /// Search and verify the activity log.
    Events(events::Args),
    /// Manage alert channels, rules and deliveries.
    Alert(alert::Args),
    /// Index image SBOMs on a server and see their current vulnerabilities.
    Image(image::Args),
}

/// Runs the chosen command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Sbom(args) => sbom::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Db(args) => db::run(args, cli.global.quiet),
        Command::Fleet(args) => fleet::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Org(args) => org::run(args),
        Command::Member(args) => member::run(args),
        Command::Team(args) => team::run(args),
        Command::Repo(args) => repo::run(args),
        Command::Token(args) => token::run(args),
        Command::Events(args) => events::run(args),
        Command::Alert(args) => alert::run(args),
        Command::Image(args) => image::run(args),
    }
}

/// Sets up `tracing` on stderr from the global flags (`RUST_LOG` overrides the level).
pub fn init_tracing(global: &Global) {
    use tracing_subscriber::EnvFilter;
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn,dockwatch=info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match global.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
