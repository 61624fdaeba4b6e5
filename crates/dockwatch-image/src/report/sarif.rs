//! SARIF 2.1.0 for code scanning: one rule per advisory (help text, `security-severity` as
//! GitHub reads it), one result per finding located at the package's evidence file; suppressed
//! findings carry a SARIF `suppressions` entry.

use super::{Report, ReportFormat, advisory_url, fixed_text, rating_word};
use crate::finding::{Finding, Rating};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `--format sarif`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sarif;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Value>,
}

/// GitHub's `security-severity`, which it maps to critical (9.0+), high (7.0-8.9), medium
/// (4.0-6.9) and low (0.1-3.9): the CVSS score when it falls in the band of the finding's rating,
/// else the middle of that band, so GitHub ranks an alert as the gate does (a vendor's rating
/// wins over CVSS).
fn security_severity(finding: &Finding) -> String {
    let (low, high, middle) = match finding.severity.rating {
        Rating::Critical => (9.0, 10.0, 9.5),
        Rating::High => (7.0, 8.9, 8.0),
        Rating::Medium => (4.0, 6.9, 5.5),
        Rating::Low => (0.1, 3.9, 2.0),
        Rating::Negligible | Rating::Unknown => (0.0, 0.0, 0.0),
    };
    let score = finding
        .severity
        .score
        .filter(|s| (low..=high).contains(s))
        .unwrap_or(middle);
    format!("{score:.1}")
}

fn level(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical | Rating::High => "error",
        Rating::Medium => "warning",
        Rating::Low | Rating::Negligible | Rating::Unknown => "note",
    }
}

fn rule(finding: &Finding) -> Value {
    let id = &finding.advisory_id;
    let summary = finding.summary.clone().unwrap_or_else(|| id.clone());
    let word = rating_word(finding.severity.rating);
    let mut text = format!("Vulnerability {id}\nSeverity: {word}\n");
    let mut markdown = format!(
        "**Vulnerability {id}**\n\n| Severity | Aliases | Link |\n| --- | --- | --- |\n| {word} | {} | {} |\n\n",
        finding.aliases.join(", "),
        advisory_url(id).map_or(String::new(), |u| format!("[{id}]({u})"))
    );
    if !finding.aliases.is_empty() {
        text.push_str(&format!("Aliases: {}\n", finding.aliases.join(", ")));
    }
    text.push_str(&summary);
    markdown.push_str(&summary);
    let mut properties = json!({
        "security-severity": security_severity(finding),
        "precision": "very-high",
        "tags": ["vulnerability", "security", word],
    });
    for cvss in &finding.cvss {
        properties[format!("cvssv{}_vector", cvss.version.replace('.', ""))] = json!(cvss.vector);
        properties[format!("cvssv{}_score", cvss.version.replace('.', ""))] = json!(cvss.score);
    }
    let mut rule = json!({
        "id": id,
        "name": "ContainerPackageVulnerability",
        "shortDescription": {"text": super::short_text(&summary, 120)},
        "fullDescription": {"text": summary},
        "defaultConfiguration": {"level": level(finding.severity.rating)},
        "help": {"text": text, "markdown": markdown},
        "properties": properties,
    });
    if let Some(url) = advisory_url(id) {
        rule["helpUri"] = json!(url);
    }
    rule
}

impl ReportFormat for Sarif {
    fn name(&self) -> &'static str {
        "sarif"
    }

    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // One rule per advisory; the first finding (most severe) describes it.
        let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
        for f in &report.findings {
            rules.entry(&f.finding.advisory_id).or_insert(&f.finding);
        }
        let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
        let results: Vec<Value> = report
            .findings
            .iter()
            .map(|e| {
                let f = &e.finding;
                let p = &f.package;
                let uri = super::evidence_path(p).unwrap_or_else(|| report.source.name.clone());
                let mut message = format!(
                    "Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}\nFixed Version: {}",
                    p.name,
                    p.version,
                    f.advisory_id,
                    rating_word(f.severity.rating),
                    fixed_text(f)
                );
                if f.known_exploited() {
                    message.push_str("\nKnown exploited (CISA KEV)");
                }
                let mut result = json!({
                    "ruleId": f.advisory_id,
                    "ruleIndex": index[f.advisory_id.as_str()],
                    "level": level(f.severity.rating),
                    "message": {"text": message},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri, "uriBaseId": "ROOTPATH"},
                            "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                        },
                        "message": {"text": format!("{}: {}@{}", report.source.name, p.name, p.version)},
                    }],
                    "partialFingerprints": {"dockwatch/v1": format!("{}:{}", f.advisory_id, p.purl)},
                });
                if let Some(s) = &e.suppressed {
                    result["suppressions"] = json!([{"kind": "external", "justification": s.reason()}]);
                }
                result
            })
            .collect();
        let run = json!({
            "tool": {"driver": {
                "name": "Dockwatch",
                "fullName": "Dockwatch vulnerability scanner",
                "version": report.tool_version,
                "informationUri": "https://dockwatch.example/docs/scanning",
                "rules": rules.values().map(|f| rule(f)).collect::<Vec<_>>(),
            }},
            "results": results,
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            "properties": {
                "source": report.source.name,
                "sourceKind": report.source.kind,
                "digest": report.source.digest,
            },
        });
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: vec![run],
        };
        serde_json::to_writer_pretty(&mut *out, &log)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn rated(rating: Rating, score: Option<f64>) -> String {
        let mut finding: Finding = serde_json::from_value(json!({
            "advisory_id": "X-1",
            "severity": {"rating": "unknown", "source": "none"},
            "ecosystem": "npm",
            "package": {"name": "a", "version": "1", "type": "npm", "purl": "pkg:npm/a@1", "found_by": "t"},
        }))
        .unwrap();
        finding.severity = Severity {
            rating,
            score,
            source: "vendor".into(),
        };
        security_severity(&finding)
    }

    #[test]
    fn security_severity_agrees_with_the_rating() {
        assert_eq!(rated(Rating::High, Some(7.5)), "7.5");
        assert_eq!(
            rated(Rating::Low, Some(9.8)),
            "2.0",
            "the vendor's low wins"
        );
        assert_eq!(rated(Rating::Critical, None), "9.5");
        assert_eq!(rated(Rating::Unknown, Some(5.0)), "0.0");
    }
}
