//! `dockwatch sbom SOURCE`: the software bill of materials of an image or a filesystem.

use dockwatch_image::source::SourceSpec;
use std::process::ExitCode;

/// Arguments of `dockwatch sbom`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to analyze: `registry:REF` or a plain reference, `oci-dir:PATH`,
    /// `docker-archive:PATH`, `dir:PATH`, or an existing path.
    pub source: String,
    /// Output format.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the SBOM to FILE instead of stdout.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    /// Platform to pick from a multi-platform image (`os/arch[/variant]`).
    #[arg(long)]
    pub platform: Option<String>,
}

/// Runs `dockwatch sbom`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = SourceSpec::parse(&args.source)?;
    anyhow::bail!("image analysis of {spec:?} is being built")
}
