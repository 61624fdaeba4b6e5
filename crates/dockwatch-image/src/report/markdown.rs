//! Markdown for a pull-request comment: the gate verdict, a summary table by severity, then the
//! findings, with suppressed ones folded away in a `<details>` block.

use super::{RATINGS, Report, ReportFormat, advisory_url, fixed_text, rating_word};
use crate::finding::Finding;
use std::fmt::Write as _;

/// The most findings listed; the rest are counted, so a comment stays within what code hosts
/// accept (GitHub: 65,536 characters).
pub const MAX_ROWS: usize = 100;

/// `--format markdown`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

/// Escapes what would break a table cell or start markup.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn advisory_link(f: &Finding) -> String {
    match advisory_url(&f.advisory_id) {
        Some(url) => format!("[{}]({url})", cell(&f.advisory_id)),
        None => cell(&f.advisory_id),
    }
}

impl ReportFormat for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut md = String::new();
        let _ = writeln!(md, "## Dockwatch scan: {}\n", cell(&report.target()));
        if let Some(threshold) = report.gate.fail_on {
            let word = rating_word(threshold).to_ascii_lowercase();
            if report.gate.failed {
                let _ = writeln!(
                    md,
                    "**Gate failed:** {} finding(s) at or above {word}.\n",
                    report.gate.failing
                );
            } else {
                let _ = writeln!(md, "**Gate passed:** nothing at or above {word}.\n");
            }
        }
        md.push_str(
            "| Severity | Findings | Fixable | Known exploited |\n| --- | ---: | ---: | ---: |\n",
        );
        for rating in RATINGS {
            let of = |f: &&Finding| f.severity.rating == rating;
            let n = report.active().filter(of).count();
            if n == 0 {
                continue;
            }
            let fixable = report.active().filter(of).filter(|f| f.is_fixed()).count();
            let kev = report
                .active()
                .filter(of)
                .filter(|f| f.known_exploited())
                .count();
            let _ = writeln!(md, "| {} | {n} | {fixable} | {kev} |", rating_word(rating));
        }
        let total = report.active().count();
        let _ = writeln!(
            md,
            "| **Total** | **{total}** | **{}** | **{}** |\n",
            report.active().filter(|f| f.is_fixed()).count(),
            report.active().filter(|f| f.known_exploited()).count()
        );
        let _ = writeln!(
            md,
            "{} packages scanned; {} suppressed.\n",
            report.packages.len(),
            report.suppressed()
        );
        if total > 0 {
            md.push_str("### Findings\n\n| Severity | Package | Installed | Fixed | Advisory | KEV | Summary |\n| --- | --- | --- | --- | --- | --- | --- |\n");
            for f in report.active().take(MAX_ROWS) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    rating_word(f.severity.rating),
                    cell(&f.package.name),
                    cell(&f.package.version),
                    cell(&fixed_text(f)),
                    advisory_link(f),
                    if f.known_exploited() { "yes" } else { "" },
                    cell(&super::short_text(f.summary.as_deref().unwrap_or(""), 100))
                );
            }
            if total > MAX_ROWS {
                let _ = writeln!(
                    md,
                    "\n{} more finding(s) not listed: see the JSON or SARIF report.",
                    total - MAX_ROWS
                );
            }
            md.push('\n');
        }
        if report.suppressed() > 0 {
            md.push_str("<details><summary>Suppressed findings</summary>\n\n| Package | Installed | Advisory | Reason |\n| --- | --- | --- | --- |\n");
            for e in report
                .findings
                .iter()
                .filter(|e| !e.is_active())
                .take(MAX_ROWS)
            {
                let f = &e.finding;
                let reason = e
                    .suppressed
                    .as_ref()
                    .map(|s| s.reason())
                    .unwrap_or_default();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    cell(&f.package.name),
                    cell(&f.package.version),
                    advisory_link(f),
                    cell(&reason)
                );
            }
            md.push_str("\n</details>\n");
        }
        out.write_all(md.as_bytes())
    }
}
