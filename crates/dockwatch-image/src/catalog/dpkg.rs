//! Debian and Ubuntu packages: the dpkg status database, distroless `status.d/` files and opkg
//! status files (same format), with evidence files and DEP-5 copyright licenses.
//!
//! Installed means: the `Status` want is `install` or `hold` and the state is `installed` or a
//! trigger state after it (dpkg-query's `ii`, `hi`, `it`, `iW`...), or the stanza has no `Status` at all (distroless `status.d/` files,
//! some opkg files). `deinstall`/`purge` wants (Trivy drops those too) and the `config-files`,
//! `half-installed`, `unpacked`... states (Trivy keeps those) are left out: their files are not
//! all on disk.

use super::purl::{namespace, os_cpes, os_purl};
use super::{CatalogContext, CatalogOutput, Cataloger, Warning};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::{Location, Package, PackageType};
use std::collections::{BTreeMap, BTreeSet};

/// The single status databases.
const STATUS_FILES: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/opkg/status",
    "usr/lib/opkg/status",
];
/// The folder of one-package status files in distroless images.
const STATUS_DIR: &str = "var/lib/dpkg/status.d/";
/// Per-package evidence next to `var/lib/dpkg/status`.
const INFO_DIR: &str = "var/lib/dpkg/info/";
/// Copyright files larger than this are not read for licenses.
const MAX_COPYRIGHT_LEN: usize = 1024 * 1024;

/// Finds dpkg (and opkg) packages.
#[derive(Debug, Default, Clone, Copy)]
pub struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, path: &str) -> bool {
        if STATUS_FILES.contains(&path) {
            return true;
        }
        if let Some(name) = path.strip_prefix(STATUS_DIR) {
            return !name.contains('/') && (is_status_d_entry(name) || name.ends_with(".md5sums"));
        }
        if let Some(name) = path.strip_prefix(INFO_DIR) {
            return !name.contains('/') && (name.ends_with(".list") || name.ends_with(".md5sums"));
        }
        path.strip_prefix("usr/share/doc/")
            .and_then(|rest| rest.strip_suffix("/copyright"))
            .is_some_and(|pkg| !pkg.is_empty() && !pkg.contains('/'))
    }

    fn catalog(&self, files: &FileSet, ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            let is_db = STATUS_FILES.contains(&entry.path.as_str())
                || entry
                    .path
                    .strip_prefix(STATUS_DIR)
                    .is_some_and(|n| !n.contains('/') && is_status_d_entry(n));
            if is_db {
                let first = out.packages.len();
                catalog_status_file(files, entry, ctx, &mut out);
                super::history::attribute_layers(
                    files,
                    &entry.path,
                    &mut out.packages[first..],
                    |version| {
                        let mut earlier = CatalogOutput::default();
                        catalog_status_file(files, version, ctx, &mut earlier);
                        earlier.packages
                    },
                );
            }
        }
        out
    }
}

/// `status.d/` holds `<pkg>` status files beside `<pkg>.md5sums` and maintainer scripts.
fn is_status_d_entry(name: &str) -> bool {
    const NOT_STATUS: &[&str] = &[
        ".md5sums",
        ".preinst",
        ".postinst",
        ".prerm",
        ".postrm",
        ".conffiles",
        ".list",
        ".shlibs",
        ".symbols",
        ".triggers",
        ".templates",
        ".config",
    ];
    !name.is_empty() && !name.starts_with('.') && !NOT_STATUS.iter().any(|s| name.ends_with(s))
}

/// One stanza's fields, in order of first appearance.
type Stanza = BTreeMap<String, String>;

/// Splits a control file into stanzas; returns them with the 1-based line each starts on, and
/// the lines that are neither a field nor a continuation.
pub(crate) fn parse_stanzas(text: &str) -> (Vec<(usize, Stanza)>, Vec<usize>) {
    let mut stanzas = Vec::new();
    let mut bad_lines = Vec::new();
    let mut current = Stanza::new();
    let mut start = 1;
    let mut last_key: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            if !current.is_empty() {
                stanzas.push((start, std::mem::take(&mut current)));
            }
            last_key = None;
            start = lineno + 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match &last_key {
                Some(k) => {
                    let value = current.entry(k.clone()).or_default();
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => bad_lines.push(lineno),
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
                current
                    .entry(key.to_owned())
                    .or_insert_with(|| value.trim().to_owned());
                last_key = Some(key.to_owned());
            }
            _ => {
                bad_lines.push(lineno);
                last_key = None;
            }
        }
    }
    if !current.is_empty() {
        stanzas.push((start, current));
    }
    (stanzas, bad_lines)
}

/// Whether a `Status:` value (`want error state`) means the package's files are on disk.
pub(crate) fn is_installed(status: Option<&str>) -> bool {
    let Some(status) = status else {
        return true;
    };
    let words: Vec<&str> = status.split_whitespace().collect();
    match words.as_slice() {
        // Trigger states come after configuration: the package is installed, its triggers wait.
        [want, _flag, state] => {
            matches!(*want, "install" | "hold")
                && matches!(
                    *state,
                    "installed" | "triggers-pending" | "triggers-awaited"
                )
        }
        _ => false,
    }
}

fn catalog_status_file(
    files: &FileSet,
    entry: &FileEntry,
    ctx: &CatalogContext,
    out: &mut CatalogOutput,
) {
    let db_path = format!("/{}", entry.path);
    let first_warning = out.warnings.len();
    let text = String::from_utf8_lossy(&entry.contents);
    let (stanzas, bad_lines) = parse_stanzas(&text);
    if !bad_lines.is_empty() {
        out.warnings.push(Warning {
            path: db_path.clone(),
            message: format!(
                "{} malformed line(s) skipped, first at line {}",
                bad_lines.len(),
                bad_lines[0]
            ),
        });
    }
    for (line, stanza) in stanzas {
        let name = stanza.get("Package").map(String::as_str).unwrap_or("");
        let version = stanza.get("Version").map(String::as_str).unwrap_or("");
        if name.is_empty() || version.is_empty() {
            out.warnings.push(Warning {
                path: db_path.clone(),
                message: format!(
                    "stanza at line {line} has no {}; skipped",
                    if name.is_empty() {
                        "Package"
                    } else {
                        "Version"
                    }
                ),
            });
            continue;
        }
        if !is_installed(stanza.get("Status").map(String::as_str)) {
            continue;
        }
        if !is_valid_version(version) {
            out.warnings.push(Warning {
                path: db_path.clone(),
                message: format!(
                    "package {name} at line {line}: invalid version {version:?}; skipped"
                ),
            });
            continue;
        }
        out.packages
            .push(package(files, entry, &db_path, &stanza, name, version, ctx));
    }
    super::warning_cap::cap_since(out, first_warning, &db_path);
}

fn package(
    files: &FileSet,
    entry: &FileEntry,
    db_path: &str,
    stanza: &Stanza,
    name: &str,
    version: &str,
    ctx: &CatalogContext,
) -> Package {
    let field = |k: &str| stanza.get(k).filter(|v| !v.is_empty()).cloned();
    let arch = field("Architecture");
    let (source_name, source_version) = match field("Source") {
        Some(src) => parse_source(&src),
        None => (None, None),
    };
    let upstream = match (&source_name, &source_version) {
        (Some(n), Some(v)) => format!("{n}@{v}"),
        (Some(n), None) => n.clone(),
        _ => String::new(),
    };
    let distro = ctx.distro.as_ref();
    let purl = os_purl(
        PackageType::Deb,
        namespace(distro, "debian"),
        name,
        version,
        &[
            ("arch", arch.as_deref().unwrap_or("")),
            ("upstream", &upstream),
        ],
        distro,
    );
    let mut locations = vec![Location {
        path: db_path.to_owned(),
        layer: entry.layer.clone(),
    }];
    for evidence in evidence_paths(&entry.path, name, arch.as_deref()) {
        if let Some(e) = files.get(&evidence) {
            let loc = Location {
                path: format!("/{evidence}"),
                layer: e.layer.clone(),
            };
            if !locations.contains(&loc) {
                locations.push(loc);
            }
        }
    }
    // The status file's layer is that of its last rewrite; the cataloger replaces it with the
    // layer that introduced the package (see `history`).
    let copyright = format!("usr/share/doc/{name}/copyright");
    let mut licenses = Vec::new();
    if let Some(c) = files.get(&copyright) {
        locations.push(Location {
            path: format!("/{copyright}"),
            layer: c.layer.clone(),
        });
        if c.contents.len() <= MAX_COPYRIGHT_LEN {
            licenses = copyright_licenses(&String::from_utf8_lossy(&c.contents));
        }
    }
    let mut metadata = BTreeMap::new();
    for (key, meta) in [
        ("Maintainer", "maintainer"),
        ("Installed-Size", "installed_size"),
        ("Section", "section"),
        ("Priority", "priority"),
        ("Homepage", "homepage"),
        ("Status", "status"),
    ] {
        if let Some(v) = field(key) {
            metadata.insert(meta.to_owned(), v);
        }
    }
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageType::Deb,
        arch,
        source_name,
        source_version: source_version.filter(|v| v != version),
        licenses,
        purl,
        cpes: os_cpes(name, version),
        locations,
        found_by: "dpkg".to_owned(),
        metadata,
    }
}

/// Whether `version` is made of the characters dpkg accepts: an optional numeric epoch, then
/// `A-Z a-z 0-9 . + ~ - :` (dpkg-query refuses the others, as Trivy does).
pub(crate) fn is_valid_version(version: &str) -> bool {
    let rest = match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            rest
        }
        Some(_) => return false,
        None => version,
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b'-' | b':'))
}

/// `Source: gcc-12 (12.2.0-14)` gives the name and the optional version.
fn parse_source(source: &str) -> (Option<String>, Option<String>) {
    let source = source.trim();
    match source.split_once('(') {
        Some((name, rest)) => {
            let version = rest.trim_end().trim_end_matches(')').trim();
            (
                Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
                Some(version.to_owned()).filter(|v| !v.is_empty()),
            )
        }
        None => (Some(source.to_owned()).filter(|n| !n.is_empty()), None),
    }
}

/// The files that show a package is installed, beside the database it was read from.
fn evidence_paths(db: &str, name: &str, arch: Option<&str>) -> Vec<String> {
    if db.starts_with(STATUS_DIR) {
        return vec![format!("{STATUS_DIR}{name}.md5sums")];
    }
    if db != "var/lib/dpkg/status" {
        return Vec::new();
    }
    let mut stems = vec![name.to_owned()];
    if let Some(a) = arch {
        stems.push(format!("{name}:{a}"));
    }
    let mut paths = Vec::new();
    for ext in ["list", "md5sums"] {
        for stem in &stems {
            paths.push(format!("{INFO_DIR}{stem}.{ext}"));
        }
    }
    paths
}

/// License short names from a machine-readable (DEP-5) copyright file: every `License:` value
/// that names one license, and every `/usr/share/common-licenses/<name>` reference. Sorted.
pub(crate) fn copyright_licenses(text: &str) -> Vec<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("License:")
            && let Some(l) = single_license(value)
        {
            found.insert(l);
        }
        let mut rest = line;
        while let Some(i) = rest.find("/usr/share/common-licenses/") {
            rest = &rest[i + "/usr/share/common-licenses/".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                found.insert(name.to_owned());
            }
        }
    }
    found.into_iter().collect()
}

/// One license short name, or `None` for summaries (`A or B`), sentences and `none`.
fn single_license(value: &str) -> Option<String> {
    let v = value.trim().trim_end_matches('.');
    let lower = v.to_lowercase();
    if v.is_empty() || lower == "none" || v.starts_with('#') {
        return None;
    }
    if lower.contains(" or ") || lower.contains(" and ") || v.contains(',') {
        return None;
    }
    let words = v.split_whitespace().count();
    // "GPL-2+ with OpenSSL exception" is one license; "This software is provided" is prose.
    if words > 1 && !lower.contains(" with ") {
        return None;
    }
    Some(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn set(files: &[(&str, &str)]) -> FileSet {
        let mut fs = FileSet::new();
        for (path, contents) in files {
            fs.insert(FileEntry {
                path: (*path).into(),
                layer: Some("sha256:l1".into()),
                mode: 0o644,
                contents: Arc::from(contents.as_bytes()),
            });
        }
        fs
    }

    const LIBC: &str = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n\
        Source: glibc\nVersion: 2.36-9+deb12u7\nMaintainer: GNU Libc <libc@debian.example>\n\
        Installed-Size: 12987\nDescription: GNU C Library\n shared libraries\n\n\
        Package: libattr1\nStatus: install ok installed\nArchitecture: amd64\n\
        Source: attr (1:2.4.47-2)\nVersion: 1:2.4.47-2+b2\n\n\
        Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n";

    #[test]
    fn status_file_gives_installed_packages_with_evidence_and_licenses() {
        let mut fs = set(&[
            ("var/lib/dpkg/status", LIBC),
            ("var/lib/dpkg/info/libc6:amd64.list", "/lib\n"),
            ("var/lib/dpkg/info/libc6:amd64.md5sums", ""),
            (
                "usr/share/doc/libc6/copyright",
                "Format: https://www.debian.example/dep5\n\nFiles: *\nLicense: LGPL-2.1+\n\
                 License: GPL-2 or LGPL-2.1\n See /usr/share/common-licenses/GPL-2.\n",
            ),
        ]);
        // A later layer installed something else, rewriting the status file.
        let mut status = fs.get("var/lib/dpkg/status").unwrap().clone();
        status.layer = Some("sha256:l2".into());
        fs.insert(status);
        let ctx = CatalogContext {
            distro: super::super::os_release::distro_from_os_release("ID=debian\nVERSION_ID=12"),
        };
        let out = DpkgCataloger.catalog(&fs, &ctx);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6", "libattr1"]);
        let libc = &out.packages[0];
        assert_eq!(
            libc.purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&upstream=glibc&distro=debian-12"
        );
        assert_eq!(libc.source_name.as_deref(), Some("glibc"));
        assert_eq!(libc.licenses, ["GPL-2", "LGPL-2.1+"]);
        let paths: Vec<_> = libc.locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/var/lib/dpkg/status",
                "/var/lib/dpkg/info/libc6:amd64.list",
                "/var/lib/dpkg/info/libc6:amd64.md5sums",
                "/usr/share/doc/libc6/copyright"
            ]
        );
        assert_eq!(libc.metadata["installed_size"], "12987");
        assert_eq!(libc.layer(), Some("sha256:l1"), "listed since l1");
        let attr = &out.packages[1];
        assert_eq!(
            attr.layer(),
            Some("sha256:l1"),
            "l2 only rewrote the status file"
        );
        assert_eq!(attr.version, "1:2.4.47-2+b2");
        assert_eq!(attr.source_version.as_deref(), Some("1:2.4.47-2"));
        assert_eq!(
            attr.purl,
            "pkg:deb/debian/libattr1@1%3A2.4.47-2%2Bb2?arch=amd64&upstream=attr%401%3A2.4.47-2&distro=debian-12"
        );
    }

    #[test]
    fn version_syntax() {
        for v in [
            "1.0",
            "1:2.4.47-2+b2",
            "2024.10.20~252a9b0c-r1",
            "1:2:3-4",
            "9.9+deb9u13",
        ] {
            assert!(is_valid_version(v), "{v}");
        }
        for v in ["1:5.#", "x:1.0", ":1.0", "1.0 beta", "1:", ""] {
            assert!(!is_valid_version(v), "{v}");
        }
    }

    #[test]
    fn status_values() {
        for (status, installed) in [
            (Some("install ok installed"), true),
            (Some("hold ok installed"), true),
            (Some("install reinstreq installed"), true),
            (Some("deinstall ok installed"), false),
            (Some("purge ok installed"), false),
            (Some("deinstall ok config-files"), false),
            (Some("install ok half-installed"), false),
            (Some("install ok unpacked"), false),
            (Some("install ok half-configured"), false),
            (Some("install ok triggers-pending"), true),
            (Some("hold ok triggers-awaited"), true),
            (Some("install user installed"), true),
            (Some("garbage"), false),
            (None, true),
        ] {
            assert_eq!(is_installed(status), installed, "{status:?}");
        }
    }

    #[test]
    fn distroless_status_d_and_wants() {
        let c = DpkgCataloger;
        assert!(c.wants("var/lib/dpkg/status"));
        assert!(c.wants("var/lib/dpkg/status.d/libssl3"));
        assert!(c.wants("var/lib/dpkg/status.d/python3.11"));
        assert!(c.wants("var/lib/dpkg/status.d/libssl3.md5sums"));
        assert!(!c.wants("var/lib/dpkg/status.d/libssl3.preinst"));
        assert!(c.wants("var/lib/dpkg/info/bash.list"));
        assert!(!c.wants("var/lib/dpkg/info/bash.postinst"));
        assert!(c.wants("usr/share/doc/bash/copyright"));
        assert!(!c.wants("usr/share/doc/bash/examples/copyright"));
        assert!(!c.wants("var/lib/dpkg/status-old"));
        let fs = set(&[
            (
                "var/lib/dpkg/status.d/libssl3",
                "Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: arm64\n",
            ),
            ("var/lib/dpkg/status.d/libssl3.md5sums", ""),
        ]);
        let out = c.catalog(&fs, &CatalogContext::default());
        assert_eq!(out.packages.len(), 1);
        let paths: Vec<_> = out.packages[0]
            .locations
            .iter()
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "/var/lib/dpkg/status.d/libssl3",
                "/var/lib/dpkg/status.d/libssl3.md5sums"
            ]
        );
        assert_eq!(
            out.packages[0].purl,
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=arm64"
        );
    }

    #[test]
    fn corrupt_and_truncated_input_warns_and_never_panics() {
        let fs = set(&[("var/lib/dpkg/status", LIBC)]);
        let full = fs.get("var/lib/dpkg/status").unwrap().contents.clone();
        for cut in 0..full.len() {
            let mut fs = FileSet::new();
            fs.insert(FileEntry {
                path: "var/lib/dpkg/status".into(),
                layer: None,
                mode: 0o644,
                contents: Arc::from(&full[..cut]),
            });
            let out = DpkgCataloger.catalog(&fs, &CatalogContext::default());
            assert!(out.packages.len() <= 2);
        }
        let out = DpkgCataloger.catalog(
            &set(&[(
                "var/lib/dpkg/status",
                "Package:\n\nPackage: no-version\n\nnot a field\n\0\u{fffd}\n",
            )]),
            &CatalogContext::default(),
        );
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(
            out.warnings
                .iter()
                .all(|w| w.path == "/var/lib/dpkg/status")
        );
        let flood = "Package: x\n\n".repeat(10_000);
        let out = DpkgCataloger.catalog(
            &set(&[("var/lib/dpkg/status", &flood)]),
            &CatalogContext::default(),
        );
        assert_eq!(out.warnings.len(), 21);
        assert_eq!(out.warnings[20].message, "9980 more warnings like these");
    }

    /// This machine's own dpkg database (CI runs on Debian), read as an image's would be, against
    /// `dpkg-query` over the same database.
    #[test]
    fn host_database_matches_dpkg_query() {
        let root = std::path::Path::new("/");
        let Ok(status) = std::fs::read(root.join("var/lib/dpkg/status")) else {
            return;
        };
        let Ok(query) = std::process::Command::new("dpkg-query")
            .args([
                "-W",
                "-f",
                "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n",
            ])
            .output()
        else {
            return;
        };
        let mut want: Vec<String> = String::from_utf8(query.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("ii ") || l.starts_with("hi "))
            .map(|l| l[4..].to_owned())
            .collect();
        want.sort();
        let mut fs = FileSet::new();
        let mut add = |path: String, contents: Vec<u8>| {
            fs.insert(FileEntry {
                path,
                layer: None,
                mode: 0o644,
                contents: Arc::from(contents),
            });
        };
        add("var/lib/dpkg/status".into(), status);
        for dir in ["var/lib/dpkg/info", "usr/share/doc"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
                let copyright = format!("{rel}/copyright");
                for candidate in [rel, copyright] {
                    if DpkgCataloger.wants(&candidate)
                        && let Ok(bytes) = std::fs::read(root.join(&candidate))
                    {
                        add(candidate, bytes);
                    }
                }
            }
        }
        let out = DpkgCataloger.catalog(&fs, &CatalogContext::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let mut got: Vec<String> = out
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.name,
                    p.version,
                    p.arch.as_deref().unwrap_or(""),
                    p.source_name.as_deref().unwrap_or(&p.name),
                    p.source_version.as_deref().unwrap_or(&p.version)
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want);
        // Every installed package has its file list as evidence.
        for p in &out.packages {
            assert!(
                p.locations.iter().any(|l| l.path.ends_with(".list")),
                "{} has no .list evidence",
                p.name
            );
        }
    }

    #[test]
    fn copyright_licenses_follow_syft_fixtures() {
        let read = |name: &str| {
            std::fs::read_to_string(dockwatch_testdata::fixture(&format!(
                "syft/os-pkgdb/syft/pkg/cataloger/debian/testdata/copyright/{name}"
            )))
            .unwrap()
        };
        assert_eq!(
            copyright_licenses(&read("libaudit-common")),
            ["GPL-1", "GPL-2", "LGPL-2.1"]
        );
        assert_eq!(
            copyright_licenses(&read("trilicense")),
            ["GPL-2", "LGPL-2.1", "MPL-1.1"]
        );
        assert_eq!(copyright_licenses(&read("libc6")), ["GPL-2", "LGPL-2.1"]);
        assert_eq!(
            copyright_licenses(&read("liblzma5")),
            [
                "Autoconf",
                "GPL-2",
                "GPL-2+",
                "GPL-3",
                "LGPL-2",
                "LGPL-2.1",
                "LGPL-2.1+",
                "PD",
                "PD-debian",
                "config-h",
                "noderivs",
                "permissive-fsf",
                "permissive-nowarranty",
                "probably-PD"
            ]
        );
        assert!(copyright_licenses(&read("python")).contains(&"Apache-2.0".to_owned()));
        assert!(
            !copyright_licenses(&read("python"))
                .iter()
                .any(|l| l.contains(' '))
        );
    }
}
