//! SARIF validates against the SARIF 2.1.0 schema and CycloneDX VEX against the CycloneDX 1.6
//! schema (both in `testdata/schemas`, resolved offline); GitLab and JUnit are checked for the
//! fields their readers need.

use super::fixture;
pub use dockwatch_testdata::schema::{errors, validator};
use serde_json::Value;

fn rendered(format: &str) -> Vec<(&'static str, Value)> {
    fixture::all()
        .into_iter()
        .map(|(name, report)| {
            let text = fixture::render(format, &report);
            (name, serde_json::from_str(&text).expect("valid JSON"))
        })
        .collect()
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let v = validator("sarif-schema-2.1.0.json");
    for (name, doc) in rendered("sarif") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
    }
    // The schema is really applied: a wrong level is refused.
    let (_, mut doc) = rendered("sarif").remove(0);
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!errors(&v, &doc).is_empty());
}

#[test]
fn sarif_gives_github_what_code_scanning_reads() {
    let (_, doc) = rendered("sarif").remove(0);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "one rule per advisory, sorted");
    for rule in rules {
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains(rule["id"].as_str().unwrap())
        );
    }
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(!uri.starts_with('/'), "{uri}");
    }
    let suppressed: Vec<&Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "PYSEC-2023-74");
}

#[test]
fn cyclonedx_vex_validates_against_the_cyclonedx_1_6_schema() {
    let v = validator("bom-1.6.schema.json");
    for (name, doc) in rendered("cyclonedx-vex") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
    }
    let (_, mut doc) = rendered("cyclonedx-vex").remove(0);
    doc["vulnerabilities"][0]["analysis"]["state"] = "fine".into();
    assert!(!errors(&v, &doc).is_empty());
}

#[test]
fn cyclonedx_vex_affects_refs_name_components_of_the_document() {
    let (_, doc) = rendered("cyclonedx-vex").remove(0);
    let refs: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for v in doc["vulnerabilities"].as_array().unwrap() {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&r), "{r} not in {refs:?}");
    }
    let requests = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "PYSEC-2023-74")
        .unwrap();
    assert_eq!(requests["analysis"]["state"], "not_affected");
    assert_eq!(requests["analysis"]["justification"], "code_not_reachable");
}

#[test]
fn gitlab_report_has_the_fields_of_schema_15() {
    let (_, doc) = rendered("gitlab").remove(0);
    assert_eq!(doc["version"], "15.0.7");
    let scan = &doc["scan"];
    for field in ["analyzer", "scanner"] {
        for key in ["id", "name", "version"] {
            assert!(scan[field][key].is_string(), "scan.{field}.{key}");
        }
        assert!(scan[field]["vendor"]["name"].is_string());
    }
    assert_eq!(scan["type"], "container_scanning");
    assert_eq!(scan["status"], "success");
    let time = regex_like_gitlab_time(scan["start_time"].as_str().unwrap());
    assert!(time, "{}", scan["start_time"]);
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 4, "the VEX-suppressed finding is left out");
    let severities = ["Info", "Unknown", "Low", "Medium", "High", "Critical"];
    for v in vulns {
        assert!(v["id"].as_str().unwrap().len() == 36);
        assert!(severities.contains(&v["severity"].as_str().unwrap()));
        assert!(v["location"]["dependency"]["package"]["name"].is_string());
        assert!(v["location"]["dependency"]["version"].is_string());
        assert_eq!(v["location"]["operating_system"], "debian 12");
        assert_eq!(v["location"]["image"], "registry.example/team/app:1.0");
        let ids = v["identifiers"].as_array().unwrap();
        assert!(!ids.is_empty());
        for id in ids {
            for key in ["type", "name", "value"] {
                assert!(id[key].is_string());
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, the pattern the GitLab schema gives.
fn regex_like_gitlab_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn junit_is_well_formed_xml_with_one_suite_per_package_type() {
    use quick_xml::events::Event;
    let xml = fixture::render("junit", &fixture::rich());
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut suites = Vec::new();
    let mut cases = 0;
    let mut failures = Vec::new();
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e}\n{xml}")) {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => {
                    let name = e.try_get_attribute("name").unwrap().unwrap();
                    suites.push(String::from_utf8(name.value.to_vec()).unwrap());
                }
                b"testcase" => cases += 1,
                b"failure" => {
                    let message = e.try_get_attribute("message").unwrap().unwrap();
                    failures.push(message.unescape_value().unwrap().into_owned());
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, ["deb", "pypi", "npm"]);
    assert_eq!(cases, 5, "one testcase per package");
    assert_eq!(failures.len(), 4, "one failure per active finding");
    assert!(
        failures
            .iter()
            .any(|m| m.contains("<template> & \"friends\"")),
        "{failures:?}"
    );
}
