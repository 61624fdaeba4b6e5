//! Red Hat and SUSE: hand-written OSV records shaped as those vendors publish them (one
//! ecosystem per product stream), matched against RHEL, SLES and openSUSE images with rpm
//! version rules (epochs, `el9_3`-style releases, SUSE's `150500.x` releases).

use super::{AdvisoryDb, read_paths};
use crate::matcher::match_packages;
use dockwatch_core::{Distro, Package, PackageType};
use serde_json::json;

fn record(id: &str, ecosystem: &str, name: &str, fixed: &str) -> serde_json::Value {
    json!({"id": id, "modified": "2024-03-01T00:00:00Z", "aliases": ["CVE-2023-5678"],
           "database_specific": {"severity": "Important"},
           "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                         "ranges": [{"type": "ECOSYSTEM",
                                     "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
}

fn db() -> (tempfile::TempDir, AdvisoryDb) {
    let dir = tempfile::tempdir().unwrap();
    let records = [
        record(
            "RHSA-2024:0310",
            "Red Hat:enterprise_linux:9::baseos",
            "openssl",
            "1:3.0.7-25.el9_3",
        ),
        record(
            "RHSA-2023:9999",
            "Red Hat:enterprise_linux:8::baseos",
            "openssl",
            "1:1.1.1k-12.el8_9",
        ),
        record(
            "SUSE-SU-2024:0432-1",
            "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
            "openssl-3",
            "3.0.8-150500.5.14.1",
        ),
        record(
            "openSUSE-SU-2024:0001-1",
            "openSUSE:Leap 15.5",
            "openssl-3",
            "3.0.8-150500.5.20.1",
        ),
    ];
    let files = dir.path().join("osv");
    std::fs::create_dir_all(&files).unwrap();
    for r in &records {
        let name = r["id"].as_str().unwrap().replace(':', "_");
        std::fs::write(files.join(format!("{name}.json")), r.to_string()).unwrap();
    }
    let batch = read_paths(&[files]).unwrap();
    assert!(batch.warnings.is_empty(), "{:?}", batch.warnings);
    let mut db = AdvisoryDb::open_or_create(&dir.path().join("db")).unwrap();
    let summary = db.import(batch, "2026-01-01T00:00:00Z").unwrap();
    assert!(
        summary
            .changed_packages
            .contains(&("SUSE:15.5".to_owned(), "openssl-3".to_owned())),
        "{:?}",
        summary.changed_packages
    );
    (dir, db)
}

fn rpm(name: &str, version: &str, source: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind: PackageType::Rpm,
        arch: Some("x86_64".into()),
        source_name: Some(source.into()),
        source_version: None,
        licenses: vec![],
        purl: format!("pkg:rpm/{name}@{version}"),
        cpes: vec![],
        locations: vec![],
        found_by: "test".into(),
        metadata: Default::default(),
    }
}

fn ids(db: &AdvisoryDb, id: &str, version_id: &str, package: Package) -> Vec<String> {
    let distro = Distro {
        id: id.into(),
        version_id: Some(version_id.into()),
        ..Default::default()
    };
    let report = match_packages(db, Some(&distro), &[package]).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    report.findings.into_iter().map(|f| f.advisory_id).collect()
}

#[test]
fn red_hat_streams_match_the_release_with_rpm_versions() {
    let (_dir, db) = db();
    let libs = |v: &str| rpm("openssl-libs", v, "openssl");
    assert_eq!(
        ids(&db, "rhel", "9.3", libs("1:3.0.7-24.el9")),
        ["RHSA-2024:0310"]
    );
    // The fixed build, and a later one: `el9_3` sorts after `el9`, epochs decide first.
    assert!(ids(&db, "rhel", "9.3", libs("1:3.0.7-25.el9_3")).is_empty());
    assert!(ids(&db, "rhel", "9.4", libs("1:3.0.7-27.el9")).is_empty());
    assert!(
        ids(&db, "rhel", "9.3", libs("2:1.0.0-1.el9")).is_empty(),
        "a higher epoch wins"
    );
    // RHEL 8 packages only meet RHEL 8 streams.
    assert_eq!(
        ids(&db, "rhel", "8.9", libs("1:1.1.1k-9.el8_7")),
        ["RHSA-2023:9999"]
    );
}

#[test]
fn suse_products_fold_into_the_release_and_opensuse_stays_apart() {
    let (_dir, db) = db();
    let openssl = |v: &str| rpm("libopenssl3", v, "openssl-3");
    let severity = {
        let distro = Distro {
            id: "sles".into(),
            version_id: Some("15.5".into()),
            ..Default::default()
        };
        let report = match_packages(&db, Some(&distro), &[openssl("3.0.8-150500.5.8.1")]).unwrap();
        report.findings[0].severity.rating
    };
    assert_eq!(severity, crate::finding::Rating::High, "SUSE's `Important`");
    assert_eq!(
        ids(&db, "sles", "15.5", openssl("3.0.8-150500.5.8.1")),
        ["SUSE-SU-2024:0432-1"]
    );
    assert!(ids(&db, "sles", "15.5", openssl("3.0.8-150500.5.14.1")).is_empty());
    assert!(
        ids(&db, "sles", "15.4", openssl("3.0.8-150500.5.8.1")).is_empty(),
        "SP4 is another release"
    );
    assert_eq!(
        ids(&db, "opensuse-leap", "15.5", openssl("3.0.8-150500.5.14.1")),
        ["openSUSE-SU-2024:0001-1"],
        "Leap gets openSUSE's advisory only"
    );
}
