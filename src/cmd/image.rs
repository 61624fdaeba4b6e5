//! `dockwatch image`: index SBOMs on a server (`push-sbom`), list stored images, show one with
//! its current findings, delete one. The server re-matches stored SBOMs when its advisory
//! database changes, so `show` reflects new advisories without the image being pulled again.

use super::client::{Connection, Output, block_on, done, print};
use anyhow::Context as _;
use dockwatch_image::sbom::SbomFormat as _;
use dockwatch_image::source::{Platform, SourceOptions, SourceSpec};
use serde_json::Value;
use std::process::ExitCode;

/// Manage the images (stored SBOMs) of an organization on a server.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    out: Output,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Index an image's SBOM on the server: `sbom:PATH` (or an existing .json file) sends that
    /// SBOM; any other source is analyzed here first, as `dockwatch sbom` does.
    PushSbom {
        /// `sbom:PATH`, a CycloneDX/SPDX/Syft/Dockwatch JSON file, or an image source.
        source: String,
        /// The name to show [default: the SBOM's source name].
        #[arg(long)]
        reference: Option<String>,
        /// The image digest (`sha256:...`) [default: the one the SBOM names].
        #[arg(long)]
        digest: Option<String>,
        /// Platform to pick from a multi-platform image (`os/arch[/variant]`).
        #[arg(long)]
        platform: Option<String>,
        /// Talk plain HTTP to the registry.
        #[arg(long, env = "DOCKWATCH_INSECURE")]
        insecure: bool,
    },
    /// List stored images.
    List,
    /// Show an image and its current findings.
    Show {
        /// The image digest.
        digest: String,
    },
    /// Delete a stored image.
    Delete {
        /// The image digest.
        digest: String,
    },
}

const IMAGE_HEADER: &[&str] = &["DIGEST", "REFERENCE", "PACKAGES", "FINDINGS", "EVALUATED"];

fn image_row(v: &Value) -> Vec<String> {
    let s = |k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    vec![
        s("digest"),
        s("reference"),
        s("packages"),
        s("findings"),
        s("evaluated_at"),
    ]
}

const FINDING_HEADER: &[&str] = &[
    "ADVISORY", "SEVERITY", "PACKAGE", "VERSION", "FIXED IN", "KEV",
];

fn finding_row(v: &Value) -> Vec<String> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let fixed: Vec<String> = v["fixed_versions"]
        .as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default();
    vec![
        text(&v["advisory"]),
        text(&v["severity"]),
        text(&v["package"]["name"]),
        text(&v["package"]["version"]),
        fixed.join(", "),
        if v["kev"].as_bool() == Some(true) {
            "yes"
        } else {
            ""
        }
        .to_owned(),
    ]
}

/// The SBOM document to send: the file as written, or a fresh analysis as Dockwatch JSON.
fn sbom_document(source: &str, platform: Option<&str>, insecure: bool) -> anyhow::Result<Value> {
    let spec = SourceSpec::parse(source)?;
    if let SourceSpec::Sbom(path) = &spec {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading the SBOM {}", path.display()))?;
        // Check it here, so a bad file fails before any network call, naming the file.
        dockwatch_image::sbom::decode::decode(&bytes, &path.display().to_string())?;
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("reading the SBOM {}", path.display()));
    }
    let platform = platform
        .map(Platform::parse)
        .transpose()
        .context("--platform")?;
    let options = dockwatch_image::Options {
        source: SourceOptions {
            platform,
            insecure,
            ..SourceOptions::default()
        },
        threads: None,
    };
    let sbom =
        dockwatch_image::analyze(&spec, &options).with_context(|| format!("analyzing {source}"))?;
    let mut out = Vec::new();
    dockwatch_image::sbom::json::NativeJson::new(Default::default()).render(&sbom, &mut out)?;
    Ok(serde_json::from_slice(&out)?)
}

/// Runs `dockwatch image`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Analysis is blocking work: do it before the client's runtime starts.
    let document = match &args.command {
        Cmd::PushSbom {
            source,
            platform,
            insecure,
            ..
        } => Some(sbom_document(source, platform.as_deref(), *insecure)?),
        _ => None,
    };
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::PushSbom {
                reference, digest, ..
            } => {
                let sbom = document.expect("read above");
                let image = client
                    .index_image(&org, sbom, digest.as_deref(), reference.as_deref())
                    .await?;
                done(
                    f,
                    &image,
                    &format!(
                        "indexed {} ({}) in {org}: {} packages, {} findings",
                        image["reference"].as_str().unwrap_or_default(),
                        image["digest"].as_str().unwrap_or_default(),
                        image["packages"],
                        image["findings"]
                    ),
                )?;
            }
            Cmd::List => {
                let images = client.images(&org).await?;
                print(
                    f,
                    &images,
                    IMAGE_HEADER,
                    images.iter().map(image_row).collect(),
                )?;
            }
            Cmd::Show { digest } => {
                let image = client.image(&org, &digest).await?;
                let findings = image["vulnerabilities"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                print(
                    f,
                    &image,
                    FINDING_HEADER,
                    findings.iter().map(finding_row).collect(),
                )?;
            }
            Cmd::Delete { digest } => {
                client.delete_image(&org, &digest).await?;
                done(
                    f,
                    &serde_json::json!({ "deleted": digest }),
                    &format!("deleted image {digest}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
