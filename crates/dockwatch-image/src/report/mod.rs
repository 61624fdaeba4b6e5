//! Vulnerability reports: one scan's findings after the policy pass, and the formats they are
//! written in (`dockwatch scan --format`).
//!
//! A [`Report`] is plain data built once (no IO, time passed in), so every format is a pure
//! function of it and golden files are stable. To add a format: write `report/<fmt>.rs` with a
//! unit struct implementing [`ReportFormat`], add it to [`FORMATS`], and add its golden file.

pub mod cyclonedx_vex;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use crate::advisory::DbStatus;
use crate::finding::{Finding, Rating};
use crate::policy::{Evaluated, Gate};
use crate::sbom::SourceInfo;
use dockwatch_core::{Distro, Package};
use serde::Serialize;

/// An output format for vulnerability reports.
pub trait ReportFormat: Send + Sync {
    /// The `--format` name.
    fn name(&self) -> &'static str;
    /// Writes `report` to `out`.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// Every report format; the order is the order `--help` and the docs list them.
pub static FORMATS: &[&dyn ReportFormat] = &[
    &table::Table,
    &json::Json,
    &sarif::Sarif,
    &gitlab::Gitlab,
    &junit::Junit,
    &markdown::Markdown,
    &cyclonedx_vex::CycloneDxVex,
];

/// Every report format (see [`FORMATS`]).
pub fn formats() -> &'static [&'static dyn ReportFormat] {
    FORMATS
}

/// The format called `name`, if there is one.
pub fn format(name: &str) -> Option<&'static dyn ReportFormat> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// The settings a scan ran with, written into the reports that can carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `--fail-on`.
    pub fail_on: Option<Rating>,
    /// `--ignore-unfixed`.
    pub ignore_unfixed: bool,
    /// `--vex` files.
    pub vex_files: Vec<String>,
    /// `--platform`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// One scan's report: what was scanned, against which database, with which settings, and what
/// was found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The version of Dockwatch that made it.
    pub tool_version: String,
    /// When the scan started, milliseconds since the Unix epoch.
    pub started_millis: i64,
    /// When matching finished.
    pub finished_millis: i64,
    /// The advisory database as it was when scanning.
    pub db: Option<DbStatus>,
    /// What was scanned.
    pub source: SourceInfo,
    /// Its operating system.
    pub distro: Option<Distro>,
    /// The settings used.
    pub settings: Settings,
    /// Every package scanned, sorted.
    pub packages: Vec<Package>,
    /// Every finding, suppressed ones included, in [`Report::new`]'s order.
    pub findings: Vec<Evaluated>,
    /// The `--fail-on` verdict.
    pub gate: Gate,
    /// VEX statements that matched nothing.
    pub unused_vex: Vec<String>,
    /// What could not be read or compared (unreadable files, unparsable versions).
    pub warnings: Vec<String>,
}

impl Report {
    /// Builds a report and puts everything in output order: packages by their sort key;
    /// findings by severity (most severe first), then package, then advisory id.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tool_version: String,
        (started_millis, finished_millis): (i64, i64),
        db: Option<DbStatus>,
        sbom: crate::sbom::Sbom,
        settings: Settings,
        outcome: crate::policy::Outcome,
        mut warnings: Vec<String>,
    ) -> Self {
        let mut packages = sbom.packages;
        packages.sort_by(|a, b| {
            a.sort_key()
                .cmp(&b.sort_key())
                .then_with(|| a.locations.cmp(&b.locations))
        });
        let mut findings = outcome.findings;
        findings.sort_by(|a, b| {
            let (a, b) = (&a.finding, &b.finding);
            b.severity
                .rating
                .cmp(&a.severity.rating)
                .then_with(|| a.package.sort_key().cmp(&b.package.sort_key()))
                .then_with(|| a.advisory_id.cmp(&b.advisory_id))
        });
        warnings.extend(
            sbom.warnings
                .iter()
                .map(|w| format!("{}: {}", w.path, w.message)),
        );
        warnings.sort();
        warnings.dedup();
        Self {
            tool_version,
            started_millis,
            finished_millis,
            db,
            source: sbom.source,
            distro: sbom.distro,
            settings,
            packages,
            findings,
            gate: outcome.gate,
            unused_vex: outcome.unused_vex,
            warnings,
        }
    }

    /// The findings that count (not suppressed), in order.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.is_active())
            .map(|f| &f.finding)
    }

    /// How many active findings each rating has, most severe first (all six ratings).
    pub fn counts(&self) -> Vec<(Rating, usize)> {
        RATINGS
            .iter()
            .map(|r| {
                (
                    *r,
                    self.active().filter(|f| f.severity.rating == *r).count(),
                )
            })
            .collect()
    }

    /// How many findings are suppressed.
    pub fn suppressed(&self) -> usize {
        self.findings.iter().filter(|f| !f.is_active()).count()
    }

    /// The scanned thing as people name it: `debian 12 (dir /rootfs)`.
    pub fn target(&self) -> String {
        match self.os_name() {
            Some(os) => format!("{} ({os})", self.source.name),
            None => self.source.name.clone(),
        }
    }

    /// `debian 12`, if an operating system was recognized.
    pub fn os_name(&self) -> Option<String> {
        self.distro.as_ref().map(|d| match &d.version_id {
            Some(v) => format!("{} {v}", d.id),
            None => d.id.clone(),
        })
    }
}

/// Every rating, most severe first.
pub const RATINGS: [Rating; 6] = [
    Rating::Critical,
    Rating::High,
    Rating::Medium,
    Rating::Low,
    Rating::Negligible,
    Rating::Unknown,
];

/// `CRITICAL`, `HIGH`... as tables and messages print ratings.
pub fn rating_word(rating: Rating) -> &'static str {
    match rating {
        Rating::Critical => "CRITICAL",
        Rating::High => "HIGH",
        Rating::Medium => "MEDIUM",
        Rating::Low => "LOW",
        Rating::Negligible => "NEGLIGIBLE",
        Rating::Unknown => "UNKNOWN",
    }
}

/// The CVE a finding is best known by: the advisory id if it is a CVE, else its first CVE alias.
pub fn cve_of(finding: &Finding) -> Option<&str> {
    std::iter::once(&finding.advisory_id)
        .chain(&finding.aliases)
        .map(String::as_str)
        .find(|id| id.starts_with("CVE-"))
}

/// A summary cut for one line: its first line, at most `max` characters, `…` when cut (some
/// advisories put whole paragraphs in the summary).
pub fn short_text(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The fixed versions joined with `, `, or an empty string.
pub fn fixed_text(finding: &Finding) -> String {
    finding.fixed_versions.join(", ")
}

/// A link for an advisory id: its home where the prefix names one, else its OSV page (every id
/// in the database is an OSV id). `None` for an empty id.
pub fn advisory_url(id: &str) -> Option<String> {
    if id.is_empty() {
        return None;
    }
    let prefix = id.split('-').next().unwrap_or_default();
    Some(match prefix {
        "CVE" => format!("https://www.cve.org/CVERecord?id={id}"),
        "GHSA" => format!("https://github.com/advisories/{id}"),
        "DSA" | "DLA" | "DTSA" => format!("https://security-tracker.debian.org/tracker/{id}"),
        "USN" => format!("https://ubuntu.com/security/notices/{id}"),
        "RUSTSEC" => format!("https://rustsec.org/advisories/{id}.html"),
        "GO" => format!("https://pkg.go.dev/vuln/{id}"),
        _ => format!("https://osv.dev/vulnerability/{id}"),
    })
}

/// RFC 3339 UTC with second precision (`2026-01-02T03:04:05Z`).
pub fn rfc3339(millis: i64) -> String {
    let secs = u64::try_from(millis.max(0) / 1000).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Where a package was found, for formats that point at a file: its first evidence path
/// without the leading `/` (a relative URI), or `None`.
pub fn evidence_path(package: &Package) -> Option<String> {
    package
        .locations
        .first()
        .map(|l| l.path.trim_start_matches('/').to_owned())
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_file_is_listed_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "mod.rs")
            .map(|n| n.trim_end_matches(".rs").replace('_', "-"))
            .collect();
        files.sort();
        let mut names: Vec<String> = formats().iter().map(|f| f.name().to_owned()).collect();
        names.sort();
        assert_eq!(files, names);
        assert_eq!(
            formats().iter().map(|f| f.name()).collect::<Vec<_>>(),
            [
                "table",
                "json",
                "sarif",
                "gitlab",
                "junit",
                "markdown",
                "cyclonedx-vex"
            ]
        );
    }

    #[test]
    fn advisory_links_follow_the_prefix() {
        assert_eq!(
            advisory_url("GHSA-aaaa-bbbb-cccc").unwrap(),
            "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"
        );
        assert_eq!(
            advisory_url("DEBIAN-CVE-2023-45853").unwrap(),
            "https://osv.dev/vulnerability/DEBIAN-CVE-2023-45853"
        );
        assert!(advisory_url("").is_none());
        assert_eq!(short_text("short", 10), "short");
        assert_eq!(short_text("first line\nsecond", 80), "first line");
        assert_eq!(short_text("déjà vu all over again", 8), "déjà vu…");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20Z");
    }
}
