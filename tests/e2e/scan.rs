//! `dockwatch scan`: the real binary imports a small advisory set, then scans a Debian 12 root
//! filesystem built here and a CycloneDX SBOM of it, in every format, with every gate option.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A Debian 12 root filesystem: dpkg status (libssl3 from openssl, zlib1g from zlib), a Python
/// distribution and an npm lockfile.
const DPKG_STATUS: &str = "\
Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6144
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u1
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols for secure communication over the
 Internet.

Package: zlib1g
Status: install ok installed
Priority: required
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Provides: libz1
Depends: libc6 (>= 2.14)
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found
 in gzip and PKZIP.  This package includes the shared library.

Package: tzdata
Status: install ok installed
Priority: required
Section: localization
Installed-Size: 3234
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 2024a-0+deb12u1
Description: time zone and daylight-saving time data
 This package contains data required for the implementation of
 standard local time for many representative locations around the globe.
";

const OS_RELEASE: &str = "\
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
VERSION_CODENAME=bookworm
ID=debian
";

const PACKAGE_LOCK: &str = r#"{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4.17.20"}},
    "node_modules/lodash": {"version": "4.17.20", "license": "MIT"}
  }
}
"#;

const CVSS_HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
const CVSS_CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const CVSS_MEDIUM: &str = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N";

/// The advisory set: fixed openssl (high), unfixed zlib (critical), requests (medium), lodash
/// (high, vendor word), plus one for a package that is not installed.
fn advisory_set() -> Vec<(&'static str, Value)> {
    let eco = |ecosystem: &str, name: &str, events: Value| {
        json!([{"package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}]}])
    };
    vec![
        (
            "DSA-5532-1.json",
            json!({"id": "DSA-5532-1", "modified": "2023-10-25T09:00:00Z",
                   "summary": "openssl - security update", "aliases": ["CVE-2023-5363"],
                   "severity": [{"type": "CVSS_V3", "score": CVSS_HIGH}],
                   "affected": eco("Debian:12", "openssl",
                                   json!([{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]))}),
        ),
        (
            "DEBIAN-CVE-2023-45853.json",
            json!({"id": "DEBIAN-CVE-2023-45853", "modified": "2024-01-01T00:00:00Z",
                   "summary": "MiniZip integer overflow in zipOpenNewFileInZip4_64",
                   "aliases": ["CVE-2023-45853"],
                   "severity": [{"type": "CVSS_V3", "score": CVSS_CRITICAL}],
                   "affected": eco("Debian:12", "zlib", json!([{"introduced": "0"}]))}),
        ),
        (
            "PYSEC-2023-74.json",
            json!({"id": "PYSEC-2023-74", "modified": "2023-06-05T00:00:00Z",
                   "summary": "Requests leaks Proxy-Authorization headers",
                   "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
                   "severity": [{"type": "CVSS_V3", "score": CVSS_MEDIUM}],
                   "affected": eco("PyPI", "requests",
                                   json!([{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]))}),
        ),
        (
            "GHSA-35jh-r3h4-6jhm.json",
            json!({"id": "GHSA-35jh-r3h4-6jhm", "modified": "2023-01-01T00:00:00Z",
                   "summary": "Command Injection in lodash", "aliases": ["CVE-2021-23337"],
                   "database_specific": {"severity": "HIGH"},
                   "affected": eco("npm", "lodash",
                                   json!([{"introduced": "0"}, {"fixed": "4.17.21"}]))}),
        ),
        (
            "GHSA-not-installed.json",
            json!({"id": "GHSA-xxxx-yyyy-zzzz", "modified": "2023-01-01T00:00:00Z",
                   "affected": eco("npm", "left-pad", json!([{"introduced": "0"}]))}),
        ),
    ]
}

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
    dir: PathBuf,
}

fn dockwatch(env: &Env) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dockwatch"));
    command
        .env_remove("DOCKWATCH_DB")
        .env("XDG_CACHE_HOME", env.dir.join("cache"))
        .env("RUST_LOG", "warn");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Builds the root filesystem and imports the advisories (plus a KEV catalog) with the binary.
fn setup() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let root = dir.join("rootfs");
    write(&root.join("etc/os-release"), OS_RELEASE);
    write(&root.join("var/lib/dpkg/status"), DPKG_STATUS);
    write(
        &root.join("usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\nSummary: Python HTTP for Humans.\nLicense: Apache 2.0\n",
    );
    write(&root.join("srv/app/package-lock.json"), PACKAGE_LOCK);
    let advisories = dir.join("advisories");
    for (name, doc) in advisory_set() {
        write(&advisories.join(name), &doc.to_string());
    }
    let kev = dir.join("kev.json");
    write(
        &kev,
        r#"{"catalogVersion":"2025.08.25","dateReleased":"2025-08-25T00:00:00Z","vulnerabilities":[{"cveID":"CVE-2021-23337","dateAdded":"2024-01-01","knownRansomwareCampaignUse":"Unknown"}]}"#,
    );
    let env = Env {
        db: dir.join("db"),
        root,
        dir,
        _tmp: tmp,
    };
    let out = dockwatch(&env)
        .args(["db", "import", "--db"])
        .arg(&env.db)
        .arg(&advisories)
        .arg(&kev)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    env
}

fn scan(env: &Env, source: &str, args: &[&str]) -> Output {
    dockwatch(env)
        .args(["scan", source, "--db"])
        .arg(&env.db)
        .args(args)
        .output()
        .unwrap()
}

fn dir_source(env: &Env) -> String {
    format!("dir:{}", env.root.display())
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)))
}

/// (advisory id, package name, suppressed?) of every finding in a JSON report.
fn findings(report: &Value) -> Vec<(String, String, bool)> {
    let mut all: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["advisory_id"].as_str().unwrap().to_owned(),
                f["package"]["name"].as_str().unwrap().to_owned(),
                f.get("suppressed").is_some(),
            )
        })
        .collect();
    all.sort();
    all
}

fn expected_findings() -> Vec<(String, String, bool)> {
    [
        ("DEBIAN-CVE-2023-45853", "zlib1g"),
        ("DSA-5532-1", "libssl3"),
        ("GHSA-35jh-r3h4-6jhm", "lodash"),
        ("PYSEC-2023-74", "requests"),
    ]
    .iter()
    .map(|(a, p)| ((*a).to_owned(), (*p).to_owned(), false))
    .collect()
}

#[test]
fn scan_finds_os_and_language_vulnerabilities_and_reports_in_every_format() {
    let env = setup();
    let source = dir_source(&env);
    let out = scan(&env, &source, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(findings(&report), expected_findings());
    assert_eq!(report["schemaVersion"], "1.0.0");
    assert_eq!(report["tool"]["name"], "dockwatch");
    assert_eq!(report["database"]["advisories"], 5);
    assert_eq!(report["distro"]["id"], "debian");
    assert_eq!(report["summary"]["packages"], 5);
    assert_eq!(report["summary"]["knownExploited"], 1);
    assert_eq!(report["summary"]["bySeverity"]["CRITICAL"], 1);
    // Most severe first; the KEV entry and the fix travel with the finding.
    assert_eq!(
        report["findings"][0]["advisory_id"],
        "DEBIAN-CVE-2023-45853"
    );
    let lodash = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == "lodash")
        .unwrap();
    assert_eq!(lodash["kev"]["cve"], "CVE-2021-23337");
    assert_eq!(lodash["fixed_versions"], json!(["4.17.21"]));
    assert_eq!(lodash["severity"]["rating"], "high");

    let out = scan(&env, &source, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[1].starts_with("PACKAGE") && lines[1].contains("KEV"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("zlib1g") && lines[2].contains("CRITICAL"),
        "{table}"
    );
    assert!(
        table.contains("lodash")
            && table
                .lines()
                .any(|l| l.contains("lodash") && l.ends_with("KEV")),
        "{table}"
    );
    assert!(table.contains("4 vulnerabilities in 5 packages"), "{table}");

    for format in ["sarif", "gitlab", "cyclonedx-vex"] {
        let out = scan(&env, &source, &["--format", format]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stderr)
        );
        let doc = json_of(&out);
        match format {
            "sarif" => {
                assert_eq!(doc["version"], "2.1.0");
                let results = doc["runs"][0]["results"].as_array().unwrap();
                assert_eq!(results.len(), 4);
                assert_eq!(
                    doc["runs"][0]["tool"]["driver"]["rules"]
                        .as_array()
                        .unwrap()
                        .len(),
                    4
                );
                let uris: Vec<&str> = results
                    .iter()
                    .map(|r| {
                        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                            .as_str()
                            .unwrap()
                    })
                    .collect();
                assert!(uris.contains(&"var/lib/dpkg/status"), "{uris:?}");
                assert!(uris.contains(&"srv/app/package-lock.json"), "{uris:?}");
            }
            "gitlab" => {
                assert_eq!(doc["scan"]["type"], "container_scanning");
                let vulns = doc["vulnerabilities"].as_array().unwrap();
                assert_eq!(vulns.len(), 4);
                assert!(
                    vulns
                        .iter()
                        .any(|v| v["location"]["operating_system"] == "debian 12"
                            && v["location"]["dependency"]["package"]["name"] == "libssl3")
                );
            }
            _ => {
                assert_eq!(doc["specVersion"], "1.6");
                assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 4);
                assert_eq!(doc["components"].as_array().unwrap().len(), 4);
            }
        }
    }

    let out = scan(&env, &source, &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (suites, failures) = junit_counts(&text(&out.stdout));
    assert_eq!(suites, ["deb", "pypi", "npm"], "in package type order");
    assert_eq!(failures, 4);

    let out = scan(&env, &source, &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.contains("| CRITICAL | 1 | 0 | 0 |"), "{md}");
    assert!(md.contains("| **Total** | **4** | **3** | **1** |"), "{md}");

    // --output writes the same report to a file.
    let file = env.dir.join("report.sarif");
    let out = scan(
        &env,
        &source,
        &["--format", "sarif", "--output", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
}

/// The testsuite names and the number of `<failure>` elements, read with a real XML parser.
fn junit_counts(xml: &str) -> (Vec<String>, usize) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suites = Vec::new();
    let mut failures = 0;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("invalid XML: {e}\n{xml}"))
        {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => {
                    let name = e.try_get_attribute("name").unwrap().unwrap();
                    suites.push(String::from_utf8(name.value.to_vec()).unwrap());
                }
                b"failure" => failures += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (suites, failures)
}

#[test]
fn fail_on_gates_with_the_chosen_exit_code_after_exceptions() {
    let env = setup();
    let source = dir_source(&env);
    let out = scan(&env, &source, &["--fail-on", "high", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(
        report["gate"],
        json!({"fail_on": "high", "failing": 3, "failed": true})
    );

    let out = scan(
        &env,
        &source,
        &["--fail-on", "critical", "--exit-code", "7"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));

    // The only critical finding has no fix: --ignore-unfixed drops it, and the gate passes.
    let out = scan(
        &env,
        &source,
        &[
            "--fail-on",
            "critical",
            "--exit-code",
            "7",
            "--ignore-unfixed",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    let mut expected = expected_findings();
    expected[0].2 = true;
    assert_eq!(
        findings(&report),
        expected,
        "suppressed findings stay in the JSON"
    );
    assert_eq!(report["findings"][0]["suppressed"]["kind"], "unfixed");
    assert_eq!(report["settings"]["ignoreUnfixed"], true);
    let out = scan(&env, &source, &["--ignore-unfixed"]);
    let table = text(&out.stdout);
    assert!(!table.contains("zlib1g"), "{table}");
    assert!(table.contains("1 suppressed"), "{table}");

    // Without exceptions, --fail-on low counts every finding.
    let out = scan(&env, &source, &["--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn vex_statements_suppress_and_stay_visible_with_their_justification() {
    let env = setup();
    let source = dir_source(&env);
    let openvex = env.dir.join("openvex.json");
    write(
        &openvex,
        &json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://dockwatch.example/vex/1",
            "author": "Security team",
            "timestamp": "2026-01-01T00:00:00Z",
            "version": 1,
            "statements": [
                {"vulnerability": {"name": "CVE-2023-45853"},
                 "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:deb/debian/zlib1g"}]}],
                 "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
                 "impact_statement": "minizip is not built"},
                {"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "pkg:npm/lodash"}],
                 "status": "not_affected", "justification": "component_not_present"}
            ]
        })
        .to_string(),
    );
    let cdx_vex = env.dir.join("cdx-vex.json");
    write(
        &cdx_vex,
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                "vulnerabilities": [{"id": "GHSA-35jh-r3h4-6jhm",
                    "analysis": {"state": "resolved", "detail": "patched in our fork"},
                    "affects": [{"ref": "pkg:npm/lodash@4.17.20"}]}]})
        .to_string(),
    );
    let out = scan(
        &env,
        &source,
        &[
            "--vex",
            openvex.to_str().unwrap(),
            "--vex",
            cdx_vex.to_str().unwrap(),
            "--fail-on",
            "high",
            "--format",
            "json",
        ],
    );
    let report = json_of(&out);
    // openssl (high) is still there: the gate fails on it alone.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(report["gate"]["failing"], 1);
    let by_id = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["advisory_id"] == id)
            .unwrap()
            .clone()
    };
    let zlib = by_id("DEBIAN-CVE-2023-45853");
    assert_eq!(zlib["suppressed"]["kind"], "vex");
    assert_eq!(zlib["suppressed"]["status"], "not_affected");
    assert_eq!(
        zlib["suppressed"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(zlib["suppressed"]["statement"], "minizip is not built");
    assert!(
        zlib["suppressed"]["source"]
            .as_str()
            .unwrap()
            .ends_with("openvex.json#statements[0]")
    );
    assert_eq!(
        by_id("GHSA-35jh-r3h4-6jhm")["suppressed"]["status"],
        "fixed"
    );
    assert!(by_id("DSA-5532-1").get("suppressed").is_none());
    let unused = report["unusedVex"].as_array().unwrap();
    assert_eq!(unused.len(), 1);
    assert!(
        unused[0]
            .as_str()
            .unwrap()
            .ends_with("openvex.json#statements[1]")
    );

    // The CycloneDX VEX output carries the analysis.
    let out = scan(
        &env,
        &source,
        &[
            "--vex",
            openvex.to_str().unwrap(),
            "--format",
            "cyclonedx-vex",
        ],
    );
    let doc = json_of(&out);
    let zlib = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "DEBIAN-CVE-2023-45853")
        .unwrap();
    assert_eq!(zlib["analysis"]["state"], "not_affected");
    assert_eq!(zlib["analysis"]["justification"], "code_not_reachable");
}

#[test]
fn an_existing_cyclonedx_sbom_is_scanned_like_the_filesystem() {
    let env = setup();
    let sbom = env.dir.join("sbom.cdx.json");
    let out = dockwatch(&env)
        .args([
            "sbom",
            &dir_source(&env),
            "--format",
            "cyclonedx-json",
            "--output",
        ])
        .arg(&sbom)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = scan(
        &env,
        &format!("sbom:{}", sbom.display()),
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(findings(&report), expected_findings());
    assert_eq!(report["distro"]["version_id"], "12");
}

#[test]
fn a_missing_database_or_bad_input_exits_2_with_a_clear_message() {
    let env = setup();
    let source = dir_source(&env);
    let missing = env.dir.join("no-db");
    let out = dockwatch(&env)
        .args(["scan", &source, "--db"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("dockwatch db import") && stderr.contains("no-db"),
        "{stderr}"
    );

    let out = scan(&env, &source, &["--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cyclonedx-vex"),
        "{}",
        text(&out.stderr)
    );

    let bad_vex = env.dir.join("bad-vex.json");
    write(
        &bad_vex,
        r#"{"statements":[{"vulnerability":"CVE-1","products":["pkg:npm/a"],"status":"perhaps"}]}"#,
    );
    let out = scan(&env, &source, &["--vex", bad_vex.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad-vex.json") && stderr.contains("perhaps"),
        "{stderr}"
    );

    let out = scan(&env, "sbom:/nonexistent/sbom.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/sbom.json"));

    let out = scan(&env, &source, &["--fail-on", "severe"]);
    assert_eq!(out.status.code(), Some(2));

    let out = scan(&env, &source, &["--platform", "linux"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--platform"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_oci_image_and_an_spdx_sbom_give_the_same_findings() {
    use super::image::layout;
    let env = setup();
    // The same root filesystem as one gzip layer of an OCI layout.
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all(".", &env.root).unwrap();
    let tar = builder.into_inner().unwrap();
    let oci = env.dir.join("oci");
    let diff_id = layout::sha256(&tar);
    layout::single_layer(&oci, &layout::gzip(&tar), &diff_id, None);
    let out = scan(
        &env,
        &format!("oci-dir:{}", oci.display()),
        &["--format", "json", "--platform", "linux/amd64"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(findings(&report), expected_findings());
    assert_eq!(report["source"]["kind"], "oci-dir");
    assert_eq!(report["settings"]["platform"], "linux/amd64");
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(
            finding["package"]["locations"][0]["layer"],
            diff_id.as_str()
        );
    }

    let spdx = env.dir.join("sbom.spdx.json");
    let out = dockwatch(&env)
        .args([
            "sbom",
            &dir_source(&env),
            "--format",
            "spdx-json",
            "--output",
        ])
        .arg(&spdx)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = scan(
        &env,
        &format!("sbom:{}", spdx.display()),
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(findings(&json_of(&out)), expected_findings());
}

#[test]
fn trivys_own_cyclonedx_sbom_is_matched_across_ecosystems() {
    let env = setup();
    let advisories = env.dir.join("peer-advisories");
    let eco = |ecosystem: &str, name: &str, fixed: &str| {
        json!([{"package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}])
    };
    for (id, affected) in [
        ("ALPINE-TEST-MUSL", eco("Alpine:v3.16", "musl", "1.2.3-r2")),
        (
            "GO-TEST-PURL",
            eco("Go", "github.com/package-url/packageurl-go", "0.1.1"),
        ),
        ("GHSA-test-pear-log", eco("Packagist", "pear/log", "1.13.2")),
    ] {
        write(
            &advisories.join(format!("{id}.json")),
            &json!({"id": id, "modified": "2024-01-01T00:00:00Z", "affected": affected})
                .to_string(),
        );
    }
    let out = dockwatch(&env)
        .args(["db", "import", "--db"])
        .arg(&env.db)
        .arg(&advisories)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bom = dockwatch_testdata::fixture("trivy/sbom/pkg/sbom/cyclonedx/testdata/happy/bom.json");
    let out = scan(
        &env,
        &format!("sbom:{}", bom.display()),
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    let ids: Vec<(String, String, bool)> = findings(&report);
    assert_eq!(
        ids,
        [
            ("ALPINE-TEST-MUSL", "musl"),
            ("GHSA-test-pear-log", "pear/log"),
            ("GO-TEST-PURL", "github.com/package-url/packageurl-go"),
        ]
        .iter()
        .map(|(a, p)| ((*a).to_owned(), (*p).to_owned(), false))
        .collect::<Vec<_>>()
    );
}
