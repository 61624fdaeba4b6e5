//! `dockwatch scan SOURCE`: SBOM, then matching against the advisory database, then the policy
//! pass (VEX, `--ignore-unfixed`, `--fail-on`), then a report in the chosen format.

use super::db::DbDir;
use anyhow::Context as _;
use dockwatch_core::{Clock, SystemClock};
use dockwatch_image::advisory::AdvisoryDb;
use dockwatch_image::finding::Rating;
use dockwatch_image::policy::{self, Policy};
use dockwatch_image::report::{self, Report, Settings};
use dockwatch_image::source::{Platform, SourceOptions, SourceSpec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `dockwatch scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to scan: `registry:REF` or a plain reference, `oci-dir:PATH`, `docker-archive:PATH`,
    /// `dir:PATH`, `sbom:PATH` (a CycloneDX, SPDX or Syft JSON SBOM), or an existing path.
    pub source: String,
    #[command(flatten)]
    pub db: DbDir,
    /// Output format: table, json, sarif, gitlab, junit, markdown, cyclonedx-vex.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Fail (exit with --exit-code) if a finding at or above this severity remains after VEX
    /// and --ignore-unfixed.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// The exit code when the --fail-on gate fails.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Suppress findings that have no fixed version yet.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// A VEX document (OpenVEX or CycloneDX JSON); `not_affected` and `fixed` statements
    /// suppress findings. Repeat for several files.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Platform to pick from a multi-platform image (`os/arch[/variant]`); default: this machine's.
    #[arg(long)]
    pub platform: Option<String>,
    /// Talk plain HTTP to the registry (for local registries without TLS).
    #[arg(long, env = "DOCKWATCH_INSECURE")]
    pub insecure: bool,
}

/// The `--fail-on` thresholds.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FailOn {
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl From<FailOn> for Rating {
    fn from(value: FailOn) -> Self {
        match value {
            FailOn::Low => Self::Low,
            FailOn::Medium => Self::Medium,
            FailOn::High => Self::High,
            FailOn::Critical => Self::Critical,
        }
    }
}

/// Runs `dockwatch scan`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let clock = SystemClock;
    let started = clock.now_millis();
    // Check everything cheap before spending time on the image.
    let format = report::format(&args.format).with_context(|| {
        let known: Vec<&str> = report::formats().iter().map(|f| f.name()).collect();
        format!(
            "--format {:?}: unknown format (known: {})",
            args.format,
            known.join(", ")
        )
    })?;
    let spec = SourceSpec::parse(&args.source)?;
    let platform = args
        .platform
        .as_deref()
        .map(Platform::parse)
        .transpose()
        .context("--platform")?;
    let dir = args.db.resolve()?;
    let db = AdvisoryDb::open(&dir)?;
    let mut vex = Vec::new();
    for path in &args.vex {
        vex.extend(policy::vex::read_file(path).context("--vex")?);
    }

    let sbom = match &spec {
        SourceSpec::Sbom(path) => {
            let decoded = dockwatch_image::sbom::decode::decode_file(path)
                .with_context(|| format!("reading the SBOM {}", path.display()))?;
            tracing::info!(kind = %decoded.kind, packages = decoded.sbom.packages.len(), "Read an SBOM.");
            decoded.sbom
        }
        _ => {
            let options = dockwatch_image::Options {
                source: SourceOptions {
                    platform: platform.clone(),
                    insecure: args.insecure,
                    ..SourceOptions::default()
                },
                threads: None,
            };
            dockwatch_image::analyze(&spec, &options)
                .with_context(|| format!("analyzing {}", args.source))?
        }
    };
    let matched = dockwatch_image::matcher::match_sbom(&db, &sbom)?;
    let warnings: Vec<String> = matched
        .warnings
        .iter()
        .map(|w| match &w.advisory_id {
            Some(id) => format!("{} vs {id}: {}", w.purl, w.reason),
            None => format!("{}: {}", w.purl, w.reason),
        })
        .collect();
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    for warning in &sbom.warnings {
        tracing::warn!(path = %warning.path, "{}", warning.message);
    }
    let policy = Policy {
        ignore_unfixed: args.ignore_unfixed,
        vex,
        fail_on: args.fail_on.map(Rating::from),
    };
    let outcome = policy::apply(&policy, matched.findings);
    for unused in &outcome.unused_vex {
        tracing::info!(statement = %unused, "A VEX statement matched no finding.");
    }
    let settings = Settings {
        fail_on: policy.fail_on,
        ignore_unfixed: policy.ignore_unfixed,
        vex_files: args.vex.iter().map(|p| p.display().to_string()).collect(),
        platform: platform.map(|p| p.to_string()),
    };
    let report = Report::new(
        env!("CARGO_PKG_VERSION").to_owned(),
        (started, clock.now_millis()),
        Some(db.status()?),
        sbom,
        settings,
        outcome,
        warnings,
    );
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            format
                .render(&report, &mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            format
                .render(&report, &mut out)
                .and_then(|()| out.flush())
                .context("writing to stdout")?;
        }
    }
    if report.gate.failed {
        tracing::info!(failing = report.gate.failing, "The --fail-on gate failed.");
        return Ok(ExitCode::from(args.exit_code));
    }
    Ok(ExitCode::SUCCESS)
}
