//! Python lockfiles and pinned requirement lists: `requirements*.txt` (only `==` pins),
//! `poetry.lock`, `Pipfile.lock` (the `default` section), `uv.lock` and `pylock.toml`.

use super::super::langpkg::{self, Found, warning};
use super::super::{CatalogOutput, Warning};
use super::NAME;
use crate::fs::FileEntry;
use dockwatch_core::PackageType;

/// The kinds of file this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Requirements,
    Poetry,
    Pipfile,
    Uv,
    Pylock,
}

/// The kind of the file named `name`, if it is one of ours.
pub(super) fn kind(name: &str) -> Option<Kind> {
    match name {
        "poetry.lock" => Some(Kind::Poetry),
        "Pipfile.lock" => Some(Kind::Pipfile),
        "uv.lock" => Some(Kind::Uv),
        "pylock.toml" => Some(Kind::Pylock),
        n if n.starts_with("pylock.") && n.ends_with(".toml") => Some(Kind::Pylock),
        // `requirements.txt`, `requirements-dev.txt`, `dev-requirements.txt`...
        n if n.contains("requirements") && n.ends_with(".txt") => Some(Kind::Requirements),
        _ => None,
    }
}

/// Reads one lockfile into `out`.
pub(super) fn parse(kind: Kind, entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings) else {
        return;
    };
    if kind == Kind::Requirements {
        let (pins, unpinned) = requirements(&text);
        if pins.is_empty() && unpinned > 0 {
            out.warnings.push(warning(
                &entry.path,
                format!("{unpinned} requirements without an exact `==` pin were not reported"),
            ));
        }
    }
    let pins = match kind {
        Kind::Requirements => Ok(requirements(&text).0),
        Kind::Pipfile => pipfile(&text),
        Kind::Poetry | Kind::Uv => toml_packages(&text, "package"),
        Kind::Pylock => toml_packages(&text, "packages"),
    };
    match pins {
        Ok(pins) => {
            if pins.is_empty() && kind != Kind::Requirements {
                out.warnings
                    .push(warning(&entry.path, "lockfile lists no packages"));
            }
            for (name, version) in &pins {
                let purl = langpkg::purl("pypi", None, name, version);
                out.packages
                    .push(Found::new(PackageType::Pypi, NAME, name, version, purl, entry).build());
            }
        }
        Err(e) => out.warnings.push(malformed(entry, &e)),
    }
}

fn malformed(entry: &FileEntry, reason: &str) -> Warning {
    warning(&entry.path, format!("malformed lockfile: {reason}"))
}

/// `name==version` lines; ranges, URLs, editable installs and options are not pins.
/// The exact pins of a requirements file, and how many requirements were not one (a range, no
/// version, or a line that does not parse, such as two pins joined by a `\\` continuation).
fn requirements(text: &str) -> (Vec<(String, String)>, usize) {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut out = Vec::new();
    let mut unpinned = 0;
    for line in joined.lines() {
        let line = match line.find(" #").or(line.starts_with('#').then_some(0)) {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.split(';').next().unwrap_or("");
        let line = line.split(" --").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let Some((name, version)) = line.split_once("==") else {
            unpinned += 1;
            continue;
        };
        let name = name.split('[').next().unwrap_or("").trim();
        let version = version.trim_start_matches('=').trim();
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        let valid_version =
            !version.is_empty() && !version.contains([',', '*', ' ', '<', '>', '!', '~']);
        if valid_name && valid_version {
            out.push((name.to_owned(), version.to_owned()));
        } else {
            unpinned += 1;
        }
    }
    (out, unpinned)
}

/// The `default` section of a `Pipfile.lock` (`develop` holds development-only packages).
fn pipfile(text: &str) -> Result<Vec<(String, String)>, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let default = json
        .get("default")
        .and_then(|d| d.as_object())
        .ok_or("no \"default\" object")?;
    Ok(default
        .iter()
        .filter_map(|(name, spec)| {
            let version = spec.get("version")?.as_str()?.trim_start_matches("==");
            Some((name.clone(), version.to_owned()))
        })
        .collect())
}

/// `name` and `version` of every table in the array `key` (`[[package]]` / `[[packages]]`);
/// entries without a version (local projects without one) are skipped.
fn toml_packages(text: &str, key: &str) -> Result<Vec<(String, String)>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| langpkg::toml_reason(text, &e))?;
    let Some(list) = doc.get(key).and_then(|p| p.as_array()) else {
        return Ok(Vec::new());
    };
    Ok(list
        .iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let version = p.get("version")?.as_str()?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::super::langpkg::testkit;
    use super::super::Python;
    use super::*;

    #[test]
    fn requirements_keep_only_exact_pins() {
        let text = "# c\nflask==2.0.0 # web\nJinja2[i18n] == 3.0.0 ; python_version>'3'\nrequests>=2\n-e .\nsix==1.16.0 \\\n  --hash=sha256:abc\nbad==1.*\n";
        assert_eq!(
            requirements(text),
            (
                vec![
                    ("flask".to_owned(), "2.0.0".to_owned()),
                    ("Jinja2".to_owned(), "3.0.0".to_owned()),
                    ("six".to_owned(), "1.16.0".to_owned()),
                ],
                2
            )
        );
        // Two pins joined by a continuation are no pin, and say so.
        let out = testkit::run_on(&Python, &[("app/requirements.txt", b"a==1.0 \\\nb==2.0\n")]);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn malformed_lockfiles_warn_and_name_the_file() {
        let out = testkit::run_on(
            &Python,
            &[
                ("app/poetry.lock", b"[[package]\nname = "),
                ("app/Pipfile.lock", b"{\"default\": ["),
                ("app/uv.lock", b"version = 1\n"),
            ],
        );
        assert!(out.packages.is_empty());
        let paths: Vec<&str> = out.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/app/Pipfile.lock", "/app/poetry.lock", "/app/uv.lock"]
        );
    }

    #[test]
    fn utf16_requirements_are_decoded() {
        let text = "click==8.0.0\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let out = testkit::run_on(&Python, &[("app/requirements.txt", &bytes)]);
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].version, "8.0.0");
    }
}
