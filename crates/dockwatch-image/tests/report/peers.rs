//! Our SARIF and GitLab reports have at least the shape of Trivy's (its integration goldens, read
//! as data): every field path Trivy writes in a rule, a result, the `scan` object and a
//! vulnerability is present in ours, so tools built for Trivy's reports read ours.

use super::fixture;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every field path under `value`; arrays contribute the paths of all their elements.
fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{prefix}/{k}");
                out.insert(p.clone());
                paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}/*"), out);
            }
        }
        _ => {}
    }
}

fn all_paths<'a>(values: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in values {
        paths(v, "", &mut out);
    }
    out
}

fn trivy(name: &str) -> Value {
    let path =
        dockwatch_testdata::fixture(&format!("trivy/integration/integration/testdata/{name}"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn ours(format: &str) -> Value {
    serde_json::from_str(&fixture::render(format, &fixture::rich())).unwrap()
}

/// Paths Trivy writes that ours lacks, ignoring `ignored` prefixes.
fn missing(theirs: &BTreeSet<String>, ours: &BTreeSet<String>, ignored: &[&str]) -> Vec<String> {
    theirs
        .iter()
        .filter(|p| !ours.contains(*p) && !ignored.iter().any(|i| p.starts_with(i)))
        .cloned()
        .collect()
}

#[test]
fn sarif_rules_and_results_have_trivys_fields() {
    let theirs = trivy("alpine-310.sarif.golden");
    let ours = ours("sarif");
    let rules = |doc: &Value| {
        doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .clone()
    };
    let results = |doc: &Value| doc["runs"][0]["results"].as_array().unwrap().clone();
    // CVSS property names carry the CVSS version, which differs by advisory.
    let gap = missing(
        &all_paths(&rules(&theirs)),
        &all_paths(&rules(&ours)),
        &["/properties/cvss"],
    );
    assert!(gap.is_empty(), "rules lack {gap:?}");
    let gap = missing(
        &all_paths(&results(&theirs)),
        &all_paths(&results(&ours)),
        &[],
    );
    assert!(gap.is_empty(), "results lack {gap:?}");
    assert_eq!(ours["version"], theirs["version"]);
}

#[test]
fn gitlab_scan_and_vulnerabilities_have_trivys_fields() {
    let theirs = trivy("alpine-310.gitlab.golden");
    let ours = ours("gitlab");
    let gap = missing(
        &all_paths([&theirs["scan"]]),
        &all_paths([&ours["scan"]]),
        &[],
    );
    assert!(gap.is_empty(), "scan lacks {gap:?}");
    let gap = missing(
        &all_paths(theirs["vulnerabilities"].as_array().unwrap()),
        &all_paths(ours["vulnerabilities"].as_array().unwrap()),
        &[],
    );
    assert!(gap.is_empty(), "vulnerabilities lack {gap:?}");
    let top = |d: &Value| d.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(top(&ours), top(&theirs));
}
