//! Dockwatch's own scan report JSON: versioned and self-describing (tool, database snapshot,
//! source, settings), with every finding, suppressed ones included with the reason.

use super::{Report, ReportFormat, Settings, rating_word, rfc3339};
use crate::advisory::DbStatus;
use crate::policy::{Evaluated, Gate};
use crate::sbom::SourceInfo;
use dockwatch_core::Distro;
use serde::Serialize;
use std::collections::BTreeMap;

/// The version of the report document. Bump the minor for additions, the major for anything a
/// reader could misread; `docs/scanning.md` lists the changes.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// `--format json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

/// The document as written; a type of its own so the wire format is decided here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: &'static str,
    tool: Tool<'a>,
    started: String,
    finished: String,
    database: Option<&'a DbStatus>,
    source: &'a SourceInfo,
    distro: Option<&'a Distro>,
    settings: &'a Settings,
    summary: Summary,
    gate: &'a Gate,
    findings: &'a [Evaluated],
    unused_vex: &'a [String],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    packages: usize,
    findings: usize,
    suppressed: usize,
    known_exploited: usize,
    fixable: usize,
    by_severity: BTreeMap<&'static str, usize>,
}

impl ReportFormat for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let doc = Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "dockwatch",
                version: &report.tool_version,
            },
            started: rfc3339(report.started_millis),
            finished: rfc3339(report.finished_millis),
            database: report.db.as_ref(),
            source: &report.source,
            distro: report.distro.as_ref(),
            settings: &report.settings,
            summary: Summary {
                packages: report.packages.len(),
                findings: report.active().count(),
                suppressed: report.suppressed(),
                known_exploited: report.active().filter(|f| f.known_exploited()).count(),
                fixable: report.active().filter(|f| f.is_fixed()).count(),
                by_severity: report
                    .counts()
                    .into_iter()
                    .map(|(r, n)| (rating_word(r), n))
                    .collect(),
            },
            gate: &report.gate,
            findings: &report.findings,
            unused_vex: &report.unused_vex,
            warnings: &report.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}
