//! Syft JSON (old and current schemas) to an [`Sbom`].

use super::typed;
use crate::Result;
use crate::catalog::Warning;
use crate::sbom::ids::package_type_of_purl_type;
use crate::sbom::properties::{set_source, split_source_rpm, upstream_of_purl};
use crate::sbom::{LayerInfo, Sbom, SourceInfo};
use dockwatch_core::{Distro, Location, Package, PackageType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

const WHAT: &str = "Syft JSON SBOM";

#[derive(Deserialize)]
struct RawDocument {
    artifacts: Vec<RawArtifact>,
    source: Option<RawSource>,
    distro: Option<RawDistro>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArtifact {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    found_by: String,
    #[serde(default)]
    locations: Vec<RawLocation>,
    #[serde(default, deserialize_with = "null_as_default")]
    licenses: Vec<RawLicense>,
    #[serde(default, deserialize_with = "null_as_default")]
    cpes: Vec<RawCpe>,
    #[serde(default)]
    purl: String,
    #[serde(default)]
    metadata: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLocation {
    path: String,
    #[serde(rename = "layerID")]
    layer_id: Option<String>,
}

/// Older schemas list license strings; current ones objects with the value and an expression.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawLicense {
    Text(String),
    Object {
        value: String,
        #[serde(rename = "spdxExpression", default)]
        spdx_expression: String,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCpe {
    Text(String),
    Object { cpe: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSource {
    #[serde(rename = "type", default)]
    kind: String,
    /// `metadata` in current schemas, `target` in old ones.
    #[serde(alias = "target")]
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawImageMetadata {
    #[serde(default)]
    user_input: String,
    #[serde(rename = "imageID")]
    image_id: Option<String>,
    manifest_digest: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    layers: Vec<RawLayer>,
    architecture: Option<String>,
    os: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLayer {
    #[serde(default)]
    media_type: String,
    /// Syft names a layer by its diff id.
    digest: String,
    #[serde(default)]
    size: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDistro {
    #[serde(default)]
    id: String,
    /// Old schemas: `name` and `version`.
    #[serde(default)]
    name: String,
    #[serde(rename = "versionID")]
    version_id: Option<String>,
    version: Option<String>,
    version_codename: Option<String>,
    pretty_name: Option<String>,
    #[serde(default)]
    id_like: Value,
}

fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads a Syft JSON document already detected as one.
pub(super) fn decode(value: Value, location: &str) -> Result<Sbom> {
    let doc: RawDocument = typed(value, WHAT, location)?;
    let mut sbom = Sbom::default();
    if let Some(source) = doc.source {
        sbom.source = source_of(source, location)?;
    }
    sbom.distro = doc.distro.map(distro_of).filter(|d| !d.id.is_empty());
    for (i, a) in doc.artifacts.into_iter().enumerate() {
        sbom.packages
            .push(package_of(a, i, location, &mut sbom.warnings));
    }
    Ok(sbom)
}

fn source_of(raw: RawSource, location: &str) -> Result<SourceInfo> {
    let mut source = SourceInfo::default();
    match (raw.kind.as_str(), raw.metadata) {
        ("image", Some(metadata)) => {
            let m: RawImageMetadata =
                typed(metadata, WHAT, location).map_err(|e| prefix_field(e, "source.metadata"))?;
            source.name = m.user_input;
            source.digest = m.manifest_digest.filter(|d| !d.is_empty());
            source.config_digest = m.image_id.filter(|d| !d.is_empty());
            source.tags = m.tags;
            source.architecture = m.architecture.filter(|a| !a.is_empty());
            source.os = m.os.filter(|o| !o.is_empty());
            source.layers = m
                .layers
                .into_iter()
                .map(|l| LayerInfo {
                    digest: String::new(),
                    diff_id: l.digest,
                    media_type: l.media_type,
                    size: l.size,
                })
                .collect();
        }
        (_, Some(Value::Object(m))) => {
            if let Some(path) = m.get("path").and_then(Value::as_str) {
                source.name = path.to_string();
            }
        }
        (_, Some(Value::String(path))) => source.name = path,
        _ => {}
    }
    Ok(source)
}

/// Names the nested document a field path was relative to.
fn prefix_field(e: crate::Error, prefix: &str) -> crate::Error {
    match e {
        crate::Error::Malformed {
            what,
            location,
            reason,
        } => crate::Error::Malformed {
            what,
            location,
            reason: reason.replacen("field `", &format!("field `{prefix}."), 1),
        },
        other => other,
    }
}

fn distro_of(raw: RawDistro) -> Distro {
    let id_like = match raw.id_like {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
        _ => vec![],
    };
    Distro {
        id: if raw.id.is_empty() { raw.name } else { raw.id },
        version_id: raw.version_id.or(raw.version).filter(|v| !v.is_empty()),
        codename: raw.version_codename.filter(|v| !v.is_empty()),
        id_like,
        pretty_name: raw.pretty_name.filter(|v| !v.is_empty()),
    }
}

/// Syft's package type names, for artifacts without a package URL.
fn kind_of_syft_type(kind: &str) -> PackageType {
    match kind {
        "deb" => PackageType::Deb,
        "apk" => PackageType::Apk,
        "rpm" => PackageType::Rpm,
        "python" => PackageType::Pypi,
        "npm" => PackageType::Npm,
        "go-module" => PackageType::Golang,
        "rust-crate" => PackageType::Cargo,
        "java-archive" | "jenkins-plugin" => PackageType::Maven,
        "gem" => PackageType::Gem,
        "php-composer" => PackageType::Composer,
        "dotnet" => PackageType::Nuget,
        _ => PackageType::Generic,
    }
}

fn package_of(
    a: RawArtifact,
    index: usize,
    location: &str,
    warnings: &mut Vec<Warning>,
) -> Package {
    let mut purl = a.purl;
    let mut kind = kind_of_syft_type(&a.kind);
    if !purl.is_empty() {
        match super::purl_type(&purl) {
            Some(t) => {
                let from_purl = package_type_of_purl_type(&t);
                if from_purl != PackageType::Generic {
                    kind = from_purl;
                }
            }
            None => {
                warnings.push(Warning {
                    path: location.to_string(),
                    message: format!(
                        "artifacts[{index}].purl: invalid package URL {purl:?}; package {:?} kept \
                         without it",
                        a.name
                    ),
                });
                purl.clear();
            }
        }
    }
    let text = |key: &str| {
        a.metadata
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let arch = text("architecture").or_else(|| text("arch"));
    let (source_name, source_version) = match text("sourceRpm") {
        Some(file) => split_source_rpm(&file),
        None => (
            text("source").or_else(|| text("originPackage")),
            text("sourceVersion"),
        ),
    };
    let mut metadata = BTreeMap::new();
    if let Some(m) = text("maintainer") {
        metadata.insert("maintainer".to_string(), m);
    }
    let mut package = Package {
        name: a.name,
        version: a.version,
        kind,
        arch,
        source_name: None,
        source_version: None,
        licenses: a
            .licenses
            .into_iter()
            .map(|l| match l {
                RawLicense::Text(t) => t,
                RawLicense::Object {
                    value,
                    spdx_expression,
                } => {
                    if spdx_expression.is_empty() {
                        value
                    } else {
                        spdx_expression
                    }
                }
            })
            .collect(),
        purl,
        cpes: a
            .cpes
            .into_iter()
            .map(|c| match c {
                RawCpe::Text(t) | RawCpe::Object { cpe: t } => t,
            })
            .collect(),
        locations: a
            .locations
            .into_iter()
            .map(|l| Location {
                path: l.path,
                layer: l.layer_id.filter(|l| !l.is_empty()),
            })
            .collect(),
        found_by: if a.found_by.is_empty() {
            "sbom".into()
        } else {
            a.found_by
        },
        metadata,
    };
    let (source_name, source_version) = match (source_name, source_version) {
        (None, None) => upstream_of_purl(&package.purl, package.kind),
        known => known,
    };
    set_source(&mut package, source_name, source_version);
    package
}
