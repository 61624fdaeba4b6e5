//! Installed Python distributions: `METADATA` in `*.dist-info`, `PKG-INFO` in `*.egg-info` or
//! `EGG-INFO`, single-file `*.egg-info`, and zipped `.egg` archives.

use super::super::langpkg::{self, Found, parent, warning};
use super::super::{CatalogOutput, license};
use super::NAME;
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;

/// The largest METADATA read: the headers come first, a long description after them.
const MAX_METADATA_BYTES: usize = 16 << 20;

/// The largest `.egg` archive opened.
const MAX_EGG_BYTES: usize = 64 << 20;

/// Whether the installed-distribution cataloger keeps `path` (metadata or evidence).
pub(super) fn wants(path: &str) -> bool {
    is_metadata(path) || path.ends_with("dist-info/RECORD") || path.ends_with("DIST-INFO/RECORD")
}

/// Whether `path` describes an installed distribution: the metadata file of a `*dist-info` or
/// `*egg-info` folder (either case, as some installers write `EGG-INFO`), a single-file
/// `*.egg-info`, or a zipped `*.egg`.
pub(super) fn is_metadata(path: &str) -> bool {
    path.ends_with("dist-info/METADATA")
        || path.ends_with("DIST-INFO/METADATA")
        || path.ends_with("egg-info/PKG-INFO")
        || path.ends_with("EGG-INFO/PKG-INFO")
        || path.ends_with(".egg-info")
        || path.ends_with(".egg")
}

/// Reads one installed distribution.
pub(super) fn parse(entry: &FileEntry, files: &FileSet, out: &mut CatalogOutput) {
    if entry.path.ends_with(".egg") {
        return parse_egg(entry, out);
    }
    let Some(text) = langpkg::read_text(entry, MAX_METADATA_BYTES, &mut out.warnings) else {
        return;
    };
    let headers = headers(&text);
    let Some(mut found) = package(&headers, entry, out) else {
        return;
    };
    if entry.path.ends_with("/METADATA") {
        let record = format!("{}/RECORD", parent(&entry.path));
        if let Some(record) = files.get(&record) {
            found.locations.push(langpkg::location(record));
        }
    }
    out.packages.push(found.build());
}

/// A zipped egg: its `EGG-INFO/PKG-INFO` describes it.
fn parse_egg(entry: &FileEntry, out: &mut CatalogOutput) {
    if entry.contents.len() > MAX_EGG_BYTES {
        out.warnings.push(warning(
            &entry.path,
            format!("skipped: egg archive larger than {MAX_EGG_BYTES} bytes"),
        ));
        return;
    }
    let bytes = match langpkg::zip_member(&entry.contents, "EGG-INFO/PKG-INFO", MAX_METADATA_BYTES)
    {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            out.warnings.push(warning(
                &entry.path,
                "egg archive without EGG-INFO/PKG-INFO",
            ));
            return;
        }
        Err(e) => {
            out.warnings
                .push(warning(&entry.path, format!("unreadable egg archive: {e}")));
            return;
        }
    };
    let text = langpkg::decode_text(&bytes, &entry.path, &mut out.warnings);
    let headers = headers(&text);
    if let Some(found) = package(&headers, entry, out) {
        out.packages.push(found.build());
    }
}

/// The package described by metadata `headers`, or a warning when it has no name or version.
fn package<'h>(
    headers: &'h [(String, String)],
    entry: &FileEntry,
    out: &mut CatalogOutput,
) -> Option<Found<'h>> {
    let field = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let (Some(name), Some(version)) = (field("Name"), field("Version")) else {
        out.warnings.push(warning(
            &entry.path,
            "Python metadata without Name or Version",
        ));
        return None;
    };
    let purl = langpkg::purl("pypi", None, name, version);
    let found = Found::new(PackageType::Pypi, NAME, name, version, purl, entry)
        .licenses(licenses(headers))
        .meta("author", field("Author"))
        .meta("summary", field("Summary"))
        .meta("home_page", field("Home-page"));
    Some(found)
}

/// Licenses in the order of trust: `License-Expression` (PEP 639), else a short `License`
/// field, else the license classifiers.
fn licenses(headers: &[(String, String)]) -> Vec<String> {
    let values = |key: &'static str| {
        headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    if let Some(expr) = values("License-Expression").next() {
        return vec![expr.to_owned()];
    }
    if let Some(text) = values("License").next()
        && !text.contains('\n')
        && text.len() <= 200
        && license::normalize(text).is_some()
    {
        return vec![text.to_owned()];
    }
    values("Classifier")
        .filter_map(license::from_classifier)
        .collect()
}

/// The RFC 822 style headers before the first blank line; continuation lines are joined.
fn headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            out.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::super::langpkg::testkit;
    use super::super::Python;

    #[test]
    fn license_expression_wins_and_non_utf8_is_read_with_a_warning() {
        let mut metadata = b"Metadata-Version: 2.4\nName: caf\xe9\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\nLicense: Apache 2.0\n\nbody".to_vec();
        metadata.extend_from_slice(b"\n");
        let out = testkit::run_on(
            &Python,
            &[(
                "usr/lib/python3/site-packages/cafe-1.0.dist-info/METADATA",
                &metadata,
            )],
        );
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].name, "caf\u{fffd}");
        assert_eq!(out.packages[0].licenses, ["MIT OR Apache-2.0"]);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].path.ends_with("METADATA"));
        assert!(out.warnings[0].message.contains("UTF-8"));
    }

    #[test]
    fn metadata_without_version_and_broken_eggs_warn() {
        let out = testkit::run_on(
            &Python,
            &[
                ("site-packages/x-1.dist-info/METADATA", b"Name: x\n"),
                ("site-packages/y.egg", b"PK\x03\x04 not really"),
            ],
        );
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    }

    #[test]
    fn huge_metadata_is_skipped_with_a_warning() {
        let mut big = b"Name: big\nVersion: 1\n\n".to_vec();
        big.resize(super::MAX_METADATA_BYTES + 1, b'x');
        let out = testkit::run_on(&Python, &[("site-packages/big-1.dist-info/METADATA", &big)]);
        assert!(out.packages.is_empty());
        assert!(out.warnings[0].message.contains("exceeds the limit"));
    }
}
