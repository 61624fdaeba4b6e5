//! Application packages on a real image built here: real distributions from PyPI
//! (`pip install --target usr/lib/python3.X/site-packages`), real packages from the npm registry
//! (`npm install` into `/app`, hoisted and nested `node_modules` and a `package-lock.json`), and a
//! Go program built here with `go build` against two real modules (Debian's `golang-*-dev`
//! sources, vendored). One umoci layer per ecosystem; also saved as a docker-archive by skopeo
//! and kept as a folder. The expected packages are what pip, npm and Go themselves report:
//! `pip list --format json --path`, `npm ls --all --json --long`, `go version -m`.

mod build;

use build::{GO_MODULES, LangImage, PIP_REQUIREMENTS, have, lang_image};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// The real binary's SBOM of `source` in `format`, parsed; its stderr must carry no warning.
pub fn sbom(source: &str, format: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["sbom", source, "--format", format])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dockwatch sbom {source}: {stderr}");
    assert!(
        !stderr.contains("WARN"),
        "dockwatch sbom {source}: {stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The sources the image is read from: the folder, the OCI layout, the docker-archive.
fn sources(image: &LangImage) -> [String; 3] {
    [
        format!("dir:{}", image.rootfs.display()),
        format!("oci-dir:{}", image.oci.display()),
        format!("docker-archive:{}", image.archive.display()),
    ]
}

/// `found_by name@version purl location` of each language package of a native JSON SBOM, one
/// row per location that is not a supporting file (`RECORD` beside `METADATA`).
fn found_rows(sbom: &Value) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    for p in sbom["packages"].as_array().unwrap() {
        let found_by = p["foundBy"].as_str().unwrap();
        if !["python", "npm", "golang"].contains(&found_by) {
            continue;
        }
        for l in p["locations"].as_array().unwrap() {
            let path = l["path"].as_str().unwrap();
            if path.ends_with(".dist-info/RECORD") {
                continue;
            }
            rows.insert(format!(
                "{found_by} {}@{} {} {path}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["purl"].as_str().unwrap()
            ));
        }
    }
    rows
}

fn expected_rows(image: &LangImage) -> BTreeSet<String> {
    image
        .expected
        .iter()
        .map(|e| {
            format!(
                "{} {}@{} {} {}",
                e.found_by, e.name, e.version, e.purl, e.location
            )
        })
        .collect()
}

#[test]
fn every_package_pip_npm_and_go_report_is_found_in_every_packaging() {
    let Some(image) = lang_image() else {
        return;
    };
    let expected = expected_rows(image);
    let count = |by: &str| image.expected.iter().filter(|e| e.found_by == by).count();
    // The image really has what this test is about.
    assert!(count("python") >= PIP_REQUIREMENTS.len(), "{expected:#?}");
    assert!(count("npm") > 100, "{expected:#?}");
    assert!(
        image
            .expected
            .iter()
            .any(|e| e.location.matches("/node_modules/").count() >= 3),
        "no nested node_modules: {expected:#?}"
    );
    assert!(image.expected.iter().any(|e| e.name.starts_with('@')));
    if have("go") {
        // stdlib, the main module, the replaced local module and the vendored ones.
        assert_eq!(count("golang"), 3 + GO_MODULES.len(), "{expected:#?}");
    }
    for source in sources(image) {
        let sbom = sbom(&source, "json");
        let found = found_rows(&sbom);
        let missing: Vec<_> = expected.difference(&found).collect();
        let extra: Vec<_> = found.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{source}:\nmissing {missing:#?}\nextra {extra:#?}"
        );
        assert_eq!(sbom["warnings"], serde_json::json!([]), "{source}");
    }
}

#[test]
fn each_layer_is_credited_with_its_own_packages() {
    let Some(image) = lang_image() else {
        return;
    };
    let sbom = sbom(&format!("oci-dir:{}", image.oci.display()), "json");
    let layers: Vec<&str> = sbom["source"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diffID"].as_str().unwrap())
        .collect();
    // umoci's empty base, then Python, npm, Go (when built), in that order.
    let layer_of = |found_by: &str| {
        let p = sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["foundBy"] == found_by)
            .unwrap_or_else(|| panic!("no {found_by} package"));
        p["locations"][0]["layerDiffID"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let python = layers.iter().position(|l| *l == layer_of("python"));
    let npm = layers.iter().position(|l| *l == layer_of("npm"));
    assert!(python.is_some() && npm > python, "{layers:?}");
    if image.expected.iter().any(|e| e.found_by == "golang") {
        let go = layers.iter().position(|l| *l == layer_of("golang"));
        assert!(go > npm, "{layers:?}");
    }
}

/// The licenses of a CycloneDX component: SPDX ids (`license.id`) or expressions.
fn cyclonedx_licenses(component: &Value) -> Vec<String> {
    component["licenses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            l["license"]["id"]
                .as_str()
                .or(l["expression"].as_str())
                .unwrap_or_else(|| panic!("not an SPDX license: {l} in {component}"))
                .to_owned()
        })
        .collect()
}

/// Where `doc` breaks the official schema in `schema_file`.
fn schema_errors(schema_file: &str, doc: &Value) -> Vec<String> {
    use dockwatch_testdata::schema;
    schema::errors(&schema::validator(schema_file), doc)
}

#[test]
fn cyclonedx_and_spdx_carry_spdx_licenses_and_evidence_paths() {
    let Some(image) = lang_image() else {
        return;
    };
    for source in [
        format!("dir:{}", image.rootfs.display()),
        format!("oci-dir:{}", image.oci.display()),
    ] {
        let cdx = sbom(&source, "cyclonedx-json");
        let errors = schema_errors("bom-1.6.schema.json", &cdx);
        assert!(errors.is_empty(), "{source}: {errors:#?}");
        let components = cdx["components"].as_array().unwrap();
        let spdx = sbom(&source, "spdx-json");
        let errors = schema_errors("spdx-2.3.schema.json", &spdx);
        assert!(errors.is_empty(), "{source}: {errors:#?}");
        let packages = spdx["packages"].as_array().unwrap();
        for e in &image.expected {
            // CycloneDX: the component with this purl whose evidence is this file.
            let component = components
                .iter()
                .find(|c| {
                    c["purl"] == e.purl.as_str()
                        && c["evidence"]["occurrences"]
                            .as_array()
                            .is_some_and(|o| o.iter().any(|o| o["location"] == e.location.as_str()))
                })
                .unwrap_or_else(|| panic!("{source}: no CycloneDX component for {e:?}"));
            let mut licenses = cyclonedx_licenses(component);
            licenses.sort();
            let mut want = e.licenses.clone().unwrap_or_default();
            want.sort();
            assert_eq!(licenses, want, "{source}: CycloneDX licenses of {e:?}");
            // SPDX: the package with this purl whose sourceInfo names this file.
            let package = packages
                .iter()
                .find(|p| {
                    p["externalRefs"].as_array().is_some_and(|refs| {
                        refs.iter().any(|r| {
                            r["referenceType"] == "purl" && r["referenceLocator"] == e.purl.as_str()
                        })
                    }) && p["sourceInfo"]
                        .as_str()
                        .is_some_and(|s| s.contains(&e.location))
                })
                .unwrap_or_else(|| panic!("{source}: no SPDX package for {e:?}"));
            let declared = package["licenseDeclared"].as_str().unwrap();
            match &e.licenses {
                Some(want) => {
                    let mut terms: Vec<&str> = declared.split(" AND ").collect();
                    terms.sort();
                    let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
                    want.sort();
                    assert_eq!(terms, want, "{source}: SPDX licenseDeclared of {e:?}");
                }
                None => assert_eq!(declared, "NOASSERTION", "{source}: {e:?}"),
            }
        }
        // SPDX license ids only: nothing fell back to a LicenseRef.
        assert!(
            spdx["hasExtractedLicensingInfos"]
                .as_array()
                .is_none_or(|l| l.is_empty()),
            "{source}: {}",
            spdx["hasExtractedLicensingInfos"]
        );
    }
}
