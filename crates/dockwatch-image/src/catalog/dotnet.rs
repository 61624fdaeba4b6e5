//! .NET packages: `*.deps.json` (the `libraries` an application was built with) and NuGet's
//! `packages.lock.json`.

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;
use serde_json::Value;

/// Finds .NET packages.
#[derive(Debug, Default)]
pub struct Dotnet;

/// The name recorded in each package's `found_by`.
const NAME: &str = "dotnet";

impl Cataloger for Dotnet {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        let name = file_name(path);
        name.ends_with(".deps.json") || name == "packages.lock.json"
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files().filter(|e| self.wants(&e.path)) {
            let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings)
            else {
                continue;
            };
            let json = match serde_json::from_str::<Value>(&text) {
                Ok(json) => json,
                Err(e) => {
                    out.warnings
                        .push(warning(&entry.path, format!("malformed JSON: {e}")));
                    continue;
                }
            };
            if file_name(&entry.path) == "packages.lock.json" {
                packages_lock(entry, &json, &mut out);
            } else {
                deps_json(entry, &json, &mut out);
            }
        }
        langpkg::finish(out)
    }
}

fn nuget<'a>(name: &'a str, version: &'a str, entry: &FileEntry) -> Found<'a> {
    let purl = langpkg::purl("nuget", None, name, version);
    Found::new(PackageType::Nuget, NAME, name, version, purl, entry)
}

/// `libraries: {"Name/Version": {type}}`: packages and referenced projects; the application
/// itself (named like the file) is left out.
fn deps_json(entry: &FileEntry, json: &Value, out: &mut CatalogOutput) {
    let Some(libraries) = json.get("libraries").and_then(Value::as_object) else {
        out.warnings
            .push(warning(&entry.path, "deps.json without \"libraries\""));
        return;
    };
    let app = file_name(&entry.path).trim_end_matches(".deps.json");
    for (key, value) in libraries {
        let Some((name, version)) = key.split_once('/') else {
            continue;
        };
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "package" | "project") || name.eq_ignore_ascii_case(app) {
            continue;
        }
        out.packages.push(
            nuget(name, version, entry)
                .meta("library_type", Some(kind))
                .build(),
        );
    }
}

/// `dependencies: {framework: {name: {type, resolved}}}`; `Project` entries are the
/// solution's own code.
fn packages_lock(entry: &FileEntry, json: &Value, out: &mut CatalogOutput) {
    let Some(frameworks) = json.get("dependencies").and_then(Value::as_object) else {
        out.warnings.push(warning(
            &entry.path,
            "packages.lock.json without \"dependencies\"",
        ));
        return;
    };
    for deps in frameworks.values().filter_map(Value::as_object) {
        for (name, dep) in deps {
            let kind = dep.get("type").and_then(Value::as_str).unwrap_or("");
            let Some(version) = dep.get("resolved").and_then(Value::as_str) else {
                continue;
            };
            if kind.eq_ignore_ascii_case("project") {
                continue;
            }
            out.packages.push(nuget(name, version, entry).build());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Compares what the .NET cataloger finds in `fixtures` with `expected`.
    fn check(fixtures: &[(&str, &str)], expected: &[String], documented: &[&str]) -> CatalogOutput {
        testkit::compare(&Dotnet, fixtures, expected, documented)
    }

    #[test]
    fn trivy_deps_json() {
        let out = check(
            &[(
                "trivy/integration/integration/testdata/fixtures/repo/dotnet",
                "app",
            )],
            &testkit::trivy_golden("dotnet.json.golden"),
            &[],
        );
        assert!(
            out.packages
                .iter()
                .any(|p| p.purl == "pkg:nuget/Newtonsoft.Json@9.0.1")
        );
    }

    #[test]
    fn lockfiles_skip_projects_and_broken_json_warns() {
        let lock = br#"{"version":1,"dependencies":{"net6.0":{"A":{"type":"Direct","resolved":"1.0.0"},"B":{"type":"Transitive","resolved":"2.0.0"},"C":{"type":"Project"}}}}"#;
        let out = testkit::run_on(
            &Dotnet,
            &[("src/packages.lock.json", lock), ("app/x.deps.json", b"{")],
        );
        let found: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(found, ["A@1.0.0", "B@2.0.0"]);
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Dotnet,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/dotnet/core_deps",
                    ".json",
                    "app.deps.json",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/nuget/lock",
                    ".json",
                    "packages.lock.json",
                ),
                ("trivy/lang/pkg/fanal/analyzer/language/dotnet", ".json", ""),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/nuget",
                    ".json",
                    "packages.lock.json",
                ),
                ("syft/lang/syft/pkg/cataloger/dotnet", ".json", ""),
            ],
            // Valid lockfiles of projects without dependencies.
            &[
                "lock-without-deps/packages.lock.json",
                "nuget/empty.v0.json",
                "nuget/empty.v1.json",
            ],
        );
        assert!(n > 5, "{n}");
    }
}
