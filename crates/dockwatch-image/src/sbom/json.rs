//! Dockwatch's own JSON: the whole `Sbom`, versioned and self-describing.
//!
//! The wire types here are separate from the domain types on purpose (serialization is a
//! boundary): renaming a field of `Package` must not silently change a published format. Field
//! names are camelCase throughout.

use super::{LayerInfo, RenderOptions, Sbom, SbomFormat, SourceInfo};
use crate::catalog::Warning;
use dockwatch_core::{Distro, Location, Package, PackageType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

impl SbomFormat for NativeJson {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let doc = NativeDocument {
            schema_version: SCHEMA_VERSION.to_string(),
            tool: Tool {
                name: "dockwatch".into(),
                version: self.options.tool_version.clone(),
            },
            created: super::ids::timestamp(self.options.clock.now_millis()),
            source: NativeSource::from(&sbom.source),
            distro: sbom.distro.as_ref().map(NativeDistro::from),
            packages: sbom
                .sorted_packages()
                .into_iter()
                .map(NativePackage::from)
                .collect(),
            warnings: sbom.warnings.iter().map(NativeWarning::from).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
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
    pub source: NativeSource,
    /// The operating system, if one was recognized.
    #[serde(default)]
    pub distro: Option<NativeDistro>,
    /// The packages, sorted.
    #[serde(default)]
    pub packages: Vec<NativePackage>,
    /// What could not be read.
    #[serde(default)]
    pub warnings: Vec<NativeWarning>,
}

impl From<NativeDocument> for Sbom {
    fn from(doc: NativeDocument) -> Self {
        Self {
            source: doc.source.into(),
            distro: doc.distro.map(Into::into),
            packages: doc.packages.into_iter().map(Into::into).collect(),
            warnings: doc.warnings.into_iter().map(Into::into).collect(),
        }
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

/// What was analyzed: [`SourceInfo`] on the wire, field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeSource {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<NativeLayer>,
}

/// One layer: [`LayerInfo`] on the wire, field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeLayer {
    pub digest: String,
    #[serde(rename = "diffID")]
    pub diff_id: String,
    pub media_type: String,
    pub size: u64,
}

impl From<&SourceInfo> for NativeSource {
    fn from(s: &SourceInfo) -> Self {
        Self {
            kind: s.kind.clone(),
            name: s.name.clone(),
            digest: s.digest.clone(),
            config_digest: s.config_digest.clone(),
            tags: s.tags.clone(),
            architecture: s.architecture.clone(),
            os: s.os.clone(),
            variant: s.variant.clone(),
            user: s.user.clone(),
            env: s.env.clone(),
            labels: s.labels.clone(),
            entrypoint: s.entrypoint.clone(),
            cmd: s.cmd.clone(),
            layers: s
                .layers
                .iter()
                .map(|l| NativeLayer {
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                })
                .collect(),
        }
    }
}

impl From<NativeSource> for SourceInfo {
    fn from(s: NativeSource) -> Self {
        Self {
            kind: s.kind,
            name: s.name,
            digest: s.digest,
            config_digest: s.config_digest,
            tags: s.tags,
            architecture: s.architecture,
            os: s.os,
            variant: s.variant,
            user: s.user,
            env: s.env,
            labels: s.labels,
            entrypoint: s.entrypoint,
            cmd: s.cmd,
            layers: s
                .layers
                .into_iter()
                .map(|l| LayerInfo {
                    digest: l.digest,
                    diff_id: l.diff_id,
                    media_type: l.media_type,
                    size: l.size,
                })
                .collect(),
        }
    }
}

/// The operating system: [`Distro`] on the wire, field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeDistro {
    pub id: String,
    #[serde(default, rename = "versionID", skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

impl From<&Distro> for NativeDistro {
    fn from(d: &Distro) -> Self {
        Self {
            id: d.id.clone(),
            version_id: d.version_id.clone(),
            codename: d.codename.clone(),
            id_like: d.id_like.clone(),
            pretty_name: d.pretty_name.clone(),
        }
    }
}

impl From<NativeDistro> for Distro {
    fn from(d: NativeDistro) -> Self {
        Self {
            id: d.id,
            version_id: d.version_id,
            codename: d.codename,
            id_like: d.id_like,
            pretty_name: d.pretty_name,
        }
    }
}

/// One package: [`Package`] on the wire, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativePackage {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default)]
    pub purl: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<NativeLocation>,
    pub found_by: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Where a package was seen: [`Location`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeLocation {
    /// The absolute path in the image.
    pub path: String,
    /// The diff id of the layer that added the file.
    #[serde(
        default,
        rename = "layerDiffID",
        skip_serializing_if = "Option::is_none"
    )]
    pub layer: Option<String>,
}

impl From<&Package> for NativePackage {
    fn from(p: &Package) -> Self {
        Self {
            name: p.name.clone(),
            version: p.version.clone(),
            kind: p.kind,
            arch: p.arch.clone(),
            source_name: p.source_name.clone(),
            source_version: p.source_version.clone(),
            licenses: p.licenses.clone(),
            purl: p.purl.clone(),
            cpes: p.cpes.clone(),
            locations: p
                .locations
                .iter()
                .map(|l| NativeLocation {
                    path: l.path.clone(),
                    layer: l.layer.clone(),
                })
                .collect(),
            found_by: p.found_by.clone(),
            metadata: p.metadata.clone(),
        }
    }
}

impl From<NativePackage> for Package {
    fn from(p: NativePackage) -> Self {
        Self {
            name: p.name,
            version: p.version,
            kind: p.kind,
            arch: p.arch,
            source_name: p.source_name,
            source_version: p.source_version,
            licenses: p.licenses,
            purl: p.purl,
            cpes: p.cpes,
            locations: p
                .locations
                .into_iter()
                .map(|l| Location {
                    path: l.path,
                    layer: l.layer,
                })
                .collect(),
            found_by: p.found_by,
            metadata: p.metadata,
        }
    }
}

/// A file a cataloger could not read: [`Warning`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeWarning {
    /// The file.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl From<&Warning> for NativeWarning {
    fn from(w: &Warning) -> Self {
        Self {
            path: w.path.clone(),
            message: w.message.clone(),
        }
    }
}

impl From<NativeWarning> for Warning {
    fn from(w: NativeWarning) -> Self {
        Self {
            path: w.path,
            message: w.message,
        }
    }
}
