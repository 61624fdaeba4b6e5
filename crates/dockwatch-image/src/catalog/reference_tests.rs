//! The OS catalogers against every independent reference listing: the shared fixtures'
//! `reference-outputs/` (dpkg-query, rpm -qa, a plain apk record split) and our own BerkeleyDB
//! fixtures' `rpm -qa` listings. One data-driven test; every difference is listed here, with its
//! reason, and in docs/os-packages.md.

use super::{CatalogContext, Cataloger, apk::ApkCataloger, dpkg::DpkgCataloger, rpm::RpmCataloger};
use crate::fs::{FileEntry, FileSet};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A reference row we do not reproduce (`-name version`) or a package we find that the reference
/// lacks (`+name version`), per fixture (a suffix of its path), with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/dpkg/statusfield",
        "+wantnostatus 1.0",
        "a stanza without Status counts as installed (distroless status.d files have none)",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/opkg/statusfield",
        "+wantnostatus 1.0",
        "a stanza without Status counts as installed (distroless status.d files have none)",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/dpkg/status.d/foo",
        "+foo 1.2.3",
        "a status.d file without Status is installed (that is how distroless writes them)",
    ),
    (
        "trivy/os-pkgdb/pkg/fanal/analyzer/pkg/apk/testdata/apk",
        "-invalidPackageWithoutAVersion ",
        "a record without V: is skipped with a warning (the plain split keeps it)",
    ),
    (
        "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/apk/malformed_installed",
        "-busybox ",
        "a record without V: is skipped with a warning (the plain split keeps it)",
    ),
];

/// Fixtures the reference tool refused (dpkg-query rc=2, rpm without an NDB backend), so there is
/// no listing to compare with: how many packages we find instead, and why that is right.
const REFUSED_BY_TOOL: &[(&str, usize, &str)] = &[
    (
        "syft/os-pkgdb/syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/multiple",
        2,
        "dpkg-query stops at an empty Package:; we skip the two incomplete stanzas and keep the rest",
    ),
    (
        "syft/os-pkgdb/syft/pkg/cataloger/debian/testdata/var/lib/opkg/status",
        3,
        "opkg's `install user installed` flag is not dpkg's; the three opkg packages are installed",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/dpkg/nopackage",
        2,
        "dpkg-query refuses the whole file over one stanza without Package; we skip that stanza with a warning and keep foo and bar",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/dpkg/noversion",
        2,
        "dpkg-query refuses the whole file over one stanza without Version; we skip that stanza with a warning and keep foo and bar",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/opkg/nopackage",
        2,
        "opkg file (arch x86_64 is no dpkg arch); the stanza without Package is skipped with a warning",
    ),
    (
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/dpkg/testdata/opkg/noversion",
        2,
        "opkg file (arch x86_64 is no dpkg arch); the stanza without Version is skipped with a warning",
    ),
    (
        "claircore/os-pkgdb/dpkg/testdata/vcpkg.status",
        14,
        "a vcpkg status file in dpkg format (no Maintainer): 14 ports; its 10 `Feature:` stanzas have no Version and are skipped with a warning",
    ),
    (
        "claircore/os-pkgdb/internal/rpm/sqlite/testdata/no_packages.sqlite",
        0,
        "an rpmdb without packages",
    ),
    (
        "go-rpmdb/os-pkgdb/pkg/testdata/sle15-bci/Packages.db",
        35,
        "Debian's rpm has no NDB backend; the file holds 35 blob records, all read",
    ),
    (
        "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/dpkg/malformed_status",
        0,
        "not a status file (a line without a colon): no package, a warning",
    ),
    (
        "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/dpkg/single_status",
        1,
        "dpkg-query wants a final newline; the one stanza is complete",
    ),
    (
        "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/dpkg/shuffled_status",
        1,
        "dpkg-query rejects a Suggests field's syntax; the one stanza's package fields are fine",
    ),
    (
        "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/dpkg/multiple_status",
        4,
        "dpkg-query rejects a `#Status` comment line; we skip that line with a warning, and the `not-installed` libc6 stanza",
    ),
    (
        "osv-scanner/cmd-scan/cmd/osv-scanner/scan/source/testdata/locks-many-with-insecure/status",
        1,
        "dpkg-query wants a final newline; the one stanza is complete",
    ),
    (
        "osv-scanner/cmd-scan/cmd/osv-scanner/scan/source/testdata/locks-many/status",
        1,
        "dpkg-query wants a final newline; the one stanza is complete",
    ),
    (
        "osv-scanner/cmd-scan/cmd/osv-scanner/scan/testdata/locks-many/status",
        1,
        "dpkg-query wants a final newline; the one stanza is complete",
    ),
    (
        "osv-scanner/cmd-scan/cmd/osv-scanner/testdata/locks-many/status",
        1,
        "dpkg-query wants a final newline; the one stanza is complete",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Dpkg,
    Apk,
    Rpm,
}

/// One reference listing: the fixture it describes and the rows it expects, or `None` when the
/// tool refused the file. A row is `name version`; [`Reference::details`] holds, per row, the
/// other columns we compare: `arch|source[@version]|license`.
struct Reference {
    fixture: PathBuf,
    id: String,
    kind: Kind,
    expected: Option<BTreeSet<String>>,
    details: BTreeMap<String, String>,
}

fn load_reference(tsv: &Path, fixture: PathBuf, id: String) -> Reference {
    let text = std::fs::read_to_string(tsv).unwrap();
    let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    let kind = if header.contains("dpkg-query") {
        Kind::Dpkg
    } else if header.contains("rpm") || header.contains("RPM") {
        Kind::Rpm
    } else {
        Kind::Apk
    };
    let refused = header.contains("NO-OUTPUT") || (kind == Kind::Dpkg && !header.contains("rc=0"));
    let mut rows = BTreeSet::new();
    let mut details = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| cols.get(i).copied().unwrap_or("");
        let (row, detail) = match kind {
            // Installed only (see dpkg.rs): want install/hold, state installed or triggers.
            Kind::Dpkg
                if !(col(5).starts_with(['i', 'h'])
                    && col(5)
                        .get(1..2)
                        .is_some_and(|s| matches!(s, "i" | "t" | "W"))) =>
            {
                continue;
            }
            Kind::Dpkg => (
                format!("{} {}", col(0), col(1)),
                format!("{}|{}@{}|", col(2), col(3), col(4)),
            ),
            Kind::Apk => (
                format!("{} {}", col(0), col(1)),
                format!("{}|{}|{}", col(2), col(3), col(4)),
            ),
            Kind::Rpm if col(0) == "gpg-pubkey" => continue,
            Kind::Rpm => {
                let vr = format!("{}-{}", col(2), col(3));
                let evr = match col(1) {
                    "(none)" => vr,
                    epoch => format!("{epoch}:{vr}"),
                };
                let license = if col(6) == "(none)" { "" } else { col(6) };
                (
                    format!("{} {evr}", col(0)),
                    format!("{}|{}|{license}", col(4), col(5)),
                )
            }
        };
        details.insert(row.clone(), detail);
        rows.insert(row);
    }
    Reference {
        fixture,
        id,
        kind,
        expected: (!refused).then_some(rows),
        details,
    }
}

/// Every reference listing: the shared tree's and our BerkeleyDB fixtures'.
fn references() -> Vec<Reference> {
    let root = dockwatch_testdata::shared_fixtures().join("reference-outputs");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(id) = rel.strip_suffix(".ref.tsv") else {
                continue;
            };
            out.push(load_reference(
                &path,
                dockwatch_testdata::fixture(id),
                id.to_owned(),
            ));
        }
    }
    let bdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/catalog/rpm/bdb");
    for name in ["Packages", "Packages.be64k"] {
        out.push(load_reference(
            &bdb.join(format!("{name}.ref.tsv")),
            bdb.join(name),
            format!("dockwatch/testdata/catalog/rpm/bdb/{name}"),
        ));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Where the cataloger looks for a fixture of this kind and file name.
fn image_path(kind: Kind, id: &str) -> String {
    let file = id.rsplit('/').next().unwrap_or(id);
    match kind {
        Kind::Dpkg if id.contains("/status.d/") => format!("var/lib/dpkg/status.d/{file}"),
        Kind::Dpkg => "var/lib/dpkg/status".to_owned(),
        Kind::Apk => "lib/apk/db/installed".to_owned(),
        Kind::Rpm if file.ends_with(".sqlite") => "var/lib/rpm/rpmdb.sqlite".to_owned(),
        Kind::Rpm if file.ends_with(".db") => "var/lib/rpm/Packages.db".to_owned(),
        Kind::Rpm => "var/lib/rpm/Packages".to_owned(),
    }
}

/// The `arch|source|license` columns of a package, as the reference of its kind writes them.
fn detail(kind: Kind, p: &dockwatch_core::Package) -> String {
    let arch = p.arch.as_deref().unwrap_or("");
    let license = p.licenses.join(" ");
    match kind {
        Kind::Dpkg => format!(
            "{arch}|{}@{}|",
            p.source_name.as_deref().unwrap_or(&p.name),
            p.source_version.as_deref().unwrap_or(&p.version)
        ),
        Kind::Apk => format!(
            "{arch}|{}|{license}",
            p.source_name.as_deref().unwrap_or("")
        ),
        Kind::Rpm => format!(
            "{arch}|{}|{license}",
            p.metadata.get("source_rpm").map_or("", String::as_str)
        ),
    }
}

/// The one helper every listing goes through: loads the fixture where its cataloger looks, runs
/// the cataloger, checks what must hold for any input (warnings name the file, `found_by`, OS
/// type), and returns the rows found, each with its details.
fn check(r: &Reference) -> BTreeMap<String, String> {
    let path = image_path(r.kind, &r.id);
    let cataloger: Box<dyn Cataloger> = match r.kind {
        Kind::Dpkg => Box::new(DpkgCataloger),
        Kind::Apk => Box::new(ApkCataloger),
        Kind::Rpm => Box::new(RpmCataloger),
    };
    assert!(cataloger.wants(&path), "{path}");
    let bytes =
        std::fs::read(&r.fixture).unwrap_or_else(|e| panic!("{}: {e}", r.fixture.display()));
    let mut files = FileSet::new();
    files.insert(FileEntry {
        path: path.clone(),
        layer: None,
        mode: 0o644,
        contents: Arc::from(bytes),
    });
    let out = cataloger.catalog(&files, &CatalogContext::default());
    for w in &out.warnings {
        assert_eq!(w.path, format!("/{path}"), "{}: {w:?}", r.id);
    }
    out.packages
        .iter()
        .map(|p| {
            assert_eq!(p.found_by, cataloger.name());
            assert!(p.kind.is_os());
            (format!("{} {}", p.name, p.version), detail(r.kind, p))
        })
        .collect()
}

#[test]
fn os_catalogers_match_every_reference_listing() {
    let refs = references();
    let (mut compared, mut matched, mut refused, mut details_matched) = (0, 0, 0, 0);
    let mut differences = Vec::new();
    let mut problems = Vec::new();
    for r in &refs {
        let found_details = check(r);
        let found: BTreeSet<String> = found_details.keys().cloned().collect();
        let Some(expected) = &r.expected else {
            refused += 1;
            match REFUSED_BY_TOOL.iter().find(|(id, _, _)| *id == r.id) {
                Some((_, n, _)) if *n == found.len() => {}
                Some((_, n, _)) => problems.push(format!(
                    "{}: expected {n} packages, found {}: {found:?}",
                    r.id,
                    found.len()
                )),
                None => problems.push(format!(
                    "{}: refused by the reference tool and not listed; we find {found:?}",
                    r.id
                )),
            }
            continue;
        };
        compared += 1;
        matched += expected.intersection(&found).count();
        for row in expected.intersection(&found) {
            if r.details[row] == found_details[row] {
                details_matched += 1;
            } else {
                differences.push((
                    r.id.clone(),
                    format!("~{row} {} != {}", found_details[row], r.details[row]),
                ));
            }
        }
        for row in expected.difference(&found) {
            differences.push((r.id.clone(), format!("-{row}")));
        }
        for row in found.difference(expected) {
            differences.push((r.id.clone(), format!("+{row}")));
        }
    }
    for (id, diff) in &differences {
        if !KNOWN_DIFFERENCES
            .iter()
            .any(|(k, d, _)| k == id && d == diff)
        {
            problems.push(format!("{id}: unexplained difference {diff}"));
        }
    }
    for (id, diff, _) in KNOWN_DIFFERENCES {
        if !differences.iter().any(|(i, d)| i == id && d == diff) {
            problems.push(format!("{id}: listed difference {diff} no longer occurs"));
        }
    }
    for (id, _, _) in REFUSED_BY_TOOL {
        if !refs.iter().any(|r| r.id == *id && r.expected.is_none()) {
            problems.push(format!(
                "{id}: listed as refused but not a refused reference"
            ));
        }
    }
    eprintln!(
        "reference listings: {} ({compared} compared, {refused} refused by the tool); \
         rows matched: {matched} ({details_matched} also in arch, source and license); \
         known differences: {}",
        refs.len(),
        differences.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared >= 40, "only {compared} listings compared");
}

#[test]
fn all_registers_the_os_catalogers_once() {
    let names: Vec<&str> = super::all().iter().map(|c| c.name()).collect();
    for name in ["dpkg", "apk", "rpm"] {
        assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{names:?}");
    }
}

/// Pseudo-random bytes (a fixed LCG, so failures reproduce) behind each format's magic, at every
/// database path: never a panic, and every warning names the file it is about.
#[test]
fn garbage_at_every_database_path_gives_warnings_not_panics() {
    let mut seed: u64 = 0x5eed;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (seed >> 56) as u8
            })
            .collect()
    };
    let mut bdb_meta = vec![0u8; 64];
    bdb_meta[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    bdb_meta[20..24].copy_from_slice(&4096u32.to_le_bytes());
    bdb_meta[32..36].copy_from_slice(&40u32.to_le_bytes());
    let prefixes: [&[u8]; 5] = [
        b"",
        b"SQLite format 3\0\x10\x00\x01\x01\x00\x40\x20\x20",
        b"RpmP\0\0\0\0\x01\0\0\0\x01\0\0\0",
        &bdb_meta,
        b"Package: x\nVersion: 1\n\nP:y\nV:2\n\n",
    ];
    let paths = [
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/x",
        "lib/apk/db/installed",
        "var/lib/rpm/Packages",
        "var/lib/rpm/Packages.db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
    ];
    let catalogers = super::all();
    for round in 0..30 {
        for prefix in prefixes {
            let mut bytes = prefix.to_vec();
            bytes.extend(noise(512 + round * 1000));
            for path in paths {
                let mut files = FileSet::new();
                files.insert(FileEntry {
                    path: path.into(),
                    layer: None,
                    mode: 0o644,
                    contents: Arc::from(bytes.as_slice()),
                });
                for c in catalogers.iter().filter(|c| c.wants(path)) {
                    let out = c.catalog(&files, &CatalogContext::default());
                    assert!(out.warnings.iter().all(|w| w.path == format!("/{path}")));
                    assert!(out.warnings.len() <= super::warning_cap::MAX_PER_FILE + 1);
                }
            }
        }
    }
}
