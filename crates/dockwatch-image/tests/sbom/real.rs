//! Packages the real catalogers find in peer package databases, through every format: valid
//! against the schemas and read back the same.

use super::{fixture, schema};
use dockwatch_core::Distro;
use dockwatch_image::catalog::{self, CatalogContext};
use dockwatch_image::fs::{FileEntry, FileSet};
use dockwatch_image::sbom::decode::decode;
use dockwatch_image::sbom::{Sbom, SourceInfo};

const LAYER: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/// The SBOM of a filesystem holding `fixture` at `path`.
fn catalogued(fixture_path: &str, path: &str, distro: Distro) -> Sbom {
    let contents = std::fs::read(dockwatch_testdata::fixture(fixture_path)).expect("fixture");
    let mut files = FileSet::new();
    files.insert(FileEntry {
        path: path.to_string(),
        layer: Some(LAYER.into()),
        mode: 0o644,
        contents: contents.into(),
    });
    let ctx = CatalogContext {
        distro: Some(distro.clone()),
    };
    let mut sbom = Sbom {
        source: SourceInfo {
            kind: "dir".into(),
            name: format!("/{path}"),
            ..Default::default()
        },
        distro: Some(distro),
        ..Default::default()
    };
    for c in catalog::all() {
        let out = c.catalog(&files, &ctx);
        sbom.packages.extend(out.packages);
        sbom.warnings.extend(out.warnings);
    }
    fixture::sort(&mut sbom.packages);
    sbom
}

fn distro(id: &str, version: &str) -> Distro {
    Distro {
        id: id.into(),
        version_id: Some(version.into()),
        ..Default::default()
    }
}

fn check(sbom: &Sbom, min_packages: usize) {
    assert!(
        sbom.packages.len() >= min_packages,
        "{}",
        sbom.packages.len()
    );
    let cdx = schema::validator("bom-1.6.schema.json");
    let spdx = schema::validator("spdx-2.3.schema.json");
    for (format, validator) in [
        ("cyclonedx-json", Some(&cdx)),
        ("spdx-json", Some(&spdx)),
        ("json", None),
    ] {
        let text = fixture::render(format, sbom);
        if let Some(v) = validator {
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let errs = schema::errors(v, &doc);
            assert!(
                errs.is_empty(),
                "{format} of {}: {errs:#?}",
                sbom.source.name
            );
        }
        let mut back = decode(text.as_bytes(), format).unwrap().sbom;
        fixture::sort(&mut back.packages);
        assert_eq!(back.packages.len(), sbom.packages.len(), "{format}");
        for (e, a) in sbom.packages.iter().zip(&back.packages) {
            if format == "spdx-json" {
                // SPDX has one declared expression per package: `MIT AND BSD-2-Clause` reads
                // back as two licenses (docs/sbom-formats.md). The same licenses all the same.
                assert_eq!(
                    e.licenses.join(" AND "),
                    a.licenses.join(" AND "),
                    "{}",
                    e.name
                );
                let mut a = a.clone();
                a.licenses = e.licenses.clone();
                assert_eq!(e, &a, "{format}");
            } else {
                assert_eq!(e, a, "{format}");
            }
        }
    }
}

#[test]
fn dpkg_status_of_a_large_texlive_system() {
    let sbom = catalogued(
        "claircore/os-pkgdb/dpkg/testdata/texlive.status",
        "var/lib/dpkg/status",
        distro("debian", "12"),
    );
    check(&sbom, 100);
}

#[test]
fn apk_installed_database() {
    let sbom = catalogued(
        "osv-scalibr/os-pkgdb/extractor/filesystem/os/apk/testdata/installed",
        "lib/apk/db/installed",
        distro("alpine", "3.18.0"),
    );
    check(&sbom, 5);
}

#[test]
fn rpm_sqlite_database() {
    let sbom = catalogued(
        "go-rpmdb/os-pkgdb/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite",
        "var/lib/rpm/rpmdb.sqlite",
        distro("mariner", "2.0"),
    );
    check(&sbom, 10);
}
