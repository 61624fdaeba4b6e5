//! CycloneDX 1.6 VEX: the affected components and one `vulnerabilities[]` entry per finding,
//! with its ratings, a ref to the component it affects, and an analysis state (`in_triage` for
//! a match nobody has assessed, the VEX status for suppressed ones).

use super::{Report, ReportFormat, advisory_url, rfc3339};
use crate::finding::{Finding, Rating};
use crate::policy::Suppression;
use crate::policy::vex::VexStatus;
use dockwatch_core::Package;
use serde_json::{Value, json};

/// `--format cyclonedx-vex`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CycloneDxVex;

/// The namespace of the document serial numbers (a fixed random UUID).
const SERIAL_NAMESPACE: uuid::Uuid = uuid::uuid!("5b7e2c1d-8f3a-4e6b-b1c9-0d2e4f6a8b13");

fn severity(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical => "critical",
        Rating::High => "high",
        Rating::Medium => "medium",
        Rating::Low => "low",
        Rating::Negligible => "info",
        Rating::Unknown => "unknown",
    }
}

fn method(cvss_version: &str) -> &'static str {
    match cvss_version {
        "2.0" => "CVSSv2",
        "3.0" => "CVSSv3",
        "3.1" => "CVSSv31",
        "4.0" => "CVSSv4",
        _ => "other",
    }
}

/// CycloneDX's justification for an OpenVEX one (or the CycloneDX word, passed through).
fn justification(word: &str) -> Option<&'static str> {
    Some(match word {
        "code_not_present" | "component_not_present" | "vulnerable_code_not_present" => {
            "code_not_present"
        }
        "code_not_reachable" | "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "requires_configuration" => "requires_configuration",
        "requires_dependency" => "requires_dependency",
        "requires_environment" | "vulnerable_code_cannot_be_controlled_by_adversary" => {
            "requires_environment"
        }
        "protected_by_compiler" => "protected_by_compiler",
        "protected_at_runtime" => "protected_at_runtime",
        "protected_at_perimeter" => "protected_at_perimeter",
        "protected_by_mitigating_control" | "inline_mitigations_already_exist" => {
            "protected_by_mitigating_control"
        }
        _ => return None,
    })
}

fn analysis(suppressed: Option<&Suppression>) -> Value {
    match suppressed {
        Some(Suppression::Vex {
            status,
            justification: given,
            statement,
            source,
        }) => {
            let state = match status {
                VexStatus::NotAffected => "not_affected",
                VexStatus::Fixed => "resolved",
                VexStatus::Affected => "exploitable",
                VexStatus::UnderInvestigation => "in_triage",
            };
            let mut detail = format!("From {source}");
            if let Some(text) = statement {
                detail = format!("{text} ({detail})");
            }
            let mut a = json!({"state": state, "detail": detail});
            if let Some(j) = given.as_deref().and_then(justification) {
                a["justification"] = json!(j);
            }
            a
        }
        Some(Suppression::Unfixed) => json!({
            "state": "in_triage",
            "detail": "Ignored by --ignore-unfixed: no fixed version is known",
        }),
        None => json!({"state": "in_triage"}),
    }
}

fn ratings(f: &Finding) -> Vec<Value> {
    let mut ratings: Vec<Value> = Vec::new();
    if f.severity.source == "vendor" {
        ratings.push(json!({
            "source": {"name": f.ecosystem},
            "severity": severity(f.severity.rating),
            "method": "other",
        }));
    }
    for c in &f.cvss {
        ratings.push(json!({
            "score": c.score,
            "severity": severity(c.rating),
            "method": method(&c.version),
            "vector": c.vector,
        }));
    }
    if ratings.is_empty() {
        ratings.push(json!({"severity": severity(f.severity.rating)}));
    }
    ratings
}

fn component(p: &Package, bom_ref: &str) -> Value {
    let mut c = json!({
        "bom-ref": bom_ref,
        "type": "library",
        "name": p.name,
        "version": p.version,
    });
    if !p.purl.is_empty() {
        c["purl"] = json!(p.purl);
    }
    c
}

impl ReportFormat for CycloneDxVex {
    fn name(&self) -> &'static str {
        "cyclonedx-vex"
    }

    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // The same bom-refs as `dockwatch sbom --format cyclonedx-json` gives these packages.
        let all: Vec<&Package> = report.packages.iter().collect();
        let refs = crate::sbom::ids::bom_refs(&all);
        let ref_of = |p: &Package| -> String {
            report
                .packages
                .iter()
                .position(|q| q == p)
                .map_or_else(|| p.purl.clone(), |i| refs[i].clone())
        };
        let mut components: Vec<(String, Value)> = Vec::new();
        let mut vulnerabilities = Vec::new();
        let mut serial_input = format!("{}\0{}\0", report.source.kind, report.source.name);
        for (n, e) in report.findings.iter().enumerate() {
            let f = &e.finding;
            let bom_ref = ref_of(&f.package);
            if !components.iter().any(|(r, _)| *r == bom_ref) {
                components.push((bom_ref.clone(), component(&f.package, &bom_ref)));
            }
            serial_input.push_str(&format!("{}\0{bom_ref}\0", f.advisory_id));
            let mut v = json!({
                "bom-ref": format!("vuln-{n}-{}", f.advisory_id),
                "id": f.advisory_id,
                "source": {"name": f.ecosystem},
                "ratings": ratings(f),
                "affects": [{"ref": bom_ref, "versions": [{"version": f.package.version, "status": "affected"}]}],
                "analysis": analysis(e.suppressed.as_ref()),
            });
            if let Some(url) = advisory_url(&f.advisory_id) {
                v["source"]["url"] = json!(url);
            }
            if !f.aliases.is_empty() {
                v["references"] = f
                    .aliases
                    .iter()
                    .map(|a| {
                        let mut r = json!({"id": a, "source": {"name": a.split('-').next().unwrap_or_default()}});
                        if let Some(url) = advisory_url(a) {
                            r["source"]["url"] = json!(url);
                        }
                        r
                    })
                    .collect();
            }
            if let Some(s) = &f.summary {
                v["description"] = json!(s);
            }
            if f.is_fixed() {
                v["recommendation"] = json!(format!(
                    "Upgrade {} to {}",
                    f.package.name,
                    f.fixed_versions.join(" or ")
                ));
            }
            let mut properties = Vec::new();
            if let Some(kev) = &f.kev {
                properties
                    .push(json!({"name": "dockwatch:kev:dateAdded", "value": kev.date_added}));
            }
            if let Some(epss) = &f.epss {
                properties
                    .push(json!({"name": "dockwatch:epss:score", "value": epss.score.to_string()}));
                properties.push(json!({"name": "dockwatch:epss:percentile", "value": epss.percentile.to_string()}));
            }
            if !properties.is_empty() {
                v["properties"] = json!(properties);
            }
            vulnerabilities.push(v);
        }
        components.sort_by(|a, b| a.0.cmp(&b.0));
        let serial = uuid::Uuid::new_v5(&SERIAL_NAMESPACE, serial_input.as_bytes());
        let image = matches!(
            report.source.kind.as_str(),
            "registry" | "oci-dir" | "docker-archive"
        );
        let mut subject = json!({
            "bom-ref": "scan-target",
            "type": if image { "container" } else { "application" },
            "name": report.source.name,
        });
        if let Some(digest) = &report.source.digest {
            subject["version"] = json!(digest);
        }
        let doc = json!({
            "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": format!("urn:uuid:{serial}"),
            "version": 1,
            "metadata": {
                "timestamp": rfc3339(report.finished_millis),
                "tools": {"components": [{"type": "application", "name": "dockwatch", "version": report.tool_version}]},
                "component": subject,
            },
            "components": components.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
            "vulnerabilities": vulnerabilities,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}
