//! CycloneDX JSON (1.2 to 1.7) to an [`Sbom`]: components with a package URL or of type
//! library/framework become packages, the operating-system component the distro.

use super::{malformed, purl_type, typed};
use crate::Result;
use crate::catalog::Warning;
use crate::sbom::ids::package_type_of_purl_type;
use crate::sbom::properties::{ImagePropertyReader, PackagePropertyReader, read_distro_property};
use crate::sbom::{Sbom, SourceInfo};
use dockwatch_core::{Distro, Location, Package, PackageType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

const WHAT: &str = "CycloneDX SBOM";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBom {
    spec_version: String,
    #[allow(dead_code)] // Read so a wrong type is reported, as the schema requires a string.
    serial_number: Option<String>,
    metadata: Option<RawMetadata>,
    #[serde(default)]
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawMetadata {
    component: Option<RawComponent>,
    #[serde(default)]
    properties: Vec<RawProperty>,
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    group: Option<String>,
    version: Option<String>,
    description: Option<String>,
    #[serde(default)]
    licenses: Vec<RawLicenseChoice>,
    cpe: Option<String>,
    purl: Option<String>,
    #[serde(default)]
    properties: Vec<RawProperty>,
    #[serde(default)]
    components: Vec<RawComponent>,
    evidence: Option<RawEvidence>,
}

#[derive(Deserialize)]
struct RawEvidence {
    #[serde(default)]
    occurrences: Vec<RawOccurrence>,
}

#[derive(Deserialize)]
struct RawOccurrence {
    location: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawLicenseChoice {
    License { license: RawLicense },
    Expression { expression: String },
}

#[derive(Deserialize)]
struct RawLicense {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawProperty {
    name: String,
    #[serde(default)]
    value: String,
}

/// Reads a CycloneDX document already detected as one.
pub(super) fn decode(value: Value, location: &str) -> Result<Sbom> {
    let bom: RawBom = typed(value, WHAT, location)?;
    let supported = bom
        .spec_version
        .strip_prefix("1.")
        .and_then(|minor| minor.parse::<u32>().ok())
        .is_some_and(|minor| (2..=7).contains(&minor));
    if !supported {
        return Err(malformed(
            location,
            &format!(
                "field `specVersion`: CycloneDX {:?} is not read (1.2 to 1.7 are)",
                bom.spec_version
            ),
        ));
    }
    let mut sbom = Sbom::default();
    if let Some(meta) = &bom.metadata {
        if let Some(root) = &meta.component {
            sbom.source = source_of(root);
        }
        for p in &meta.properties {
            if p.name == "dockwatch:warning" {
                let (path, message) = p.value.split_once(": ").unwrap_or(("", &p.value));
                sbom.warnings.push(Warning {
                    path: path.to_string(),
                    message: message.to_string(),
                });
            }
        }
    }
    // Depth first in document order, without recursion: nesting depth is the document's choice.
    let mut stack: Vec<(String, &RawComponent)> = bom
        .components
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| (format!("components[{i}]"), c))
        .collect();
    while let Some((field, c)) = stack.pop() {
        stack.extend(
            c.components
                .iter()
                .enumerate()
                .rev()
                .map(|(i, child)| (format!("{field}.components[{i}]"), child)),
        );
        if c.kind == "operating-system" {
            if sbom.distro.is_none() {
                sbom.distro = Some(distro_of(c));
            }
            continue;
        }
        if let Some(p) = package_of(c, &field, location, &mut sbom.warnings) {
            sbom.packages.push(p);
        }
    }
    Ok(sbom)
}

fn source_of(root: &RawComponent) -> SourceInfo {
    let mut source = SourceInfo {
        name: root.name.clone(),
        digest: root
            .version
            .clone()
            .filter(|v| v.starts_with("sha256:") || v.starts_with("sha512:")),
        ..Default::default()
    };
    let mut reader = ImagePropertyReader::default();
    for p in &root.properties {
        reader.read(&mut source, &p.name, &p.value);
    }
    reader.finish(&mut source);
    source
}

fn distro_of(c: &RawComponent) -> Distro {
    let mut d = Distro {
        id: c.name.clone(),
        version_id: c.version.clone(),
        pretty_name: c.description.clone(),
        ..Default::default()
    };
    for p in &c.properties {
        read_distro_property(&mut d, &p.name, &p.value);
    }
    d
}

/// The package a component describes, or `None` for files, applications without a package URL
/// and the image itself.
fn package_of(
    c: &RawComponent,
    field: &str,
    location: &str,
    warnings: &mut Vec<Warning>,
) -> Option<Package> {
    let mut purl = c.purl.clone().unwrap_or_default();
    let mut purl_kind = None;
    if !purl.is_empty() {
        match purl_type(&purl) {
            Some(t) if t == "oci" => return None,
            Some(t) => purl_kind = Some(t),
            None => {
                warnings.push(Warning {
                    path: location.to_string(),
                    message: format!(
                        "{field}.purl: invalid package URL {purl:?}; package {:?} kept without it",
                        c.name
                    ),
                });
                purl.clear();
            }
        }
    }
    if purl.is_empty() && !matches!(c.kind.as_str(), "library" | "framework") {
        return None;
    }
    let kind = purl_kind
        .as_deref()
        .map_or(PackageType::Generic, package_type_of_purl_type);
    let name = match c.group.as_deref().filter(|g| !g.is_empty()) {
        Some(group) if kind == PackageType::Maven => format!("{group}:{}", c.name),
        Some(group) => format!("{group}/{}", c.name),
        None => c.name.clone(),
    };
    let mut package = Package {
        name,
        version: c.version.clone().unwrap_or_default(),
        kind,
        arch: purl_qualifier(&purl, "arch"),
        source_name: None,
        source_version: None,
        licenses: c
            .licenses
            .iter()
            .filter_map(|l| match l {
                RawLicenseChoice::License { license } => {
                    license.id.clone().or_else(|| license.name.clone())
                }
                RawLicenseChoice::Expression { expression } => Some(expression.clone()),
            })
            .collect(),
        purl,
        cpes: c.cpe.iter().cloned().collect(),
        locations: vec![],
        found_by: "sbom".into(),
        metadata: BTreeMap::new(),
    };
    let mut reader = PackagePropertyReader::default();
    for p in &c.properties {
        reader.read(&p.name, &p.value);
    }
    reader.apply(&mut package);
    // Tools that write no location properties may still list occurrences (cdxgen does).
    if package.locations.is_empty() {
        let occurrences = c.evidence.iter().flat_map(|e| &e.occurrences);
        package.locations = occurrences
            .map(|o| Location {
                path: o.location.clone(),
                layer: None,
            })
            .collect();
    }
    Some(package)
}

/// A qualifier of a package URL (`arch` of `pkg:deb/debian/bash@5?arch=amd64`).
pub(super) fn purl_qualifier(purl: &str, key: &str) -> Option<String> {
    let parsed = packageurl::PackageUrl::from_str(purl).ok()?;
    parsed
        .qualifiers()
        .iter()
        .find(|(k, _)| k.as_ref() == key)
        .map(|(_, v)| v.to_string())
}
