//! Installed packages: the `package.json` at the root of each folder below a `node_modules`.

use super::super::CatalogOutput;
use super::super::langpkg::warning;
use super::found;
use crate::fs::FileEntry;
use serde_json::Value;

/// Whether `path` is `…/node_modules/<name>/package.json` or
/// `…/node_modules/@scope/<name>/package.json` (not a nested file of a package, and not the
/// project's own manifest).
pub(super) fn is_installed(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/package.json") else {
        return false;
    };
    let mut parts = dir.rsplit('/');
    let (Some(name), Some(up)) = (parts.next(), parts.next()) else {
        return false;
    };
    if name.starts_with('.') {
        return false;
    }
    up == "node_modules" || (up.starts_with('@') && parts.next() == Some("node_modules"))
}

/// Reads one installed `package.json`.
pub(super) fn parse(entry: &FileEntry, text: &str, out: &mut CatalogOutput) {
    let json: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.warnings
                .push(warning(&entry.path, format!("malformed package.json: {e}")));
            return;
        }
    };
    let name = json.get("name").and_then(Value::as_str).unwrap_or("");
    let version = json.get("version").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() || version.is_empty() {
        out.warnings.push(warning(
            &entry.path,
            "package.json in node_modules without name or version",
        ));
        return;
    }
    let author = match json.get("author") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let homepage = json.get("homepage").and_then(Value::as_str);
    let package = found(name, version, entry)
        .licenses(licenses(&json))
        .meta("author", author.as_deref())
        .meta("homepage", homepage)
        .build();
    out.packages.push(package);
}

/// `license` as a string or `{type}`, and the legacy `licenses` list.
pub(super) fn licenses(json: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let mut out: Vec<String> = json.get("license").and_then(one).into_iter().collect();
    if let Some(Value::Array(list)) = json.get("licenses") {
        out.extend(list.iter().filter_map(one));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::super::langpkg::testkit;
    use super::super::Npm;
    use super::*;

    #[test]
    fn only_package_roots_below_node_modules_are_installed() {
        assert!(is_installed("app/node_modules/a/package.json"));
        assert!(is_installed("app/node_modules/@s/a/package.json"));
        assert!(is_installed(
            "app/node_modules/a/node_modules/b/package.json"
        ));
        assert!(!is_installed("app/package.json"));
        assert!(!is_installed("app/node_modules/a/lib/package.json"));
        assert!(!is_installed("app/node_modules/.bin/package.json"));
        assert!(!is_installed("package.json"));
    }

    #[test]
    fn legacy_license_lists_and_malformed_files() {
        let out = testkit::run_on(
            &Npm,
            &[
                (
                    "app/node_modules/a/package.json",
                    br#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache 2.0"}]}"#,
                ),
                ("app/node_modules/b/package.json", b"{\"name\": \"b\", "),
                ("app/node_modules/c/package.json", br#"{"name":"c"}"#),
            ],
        );
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].licenses, ["MIT", "Apache-2.0"]);
        assert_eq!(out.warnings.len(), 2);
        assert_eq!(out.warnings[0].path, "/app/node_modules/b/package.json");
    }
}
