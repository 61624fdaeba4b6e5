//! A table for people: package, installed, fixed, advisory, severity and a KEV mark, most severe
//! first, then a count by severity.

use super::{Report, ReportFormat, rating_word};

/// `--format table`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Table;

impl ReportFormat for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    // Written by hand: six left-aligned columns need no table crate.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(out, "{}", report.target())?;
        let rows: Vec<[String; 6]> = report
            .active()
            .map(|f| {
                [
                    f.package.name.clone(),
                    f.package.version.clone(),
                    super::fixed_text(f),
                    f.advisory_id.clone(),
                    rating_word(f.severity.rating).to_owned(),
                    if f.known_exploited() { "KEV" } else { "" }.to_owned(),
                ]
            })
            .collect();
        if rows.is_empty() {
            writeln!(out, "No vulnerabilities found.")?;
        } else {
            let header =
                ["PACKAGE", "INSTALLED", "FIXED", "ID", "SEVERITY", "KEV"].map(String::from);
            let mut widths = [0usize; 6];
            for row in std::iter::once(&header).chain(&rows) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let mut line = String::new();
                for (i, cell) in row.iter().enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(cell);
                    } else {
                        line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                    }
                }
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        let counts: Vec<String> = report
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{n} {}", rating_word(r).to_ascii_lowercase()))
            .collect();
        let total: usize = report.active().count();
        let mut summary = format!(
            "\n{total} vulnerabilit{} in {} packages",
            if total == 1 { "y" } else { "ies" },
            report.packages.len()
        );
        if !counts.is_empty() {
            summary.push_str(&format!(" ({})", counts.join(", ")));
        }
        let suppressed = report.suppressed();
        if suppressed > 0 {
            summary.push_str(&format!("; {suppressed} suppressed (see --format json)"));
        }
        writeln!(out, "{summary}")?;
        if let Some(threshold) = report.gate.fail_on {
            writeln!(
                out,
                "Gate --fail-on {}: {}",
                rating_word(threshold).to_ascii_lowercase(),
                if report.gate.failed {
                    format!("FAILED ({} at or above)", report.gate.failing)
                } else {
                    "passed".to_owned()
                }
            )?;
        }
        Ok(())
    }
}
