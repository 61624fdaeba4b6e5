//! Claircore's matcher cases as data: each case's vulnerabilities (from OSV, in claircore's
//! `fixed_in_version` form `introduced=X&fixed=Y`) become OSV records, its index report's
//! packages are matched, and the findings must equal claircore's `Want`.
//!
//! Covers Maven, npm, PyPI and RubyGems with real advisories and versions; needs the real
//! version schemes.

use super::{AdvisoryDb, read_paths};
use crate::matcher::match_packages;
use dockwatch_core::{Package, PackageType};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const ROOT: &str = "claircore/matcher-cases";

/// Reads `file` of `case`, replacing every `{"$ref": "file:X"}` by the content of X.
fn load(case: &str, file: &str) -> Value {
    let path = dockwatch_testdata::fixture(&format!("{ROOT}/{case}/{file}"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Some files are JSON text sequences (RFC 7464): a record separator before the value.
    let text = text.strip_prefix(b"\x1e").unwrap_or(&text);
    let value: Value =
        serde_json::from_slice(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    resolve(case, value)
}

fn resolve(case: &str, value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(file) = target.strip_prefix("file:")
            {
                return load(case, file);
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, resolve(case, v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| resolve(case, v)).collect()),
        other => other,
    }
}

/// Claircore's vulnerability as an OSV record.
fn to_osv(vulnerability: &Value) -> Value {
    let ecosystem = match vulnerability["updater"].as_str().unwrap() {
        "osv/maven" => "Maven",
        "osv/npm" => "npm",
        "osv/pypi" => "PyPI",
        "osv/rubygems" => "RubyGems",
        other => panic!("unexpected updater {other}"),
    };
    let mut events = vec![];
    let mut introduced = "0".to_owned();
    let mut closing = vec![];
    for pair in vulnerability["fixed_in_version"]
        .as_str()
        .unwrap_or("")
        .split('&')
    {
        match pair.split_once('=') {
            Some(("introduced", v)) => introduced = v.to_owned(),
            Some(("fixed", v)) => closing.push(json!({ "fixed": v })),
            Some(("lastAffected", v)) => closing.push(json!({ "last_affected": v })),
            _ => {}
        }
    }
    events.push(json!({ "introduced": introduced }));
    events.extend(closing);
    json!({
        "id": vulnerability["id"],
        "modified": "2024-01-01T00:00:00Z",
        "summary": vulnerability["name"],
        "affected": [{
            "package": { "ecosystem": ecosystem, "name": vulnerability["package"]["name"] },
            "ranges": [{ "type": "ECOSYSTEM", "events": events }]
        }]
    })
}

fn package(kind: PackageType, name: &str, version: &str) -> Package {
    let purl_name = match kind {
        PackageType::Maven => name.replace(':', "/"),
        _ => name.to_owned(),
    };
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: vec![],
        purl: format!("pkg:{kind}/{purl_name}@{version}"),
        cpes: vec![],
        locations: vec![],
        found_by: "claircore-case".into(),
        metadata: Default::default(),
    }
}

/// Runs one case: the findings per package must be claircore's `Want`.
fn check(case: &str, kind: PackageType) {
    let database = load(case, "Database");
    let want = load(case, "Want");
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("osv");
    std::fs::create_dir(&inputs).unwrap();
    let mut queried = BTreeMap::new();
    for record in database["records"].as_array().unwrap() {
        let p = &record["Package"];
        queried.insert(p["id"].as_str().unwrap().to_owned(), p.clone());
    }
    for list in database["vulnerabilities"].as_object().unwrap().values() {
        for v in list.as_array().unwrap() {
            let id = v["id"].as_str().unwrap();
            std::fs::write(inputs.join(format!("{id}.json")), to_osv(v).to_string()).unwrap();
        }
    }
    let batch = read_paths(std::slice::from_ref(&inputs)).unwrap();
    assert!(batch.warnings.is_empty(), "{:?}", batch.warnings);
    let mut db = AdvisoryDb::open_or_create(&dir.path().join("db")).unwrap();
    db.import(batch, "2024-01-01T00:00:00Z").unwrap();

    let empty = json!([]);
    for (id, p) in &queried {
        let pkg = package(
            kind,
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap(),
        );
        let report = match_packages(&db, None, std::slice::from_ref(&pkg)).unwrap();
        assert!(report.warnings.is_empty(), "{case}: {:?}", report.warnings);
        let got: BTreeSet<String> = report.findings.into_iter().map(|f| f.advisory_id).collect();
        let expected: BTreeSet<String> = want["package_vulnerabilities"]
            .get(id)
            .unwrap_or(&empty)
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, expected, "{case}: {} {}", pkg.name, pkg.version);
    }
}

#[test]
fn maven_jackson_databind() {
    check(
        "java/testdata/matcher/Jackson-Databind.txtar.d",
        PackageType::Maven,
    );
}

#[test]
fn npm_splunk() {
    check("nodejs/testdata/matcher/Splunk.txtar.d", PackageType::Npm);
}

#[test]
fn pypi_rhel8() {
    check("python/testdata/matcher/RHEL8.txtar.d", PackageType::Pypi);
}

#[test]
fn rubygems_bullseye() {
    check(
        "ruby/testdata/matcher/BullseyeRuby.txtar.d",
        PackageType::Gem,
    );
}
