//! `dockwatch sbom SOURCE`: the software bill of materials of an image or a filesystem.

use anyhow::Context as _;
use dockwatch_image::limits::Limits;
use dockwatch_image::sbom;
use dockwatch_image::source::{Platform, SourceOptions, SourceSpec};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `dockwatch sbom`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to analyze: `registry:REF` or a plain reference, `oci-dir:PATH`,
    /// `docker-archive:PATH`, `dir:PATH`, or an existing path.
    pub source: String,
    /// Output format: table, json, cyclonedx-json, spdx-json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the SBOM to FILE instead of stdout.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    /// Platform to pick from a multi-platform image (`os/arch[/variant]`); default: this machine's.
    #[arg(long)]
    pub platform: Option<String>,
    /// Talk plain HTTP to the registry (for local registries without TLS).
    #[arg(long, env = "DOCKWATCH_INSECURE")]
    pub insecure: bool,
    /// Refuse layers larger than this, as declared and as read (e.g. `16GiB`, `500MB`).
    #[arg(long, value_name = "SIZE", default_value = "16GiB", value_parser = parse_size)]
    pub max_layer_size: u64,
    /// Stop reading a layer that decompresses to more than this (decompression bombs).
    #[arg(long, value_name = "SIZE", default_value = "64GiB", value_parser = parse_size)]
    pub max_decompressed_size: u64,
    /// Stop reading a layer with more tar entries than this.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_layer_entries)]
    pub max_layer_entries: u64,
}

/// Runs `dockwatch sbom`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Check the format before spending time on the image.
    let renderer = renderer(&args.format)?;
    let spec = SourceSpec::parse(&args.source)?;
    let platform = args
        .platform
        .as_deref()
        .map(Platform::parse)
        .transpose()
        .context("--platform")?;
    let options = dockwatch_image::Options {
        source: SourceOptions {
            platform,
            insecure: args.insecure,
            limits: Limits {
                max_layer_bytes: args.max_layer_size,
                max_uncompressed_layer_bytes: args.max_decompressed_size,
                max_layer_entries: args.max_layer_entries,
                ..Limits::default()
            },
        },
        threads: None,
    };
    let sbom = dockwatch_image::analyze(&spec, &options)
        .with_context(|| format!("analyzing {}", args.source))?;
    for warning in &sbom.warnings {
        tracing::warn!(path = %warning.path, "{}", warning.message);
    }
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            renderer
                .render(&sbom, &mut out)
                .with_context(|| format!("writing {}", path.display()))?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            renderer
                .render(&sbom, &mut out)
                .context("writing to stdout")?;
            out.flush().context("writing to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The format called `name`, or an error listing the known ones.
fn renderer(name: &str) -> anyhow::Result<Box<dyn sbom::SbomFormat>> {
    sbom::format(name).ok_or_else(|| {
        let known: Vec<&str> = sbom::formats().iter().map(|f| f.name()).collect();
        anyhow::anyhow!(
            "--format {name:?}: unknown format (known: {})",
            known.join(", ")
        )
    })
}

/// Parses `123`, `10KiB`, `500MB`, `16GiB`, `2T` (binary units; `B` optional).
fn parse_size(input: &str) -> Result<u64, String> {
    let trimmed = input.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{input:?} is not a size like 500MB or 16GiB"))?;
    let shift = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches('b')
        .trim_end_matches('i')
    {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => {
            return Err(format!(
                "{input:?}: unknown unit {unit:?} (use K, M, G or T)"
            ));
        }
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{input:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("10KiB").unwrap(), 10 << 10);
        assert_eq!(parse_size("500MB").unwrap(), 500 << 20);
        assert_eq!(parse_size("16G").unwrap(), 16 << 30);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn unknown_formats_are_named() {
        let err = renderer("xml").err().unwrap().to_string();
        assert!(
            err.contains("xml") && err.contains("cyclonedx-json"),
            "{err}"
        );
    }
}
