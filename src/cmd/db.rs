//! `dockwatch db import PATH...` and `dockwatch db status`: the local vulnerability database.

use anyhow::Context;
use dockwatch_core::Clock;
use dockwatch_image::advisory::osv::format_timestamp_millis;
use dockwatch_image::advisory::{AdvisoryDb, read_paths};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `dockwatch db`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: DbCommand,
}

/// The `db` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Load advisories: OSV JSON/YAML files, folders, OSV `all.zip` exports, tarballs
    /// (.tar, .tar.gz, .tar.zst), RUSTSEC markdown, the CISA KEV JSON and EPSS CSV (.csv, .csv.gz).
    Import(ImportArgs),
    /// Show what the database holds: advisories per ecosystem, last import, KEV and EPSS.
    Status(StatusArgs),
}

/// The database location, shared by the `db` subcommands and `scan`.
#[derive(Debug, Clone, clap::Args)]
pub struct DbDir {
    /// The database folder [default: the platform cache dir, `$XDG_CACHE_HOME/dockwatch/db`].
    #[arg(long = "db", env = "DOCKWATCH_DB", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl DbDir {
    /// The folder to use.
    pub fn resolve(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.dir {
            return Ok(dir.clone());
        }
        let cache = dirs::cache_dir().context("no cache folder: set --db or DOCKWATCH_DB")?;
        Ok(cache.join("dockwatch").join("db"))
    }
}

/// Arguments of `dockwatch db import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files, folders or archives to import.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbDir,
}

/// Arguments of `dockwatch db status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbDir,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: StatusFormat,
}

/// How `db status` prints.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFormat {
    /// Human-readable.
    Table,
    /// One JSON object.
    Json,
}

/// Runs `dockwatch db`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Import(a) => import(a, quiet),
        DbCommand::Status(a) => status(a),
    }
}

fn import(args: ImportArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let dir = args.db.resolve()?;
    let started = std::time::Instant::now();
    let batch = read_paths(&args.paths)?;
    if !quiet {
        for warning in &batch.warnings {
            eprintln!("warning: {warning}");
        }
    }
    let files = batch.files_read;
    let mut db = AdvisoryDb::open_or_create(&dir)?;
    let now = format_timestamp_millis(dockwatch_core::SystemClock.now_millis());
    let s = db.import(batch, &now)?;
    let mut line = format!(
        "Imported {files} files into {} in {:.1}s: {} added, {} updated, {} unchanged, {} withdrawn, {} skipped",
        db.path().display(),
        started.elapsed().as_secs_f64(),
        s.added,
        s.updated,
        s.unchanged,
        s.withdrawn,
        s.skipped
    );
    if let Some(n) = s.kev {
        line.push_str(&format!("; KEV: {n} CVEs"));
    }
    if let Some(n) = s.epss {
        line.push_str(&format!("; EPSS: {n} CVEs"));
    }
    println!("{line}.");
    Ok(ExitCode::SUCCESS)
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let dir = args.db.resolve()?;
    let db = AdvisoryDb::open(&dir)?;
    let status = db.status()?;
    match args.format {
        StatusFormat::Table => print!("{}", status.render_text()),
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
    }
    Ok(ExitCode::SUCCESS)
}
