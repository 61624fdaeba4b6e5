//! Matching verdicts on real advisories: the PyPA, Go and RustSec databases and the CISA KEV
//! catalog from the shared fixtures, imported as their tarballs, Rocky Linux and AlmaLinux OSV
//! records (from vunnel's fixtures), plus distro records in
//! `testdata/advisory/os` written as Debian, Ubuntu and Alpine publish them. Each test names a
//! real package version and the advisories it must and must not get.
//!
//! These use the real version schemes (`crate::version`): epochs, `~`, PEP 440 pre-releases and
//! Go pseudo-versions are decided there.

use super::{AdvisoryDb, read_paths};
use crate::finding::{Finding, Rating};
use crate::matcher::match_packages;
use dockwatch_core::{Distro, Package, PackageType};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The database, imported once for every test in this module.
fn db() -> &'static AdvisoryDb {
    static DB: OnceLock<AdvisoryDb> = OnceLock::new();
    DB.get_or_init(|| {
        let testdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/advisory");
        let paths = [
            dockwatch_testdata::fixture("advisories/pypa-advisory-database.osv-yaml.tar.zst"),
            dockwatch_testdata::fixture("advisories/golang-vulndb.data-osv.tar.zst"),
            dockwatch_testdata::fixture("advisories/rustsec-advisory-db.tar.zst"),
            dockwatch_testdata::fixture("advisories/cisa-kev/known_exploited_vulnerabilities.json"),
            testdata.join("os"),
            dockwatch_testdata::fixture("advisories/vunnel-provider-fixtures/tests/unit/providers/rocky/test-fixtures/osv"),
            dockwatch_testdata::fixture(
                "advisories/vunnel-provider-fixtures/tests/unit/providers/alma/test-fixtures/osv-database/advisories",
            ),
            testdata.join("epss-sample.csv"),
        ];
        let batch = read_paths(&paths).expect("fixtures read");
        assert!(batch.warnings.is_empty(), "{:?}", batch.warnings);
        // Kept for the life of the test process: the index is in memory once opened.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let mut db = AdvisoryDb::open_or_create(&dir).expect("db");
        db.import(batch, "2026-01-01T00:00:00Z").expect("import");
        db
    })
}

fn package(kind: PackageType, name: &str, version: &str) -> Package {
    let purl_name = match kind {
        PackageType::Maven => name.replace(':', "/"),
        _ => name.to_owned(),
    };
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: vec![],
        purl: format!("pkg:{kind}/{purl_name}@{version}"),
        cpes: vec![],
        locations: vec![],
        found_by: "test".into(),
        metadata: Default::default(),
    }
}

fn os_package(kind: PackageType, name: &str, version: &str, source: &str) -> Package {
    Package {
        source_name: Some(source.into()),
        ..package(kind, name, version)
    }
}

fn distro(id: &str, version: &str) -> Distro {
    Distro {
        id: id.into(),
        version_id: Some(version.into()),
        ..Default::default()
    }
}

/// The findings for one package.
fn findings(distro: Option<&Distro>, package: &Package) -> Vec<Finding> {
    let report = match_packages(db(), distro, std::slice::from_ref(package)).expect("match");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    report.findings
}

/// Asserts that `package` gets every advisory of `present` and none of `absent`.
fn check(distro: Option<&Distro>, package: &Package, present: &[&str], absent: &[&str]) {
    let ids: BTreeSet<String> = findings(distro, package)
        .into_iter()
        .map(|f| f.advisory_id)
        .collect();
    for id in present {
        assert!(
            ids.contains(*id),
            "{} {} should get {id}; got {ids:?}",
            package.name,
            package.version
        );
    }
    for id in absent {
        assert!(
            !ids.contains(*id),
            "{} {} must not get {id}; got {ids:?}",
            package.name,
            package.version
        );
    }
}

/// Asserts the exact set of advisories `package` gets.
fn check_exact(distro: Option<&Distro>, package: &Package, expected: &[&str]) {
    let ids: Vec<String> = findings(distro, package)
        .into_iter()
        .map(|f| f.advisory_id)
        .collect();
    assert_eq!(ids, expected, "{} {}", package.name, package.version);
}

#[test]
fn fixture_counts() {
    let status = db().status().unwrap();
    let count = |eco: &str| {
        status
            .ecosystems
            .iter()
            .find(|(e, _)| e == eco)
            .map(|(_, n)| *n)
    };
    assert!(count("PyPI").unwrap() > 2600);
    assert!(count("Go").unwrap() > 4200);
    assert!(count("crates.io").unwrap() > 700);
    assert!(
        status.withdrawn >= 20,
        "withdrawn PyPI and Go records are kept apart"
    );
    assert_eq!(status.kev.unwrap().entries, 1404);
}

#[test]
fn pypi_requests_versions() {
    let all = [
        "PYSEC-2014-13",
        "PYSEC-2014-14",
        "PYSEC-2015-17",
        "PYSEC-2018-28",
    ];
    check_exact(None, &package(PackageType::Pypi, "requests", "2.2.1"), &all);
    check_exact(
        None,
        &package(PackageType::Pypi, "requests", "2.30.0"),
        &["PYSEC-2023-74"],
    );
    check_exact(None, &package(PackageType::Pypi, "requests", "2.31.0"), &[]);
    // PEP 440: `2.3` is `2.3.0`, the fix of two and the start of another.
    check(
        None,
        &package(PackageType::Pypi, "requests", "2.3"),
        &["PYSEC-2015-17", "PYSEC-2023-74"],
        &["PYSEC-2014-13", "PYSEC-2014-14"],
    );
    // A release candidate sorts before its release: still affected by the fix in 2.31.0.
    check(
        None,
        &package(PackageType::Pypi, "requests", "2.31.0rc1"),
        &["PYSEC-2023-74"],
        &[],
    );
    // Names are compared as PEP 503 normalizes them.
    check(
        None,
        &package(PackageType::Pypi, "Requests", "2.30.0"),
        &["PYSEC-2023-74"],
        &[],
    );
}

#[test]
fn pypi_pre_release_fix() {
    let id = ["PYSEC-2019-26"];
    check(
        None,
        &package(PackageType::Pypi, "invenio-previewer", "1.0.0a11"),
        &id,
        &[],
    );
    check(
        None,
        &package(PackageType::Pypi, "invenio-previewer", "1.0.0a12"),
        &[],
        &id,
    );
    check(
        None,
        &package(PackageType::Pypi, "invenio-previewer", "1.0.0"),
        &[],
        &id,
    );
}

#[test]
fn last_affected_includes_that_version_only() {
    let id = ["PYSEC-2022-42969"];
    check(None, &package(PackageType::Pypi, "py", "1.11.0"), &id, &[]);
    check(None, &package(PackageType::Pypi, "py", "1.11.1"), &[], &id);
}

#[test]
fn unfixed_advisory_matches_with_no_fixed_version() {
    let found = findings(None, &package(PackageType::Pypi, "gateone", "1.2.0"));
    let f = found
        .iter()
        .find(|f| f.advisory_id == "PYSEC-2021-423")
        .expect("unfixed advisory");
    assert!(!f.is_fixed());
    assert!(f.aliases.contains(&"CVE-2020-19003".to_owned()));
}

#[test]
fn multiple_ranges_and_kev() {
    let id = ["PYSEC-2020-102"];
    check(
        None,
        &package(PackageType::Pypi, "salt", "2019.2.3"),
        &id,
        &[],
    );
    check(
        None,
        &package(PackageType::Pypi, "salt", "2019.2.4"),
        &[],
        &id,
    );
    check(
        None,
        &package(PackageType::Pypi, "salt", "3000.2"),
        &[],
        &id,
    );
    let found = findings(None, &package(PackageType::Pypi, "salt", "3000.1"));
    let f = found
        .iter()
        .find(|f| f.advisory_id == "PYSEC-2020-102")
        .expect("3000.1 affected");
    assert_eq!(f.fixed_versions, ["2019.2.4", "3000.2"]);
    assert!(f.known_exploited(), "CVE-2020-11651 is in the KEV catalog");
}

#[test]
fn withdrawn_advisories_never_match() {
    check(
        None,
        &package(PackageType::Pypi, "redis", "4.5.0"),
        &[],
        &["PYSEC-2023-73"],
    );
    check(
        None,
        &package(PackageType::Golang, "k8s.io/kubernetes", "v1.20.0"),
        &[],
        &["GO-2022-0617"],
    );
}

#[test]
fn cvss_severity_from_a_real_record() {
    let found = findings(
        None,
        &package(PackageType::Pypi, "apache-skywalking", "8.0.0"),
    );
    let f = found
        .iter()
        .find(|f| f.advisory_id == "PYSEC-2020-342")
        .expect("matched");
    assert_eq!(
        (f.severity.rating, f.severity.score),
        (Rating::Critical, Some(9.8))
    );
}

#[test]
fn go_pseudo_versions() {
    let id = ["GO-2020-0004"];
    let nanoauth = |v| {
        package(
            PackageType::Golang,
            "github.com/nanobox-io/golang-nanoauth",
            v,
        )
    };
    check(
        None,
        &nanoauth("v0.0.0-20180101000000-abcdefabcdef"),
        &id,
        &[],
    );
    check(
        None,
        &nanoauth("v0.0.0-20200131131040-063a3fb69896"),
        &[],
        &id,
    );
    check(
        None,
        &nanoauth("v0.0.0-20150101000000-abcdefabcdef"),
        &[],
        &id,
    );
}

#[test]
fn go_incompatible_and_kev() {
    let id = ["GO-2021-0072"];
    let distribution = |v| package(PackageType::Golang, "github.com/docker/distribution", v);
    check(None, &distribution("v2.6.2+incompatible"), &id, &[]);
    check(None, &distribution("v2.7.0+incompatible"), &[], &id);
    let found = findings(
        None,
        &package(
            PackageType::Golang,
            "github.com/wazuh/wazuh",
            "v4.8.0+incompatible",
        ),
    );
    let f = found
        .iter()
        .find(|f| f.advisory_id == "GO-2025-3459")
        .expect("wazuh affected");
    assert!(f.known_exploited());
}

#[test]
fn go_multiple_ranges_and_stdlib() {
    let id = ["GO-2023-2153"];
    let grpc = |v| package(PackageType::Golang, "google.golang.org/grpc", v);
    for v in ["v1.56.2", "v1.57.0", "v1.58.2"] {
        check(None, &grpc(v), &id, &[]);
    }
    for v in ["v1.56.3", "v1.57.1", "v1.58.3"] {
        check(None, &grpc(v), &[], &id);
    }
    let stdlib = |v| package(PackageType::Golang, "stdlib", v);
    check(None, &stdlib("go1.21.2"), &["GO-2023-2102"], &[]);
    check(None, &stdlib("go1.20.9"), &["GO-2023-2102"], &[]);
    check(None, &stdlib("go1.21.3"), &[], &["GO-2023-2102"]);
}

#[test]
fn rustsec_requirements() {
    let id = ["RUSTSEC-2020-0105"];
    check(
        None,
        &package(PackageType::Cargo, "abi_stable", "0.9.0"),
        &id,
        &[],
    );
    check(
        None,
        &package(PackageType::Cargo, "abi_stable", "0.9.1"),
        &[],
        &id,
    );
}

#[test]
fn no_cross_ecosystem_name_collisions() {
    // PyPI, Go and RustSec advisories name these; npm, gem and cargo packages of the same name
    // must get nothing from them.
    check_exact(None, &package(PackageType::Npm, "requests", "2.2.1"), &[]);
    check_exact(None, &package(PackageType::Gem, "salt", "3000.1"), &[]);
    check_exact(None, &package(PackageType::Npm, "abi_stable", "0.9.0"), &[]);
    check_exact(None, &package(PackageType::Cargo, "requests", "2.2.1"), &[]);
}

#[test]
fn debian_epochs() {
    let bookworm = distro("debian", "12");
    let bind = |v| os_package(PackageType::Deb, "bind9-libs", v, "bind9");
    check(
        Some(&bookworm),
        &bind("1:9.18.19-1~deb12u1"),
        &["DSA-5621-1"],
        &[],
    );
    check(Some(&bookworm), &bind("1:9.18.24-1"), &[], &["DSA-5621-1"]);
    // Without an epoch the version is older than any `1:` version, whatever its digits say.
    check(Some(&bookworm), &bind("9.18.28-1"), &["DSA-5621-1"], &[]);
}

#[test]
fn debian_tilde_and_source_package() {
    let bookworm = distro("debian", "12");
    let libssl = |v| os_package(PackageType::Deb, "libssl3", v, "openssl");
    check_exact(
        Some(&bookworm),
        &libssl("3.0.11-1~deb12u1"),
        &["DSA-5532-1"],
    );
    check_exact(Some(&bookworm), &libssl("3.0.11-1~deb12u2"), &[]);
    check_exact(Some(&bookworm), &libssl("3.0.11-1"), &[]);
    // The same package in Debian 11 is not looked up in Debian 12's advisories.
    check_exact(
        Some(&distro("debian", "11")),
        &libssl("3.0.11-1~deb12u1"),
        &[],
    );
    // The source version decides when the binary one differs (binNMU).
    let mut binnmu = libssl("3.0.11-1~deb12u1+b1");
    binnmu.source_version = Some("3.0.11-1~deb12u2".into());
    check_exact(Some(&bookworm), &binnmu, &[]);
}

#[test]
fn debian_unfixed_with_vendor_urgency() {
    let bookworm = distro("debian", "12");
    let found = findings(
        Some(&bookworm),
        &os_package(PackageType::Deb, "libc6", "2.36-9+deb12u7", "glibc"),
    );
    let f = found
        .iter()
        .find(|f| f.advisory_id == "DEBIAN-CVE-2010-4756")
        .expect("unfixed");
    assert!(!f.is_fixed());
    assert_eq!(
        (f.severity.rating, f.severity.source.as_str()),
        (Rating::Negligible, "vendor")
    );
}

#[test]
fn debian_packages_never_get_upstream_advisories() {
    let bookworm = distro("debian", "12");
    // Debian's source package `requests` is the PyPI project `requests`, at an affected
    // upstream version; the PyPI advisories are not Debian's word on it.
    check_exact(
        Some(&bookworm),
        &os_package(
            PackageType::Deb,
            "python3-requests",
            "2.28.1+dfsg-1",
            "requests",
        ),
        &[],
    );
    // OSS-Fuzz's upstream openssl record affects everything below 9.9.9; Debian's openssl
    // 3.0.11-1 (past DSA-5532-1's fix) gets nothing from it.
    check_exact(
        Some(&bookworm),
        &os_package(PackageType::Deb, "openssl", "3.0.11-1", "openssl"),
        &[],
    );
}

#[test]
fn ubuntu_lts_ecosystem_vendor_severity_and_epss() {
    let jammy = distro("ubuntu", "22.04");
    let found = findings(
        Some(&jammy),
        &os_package(PackageType::Deb, "libssl3", "3.0.2-0ubuntu1.10", "openssl"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.advisory_id, "UBUNTU-CVE-2023-5363");
    assert_eq!(f.ecosystem, "Ubuntu:22.04:LTS");
    assert_eq!(
        (f.severity.rating, f.severity.source.as_str()),
        (Rating::Medium, "vendor")
    );
    assert_eq!(f.severity.score, Some(7.5));
    assert_eq!(f.epss.as_ref().map(|e| e.percentile), Some(0.61));
    assert_eq!(f.fixed_versions, ["3.0.2-0ubuntu1.12"]);
    check_exact(
        Some(&jammy),
        &os_package(PackageType::Deb, "libssl3", "3.0.2-0ubuntu1.12", "openssl"),
        &[],
    );
}

#[test]
fn alpine_release_and_origin() {
    let alpine = distro("alpine", "3.20.2");
    let libcrypto = |v| os_package(PackageType::Apk, "libcrypto3", v, "openssl");
    check_exact(
        Some(&alpine),
        &libcrypto("3.3.1-r3"),
        &["ALPINE-CVE-2024-6119"],
    );
    check_exact(Some(&alpine), &libcrypto("3.3.2-r0"), &[]);
    check_exact(
        Some(&distro("alpine", "3.19.1")),
        &libcrypto("3.3.1-r3"),
        &[],
    );
}

#[test]
fn rpm_epochs_modules_and_binary_names() {
    let rocky8 = distro("rocky", "8.4");
    let jdk = |v| os_package(PackageType::Rpm, "java-11-openjdk", v, "java-11-openjdk");
    check_exact(
        Some(&rocky8),
        &jdk("1:11.0.12.0.7-0.el8_4"),
        &["RLSA-2021:3891"],
    );
    check_exact(Some(&rocky8), &jdk("1:11.0.13.0.8-1.el8_4"), &[]);
    // No epoch is epoch 0, older than any `1:` version.
    check_exact(
        Some(&rocky8),
        &jdk("11.0.20.0.8-1.el8"),
        &["RLSA-2021:3891"],
    );
    let alma8 = distro("almalinux", "8.8");
    let mariadb = |v| os_package(PackageType::Rpm, "mariadb-server", v, "mariadb");
    check_exact(
        Some(&alma8),
        &mariadb("3:10.3.35-1.module_el8.6.0+2867+72759d2f"),
        &["ALSA-2023:5259"],
    );
    check_exact(
        Some(&alma8),
        &mariadb("3:10.3.39-1.module_el8.8.0+3609+204d4ab0"),
        &[],
    );
    // AlmaLinux names binary packages: libtiff-tools (source libtiff) is found by either name.
    let alma9 = distro("almalinux", "9.1");
    let tiff = |v| os_package(PackageType::Rpm, "libtiff-tools", v, "libtiff");
    check_exact(Some(&alma9), &tiff("4.4.0-1.el9"), &["ALSA-2022:8194"]);
    check_exact(Some(&alma9), &tiff("4.4.0-2.el9"), &[]);
    check_exact(Some(&distro("rocky", "9.4")), &tiff("4.4.0-1.el9"), &[]);
}

#[test]
fn rpm_python_package_gets_the_distro_advisory_not_pypi() {
    let alma8 = distro("almalinux", "8.8");
    let requests = os_package(
        PackageType::Rpm,
        "python3-requests",
        "2.20.0-2.1.el8_1",
        "python-requests",
    );
    check_exact(Some(&alma8), &requests, &["ALSA-2023:4520"]);
}
