//! `package-lock.json` and `npm-shrinkwrap.json`: v1 (the nested `dependencies` tree) and v2/v3
//! (the flat `packages` map keyed by install path). Development-only entries are skipped.

use super::super::CatalogOutput;
use super::super::langpkg::warning;
use super::{found, package_json};
use crate::fs::FileEntry;
use serde_json::{Map, Value};

/// How deep a v1 `dependencies` tree is followed (real trees are a few dozen levels at most).
const MAX_DEPTH: usize = 256;

/// Reads one npm lockfile.
pub(super) fn parse(entry: &FileEntry, text: &str, out: &mut CatalogOutput) {
    // serde_json refuses nesting deeper than 128 levels, which bounds hostile input.
    let json: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.warnings
                .push(warning(&entry.path, format!("malformed npm lockfile: {e}")));
            return;
        }
    };
    if let Some(packages) = json.get("packages").and_then(Value::as_object) {
        flat(entry, packages, out);
    } else if let Some(deps) = json.get("dependencies").and_then(Value::as_object) {
        nested(entry, deps, 0, out);
    } else if !json.is_object() {
        out.warnings
            .push(warning(&entry.path, "npm lockfile is not a JSON object"));
    } else {
        out.warnings.push(warning(
            &entry.path,
            "npm lockfile has neither \"packages\" nor \"dependencies\"",
        ));
    }
}

/// v2/v3: `"node_modules/a/node_modules/@s/b": {version, license, dev, link}`.
fn flat(entry: &FileEntry, packages: &Map<String, Value>, out: &mut CatalogOutput) {
    for (key, value) in packages {
        let Some(idx) = key.rfind("node_modules/") else {
            continue; // the root project and workspace folders: the user's own code
        };
        if flag(value, "dev") || flag(value, "link") {
            continue;
        }
        let name = value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&key[idx + "node_modules/".len()..]);
        let Some(version) = value.get("version").and_then(Value::as_str) else {
            continue;
        };
        if let Some(version) = registry_version(version) {
            let package = found(name, version, entry)
                .licenses(package_json::licenses(value))
                .build();
            out.packages.push(package);
        }
    }
}

/// v1: `"a": {version, dev, dependencies: {...}}`, nested for packages not hoisted.
fn nested(entry: &FileEntry, deps: &Map<String, Value>, depth: usize, out: &mut CatalogOutput) {
    if depth > MAX_DEPTH {
        out.warnings.push(warning(
            &entry.path,
            format!("dependency tree deeper than {MAX_DEPTH} levels; the rest is skipped"),
        ));
        return;
    }
    for (name, value) in deps {
        if flag(value, "dev") {
            continue;
        }
        if let Some(version) = value.get("version").and_then(Value::as_str) {
            // An alias (`"b": {"version": "npm:real@1.0.0"}`) installs another package.
            let (name, version) = match version.strip_prefix("npm:") {
                Some(alias) => super::split_descriptor(alias).unwrap_or((name, alias)),
                None => (name.as_str(), version),
            };
            if let Some(version) = registry_version(version) {
                out.packages.push(found(name, version, entry).build());
            }
        }
        if let Some(children) = value.get("dependencies").and_then(Value::as_object) {
            nested(entry, children, depth + 1, out);
        }
    }
}

/// A version from the registry; git, file and URL "versions" name no release.
fn registry_version(version: &str) -> Option<&str> {
    (!version.is_empty() && !version.contains(':') && !version.contains('/')).then_some(version)
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::super::super::langpkg::testkit;
    use super::super::Npm;

    #[test]
    fn v1_aliases_nesting_and_dev_entries() {
        let lock = br#"{"lockfileVersion":1,"dependencies":{
            "a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}},
            "c":{"version":"npm:@s/real@3.0.0"},
            "d":{"version":"1.0.0","dev":true},
            "e":{"version":"git+ssh://git@host.example/e.git#abc"}}}"#;
        let out = testkit::run_on(&Npm, &[("app/package-lock.json", lock)]);
        let ids: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{} {}", p.name, p.version, p.purl))
            .collect();
        assert_eq!(
            ids,
            [
                "@s/real@3.0.0 pkg:npm/%40s/real@3.0.0",
                "a@1.0.0 pkg:npm/a@1.0.0",
                "b@2.0.0 pkg:npm/b@2.0.0",
            ]
        );
    }

    #[test]
    fn v3_flat_packages_with_licenses() {
        let lock = br#"{"lockfileVersion":3,"packages":{
            "":{"name":"root","version":"1.0.0"},
            "packages/ws":{"name":"ws","version":"0.1.0"},
            "node_modules/ws":{"resolved":"packages/ws","link":true},
            "node_modules/a":{"version":"1.0.0","license":"MIT"},
            "node_modules/a/node_modules/@s/b":{"version":"2.0.0","license":"(MIT OR Apache-2.0)"},
            "node_modules/d":{"version":"1.0.0","dev":true}}}"#;
        let out = testkit::run_on(&Npm, &[("app/package-lock.json", lock)]);
        let ids: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{} {:?}", p.name, p.version, p.licenses))
            .collect();
        assert_eq!(
            ids,
            ["@s/b@2.0.0 [\"(MIT OR Apache-2.0)\"]", "a@1.0.0 [\"MIT\"]"]
        );
    }

    #[test]
    fn malformed_and_empty_lockfiles_warn() {
        let out = testkit::run_on(
            &Npm,
            &[
                ("a/package-lock.json", b"{\"packages\": {"),
                ("b/package-lock.json", b"[1, 2]"),
                ("c/package-lock.json", b"{\"name\": \"x\"}"),
            ],
        );
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
    }
}
