//! JavaScript packages: installed `node_modules/**/package.json` (nested and hoisted), and the
//! lockfiles `package-lock.json` / `npm-shrinkwrap.json` (v1, v2, v3), `yarn.lock` (v1 and
//! berry) and `pnpm-lock.yaml`.

mod package_json;
mod package_lock;
mod pnpm;
mod yarn;

use super::langpkg::{self, Found, file_name};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;

/// Finds JavaScript packages.
#[derive(Debug, Default)]
pub struct Npm;

/// The name recorded in each package's `found_by`.
const NAME: &str = "npm";

impl Cataloger for Npm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        match file_name(path) {
            "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => true,
            "package.json" => package_json::is_installed(path),
            _ => false,
        }
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            let parse: fn(&FileEntry, &str, &mut CatalogOutput) = match file_name(&entry.path) {
                "package-lock.json" | "npm-shrinkwrap.json" => package_lock::parse,
                "yarn.lock" => yarn::parse,
                "pnpm-lock.yaml" => pnpm::parse,
                "package.json" if package_json::is_installed(&entry.path) => package_json::parse,
                _ => continue,
            };
            if let Some(text) =
                langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings)
            {
                parse(entry, &text, &mut out);
            }
        }
        fill_licenses_from_installed(&mut out);
        langpkg::finish(out)
    }
}

/// Lockfiles before v2 carry no licenses: take them from the installed copy of the same
/// package below the lockfile's folder, as Trivy does.
fn fill_licenses_from_installed(out: &mut CatalogOutput) {
    use std::collections::HashMap;
    let project = |path: &str| path.split("/node_modules/").next().unwrap_or("").to_owned();
    let mut installed: HashMap<(String, String, String), Vec<String>> = HashMap::new();
    for p in &out.packages {
        let path = &p.locations[0].path;
        if path.ends_with("/package.json") && !p.licenses.is_empty() {
            installed
                .entry((project(path), p.name.clone(), p.version.clone()))
                .or_insert_with(|| p.licenses.clone());
        }
    }
    for p in out.packages.iter_mut().filter(|p| p.licenses.is_empty()) {
        let dir = langpkg::parent(&p.locations[0].path).to_owned();
        if let Some(licenses) = installed.get(&(dir, p.name.clone(), p.version.clone())) {
            p.licenses = licenses.clone();
        }
    }
}

/// A package found in `entry`, with the purl's scope as namespace.
fn found<'a>(name: &'a str, version: &'a str, entry: &FileEntry) -> Found<'a> {
    let (scope, bare) = match name.split_once('/') {
        Some((scope, bare)) if scope.starts_with('@') => (Some(scope), bare),
        _ => (None, name),
    };
    let purl = langpkg::purl("npm", scope, bare, version);
    Found::new(PackageType::Npm, NAME, name, version, purl, entry)
}

/// Splits `name@range` (the name may start with `@scope/`).
fn split_descriptor(descriptor: &str) -> Option<(&str, &str)> {
    // `get` is `None` for an empty descriptor or one starting with a multi-byte character.
    let at = descriptor.get(1..)?.find('@')? + 1;
    Some((&descriptor[..at], &descriptor[at + 1..]))
}

/// Parses a YAML lockfile into `T`. `serde_yaml_ng` bounds nesting and alias expansion, so a
/// small hostile file cannot become an exponential one ("billion laughs"); plain scalars reach
/// `String` fields as written (`version: 1.10` stays `1.10`).
/// Flow collections nested deeper than [`crate::yaml_depth::MAX_FLOW_DEPTH`] are refused first: the
/// parser's time grows with the square of that depth.
fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let depth = crate::yaml_depth::flow_depth(text);
    if depth > crate::yaml_depth::MAX_FLOW_DEPTH {
        return Err(format!(
            "flow collections nested {depth} deep (more than {})",
            crate::yaml_depth::MAX_FLOW_DEPTH
        ));
    }
    serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Compares what the npm cataloger finds in `fixtures` with `expected`.
    fn check(fixtures: &[(&str, &str)], expected: &[String], documented: &[&str]) -> CatalogOutput {
        testkit::compare(&Npm, fixtures, expected, documented)
    }

    const TRIVY_REPO: &str = "trivy/integration/integration/testdata/fixtures/repo";

    #[test]
    fn trivy_npm_lock_and_node_modules() {
        let out = check(
            &[(&format!("{TRIVY_REPO}/npm"), "app")],
            &testkit::trivy_golden("npm.json.golden"),
            &["+z-lock@1.0.0"],
        );
        let jquery: Vec<_> = out.packages.iter().filter(|p| p.name == "jquery").collect();
        assert_eq!(jquery.len(), 2, "from the lockfile and from node_modules");
        assert!(jquery.iter().all(|p| p.licenses == ["MIT"]));
    }

    /// Trivy's CycloneDX golden of the same fixture: the same packages, with the same purls, and
    /// the licenses it gives are ours too.
    #[test]
    fn trivy_npm_cyclonedx_purls_and_licenses() {
        let golden = dockwatch_testdata::fixture(
            "trivy/integration/integration/testdata/npm-cyclonedx.json.golden",
        );
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(golden).unwrap()).unwrap();
        let libraries: Vec<&serde_json::Value> = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == "library")
            .collect();
        let expected: Vec<String> = libraries
            .iter()
            .map(|c| {
                format!(
                    "{}@{}",
                    c["name"].as_str().unwrap(),
                    c["version"].as_str().unwrap()
                )
            })
            .collect();
        let out = check(
            &[(&format!("{TRIVY_REPO}/npm"), "app")],
            &expected,
            &["+z-lock@1.0.0"],
        );
        for c in libraries {
            let ours: Vec<_> = out
                .packages
                .iter()
                .filter(|p| c["purl"] == p.purl.as_str())
                .collect();
            assert!(!ours.is_empty(), "no package with the purl of {c}");
            let theirs: Vec<&str> = c["licenses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| l["license"]["id"].as_str().unwrap())
                .collect();
            if !theirs.is_empty() {
                assert!(ours.iter().all(|p| p.licenses == theirs), "{c}: {ours:?}");
            }
        }
    }

    #[test]
    fn trivy_npm_with_dev_dependencies() {
        // The development-only z-lock is installed in node_modules, so it is found there.
        check(
            &[(&format!("{TRIVY_REPO}/npm"), "app")],
            &testkit::trivy_golden("npm-with-dev.json.golden"),
            &[],
        );
    }

    #[test]
    fn yarn_lock_takes_licenses_from_node_modules() {
        // Trivy's fixture: seven locked packages, six installed copies with a license.
        let out = check(
            &[(
                "trivy/lang/pkg/fanal/analyzer/language/nodejs/yarn/testdata/yarn-classic-licenses",
                "app",
            )],
            &[
                "@babel/parser@7.22.7",
                "@vue/compiler-sfc@2.7.14",
                "nanoid@3.3.6",
                "picocolors@1.0.0",
                "postcss@8.4.27",
                "source-map-js@1.0.2",
                "source-map@0.6.1",
            ]
            .map(String::from),
            &[],
        );
        let locked: Vec<String> = out
            .packages
            .iter()
            .filter(|p| p.locations[0].path.ends_with("yarn.lock"))
            .map(|p| format!("{} {:?}", p.name, p.licenses))
            .collect();
        assert_eq!(
            locked,
            [
                "@babel/parser [\"MIT\"]",
                "@vue/compiler-sfc []",
                "nanoid [\"MIT\"]",
                "picocolors [\"ISC\"]",
                "postcss [\"MIT\"]",
                "source-map [\"BSD-3-Clause\"]",
                "source-map-js [\"BSD-3-Clause\"]",
            ]
        );
    }

    #[test]
    fn trivy_yarn_lock() {
        check(
            &[(&format!("{TRIVY_REPO}/yarn"), "app")],
            &testkit::trivy_golden("yarn.json.golden"),
            &["+asap@2.0.6", "+promise@8.0.3", "-integration@1.0.0"],
        );
    }

    #[test]
    fn peer_lockfile_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Npm,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/nodejs/npm",
                    ".json",
                    "package-lock.json",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/nodejs/yarn",
                    ".lock",
                    "yarn.lock",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/nodejs/pnpm",
                    ".yaml",
                    "pnpm-lock.yaml",
                ),
                ("trivy/lang/pkg/fanal/analyzer/language/nodejs", "", ""),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/npm",
                    ".json",
                    "package-lock.json",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/yarn",
                    ".lock",
                    "yarn.lock",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/pnpm",
                    ".yaml",
                    "pnpm-lock.yaml",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/javascript/packagelockjson",
                    ".json",
                    "package-lock.json",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/javascript/yarnlock",
                    ".lock",
                    "yarn.lock",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/javascript/pnpmlock",
                    ".yaml",
                    "pnpm-lock.yaml",
                ),
                ("syft/lang/syft/pkg/cataloger/javascript", "", ""),
            ],
            &[
                // Valid lockfiles without packages, or whose packages are all `dev: true` or
                // workspace links.
                "javascript/testdata/pnpm/pnpm-lock.yaml",
                "package-lock_v3_broken_link.json",
                "empty.v1.json",
                "empty.v2.json",
                "empty.v1.lock",
                "empty.v2.lock",
                "one-package-dev.v2.json",
                "files.v2.json",
                "no-packages.yaml",
                "no-packages.v9.yaml",
                "missing-packages.yaml",
                "tarball.yaml",
            ],
        );
        assert!(n > 100, "{n}");
    }

    #[test]
    fn real_npm_global_install_matches_npm_ls() {
        // npm itself, installed globally, with the packages it bundles: the same set as
        // `npm ls` reports.
        let lines = testkit::command_lines("npm", &["ls", "-g", "--all", "--parseable", "--long"]);
        let root = lines
            .first()
            .and_then(|l| l.split(':').next())
            .expect("npm ls output")
            .to_owned();
        let expected: Vec<String> = lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_once(':').map(|(_, id)| id.to_owned()))
            .collect();
        assert!(expected.len() > 50, "{expected:?}");
        let mut set = FileSet::new();
        let modules = format!("{root}/node_modules");
        testkit::add_tree(
            &Npm,
            &mut set,
            std::path::Path::new(&modules),
            "usr/lib/node_modules",
        );
        let out = Npm.catalog(&set, &CatalogContext::default());
        testkit::assert_same(&out, &expected, &[]);
    }

    #[test]
    fn scoped_purls_and_descriptors() {
        let e = testkit::entry("a/package-lock.json", 0o644, Vec::new());
        let p = found("@babel/core", "7.0.0", &e).build();
        assert_eq!(p.purl, "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(
            split_descriptor("@babel/core@^7"),
            Some(("@babel/core", "^7"))
        );
        assert_eq!(
            split_descriptor("left-pad@npm:1.0"),
            Some(("left-pad", "npm:1.0"))
        );
        assert_eq!(split_descriptor(""), None);
        assert_eq!(split_descriptor("é@1"), None);
    }

    #[test]
    fn yaml_alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        bomb.push_str("packages: *a11\n");
        let out = testkit::run_on(&Npm, &[("app/pnpm-lock.yaml", bomb.as_bytes())]);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        let err = from_yaml::<serde_yaml_ng::Value>(&bomb).unwrap_err();
        assert!(err.contains("repetition limit"), "{err}");
    }
}
