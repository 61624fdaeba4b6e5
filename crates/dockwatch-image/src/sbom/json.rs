//! Dockwatch's own JSON: the whole `Sbom`, versioned and self-describing.

use super::{RenderOptions, Sbom, SbomFormat, SourceInfo};
use crate::catalog::Warning;
use dockwatch_core::{Distro, Package};
use serde::{Deserialize, Serialize};

/// The version of the native JSON document. Bump the minor for additions, the major for
/// anything a reader could misread; `docs/sbom-formats.md` lists the changes.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// `--format json`.
#[derive(Debug, Clone)]
pub struct NativeJson {
    options: RenderOptions,
}

impl NativeJson {
    /// A native JSON writer stamping documents with `options`' clock and version.
    pub fn new(options: RenderOptions) -> Self {
        Self { options }
    }
}

/// The generating tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `dockwatch`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The native JSON document, as written and read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: String,
    /// Who wrote it.
    pub tool: Tool,
    /// When, RFC 3339 UTC.
    pub created: String,
    /// What was analyzed.
    pub source: SourceInfo,
    /// The operating system, if one was recognized.
    #[serde(default)]
    pub distro: Option<Distro>,
    /// The packages, sorted.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// What could not be read.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

impl SbomFormat for NativeJson {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let packages = sbom.sorted_packages().into_iter().cloned().collect();
        let doc = NativeDocument {
            schema_version: SCHEMA_VERSION.to_string(),
            tool: Tool {
                name: "dockwatch".into(),
                version: self.options.tool_version.clone(),
            },
            created: super::ids::timestamp(self.options.clock.now_millis()),
            source: sbom.source.clone(),
            distro: sbom.distro.clone(),
            packages,
            warnings: sbom.warnings.clone(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}
