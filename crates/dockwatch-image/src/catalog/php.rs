//! PHP packages: `composer.lock` (`packages`; `packages-dev` is development-only) and the
//! installed list `vendor/composer/installed.json` (v1: a list; v2: `{packages, dev,
//! dev-package-names}`).

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;
use serde_json::Value;

/// Finds PHP packages.
#[derive(Debug, Default)]
pub struct Php;

/// The name recorded in each package's `found_by`.
const NAME: &str = "php";

impl Cataloger for Php {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        file_name(path) == "composer.lock" || path.ends_with("composer/installed.json")
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files().filter(|e| self.wants(&e.path)) {
            let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings)
            else {
                continue;
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(json) => packages(entry, &json, &mut out),
                Err(e) => out
                    .warnings
                    .push(warning(&entry.path, format!("malformed JSON: {e}"))),
            }
        }
        langpkg::finish(out)
    }
}

fn packages(entry: &FileEntry, json: &Value, out: &mut CatalogOutput) {
    let (list, dev_names): (Option<&Vec<Value>>, Vec<&str>) = match json {
        Value::Array(list) => (Some(list), Vec::new()),
        Value::Object(o) => (
            o.get("packages").and_then(Value::as_array),
            o.get("dev-package-names")
                .and_then(Value::as_array)
                .map(|n| n.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
        ),
        _ => (None, Vec::new()),
    };
    let Some(list) = list else {
        out.warnings
            .push(warning(&entry.path, "no \"packages\" list"));
        return;
    };
    for p in list {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(Value::as_str),
            p.get("version").and_then(Value::as_str),
        ) else {
            continue;
        };
        if dev_names.contains(&name) {
            continue;
        }
        let (vendor, project) = match name.split_once('/') {
            Some((v, p)) => (Some(v), p),
            None => (None, name),
        };
        let purl = langpkg::purl("composer", vendor, project, version);
        let licenses: Vec<&str> = match p.get("license") {
            Some(Value::Array(l)) => l.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        };
        out.packages.push(
            Found::new(PackageType::Composer, NAME, name, version, purl, entry)
                .licenses(licenses)
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Compares what the PHP cataloger finds in `fixtures` with `expected`.
    fn check(fixtures: &[(&str, &str)], expected: &[String], documented: &[&str]) -> CatalogOutput {
        testkit::compare(&Php, fixtures, expected, documented)
    }

    #[test]
    fn trivy_composer_vendor() {
        let out = check(
            &[(
                "trivy/integration/integration/testdata/fixtures/repo/composer-vendor",
                "app/vendor/composer",
            )],
            &testkit::trivy_golden("composer.vendor.json.golden"),
            &[],
        );
        assert_eq!(out.packages[0].purl, "pkg:composer/guzzlehttp/psr7@1.8.3");
        assert_eq!(out.packages[0].licenses, ["MIT"]);
    }

    #[test]
    fn installed_v2_skips_dev_packages_and_bad_json_warns() {
        let v2 = br#"{"packages":[{"name":"a/b","version":"1.0.0"},{"name":"c/d","version":"2.0.0"}],"dev":true,"dev-package-names":["c/d"]}"#;
        let out = testkit::run_on(
            &Php,
            &[
                ("app/vendor/composer/installed.json", v2),
                ("app/composer.lock", b"{\"packages\": [ oops"),
            ],
        );
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].name, "a/b");
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].path, "/app/composer.lock");
    }

    #[test]
    fn installed_v1_list_and_composer_lock_licenses() {
        let v1 = br#"[{"name":"monolog/monolog","version":"1.25.1","license":["MIT"]}]"#;
        let lock = br#"{"packages":[{"name":"a/b","version":"v2.0.0","license":["BSD-3-Clause","GPL-2.0+"]}],"packages-dev":[{"name":"phpunit/phpunit","version":"9.0.0"}]}"#;
        let out = testkit::run_on(
            &Php,
            &[
                ("old/vendor/composer/installed.json", v1),
                ("app/composer.lock", lock),
            ],
        );
        let found: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{} {:?}", p.purl, p.licenses))
            .collect();
        assert_eq!(
            found,
            [
                "pkg:composer/a/b@v2.0.0 [\"BSD-3-Clause\", \"GPL-2.0-or-later\"]",
                "pkg:composer/monolog/monolog@1.25.1 [\"MIT\"]",
            ]
        );
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Php,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/php/composer",
                    ".lock",
                    "composer.lock",
                ),
                (
                    "trivy/lang/pkg/fanal/analyzer/language/php/composer",
                    "composer.lock",
                    "",
                ),
                (
                    "trivy/lang/pkg/fanal/analyzer/language/php/composer",
                    "installed.json",
                    "vendor/composer/installed.json",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/composer",
                    ".json",
                    "composer.lock",
                ),
                ("syft/lang/syft/pkg/cataloger/php", ".lock", "composer.lock"),
                ("syft/lang/syft/pkg/cataloger/php", "installed.json", ""),
            ],
            // Valid files without packages, or with development-only ones.
            &["composer/empty.json", "composer/one-package-dev.json"],
        );
        assert!(n > 5, "{n}");
    }
}
