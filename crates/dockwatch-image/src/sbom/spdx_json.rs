//! SPDX 2.3 JSON output.
//!
//! Written with our own serde structs: `serde-spdx` generates its types at build time (schemafy,
//! syn) and brings `anyhow`, `derive_builder` and thiserror 1 into a library, for a document we
//! fill in one function.

use super::ids::{document_uuid, image_purl, spdx_id_part, spdx_package_id, timestamp};
use super::license::{License, classify_all, needs_parentheses};
use super::properties::{distro_properties, image_properties, package_properties};
use super::{RenderOptions, Sbom, SbomFormat};
use dockwatch_core::{Distro, Package};
use serde::Serialize;
use std::collections::BTreeMap;

/// The SPDX version written.
pub const SPEC_VERSION: &str = "SPDX-2.3";

/// Written where a value is not known.
const NOASSERTION: &str = "NOASSERTION";

/// `--format spdx-json`.
#[derive(Debug, Clone)]
pub struct SpdxJson {
    options: RenderOptions,
}

impl SpdxJson {
    /// An SPDX writer stamping documents with `options`' clock and version.
    pub fn new(options: RenderOptions) -> Self {
        Self { options }
    }
}

impl SbomFormat for SpdxJson {
    fn name(&self) -> &'static str {
        "spdx-json"
    }

    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let doc = build(sbom, &self.options);
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    license_list_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    name: String,
    extracted_text: String,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// Free-text license names found in the document, each with its `LicenseRef-` id.
#[derive(Default)]
struct LicenseRefs {
    by_name: BTreeMap<String, String>,
    /// `LicenseRef-`s that package expressions name themselves: SPDX wants each declared.
    in_expressions: std::collections::BTreeSet<String>,
}

impl LicenseRefs {
    fn collect(packages: &[Package]) -> Self {
        let mut names: Vec<&str> = packages
            .iter()
            .flat_map(|p| classify_all(&p.licenses))
            .filter_map(|l| match l {
                License::Name(n) => Some(n),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut refs = Self::default();
        for p in packages {
            for l in classify_all(&p.licenses) {
                if let License::Expression(e) = l {
                    let tokens = e.split(|c: char| c.is_whitespace() || c == '(' || c == ')');
                    refs.in_expressions.extend(
                        tokens
                            .filter(|t| t.starts_with("LicenseRef-"))
                            .map(str::to_string),
                    );
                }
            }
        }
        let mut used: std::collections::HashSet<String> =
            refs.in_expressions.iter().cloned().collect();
        for name in names {
            let base = format!("LicenseRef-{}", spdx_id_part(name));
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            refs.by_name.insert(name.to_string(), id);
        }
        refs
    }

    /// The package's licenses as one SPDX expression, names replaced by their `LicenseRef-`.
    fn declared(&self, texts: &[String]) -> String {
        let terms: Vec<String> = classify_all(texts)
            .into_iter()
            .map(|l| match l {
                License::Name(n) => self.by_name[n].clone(),
                other => other.text().to_string(),
            })
            .collect();
        match terms.len() {
            0 => NOASSERTION.to_string(),
            1 => terms.into_iter().next().unwrap_or_default(),
            _ => terms
                .iter()
                .map(|t| {
                    if needs_parentheses(t) {
                        format!("({t})")
                    } else {
                        t.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    }

    fn extracted(&self) -> Vec<ExtractedLicense> {
        let mut out: Vec<ExtractedLicense> = self
            .by_name
            .iter()
            .map(|(name, id)| ExtractedLicense {
                license_id: id.clone(),
                name: name.clone(),
                extracted_text: name.clone(),
            })
            .chain(self.in_expressions.iter().map(|id| ExtractedLicense {
                license_id: id.clone(),
                name: id.clone(),
                extracted_text: id.clone(),
            }))
            .collect();
        out.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        out
    }
}

/// `Person: Name (email)` from a `Name <email>` maintainer, as SPDX wants a supplier written.
fn supplier(p: &Package) -> String {
    let Some(maintainer) = p.metadata.get("maintainer").map(|m| m.trim()) else {
        return NOASSERTION.to_string();
    };
    if maintainer.is_empty() {
        return NOASSERTION.to_string();
    }
    match maintainer.split_once('<') {
        Some((name, email)) => {
            format!(
                "Person: {} ({})",
                name.trim(),
                email.trim_end_matches('>').trim()
            )
        }
        None => format!("Person: {maintainer}"),
    }
}

fn build(sbom: &Sbom, options: &RenderOptions) -> Document {
    let created = timestamp(options.clock.now_millis());
    let annotator = format!("Tool: dockwatch-{}", options.tool_version);
    let annotate = |list: Vec<(String, String)>| -> Vec<Annotation> {
        list.into_iter()
            .map(|(name, value)| Annotation {
                annotation_date: created.clone(),
                annotation_type: "OTHER",
                annotator: annotator.clone(),
                comment: format!("{name}: {value}"),
            })
            .collect()
    };
    let source = &sbom.source;
    let root_id = format!(
        "SPDXRef-DocumentRoot-{}-{}",
        if source.kind == "dir" {
            "Directory"
        } else {
            "Image"
        },
        spdx_id_part(&source.name)
    );
    let root = SpdxPackage {
        spdx_id: root_id.clone(),
        name: source.name.clone(),
        version_info: source
            .digest
            .clone()
            .or_else(|| source.config_digest.clone()),
        supplier: NOASSERTION.into(),
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION,
        description: None,
        external_refs: image_purl(source)
            .map(|purl| ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: purl,
            })
            .into_iter()
            .collect(),
        primary_package_purpose: Some(if source.kind == "dir" {
            "SOURCE"
        } else {
            "CONTAINER"
        }),
        annotations: annotate(image_properties(source)),
    };

    let license_refs = LicenseRefs::collect(&sbom.packages);
    let mut packages = vec![root];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id.clone(),
    }];
    if let Some(distro) = &sbom.distro {
        let os = os_package(distro, annotate(distro_properties(distro)));
        relationships.push(Relationship {
            spdx_element_id: root_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: os.spdx_id.clone(),
        });
        packages.push(os);
    }
    for p in sbom.sorted_packages() {
        let id = spdx_package_id(p);
        relationships.push(Relationship {
            spdx_element_id: root_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id.clone(),
        });
        let mut external_refs: Vec<ExternalRef> = p
            .cpes
            .iter()
            .map(|cpe| ExternalRef {
                reference_category: "SECURITY",
                reference_type: "cpe23Type",
                reference_locator: cpe.clone(),
            })
            .collect();
        if !p.purl.is_empty() {
            external_refs.push(ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.purl.clone(),
            });
        }
        let paths: Vec<&str> = p.locations.iter().map(|l| l.path.as_str()).collect();
        packages.push(SpdxPackage {
            spdx_id: id,
            name: p.name.clone(),
            version_info: Some(p.version.clone()),
            supplier: supplier(p),
            download_location: NOASSERTION,
            files_analyzed: false,
            source_info: (!paths.is_empty()).then(|| {
                format!(
                    "acquired package info from the {} cataloger: {}",
                    p.found_by,
                    paths.join(", ")
                )
            }),
            license_concluded: NOASSERTION,
            license_declared: license_refs.declared(&p.licenses),
            copyright_text: NOASSERTION,
            description: None,
            external_refs,
            primary_package_purpose: Some("LIBRARY"),
            annotations: annotate(package_properties(p, false)),
        });
    }
    relationships.sort();

    let comment = (!sbom.warnings.is_empty()).then(|| {
        let lines: Vec<String> = sbom
            .warnings
            .iter()
            .map(|w| format!("dockwatch:warning: {}: {}", w.path, w.message))
            .collect();
        lines.join("\n")
    });

    Document {
        spdx_version: SPEC_VERSION,
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: source.name.clone(),
        document_namespace: format!(
            "https://spdx.org/spdxdocs/dockwatch/{}/{}-{}",
            spdx_id_part(&source.kind),
            spdx_id_part(&source.name),
            document_uuid(sbom)
        ),
        creation_info: CreationInfo {
            created,
            creators: vec![
                "Organization: Dockwatch".into(),
                format!("Tool: dockwatch-{}", options.tool_version),
            ],
            license_list_version: license_list_version(),
        },
        comment,
        packages,
        has_extracted_licensing_infos: license_refs.extracted(),
        relationships,
    }
}

/// The SPDX license list version as the specification writes it: `M.N`, no patch number.
fn license_list_version() -> String {
    let full = spdx::license_version();
    let mut parts = full.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => full.to_string(),
    }
}

fn os_package(d: &Distro, annotations: Vec<Annotation>) -> SpdxPackage {
    SpdxPackage {
        spdx_id: format!(
            "SPDXRef-OperatingSystem-{}-{}",
            spdx_id_part(&d.id),
            spdx_id_part(d.version_id.as_deref().unwrap_or("unknown"))
        ),
        name: d.id.clone(),
        version_info: d.version_id.clone(),
        supplier: NOASSERTION.into(),
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION,
        description: d.pretty_name.clone(),
        external_refs: vec![],
        // The JSON schema spells it with `_`; tag-value uses `-`.
        primary_package_purpose: Some("OPERATING_SYSTEM"),
        annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_core::PackageType;

    fn package(licenses: &[&str], maintainer: Option<&str>) -> Package {
        Package {
            name: "x".into(),
            version: "1".into(),
            kind: PackageType::Deb,
            arch: None,
            source_name: None,
            source_version: None,
            licenses: licenses.iter().map(|l| l.to_string()).collect(),
            purl: "pkg:deb/debian/x@1".into(),
            cpes: vec![],
            locations: vec![],
            found_by: "dpkg".into(),
            metadata: maintainer
                .map(|m| [("maintainer".to_string(), m.to_string())].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn declared_licenses_join_with_and_and_reference_names() {
        let pkgs = vec![
            package(
                &["GPL-2.0-only", "MIT OR Apache-2.0", "GPL v2", "GPL/v2"],
                None,
            ),
            package(&[], None),
        ];
        let refs = LicenseRefs::collect(&pkgs);
        assert_eq!(
            refs.declared(&pkgs[0].licenses),
            "GPL-2.0-only AND (MIT OR Apache-2.0) AND LicenseRef-GPL-v2 AND LicenseRef-GPL-v2-2"
        );
        assert_eq!(refs.declared(&pkgs[1].licenses), "NOASSERTION");
        assert_eq!(refs.extracted().len(), 2);
    }

    #[test]
    fn license_refs_in_expressions_are_declared_once_and_names_do_not_take_their_id() {
        let pkgs = vec![package(&["MIT OR LicenseRef-GPL-v2", "GPL v2"], None)];
        let refs = LicenseRefs::collect(&pkgs);
        assert_eq!(
            refs.declared(&pkgs[0].licenses),
            "(MIT OR LicenseRef-GPL-v2) AND LicenseRef-GPL-v2-2"
        );
        let ids: Vec<String> = refs.extracted().into_iter().map(|e| e.license_id).collect();
        assert_eq!(ids, ["LicenseRef-GPL-v2", "LicenseRef-GPL-v2-2"]);
    }

    #[test]
    fn supplier_is_a_person_or_noassertion() {
        assert_eq!(
            supplier(&package(&[], Some("Jane Roe <jane@example.org>"))),
            "Person: Jane Roe (jane@example.org)"
        );
        assert_eq!(supplier(&package(&[], None)), "NOASSERTION");
    }
}
