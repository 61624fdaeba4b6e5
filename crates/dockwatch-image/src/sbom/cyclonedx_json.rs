//! CycloneDX 1.6 JSON output.
//!
//! Written with our own serde structs: the `cyclonedx-bom` crate (0.8) writes only up to 1.5.

use super::ids::{bom_refs, document_uuid, image_purl, timestamp};
use super::license::{License, classify_all, is_cyclonedx_license_id};
use super::properties::{distro_properties, image_properties, package_properties};
use super::{RenderOptions, Sbom, SbomFormat};
use dockwatch_core::{Distro, Package};
use serde::Serialize;

/// The CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.6";

/// `--format cyclonedx-json`.
#[derive(Debug, Clone)]
pub struct CycloneDxJson {
    options: RenderOptions,
}

impl CycloneDxJson {
    /// A CycloneDX writer stamping documents with `options`' clock and version.
    pub fn new(options: RenderOptions) -> Self {
        Self { options }
    }
}

impl SbomFormat for CycloneDxJson {
    fn name(&self) -> &'static str {
        "cyclonedx-json"
    }

    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let bom = build(sbom, &self.options);
        serde_json::to_writer_pretty(&mut *out, &bom)?;
        out.write_all(b"\n")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
}

/// Where a component was found, in CycloneDX's own terms (1.5+): tools that know nothing of
/// Dockwatch's properties still show the files.
#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Serialize)]
struct Occurrence {
    location: String,
}

/// CycloneDX 1.6 allows either license objects or one expression per component.
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn properties(list: Vec<(String, String)>) -> Vec<Property> {
    list.into_iter()
        .map(|(name, value)| Property { name, value })
        .collect()
}

fn build(sbom: &Sbom, options: &RenderOptions) -> Bom {
    let root_ref = image_purl(&sbom.source)
        .unwrap_or_else(|| format!("{}:{}", sbom.source.kind, sbom.source.name));
    let root = Component {
        bom_ref: Some(root_ref.clone()),
        kind: if sbom.source.kind == "dir" {
            "file"
        } else {
            "container"
        },
        name: sbom.source.name.clone(),
        version: sbom
            .source
            .digest
            .clone()
            .or_else(|| sbom.source.config_digest.clone()),
        purl: image_purl(&sbom.source),
        properties: properties(image_properties(&sbom.source)),
        ..Default::default()
    };
    let tool = Component {
        kind: "application",
        name: "dockwatch".into(),
        version: Some(options.tool_version.clone()),
        ..Default::default()
    };

    let packages = sbom.sorted_packages();
    let refs = bom_refs(&packages);
    let mut components: Vec<Component> = packages
        .iter()
        .zip(&refs)
        .map(|(p, r)| package_component(p, r))
        .collect();
    let mut root_depends = Vec::new();
    let mut dependencies = Vec::new();
    if let Some(distro) = &sbom.distro {
        let os = os_component(distro);
        let os_ref = os.bom_ref.clone().unwrap_or_default();
        let mut os_packages: Vec<String> = packages
            .iter()
            .zip(&refs)
            .filter(|(p, _)| p.kind.is_os())
            .map(|(_, r)| r.clone())
            .collect();
        os_packages.sort();
        root_depends.push(os_ref.clone());
        root_depends.extend(
            packages
                .iter()
                .zip(&refs)
                .filter(|(p, _)| !p.kind.is_os())
                .map(|(_, r)| r.clone()),
        );
        dependencies.push(Dependency {
            reference: os_ref,
            depends_on: os_packages,
        });
        components.push(os);
    } else {
        root_depends.extend(refs.iter().cloned());
    }
    root_depends.sort();
    dependencies.push(Dependency {
        reference: root_ref,
        depends_on: root_depends,
    });
    dependencies.sort_by(|a, b| a.reference.cmp(&b.reference));

    let warnings = sbom
        .warnings
        .iter()
        .map(|w| Property {
            name: "dockwatch:warning".into(),
            value: format!("{}: {}", w.path, w.message),
        })
        .collect();

    Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: format!("urn:uuid:{}", document_uuid(sbom)),
        version: 1,
        metadata: Metadata {
            timestamp: timestamp(options.clock.now_millis()),
            tools: Tools {
                components: vec![tool],
            },
            component: root,
            properties: warnings,
        },
        components,
        dependencies,
    }
}

fn package_component(p: &Package, bom_ref: &str) -> Component {
    Component {
        bom_ref: Some(bom_ref.to_string()),
        kind: "library",
        name: p.name.clone(),
        version: Some(p.version.clone()),
        licenses: licenses(&p.licenses),
        cpe: p.cpes.first().cloned(),
        purl: (!p.purl.is_empty()).then(|| p.purl.clone()),
        properties: properties(package_properties(p, true)),
        evidence: (!p.locations.is_empty()).then(|| Evidence {
            occurrences: p
                .locations
                .iter()
                .map(|l| Occurrence {
                    location: l.path.clone(),
                })
                .collect(),
        }),
        ..Default::default()
    }
}

fn os_component(d: &Distro) -> Component {
    let version = d.version_id.clone();
    Component {
        bom_ref: Some(format!(
            "os:{}@{}",
            d.id,
            version.as_deref().unwrap_or("unknown")
        )),
        kind: "operating-system",
        name: d.id.clone(),
        version,
        description: d.pretty_name.clone(),
        properties: properties(distro_properties(d)),
        ..Default::default()
    }
}

/// License ids as `license.id`, free text as `license.name`, an expression as `expression`. The
/// schema allows one expression and nothing beside it, so several licenses that include an
/// expression are joined with `AND` when all are valid SPDX, and written as names otherwise.
fn licenses(texts: &[String]) -> Vec<LicenseChoice> {
    let classified: Vec<License> = classify_all(texts)
        .into_iter()
        .map(|l| match l {
            License::Id(id) if !is_cyclonedx_license_id(id) => License::Expression(id),
            other => other,
        })
        .collect();
    let has_expression = classified
        .iter()
        .any(|l| matches!(l, License::Expression(_)));
    let has_name = classified.iter().any(|l| matches!(l, License::Name(_)));
    if has_expression && !has_name {
        let joined = classified
            .iter()
            .map(|l| {
                let t = l.text();
                if classified.len() > 1 && super::license::needs_parentheses(t) {
                    format!("({t})")
                } else {
                    t.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        return vec![LicenseChoice::Expression { expression: joined }];
    }
    classified
        .into_iter()
        .map(|l| {
            let license = match l {
                License::Id(id) => LicenseObject {
                    id: Some(id.to_string()),
                    name: None,
                },
                License::Expression(t) | License::Name(t) => LicenseObject {
                    id: None,
                    name: Some(t.to_string()),
                },
            };
            LicenseChoice::License { license }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(texts: &[&str]) -> serde_json::Value {
        let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        serde_json::to_value(licenses(&owned)).unwrap()
    }

    #[test]
    fn licenses_use_id_name_or_expression() {
        assert_eq!(
            render(&["MIT", "GPL v2"]),
            serde_json::json!([{"license": {"id": "MIT"}}, {"license": {"name": "GPL v2"}}])
        );
        assert_eq!(
            render(&["MIT OR Apache-2.0"]),
            serde_json::json!([{"expression": "MIT OR Apache-2.0"}])
        );
        assert_eq!(
            render(&["BSD-3-Clause", "MIT OR Apache-2.0"]),
            serde_json::json!([{"expression": "BSD-3-Clause AND (MIT OR Apache-2.0)"}])
        );
        assert_eq!(
            render(&["MIT OR Apache-2.0", "custom"]),
            serde_json::json!([
                {"license": {"name": "MIT OR Apache-2.0"}},
                {"license": {"name": "custom"}}
            ])
        );
        assert_eq!(render(&[]), serde_json::json!([]));
    }
}
