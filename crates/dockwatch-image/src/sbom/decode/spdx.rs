//! SPDX 2.2/2.3 JSON to an [`Sbom`]: the described container is the source, the
//! OPERATING_SYSTEM package the distro, and the other packages, less lock files and binaries
//! that only hold packages, the packages.

use super::cyclonedx::purl_qualifier;
use super::{malformed, purl_type, typed};
use crate::Result;
use crate::catalog::Warning;
use crate::sbom::ids::package_type_of_purl_type;
use crate::sbom::license::split_top_level_and;
use crate::sbom::properties::{ImagePropertyReader, PackagePropertyReader, read_distro_property};
use crate::sbom::{Sbom, SourceInfo};
use dockwatch_core::{Distro, Package, PackageType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

const WHAT: &str = "SPDX SBOM";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument {
    spdx_version: String,
    comment: Option<String>,
    #[serde(default)]
    packages: Vec<RawPackage>,
    #[serde(default)]
    has_extracted_licensing_infos: Vec<RawExtractedLicense>,
    #[serde(default)]
    relationships: Vec<RawRelationship>,
    #[serde(default)]
    document_describes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    version_info: Option<String>,
    license_declared: Option<String>,
    license_concluded: Option<String>,
    description: Option<String>,
    source_info: Option<String>,
    #[serde(default)]
    external_refs: Vec<RawExternalRef>,
    primary_package_purpose: Option<String>,
    #[serde(default)]
    annotations: Vec<RawAnnotation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExternalRef {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
struct RawAnnotation {
    #[serde(default)]
    annotator: String,
    comment: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExtractedLicense {
    license_id: String,
    name: Option<String>,
    extracted_text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// Reads an SPDX document already detected as one.
pub(super) fn decode(value: Value, location: &str) -> Result<Sbom> {
    let doc: RawDocument = typed(value, WHAT, location)?;
    if !matches!(doc.spdx_version.as_str(), "SPDX-2.2" | "SPDX-2.3") {
        return Err(malformed(
            location,
            &format!(
                "field `spdxVersion`: {:?} is not read (SPDX-2.2 and SPDX-2.3 are)",
                doc.spdx_version
            ),
        ));
    }
    let mut described: HashSet<&str> = doc.document_describes.iter().map(String::as_str).collect();
    for r in &doc.relationships {
        match r.relationship_type.as_str() {
            "DESCRIBES" if r.spdx_element_id == "SPDXRef-DOCUMENT" => {
                described.insert(&r.related_spdx_element);
            }
            "DESCRIBED_BY" if r.related_spdx_element == "SPDXRef-DOCUMENT" => {
                described.insert(&r.spdx_element_id);
            }
            _ => {}
        }
    }
    let license_names: HashMap<&str, String> = doc
        .has_extracted_licensing_infos
        .iter()
        .map(|l| {
            let name = l
                .name
                .clone()
                .filter(|n| !n.is_empty() && n != "NOASSERTION")
                .or_else(|| l.extracted_text.clone())
                .unwrap_or_else(|| l.license_id.clone());
            (l.license_id.as_str(), name)
        })
        .collect();

    let mut sbom = Sbom::default();
    for line in doc.comment.as_deref().unwrap_or("").lines() {
        if let Some(rest) = line.strip_prefix("dockwatch:warning: ") {
            let (path, message) = rest.split_once(": ").unwrap_or(("", rest));
            sbom.warnings.push(Warning {
                path: path.to_string(),
                message: message.to_string(),
            });
        }
    }
    for (i, raw) in doc.packages.iter().enumerate() {
        let field = format!("packages[{i}]");
        let purl = raw
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl")
            .map(|r| r.reference_locator.clone());
        let purpose = raw.primary_package_purpose.as_deref().unwrap_or("");
        if matches!(purpose, "OPERATING_SYSTEM" | "OPERATING-SYSTEM")
            || raw.spdx_id.starts_with("SPDXRef-OperatingSystem-")
        {
            if sbom.distro.is_none() {
                sbom.distro = Some(distro_of(raw));
            }
            continue;
        }
        // What the document describes is the thing analyzed, unless it is itself a package
        // with a package URL (an SBOM of one library).
        let is_oci = purl.as_deref().is_some_and(|p| p.starts_with("pkg:oci/"));
        let is_root = is_oci
            || (described.contains(raw.spdx_id.as_str()) && purl.is_none())
            || purpose == "CONTAINER"
            || raw.spdx_id.starts_with("SPDXRef-DocumentRoot-")
            || raw.spdx_id.starts_with("SPDXRef-ContainerImage-")
            || raw.spdx_id.starts_with("SPDXRef-Filesystem-");
        if is_root {
            if sbom.source.name.is_empty() {
                sbom.source = source_of(raw);
            }
            continue;
        }
        if let Some(p) = package_of(
            raw,
            purl,
            &field,
            location,
            &license_names,
            &mut sbom.warnings,
        ) {
            sbom.packages.push(p);
        }
    }
    Ok(sbom)
}

/// `(name, value)` of an annotation written as `name: value`; Trivy's bare names get Trivy's
/// CycloneDX property prefix so one reader understands both.
fn annotation_property(a: &RawAnnotation) -> Option<(String, String)> {
    let (name, value) = a.comment.split_once(": ")?;
    if name.contains(':') {
        Some((name.to_string(), value.to_string()))
    } else if a.annotator.to_ascii_lowercase().contains("trivy") {
        Some((format!("aquasecurity:trivy:{name}"), value.to_string()))
    } else {
        None
    }
}

fn source_of(raw: &RawPackage) -> SourceInfo {
    let mut source = SourceInfo {
        name: raw.name.clone(),
        digest: raw
            .version_info
            .clone()
            .filter(|v| v.starts_with("sha256:") || v.starts_with("sha512:")),
        ..Default::default()
    };
    let mut reader = ImagePropertyReader::default();
    for (name, value) in raw.annotations.iter().filter_map(annotation_property) {
        reader.read(&mut source, &name, &value);
    }
    reader.finish(&mut source);
    source
}

fn distro_of(raw: &RawPackage) -> Distro {
    let mut d = Distro {
        id: raw.name.clone(),
        version_id: raw.version_info.clone(),
        pretty_name: raw.description.clone(),
        ..Default::default()
    };
    for (name, value) in raw.annotations.iter().filter_map(annotation_property) {
        read_distro_property(&mut d, &name, &value);
    }
    d
}

fn package_of(
    raw: &RawPackage,
    purl: Option<String>,
    field: &str,
    location: &str,
    license_names: &HashMap<&str, String>,
    warnings: &mut Vec<Warning>,
) -> Option<Package> {
    let cpes: Vec<String> = raw
        .external_refs
        .iter()
        .filter(|r| r.reference_type == "cpe23Type" || r.reference_type == "cpe22Type")
        .filter(|r| r.reference_category == "SECURITY" || r.reference_category == "SECURITY_")
        .map(|r| r.reference_locator.clone())
        .collect();
    let mut purl = purl.unwrap_or_default();
    let had_purl = !purl.is_empty();
    let mut kind = PackageType::Generic;
    if !purl.is_empty() {
        match purl_type(&purl) {
            Some(t) => kind = package_type_of_purl_type(&t),
            None => {
                warnings.push(Warning {
                    path: location.to_string(),
                    message: format!(
                        "{field}.externalRefs: invalid package URL {purl:?}; package {:?} kept \
                         without it",
                        raw.name
                    ),
                });
                purl.clear();
            }
        }
    }
    // Without a package URL or a CPE, lock files, binaries and archives are containers of
    // packages, not packages: Trivy names them `SPDXRef-Application-*`.
    let purpose = raw.primary_package_purpose.as_deref().unwrap_or("");
    let structural = matches!(
        purpose,
        "APPLICATION"
            | "CONTAINER"
            | "SOURCE"
            | "FILE"
            | "ARCHIVE"
            | "INSTALL"
            | "DEVICE"
            | "FIRMWARE"
    ) || raw.spdx_id.starts_with("SPDXRef-Application-");
    if !had_purl && cpes.is_empty() && structural {
        return None;
    }
    let known = |l: &Option<String>| {
        l.clone()
            .filter(|l| !l.is_empty() && l != "NOASSERTION" && l != "NONE")
    };
    let licenses = known(&raw.license_declared)
        .or_else(|| known(&raw.license_concluded))
        .map(|expression| {
            split_top_level_and(&expression)
                .into_iter()
                .map(|term| license_names.get(term.as_str()).cloned().unwrap_or(term))
                .collect()
        })
        .unwrap_or_default();
    let mut package = Package {
        name: raw.name.clone(),
        version: raw.version_info.clone().unwrap_or_default(),
        kind,
        arch: purl_qualifier(&purl, "arch"),
        source_name: None,
        source_version: None,
        licenses,
        purl,
        cpes,
        locations: vec![],
        found_by: "sbom".into(),
        metadata: BTreeMap::new(),
    };
    let mut reader = PackagePropertyReader::default();
    for (name, value) in raw.annotations.iter().filter_map(annotation_property) {
        reader.read(&name, &value);
    }
    if let Some(source_info) = &raw.source_info {
        reader.read_source_info(source_info);
    }
    reader.apply(&mut package);
    Some(package)
}
