//! CycloneDX and SPDX output validate against the official JSON schemas in `testdata/schemas`,
//! resolved offline.

use super::fixture;
pub use dockwatch_testdata::schema::{errors, validator};
use serde_json::Value;
use std::collections::HashSet;

fn rendered(format: &str) -> Vec<(&'static str, Value)> {
    fixture::all()
        .into_iter()
        .map(|(name, sbom)| {
            let text = fixture::render(format, &sbom);
            (name, serde_json::from_str(&text).expect("valid JSON"))
        })
        .collect()
}

#[test]
fn cyclonedx_output_validates_against_the_cyclonedx_1_6_schema() {
    let v = validator("bom-1.6.schema.json");
    for (name, doc) in rendered("cyclonedx-json") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
    }
}

#[test]
fn the_cyclonedx_schema_rejects_what_it_must() {
    let v = validator("bom-1.6.schema.json");
    let (_, mut doc) = rendered("cyclonedx-json").remove(0);
    doc["components"][0]["licenses"] = serde_json::json!([{"license": {"id": "Not-A-License"}}]);
    doc["components"][1]["type"] = "not-a-type".into();
    let errs = errors(&v, &doc);
    assert!(
        errs.iter().any(|e| e.contains("/components/0/licenses")),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("/components/1/type")),
        "{errs:#?}"
    );
}

#[test]
fn cyclonedx_references_resolve() {
    for (name, doc) in rendered("cyclonedx-json") {
        let mut refs = HashSet::new();
        refs.insert(
            doc["metadata"]["component"]["bom-ref"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        for c in doc["components"].as_array().unwrap() {
            let r = c["bom-ref"].as_str().unwrap().to_string();
            assert!(refs.insert(r.clone()), "{name}: duplicate bom-ref {r}");
        }
        for d in doc["dependencies"].as_array().unwrap() {
            assert!(refs.contains(d["ref"].as_str().unwrap()), "{name}: {d}");
            for r in d["dependsOn"].as_array().unwrap() {
                assert!(refs.contains(r.as_str().unwrap()), "{name}: dangling {r}");
            }
        }
    }
}

#[test]
fn spdx_output_validates_against_the_spdx_2_3_schema() {
    let v = validator("spdx-2.3.schema.json");
    for (name, doc) in rendered("spdx-json") {
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}: {errs:#?}");
    }
}

#[test]
fn the_spdx_schema_rejects_what_it_must() {
    let v = validator("spdx-2.3.schema.json");
    let (_, mut doc) = rendered("spdx-json").remove(0);
    doc.as_object_mut().unwrap().remove("documentNamespace");
    doc["packages"][2]["externalRefs"][0]["referenceCategory"] = "NOT-A-CATEGORY".into();
    let errs = errors(&v, &doc);
    assert!(
        errs.iter().any(|e| e.contains("documentNamespace")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("/packages/2/externalRefs/0")),
        "{errs:#?}"
    );
}

/// The rules the released 2.3 schema leaves to the specification text (the 2.3.1 revision of
/// the schema adds them as patterns).
#[test]
fn spdx_identifiers_dates_and_references_follow_the_specification() {
    let date = |s: &str| {
        let b = s.as_bytes();
        s.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[19] == b'Z'
    };
    for (name, doc) in rendered("spdx-json") {
        assert!(
            date(doc["creationInfo"]["created"].as_str().unwrap()),
            "{name}"
        );
        let mut ids = HashSet::from(["SPDXRef-DOCUMENT".to_string()]);
        for p in doc["packages"].as_array().unwrap() {
            let id = p["SPDXID"].as_str().unwrap();
            let rest = id
                .strip_prefix("SPDXRef-")
                .unwrap_or_else(|| panic!("{name}: {id}"));
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{name}: invalid SPDXID {id}"
            );
            assert!(ids.insert(id.to_string()), "{name}: duplicate {id}");
            for a in p["annotations"].as_array().into_iter().flatten() {
                assert!(date(a["annotationDate"].as_str().unwrap()), "{name}: {a}");
            }
        }
        for r in doc["relationships"].as_array().unwrap() {
            for side in ["spdxElementId", "relatedSpdxElement"] {
                assert!(
                    ids.contains(r[side].as_str().unwrap()),
                    "{name}: dangling {r}"
                );
            }
        }
        let namespace = doc["documentNamespace"].as_str().unwrap();
        assert!(
            namespace.starts_with("https://") && !namespace.contains('#'),
            "{namespace}"
        );
        let declared_refs: HashSet<&str> = doc["hasExtractedLicensingInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l["licenseId"].as_str().unwrap())
            .collect();
        for p in doc["packages"].as_array().unwrap() {
            let declared = p["licenseDeclared"].as_str().unwrap();
            for token in declared.split([' ', '(', ')']) {
                if token.starts_with("LicenseRef-") {
                    assert!(
                        declared_refs.contains(token),
                        "{name}: {token} not extracted"
                    );
                }
            }
        }
    }
}
