//! The reports every format is checked on, built through the real policy pass with a pinned
//! clock and database snapshot.

use dockwatch_core::{Distro, Location, Package, PackageType};
use dockwatch_image::advisory::DbStatus;
use dockwatch_image::advisory::epss::EpssScore;
use dockwatch_image::advisory::kev::KevEntry;
use dockwatch_image::finding::{Finding, Rating, Severity, score_cvss};
use dockwatch_image::policy::vex::{VexStatement, VexStatus};
use dockwatch_image::policy::{self, Policy};
use dockwatch_image::report::{self, Report, Settings};
use dockwatch_image::sbom::{Sbom, SourceInfo};

/// 2026-01-02T03:04:05Z and five seconds later.
pub const STARTED: i64 = 1_767_323_045_000;
pub const FINISHED: i64 = STARTED + 5_000;

fn package(kind: PackageType, name: &str, version: &str, purl: &str, path: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: vec![],
        purl: purl.into(),
        cpes: vec![],
        locations: vec![Location {
            path: path.into(),
            layer: Some(
                "sha256:1111111111111111111111111111111111111111111111111111111111111111".into(),
            ),
        }],
        found_by: "fixture".into(),
        metadata: Default::default(),
    }
}

fn finding(
    package: &Package,
    id: &str,
    aliases: &[&str],
    summary: Option<&str>,
    vendor: Option<Rating>,
    vectors: &[&str],
    fixed: &[&str],
) -> Finding {
    let cvss: Vec<_> = vectors.iter().filter_map(|v| score_cvss(v)).collect();
    let severity = match (vendor, cvss.first()) {
        (Some(rating), best) => Severity {
            rating,
            score: best.map(|b| b.score),
            source: "vendor".into(),
        },
        (None, Some(best)) => Severity {
            rating: best.rating,
            score: Some(best.score),
            source: format!("CVSS:{}", best.version),
        },
        (None, None) => Severity {
            rating: Rating::Unknown,
            score: None,
            source: "none".into(),
        },
    };
    Finding {
        advisory_id: id.into(),
        aliases: aliases.iter().map(|s| (*s).into()).collect(),
        summary: summary.map(str::to_owned),
        severity,
        cvss,
        fixed_versions: fixed.iter().map(|s| (*s).into()).collect(),
        kev: None,
        epss: None,
        ecosystem: match package.kind {
            PackageType::Deb => "Debian:12".into(),
            PackageType::Npm => "npm".into(),
            _ => "PyPI".into(),
        },
        package: std::sync::Arc::new(package.clone()),
    }
}

fn db() -> DbStatus {
    DbStatus {
        path: "/var/cache/dockwatch/db/advisories.sqlite3".into(),
        advisories: 5,
        withdrawn: 0,
        ecosystems: vec![
            ("Debian:12".into(), 2),
            ("PyPI".into(), 1),
            ("npm".into(), 2),
        ],
        last_import: Some("2026-01-01T00:00:00Z".into()),
        kev: None,
        epss: None,
    }
}

/// A Debian 12 image with OS and language findings: critical unfixed, high with KEV and EPSS,
/// one suppressed by VEX, one with characters every format must escape.
pub fn rich() -> Report {
    let libssl = package(
        PackageType::Deb,
        "libssl3",
        "3.0.11-1~deb12u1",
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
        "/var/lib/dpkg/status",
    );
    let zlib = package(
        PackageType::Deb,
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
        "/var/lib/dpkg/status",
    );
    let tzdata = package(
        PackageType::Deb,
        "tzdata",
        "2024a-0+deb12u1",
        "pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all&distro=debian-12",
        "/var/lib/dpkg/status",
    );
    let requests = package(
        PackageType::Pypi,
        "requests",
        "2.25.0",
        "pkg:pypi/requests@2.25.0",
        "/usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA",
    );
    let lodash = package(
        PackageType::Npm,
        "lodash",
        "4.17.20",
        "pkg:npm/lodash@4.17.20",
        "/srv/app/package-lock.json",
    );
    let mut kev = finding(
        &lodash,
        "GHSA-35jh-r3h4-6jhm",
        &["CVE-2021-23337"],
        Some("Command Injection in lodash <template> & \"friends\" | pipes"),
        Some(Rating::High),
        &["CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"],
        &["4.17.21"],
    );
    kev.kev = Some(KevEntry {
        cve: "CVE-2021-23337".into(),
        date_added: "2024-01-01".into(),
        due_date: Some("2024-01-22".into()),
        ransomware: Some("Unknown".into()),
    });
    kev.epss = Some(EpssScore {
        cve: "CVE-2021-23337".into(),
        score: 0.0123,
        percentile: 0.8456,
    });
    let findings = vec![
        finding(
            &libssl,
            "DSA-5532-1",
            &["CVE-2023-5363"],
            Some("openssl - security update"),
            None,
            &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"],
            &["3.0.11-1~deb12u2"],
        ),
        finding(
            &zlib,
            "DEBIAN-CVE-2023-45853",
            &["CVE-2023-45853"],
            Some("MiniZip integer overflow"),
            None,
            &[
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            ],
            &[],
        ),
        finding(
            &requests,
            "PYSEC-2023-74",
            &["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
            Some("Requests leaks Proxy-Authorization headers"),
            Some(Rating::Medium),
            &["CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"],
            &["2.31.0"],
        ),
        finding(&requests, "PYSEC-2024-1", &[], None, None, &[], &["2.32.0"]),
        kev,
    ];
    let policy = Policy {
        ignore_unfixed: false,
        vex: vec![VexStatement {
            vulnerability: vec!["CVE-2023-32681".into()],
            purls: vec!["pkg:pypi/requests".into()],
            status: VexStatus::NotAffected,
            justification: Some("vulnerable_code_not_in_execute_path".into()),
            statement: Some("No proxies are configured".into()),
            source: "vex.json#statements[0]".into(),
        }],
        fail_on: Some(Rating::High),
    };
    let outcome = policy::apply(&policy, findings);
    let sbom = Sbom {
        source: SourceInfo {
            kind: "registry".into(),
            name: "registry.example/team/app:1.0".into(),
            digest: Some(
                "sha256:2222222222222222222222222222222222222222222222222222222222222222".into(),
            ),
            ..SourceInfo::default()
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            id_like: vec![],
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }),
        packages: vec![lodash, requests, tzdata, zlib, libssl],
        warnings: vec![],
    };
    Report::new(
        "0.1.0".into(),
        (STARTED, FINISHED),
        Some(db()),
        sbom,
        Settings {
            fail_on: Some(Rating::High),
            ignore_unfixed: false,
            vex_files: vec!["vex.json".into()],
            platform: Some("linux/amd64".into()),
        },
        outcome,
        vec![],
    )
}

/// A scan of a folder with no packages and no findings.
pub fn clean() -> Report {
    let sbom = Sbom {
        source: SourceInfo {
            kind: "dir".into(),
            name: "/srv/rootfs".into(),
            ..SourceInfo::default()
        },
        ..Sbom::default()
    };
    Report::new(
        "0.1.0".into(),
        (STARTED, FINISHED),
        Some(db()),
        sbom,
        Settings::default(),
        policy::apply(&Policy::default(), vec![]),
        vec![],
    )
}

/// Every fixture, by the name its golden files carry.
pub fn all() -> Vec<(&'static str, Report)> {
    vec![("rich", rich()), ("clean", clean())]
}

/// `report` rendered in the format called `name`.
pub fn render(name: &str, report: &Report) -> String {
    let format = report::format(name).unwrap_or_else(|| panic!("no format {name}"));
    let mut out = Vec::new();
    format.render(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
