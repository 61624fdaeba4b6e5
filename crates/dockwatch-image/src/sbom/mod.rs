//! The SBOM of one image or filesystem, and the formats it is written in.
//!
//! To add a format: write `sbom/<fmt>.rs` with a type implementing [`SbomFormat`], add it to
//! [`formats`], and add a golden file.

use crate::catalog::Warning;
use dockwatch_core::{Clock, Distro, Package, SystemClock};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod cyclonedx_json;
pub mod decode;
pub(crate) mod ids;
pub mod json;
mod license;
mod properties;
pub mod spdx_json;
pub mod table;

/// What was analyzed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `registry`, `oci-dir`, `docker-archive` or `dir`.
    pub kind: String,
    /// What the user named: a reference, a path.
    pub name: String,
    /// The manifest digest (`sha256:...`), for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The image config digest (the image id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    /// Tags known for the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `architecture` of the image config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// `os` of the image config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// `variant` of the image config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `config.User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `config.Env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// `config.Labels`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `config.Entrypoint`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// `config.Cmd`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// The layers, bottom first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerInfo>,
}

/// One layer of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The blob digest as stored (compressed).
    pub digest: String,
    /// The digest of the uncompressed tar.
    pub diff_id: String,
    /// The media type of the blob.
    pub media_type: String,
    /// The blob size in bytes.
    pub size: u64,
}

/// An SBOM: the source, its OS, its packages, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Sbom {
    /// What was analyzed.
    pub source: SourceInfo,
    /// The OS from os-release, if any.
    pub distro: Option<Distro>,
    /// The packages, sorted by [`Package::sort_key`].
    pub packages: Vec<Package>,
    /// What the catalogers could not read.
    pub warnings: Vec<Warning>,
}

impl Sbom {
    /// The packages in output order: by [`Package::sort_key`], then by their locations, so
    /// every format is deterministic whatever order the catalogers produced.
    pub fn sorted_packages(&self) -> Vec<&Package> {
        let mut packages: Vec<&Package> = self.packages.iter().collect();
        packages.sort_by(|a, b| {
            a.sort_key()
                .cmp(&b.sort_key())
                .then_with(|| a.locations.cmp(&b.locations))
        });
        packages
    }
}

/// An output format for SBOMs.
pub trait SbomFormat: Send + Sync {
    /// The `--format` name (`cyclonedx-json`, `spdx-json`, `json`, `table`).
    fn name(&self) -> &'static str;
    /// Writes `sbom` to `out`.
    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// What a rendering depends on besides the SBOM: the time it is made and the tool's version.
/// Tests pin both so golden files are stable.
#[derive(Clone)]
pub struct RenderOptions {
    /// Where the document's creation time comes from.
    pub clock: Arc<dyn Clock>,
    /// The version written as the generating tool's (`dockwatch` `x.y.z`).
    pub tool_version: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl std::fmt::Debug for RenderOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderOptions")
            .field("now_millis", &self.clock.now_millis())
            .field("tool_version", &self.tool_version)
            .finish()
    }
}

/// Every SBOM format, stamped with the wall clock and this build's version.
pub fn formats() -> Vec<Box<dyn SbomFormat>> {
    formats_with(&RenderOptions::default())
}

/// Every SBOM format, with the given clock and tool version.
pub fn formats_with(options: &RenderOptions) -> Vec<Box<dyn SbomFormat>> {
    vec![
        Box::new(cyclonedx_json::CycloneDxJson::new(options.clone())),
        Box::new(spdx_json::SpdxJson::new(options.clone())),
        Box::new(json::NativeJson::new(options.clone())),
        Box::new(table::Table),
    ]
}

/// The format called `name`, if there is one.
pub fn format(name: &str) -> Option<Box<dyn SbomFormat>> {
    formats().into_iter().find(|f| f.name() == name)
}
