//! JUnit XML for CI test views: one testsuite per package type, one testcase per package, one
//! failure per active finding. Suppressed findings are listed in the testcase's `system-out`.

use super::{Report, ReportFormat, fixed_text, rating_word};
use dockwatch_core::PackageType;
use quick_xml::escape::escape;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `--format junit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Junit;

impl ReportFormat for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }

    // The document is flat; quick-xml's escaping is all it needs.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut suites: BTreeMap<PackageType, Vec<usize>> = BTreeMap::new();
        for (i, p) in report.packages.iter().enumerate() {
            suites.entry(p.kind).or_default().push(i);
        }
        let mut xml = String::new();
        let mut all_failing = 0;
        for (kind, members) in &suites {
            let mut cases = String::new();
            let mut failing = 0;
            for &i in members {
                let p = &report.packages[i];
                let findings: Vec<_> = report
                    .findings
                    .iter()
                    .filter(|f| *f.finding.package == *p)
                    .collect();
                let name = escape(format!("{}@{}", p.name, p.version));
                let _ = write!(
                    cases,
                    "    <testcase classname=\"{}\" name=\"{name}\" time=\"0\"",
                    kind.as_str()
                );
                if findings.is_empty() {
                    cases.push_str("/>\n");
                    continue;
                }
                cases.push_str(">\n");
                let mut notes = String::new();
                let mut failed = false;
                for e in findings {
                    let f = &e.finding;
                    let word = rating_word(f.severity.rating);
                    let summary = f.summary.as_deref().unwrap_or("");
                    if let Some(s) = &e.suppressed {
                        let _ = writeln!(notes, "{} suppressed: {}", f.advisory_id, s.reason());
                        continue;
                    }
                    failed = true;
                    let mut body = format!(
                        "Package: {}\nInstalled: {}\nFixed: {}\nSeverity: {word}\n",
                        p.name,
                        p.version,
                        if f.is_fixed() {
                            fixed_text(f)
                        } else {
                            "none yet".to_owned()
                        }
                    );
                    if !f.aliases.is_empty() {
                        let _ = writeln!(body, "Aliases: {}", f.aliases.join(", "));
                    }
                    if f.known_exploited() {
                        body.push_str("Known exploited (CISA KEV)\n");
                    }
                    body.push_str(summary);
                    let _ = writeln!(
                        cases,
                        "      <failure message=\"{}\" type=\"{word}\">{}</failure>",
                        escape(
                            format!("[{word}] {} {summary}", f.advisory_id)
                                .trim_end()
                                .to_owned()
                        ),
                        escape(body.trim_end().to_owned())
                    );
                }
                if failed {
                    failing += 1;
                    all_failing += 1;
                }
                if !notes.is_empty() {
                    let _ = writeln!(
                        cases,
                        "      <system-out>{}</system-out>",
                        escape(notes.trim_end().to_owned())
                    );
                }
                cases.push_str("    </testcase>\n");
            }
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failing}\" errors=\"0\" skipped=\"0\" time=\"0\">",
                kind.as_str(),
                members.len()
            );
            let _ = writeln!(
                xml,
                "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n    </properties>",
                escape(report.target())
            );
            xml.push_str(&cases);
            xml.push_str("  </testsuite>\n");
        }
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"dockwatch\" tests=\"{}\" failures=\"{all_failing}\" errors=\"0\">\n\
             {xml}</testsuites>\n",
            report.packages.len()
        )
    }
}
