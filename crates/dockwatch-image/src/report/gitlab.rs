//! GitLab container scanning report (security report schema 15.x): `vulnerabilities[]` and the
//! `scan` object GitLab shows in merge requests. Suppressed findings are left out: GitLab has no
//! place for them.

use super::{Report, ReportFormat, advisory_url, cve_of};
use crate::finding::{Finding, Rating};
use serde_json::{Value, json};

/// `--format gitlab`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gitlab;

/// The schema version written.
pub const SCHEMA_VERSION: &str = "15.0.7";

/// The namespace of the vulnerability ids (a fixed random UUID): the same advisory in the same
/// package keeps its id from scan to scan, so GitLab tracks it.
const ID_NAMESPACE: uuid::Uuid = uuid::uuid!("8a0f1b52-4c1e-4c7e-9a55-2d4f3e0b6c21");

/// GitLab's times: `YYYY-MM-DDTHH:MM:SS`, UTC, without a zone.
fn gitlab_time(millis: i64) -> String {
    super::rfc3339(millis).trim_end_matches('Z').to_owned()
}

fn severity(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical => "Critical",
        Rating::High => "High",
        Rating::Medium => "Medium",
        Rating::Low => "Low",
        Rating::Negligible => "Info",
        Rating::Unknown => "Unknown",
    }
}

fn identifier(id: &str) -> Value {
    let kind = match id.split('-').next().unwrap_or_default() {
        "CVE" => "cve".to_owned(),
        "GHSA" => "ghsa".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    let mut value = json!({"type": kind, "name": id, "value": id});
    if let Some(url) = advisory_url(id) {
        value["url"] = json!(url);
    }
    value
}

fn vulnerability(report: &Report, f: &Finding) -> Value {
    let p = &f.package;
    let id = uuid::Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{}\0{}\0{}", f.advisory_id, p.purl, report.source.name).as_bytes(),
    );
    let mut identifiers = vec![identifier(&f.advisory_id)];
    identifiers.extend(f.aliases.iter().map(|a| identifier(a)));
    let title = cve_of(f).unwrap_or(&f.advisory_id).to_owned();
    let mut v = json!({
        "id": id.to_string(),
        "name": f.summary.as_deref().map_or_else(|| title.clone(), |s| super::short_text(s, 120)),
        "description": f.summary.clone().unwrap_or_else(|| format!("{} in {} {}", f.advisory_id, p.name, p.version)),
        "severity": severity(f.severity.rating),
        "location": {
            "dependency": {"package": {"name": p.name}, "version": p.version},
            "operating_system": report.os_name().unwrap_or_else(|| "unknown".to_owned()),
            "image": report.source.name,
        },
        "identifiers": identifiers,
    });
    if f.is_fixed() {
        v["solution"] = json!(format!(
            "Upgrade {} to {}",
            p.name,
            f.fixed_versions.join(" or ")
        ));
    }
    if let Some(url) = advisory_url(&f.advisory_id) {
        v["links"] = json!([{"url": url}]);
    }
    v
}

impl ReportFormat for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let tool = json!({
            "id": "dockwatch",
            "name": "Dockwatch",
            "vendor": {"name": "Dockwatch"},
            "version": report.tool_version,
        });
        let mut scanner = tool.clone();
        scanner["url"] = json!("https://dockwatch.example/docs/scanning");
        let doc = json!({
            "version": SCHEMA_VERSION,
            "scan": {
                "analyzer": tool,
                "scanner": scanner,
                "type": "container_scanning",
                "start_time": gitlab_time(report.started_millis),
                "end_time": gitlab_time(report.finished_millis),
                "status": "success",
            },
            "vulnerabilities": report.active().map(|f| vulnerability(report, f)).collect::<Vec<_>>(),
            "remediations": [],
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}
