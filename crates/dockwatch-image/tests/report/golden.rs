//! Every format renders every fixture exactly as its golden file says; `UPDATE_GOLDEN=1`
//! rewrites them.

use super::fixture;
use std::path::PathBuf;

fn golden_path(format: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/golden/report")
        .join(format)
        .join(format!("{name}.golden"))
}

fn check(format: &str) {
    for (name, report) in fixture::all() {
        let actual = fixture::render(format, &report);
        dockwatch_testdata::assert_golden(&golden_path(format, name), &actual);
    }
}

#[test]
fn every_format_matches_its_goldens() {
    for format in dockwatch_image::report::formats() {
        check(format.name());
    }
}

#[test]
fn finding_order_in_the_input_does_not_matter() {
    let report = fixture::rich();
    let mut shuffled = report.clone();
    shuffled.findings.reverse();
    shuffled.packages.reverse();
    let reordered = dockwatch_image::report::Report::new(
        shuffled.tool_version.clone(),
        (shuffled.started_millis, shuffled.finished_millis),
        shuffled.db.clone(),
        dockwatch_image::sbom::Sbom {
            source: shuffled.source.clone(),
            distro: shuffled.distro.clone(),
            packages: shuffled.packages.clone(),
            warnings: vec![],
        },
        shuffled.settings.clone(),
        dockwatch_image::policy::Outcome {
            findings: shuffled.findings.clone(),
            gate: shuffled.gate.clone(),
            unused_vex: shuffled.unused_vex.clone(),
        },
        vec![],
    );
    for format in dockwatch_image::report::formats() {
        assert_eq!(
            fixture::render(format.name(), &report),
            fixture::render(format.name(), &reordered),
            "{}",
            format.name()
        );
    }
}

#[test]
fn markdown_lists_at_most_100_findings_and_cuts_long_summaries() {
    let mut report = fixture::rich();
    let template = report.findings[0].clone();
    report.findings = (0..150)
        .map(|i| {
            let mut e = template.clone();
            e.finding.advisory_id = format!("GHSA-{i:04}");
            e.finding.summary = Some("word ".repeat(60));
            e
        })
        .collect();
    let md = fixture::render("markdown", &report);
    let rows = md.lines().filter(|l| l.contains("GHSA-0")).count();
    assert_eq!(rows, 100);
    assert!(md.contains("50 more finding(s) not listed"), "{md}");
    assert!(
        md.lines().all(|l| l.chars().count() < 400),
        "summaries are cut"
    );
}
