//! VEX documents (OpenVEX JSON and CycloneDX VEX JSON) read into one statement model.
//!
//! A statement says what the status of one vulnerability is in some packages. Packages are named
//! by purl: OpenVEX `products[].@id` (or their `subcomponents[].@id` when given), CycloneDX
//! `affects[].ref` (a purl, or a BOM-Link `urn:cdx:...#purl`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The status a VEX statement gives a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The package is not affected (CycloneDX `not_affected`, `false_positive`).
    NotAffected,
    /// The package has been fixed (CycloneDX `resolved`, `resolved_with_pedigree`).
    Fixed,
    /// The package is affected (CycloneDX `exploitable`).
    Affected,
    /// Not known yet (CycloneDX `in_triage`).
    UnderInvestigation,
}

impl VexStatus {
    /// Whether findings with this status are suppressed: `not_affected` and `fixed`.
    pub fn suppresses(self) -> bool {
        matches!(self, Self::NotAffected | Self::Fixed)
    }

    /// The OpenVEX word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAffected => "not_affected",
            Self::Fixed => "fixed",
            Self::Affected => "affected",
            Self::UnderInvestigation => "under_investigation",
        }
    }
}

/// One statement: a vulnerability, the packages it is about, and their status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VexStatement {
    /// The vulnerability id and its aliases (`CVE-...`, `GHSA-...`).
    pub vulnerability: Vec<String>,
    /// Package URLs the statement covers; empty means every package.
    pub purls: Vec<String>,
    /// The status.
    pub status: VexStatus,
    /// The justification (`vulnerable_code_not_in_execute_path`, `code_not_reachable`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Free text: OpenVEX `impact_statement`/`action_statement`, CycloneDX `analysis.detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The file and the statement's position in it (`vex.json#statements[2]`).
    pub source: String,
}

impl VexStatement {
    /// Whether the statement is about `advisory_id` (or one of `aliases`) in the package `purl`.
    pub fn applies_to(&self, advisory_id: &str, aliases: &[String], purl: &str) -> bool {
        let names_vulnerability = self
            .vulnerability
            .iter()
            .any(|v| v == advisory_id || aliases.iter().any(|a| a == v));
        names_vulnerability
            && (self.purls.is_empty() || self.purls.iter().any(|p| purl_matches(p, purl)))
    }
}

/// Whether the purl a statement gives covers a package's purl: same type, namespace and name;
/// the same version if the statement gives one; qualifiers and subpath are not compared.
pub fn purl_matches(statement_purl: &str, package_purl: &str) -> bool {
    use std::str::FromStr;
    let (Ok(want), Ok(have)) = (
        packageurl::PackageUrl::from_str(statement_purl),
        packageurl::PackageUrl::from_str(package_purl),
    ) else {
        return statement_purl == package_purl;
    };
    want.ty() == have.ty()
        && want.namespace().map(str::to_ascii_lowercase)
            == have.namespace().map(str::to_ascii_lowercase)
        && want.name() == have.name()
        && want.version().is_none_or(|v| have.version() == Some(v))
}

/// Reads the VEX document at `path` (OpenVEX or CycloneDX, told apart by content).
pub fn read_file(path: &Path) -> Result<Vec<VexStatement>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, &path.display().to_string())
}

/// Reads a VEX document; `location` names it in errors and in each statement's `source`.
pub fn parse(bytes: &[u8], location: &str) -> Result<Vec<VexStatement>> {
    let malformed = |reason: String| Error::Malformed {
        what: "VEX document",
        location: location.to_owned(),
        reason,
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
    if value.get("statements").is_some() {
        let doc: OpenVex =
            serde_path_to_error::deserialize(value).map_err(|e| malformed(field_error(&e)))?;
        doc.statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.validate(&format!("{location}#statements[{i}]")))
            .collect::<std::result::Result<_, _>>()
            .map_err(malformed)
    } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let doc: CycloneDxVex =
            serde_path_to_error::deserialize(value).map_err(|e| malformed(field_error(&e)))?;
        doc.vulnerabilities
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| v.validate(i, location).transpose())
            .collect::<std::result::Result<_, _>>()
            .map_err(malformed)
    } else {
        Err(malformed(
            "neither OpenVEX (no `statements`) nor CycloneDX (no `bomFormat: CycloneDX`)".into(),
        ))
    }
}

fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    format!("field `{}`: {}", e.path(), e.inner())
}

#[derive(Deserialize)]
struct OpenVex {
    statements: Vec<OpenVexStatement>,
}

/// OpenVEX 0.0.1 wrote ids as plain strings; 0.2.0 as objects with `@id`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Named {
    Plain(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        name: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
        #[serde(default)]
        subcomponents: Vec<Named>,
    },
}

impl Named {
    fn ids(&self) -> Vec<String> {
        match self {
            Self::Plain(s) => vec![s.clone()],
            Self::Object {
                id, name, aliases, ..
            } => id.iter().chain(name).chain(aliases).cloned().collect(),
        }
    }
}

#[derive(Deserialize)]
struct OpenVexStatement {
    vulnerability: Named,
    #[serde(default)]
    products: Vec<Named>,
    status: String,
    justification: Option<String>,
    impact_statement: Option<String>,
    action_statement: Option<String>,
    status_notes: Option<String>,
}

impl OpenVexStatement {
    fn validate(self, source: &str) -> std::result::Result<VexStatement, String> {
        let status = match self.status.as_str() {
            "not_affected" => VexStatus::NotAffected,
            "fixed" => VexStatus::Fixed,
            "affected" => VexStatus::Affected,
            "under_investigation" => VexStatus::UnderInvestigation,
            other => return Err(format!("{source}: unknown status {other:?}")),
        };
        let vulnerability = self.vulnerability.ids();
        if vulnerability.is_empty() {
            return Err(format!("{source}: the vulnerability has no id or name"));
        }
        let mut purls = Vec::new();
        for product in &self.products {
            match product {
                Named::Object { subcomponents, .. } if !subcomponents.is_empty() => {
                    purls.extend(subcomponents.iter().flat_map(Named::ids));
                }
                other => purls.extend(other.ids()),
            }
        }
        if self.products.is_empty() {
            return Err(format!("{source}: no products"));
        }
        Ok(VexStatement {
            vulnerability,
            purls,
            status,
            justification: self.justification,
            statement: self
                .impact_statement
                .or(self.action_statement)
                .or(self.status_notes),
            source: source.to_owned(),
        })
    }
}

#[derive(Deserialize)]
struct CycloneDxVex {
    #[serde(default)]
    vulnerabilities: Vec<CycloneDxVulnerability>,
}

#[derive(Deserialize)]
struct CycloneDxVulnerability {
    id: String,
    analysis: Option<CycloneDxAnalysis>,
    #[serde(default)]
    affects: Vec<CycloneDxAffect>,
}

#[derive(Deserialize)]
struct CycloneDxAnalysis {
    state: Option<String>,
    justification: Option<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct CycloneDxAffect {
    #[serde(rename = "ref")]
    reference: String,
}

impl CycloneDxVulnerability {
    /// `None` for a vulnerability without an analysis state: it states nothing.
    fn validate(
        self,
        index: usize,
        location: &str,
    ) -> std::result::Result<Option<VexStatement>, String> {
        let source = format!("{location}#vulnerabilities[{index}]");
        let Some(analysis) = self.analysis else {
            return Ok(None);
        };
        let Some(state) = analysis.state else {
            return Ok(None);
        };
        let status = match state.as_str() {
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "exploitable" => VexStatus::Affected,
            "in_triage" => VexStatus::UnderInvestigation,
            other => return Err(format!("{source}: unknown analysis.state {other:?}")),
        };
        let purls = self
            .affects
            .iter()
            .map(|a| bom_link_target(&a.reference))
            .collect();
        Ok(Some(VexStatement {
            vulnerability: vec![self.id],
            purls,
            status,
            justification: analysis.justification,
            statement: analysis.detail,
            source,
        }))
    }
}

/// The component a CycloneDX `ref` names: the part after `#` of a BOM-Link
/// (`urn:cdx:<serial>/<version>#<bom-ref>`, percent-encoded), else the ref itself.
fn bom_link_target(reference: &str) -> String {
    match reference
        .strip_prefix("urn:cdx:")
        .and_then(|r| r.split_once('#'))
    {
        Some((_, fragment)) => percent_encoding::percent_decode_str(fragment)
            .decode_utf8_lossy()
            .into_owned(),
        None => reference.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivy_openvex_fixture_reads_subcomponents() {
        let path = dockwatch_testdata::fixture(
            "trivy/integration/integration/testdata/fixtures/vex/file/openvex.json",
        );
        let statements = read_file(&path).unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s.vulnerability, ["CVE-2022-23628"]);
        assert_eq!(
            s.purls,
            ["pkg:golang/github.com/open-policy-agent/opa@v0.35.0"]
        );
        assert_eq!(s.status, VexStatus::NotAffected);
        assert_eq!(
            s.justification.as_deref(),
            Some("vulnerable_code_not_in_execute_path")
        );
        assert!(s.applies_to(
            "GHSA-hcw3-j74m-qc58",
            &["CVE-2022-23628".into()],
            "pkg:golang/github.com/open-policy-agent/opa@v0.35.0"
        ));
        assert!(!s.applies_to(
            "GHSA-hcw3-j74m-qc58",
            &["CVE-2022-23628".into()],
            "pkg:golang/github.com/open-policy-agent/opa@v0.36.0"
        ));
    }

    #[test]
    fn openvex_0_0_1_plain_strings() {
        let doc = br#"{"statements":[{"vulnerability":"CVE-1","products":["pkg:pypi/flask"],"status":"fixed"}]}"#;
        let s = &parse(doc, "v.json").unwrap()[0];
        assert_eq!(s.status, VexStatus::Fixed);
        assert!(s.applies_to("PYSEC-1", &["CVE-1".into()], "pkg:pypi/flask@2.0.0"));
        assert!(!s.applies_to("PYSEC-1", &["CVE-1".into()], "pkg:npm/flask@2.0.0"));
        assert_eq!(s.source, "v.json#statements[0]");
    }

    #[test]
    fn cyclonedx_vex_maps_states_and_bom_links() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","vulnerabilities":[
            {"id":"CVE-2","analysis":{"state":"false_positive","detail":"not shipped"},
             "affects":[{"ref":"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:deb/debian/zlib1g@1.2.13"}]},
            {"id":"CVE-3","analysis":{"state":"in_triage"},"affects":[{"ref":"pkg:npm/a@1"}]},
            {"id":"CVE-4"}]}"#;
        let statements = parse(doc, "c.json").unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].status, VexStatus::NotAffected);
        assert_eq!(statements[0].purls, ["pkg:deb/debian/zlib1g@1.2.13"]);
        assert!(statements[0].applies_to(
            "CVE-2",
            &[],
            "pkg:deb/debian/zlib1g@1.2.13?arch=amd64&distro=debian-12"
        ));
        assert!(!statements[1].status.suppresses());
    }

    #[test]
    fn bad_documents_name_file_and_field() {
        let err = parse(br#"{"statements":[{"vulnerability":"CVE-1","products":["pkg:npm/a"],"status":"maybe"}]}"#, "v.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("v.json#statements[0]") && err.contains("maybe"),
            "{err}"
        );
        let err = parse(br#"{"statements":[{"products":[]}]}"#, "v.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("statements[0]") && err.contains("vulnerability"),
            "{err}"
        );
        let err = parse(b"{}", "x.json").unwrap_err().to_string();
        assert!(err.contains("x.json") && err.contains("OpenVEX"), "{err}");
    }
}
