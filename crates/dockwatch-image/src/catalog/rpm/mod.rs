//! RPM packages (Red Hat, Fedora, CentOS, Rocky, Alma, Oracle, Amazon, SUSE, Mariner/Azure
//! Linux) from the rpm database in any of its three formats: SQLite (`rpmdb.sqlite`), NDB
//! (`Packages.db`) and BerkeleyDB hash (`Packages`).
//!
//! The format is told by the file's first bytes, not its name. Each database format module
//! returns the raw header blobs; [`header`] reads the fields. All four are read by hand, in
//! memory and read-only, each saying why in its module doc; all bound every length they read.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use super::purl::{namespace, os_cpes, os_purl};
use super::{CatalogContext, CatalogOutput, Cataloger, Warning};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::{Location, Package, PackageType};
use header::RpmInfo;
use std::collections::{BTreeMap, BTreeSet};

/// A database file that is not what its format requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// How many bytes of header blobs one database may yield: a sound database holds each blob once,
/// so more than twice its size means pages or chains are reused (a crafted loop).
#[derive(Debug)]
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub(crate) fn for_file(len: usize) -> Self {
        Self {
            left: len.saturating_mul(2).saturating_add(1 << 20),
        }
    }

    /// Spends `n` bytes, or fails once the database has yielded more than it can hold.
    pub(crate) fn take(&mut self, n: usize) -> Result<(), Malformed> {
        self.left = self.left.checked_sub(n).ok_or_else(|| {
            Malformed("blobs add up to more than twice the file: pages are reused (loop?)".into())
        })?;
        Ok(())
    }
}

/// The folders rpm keeps its database in, most current first.
const DB_DIRS: &[&str] = &["usr/lib/sysimage/rpm", "var/lib/rpm", "usr/share/rpm"];
/// The database file names, in the order a folder is tried.
const DB_FILES: &[&str] = &["rpmdb.sqlite", "Packages.db", "Packages"];
/// SQLite's write-ahead log beside `rpmdb.sqlite`.
const WAL_SUFFIX: &str = "-wal";

/// Finds rpm packages.
#[derive(Debug, Default, Clone, Copy)]
pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, path: &str) -> bool {
        path.rsplit_once('/').is_some_and(|(dir, file)| {
            DB_DIRS.contains(&dir) && (DB_FILES.contains(&file) || file == "rpmdb.sqlite-wal")
        })
    }

    fn catalog(&self, files: &FileSet, ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        // `var/lib/rpm` is often a symlink to `usr/lib/sysimage/rpm`: read each real file once.
        let mut done = BTreeSet::new();
        for dir in DB_DIRS {
            for file in DB_FILES {
                let path = format!("{dir}/{file}");
                let Some(real) = files.resolve(&path) else {
                    continue;
                };
                let Some(entry) = files.get(&real) else {
                    continue;
                };
                if !done.insert(real.clone()) {
                    continue;
                }
                let location = Location {
                    path: format!("/{real}"),
                    layer: entry.layer.clone(),
                };
                let wal = files
                    .get(&format!("{real}{WAL_SUFFIX}"))
                    .filter(|w| !w.contents.is_empty() && sqlite::is_sqlite(&entry.contents));
                let merged =
                    wal.and_then(|w| match sqlite::with_wal(&entry.contents, &w.contents) {
                        Ok(image) => Some(image),
                        Err(e) => {
                            out.warnings.push(Warning {
                                path: format!("/{real}{WAL_SUFFIX}"),
                                message: format!("write-ahead log not applied: {e}"),
                            });
                            None
                        }
                    });
                let bytes = merged.as_deref().unwrap_or(&entry.contents);
                let first = out.packages.len();
                let found = catalog_db(bytes, &location, ctx, &mut out);
                super::history::attribute_layers(
                    files,
                    &real,
                    &mut out.packages[first..],
                    |version| earlier_packages(files, &real, version, ctx),
                );
                // rpm reads one database per folder; the others are leftovers of a conversion.
                if found {
                    break;
                }
            }
        }
        out
    }
}

/// The packages of an earlier version of the database at `real`, with the write-ahead log
/// the same layer wrote beside it, if any.
fn earlier_packages(
    files: &FileSet,
    real: &str,
    version: &FileEntry,
    ctx: &CatalogContext,
) -> Vec<Package> {
    let wal = files
        .versions(&format!("{real}{WAL_SUFFIX}"))
        .find(|w| w.layer == version.layer && !w.contents.is_empty());
    let merged = wal
        .filter(|_| sqlite::is_sqlite(&version.contents))
        .and_then(|w| sqlite::with_wal(&version.contents, &w.contents).ok());
    let location = Location {
        path: format!("/{real}"),
        layer: version.layer.clone(),
    };
    let mut earlier = CatalogOutput::default();
    catalog_db(
        merged.as_deref().unwrap_or(&version.contents),
        &location,
        ctx,
        &mut earlier,
    );
    earlier.packages
}

/// Reads one database file; returns whether it was a database of a known format.
fn catalog_db(
    bytes: &[u8],
    location: &Location,
    ctx: &CatalogContext,
    out: &mut CatalogOutput,
) -> bool {
    let first_warning = out.warnings.len();
    let warn = |out: &mut CatalogOutput, message: String| {
        out.warnings.push(Warning {
            path: location.path.clone(),
            message,
        });
    };
    let (format, result) = if sqlite::is_sqlite(bytes) {
        ("sqlite", sqlite::read_blobs(bytes))
    } else if ndb::is_ndb(bytes) {
        ("ndb", ndb::read_blobs(bytes))
    } else if bdb::is_bdb_hash(bytes) {
        ("bdb", bdb::read_blobs(bytes))
    } else {
        warn(
            out,
            "not an rpm database (neither SQLite, NDB nor BerkeleyDB hash)".into(),
        );
        return false;
    };
    let (blobs, problems) = match result {
        Ok(r) => r,
        Err(e) => {
            warn(out, format!("unreadable {format} rpm database: {e}"));
            return true;
        }
    };
    for p in problems {
        warn(out, format!("{format} rpm database: {p}"));
    }
    for (i, blob) in blobs.iter().enumerate() {
        match RpmInfo::from_blob(blob) {
            // Public keys imported with `rpm --import` are listed as packages; they are not software.
            Ok(info) if info.name == "gpg-pubkey" => {}
            Ok(info) => out.packages.push(package(&info, location, ctx)),
            Err(e) => warn(out, format!("{format} rpm database: header {i}: {e}")),
        }
    }
    super::warning_cap::cap_since(out, first_warning, &location.path);
    true
}

/// `bash-5.1.8-6.el9.src.rpm` gives (`bash`, `5.1.8-6.el9`).
pub fn split_source_rpm(source_rpm: &str) -> Option<(String, String)> {
    let stem = source_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))
        .unwrap_or(source_rpm);
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

fn package(info: &RpmInfo, location: &Location, ctx: &CatalogContext) -> Package {
    let distro = ctx.distro.as_ref();
    let epoch = info.epoch.map(|e| e.to_string()).unwrap_or_default();
    let purl = os_purl(
        PackageType::Rpm,
        namespace(distro, ""),
        &info.name,
        &info.version_release(),
        &[
            ("arch", info.arch.as_deref().unwrap_or("")),
            ("epoch", &epoch),
            ("upstream", info.source_rpm.as_deref().unwrap_or("")),
        ],
        distro,
    );
    let source = info.source_rpm.as_deref().and_then(split_source_rpm);
    let vr = info.version_release();
    let (source_name, source_version) = match source {
        Some((n, v)) => {
            let differs = v != vr;
            (Some(n), differs.then_some(v))
        }
        None => (None, None),
    };
    let mut metadata = BTreeMap::new();
    for (key, value) in [
        ("vendor", info.vendor.clone()),
        ("packager", info.packager.clone()),
        ("size", info.size.map(|s| s.to_string())),
        ("modularity_label", info.modularity_label.clone()),
        ("source_rpm", info.source_rpm.clone()),
        (
            "file_count",
            (info.file_count > 0).then(|| info.file_count.to_string()),
        ),
    ] {
        if let Some(v) = value {
            metadata.insert(key.to_owned(), v);
        }
    }
    let version = info.evr();
    Package {
        cpes: os_cpes(&info.name, &version),
        name: info.name.clone(),
        version,
        kind: PackageType::Rpm,
        arch: info.arch.clone(),
        source_name,
        source_version,
        licenses: info.license.clone().into_iter().collect(),
        purl,
        locations: vec![location.clone()],
        found_by: "rpm".to_owned(),
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FileEntry;
    use std::sync::Arc;

    fn set(files: &[(&str, Vec<u8>)]) -> FileSet {
        let mut fs = FileSet::new();
        for (path, contents) in files {
            fs.insert(FileEntry {
                path: (*path).into(),
                layer: Some("sha256:rpm".into()),
                mode: 0o644,
                contents: Arc::from(contents.as_slice()),
            });
        }
        fs
    }

    fn mariner() -> Vec<u8> {
        std::fs::read(dockwatch_testdata::fixture(
            "go-rpmdb/os-pkgdb/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite",
        ))
        .unwrap()
    }

    #[test]
    fn wants_the_three_formats_in_the_three_folders() {
        let c = RpmCataloger;
        for p in [
            "var/lib/rpm/Packages",
            "var/lib/rpm/Packages.db",
            "var/lib/rpm/rpmdb.sqlite",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "usr/share/rpm/Packages",
            "var/lib/rpm/rpmdb.sqlite-wal",
        ] {
            assert!(c.wants(p), "{p}");
        }
        for p in ["var/lib/rpm/Name", "rpmdb.sqlite", "x/var/lib/rpm/Packages"] {
            assert!(!c.wants(p), "{p}");
        }
    }

    #[test]
    fn sqlite_database_gives_packages_with_purls() {
        let fs = set(&[("usr/lib/sysimage/rpm/rpmdb.sqlite", mariner())]);
        let mut fs = fs;
        fs.insert_symlink("var/lib/rpm".into(), "../../usr/lib/sysimage/rpm".into());
        let ctx = CatalogContext {
            distro: super::super::os_release::distro_from_os_release(
                "ID=mariner\nVERSION_ID=\"2.0\"\n",
            ),
        };
        let out = RpmCataloger.catalog(&fs, &ctx);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 129);
        let ca = out
            .packages
            .iter()
            .find(|p| p.name == "ca-certificates-base")
            .unwrap();
        assert_eq!(ca.version, "1:2.0.0-1.cm2");
        assert_eq!(
            ca.purl,
            "pkg:rpm/mariner/ca-certificates-base@2.0.0-1.cm2?arch=noarch&epoch=1&upstream=ca-certificates-2.0.0-1.cm2.src.rpm&distro=mariner-2.0"
        );
        assert_eq!(ca.source_name.as_deref(), Some("ca-certificates"));
        assert_eq!(ca.source_version, None);
        assert_eq!(ca.licenses, ["MPLv2.0"]);
        assert_eq!(ca.metadata["vendor"], "Microsoft Corporation");
        assert_eq!(ca.locations[0].path, "/usr/lib/sysimage/rpm/rpmdb.sqlite");
    }

    #[test]
    fn unknown_and_broken_files_give_warnings_naming_them() {
        let mut bad = mariner();
        bad.truncate(bad.len() / 3);
        let fs = set(&[
            ("var/lib/rpm/Packages", b"junk\n".to_vec()),
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", bad),
        ]);
        let out = RpmCataloger.catalog(&fs, &CatalogContext::default());
        let paths: Vec<_> = out.warnings.iter().map(|w| w.path.as_str()).collect();
        assert!(paths.contains(&"/var/lib/rpm/Packages"), "{paths:?}");
        assert!(
            paths.contains(&"/usr/lib/sysimage/rpm/rpmdb.sqlite"),
            "{paths:?}"
        );
    }

    /// Packages built by the real rpmbuild and recorded by the real rpm (sqlite backend, as
    /// rpm 4.18 writes it): fields, epoch and purl as rpm -qa reports them.
    #[test]
    fn database_written_by_rpm() {
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("top");
        let db = dir.path().join("db");
        let spec = |name: &str, epoch: &str, license: &str| {
            format!(
                "Name: {name}\n{epoch}Version: 1.0\nRelease: 3.dw1\nSummary: t\n\
                 License: {license}\nVendor: Dockwatch Tests\nBuildArch: noarch\n\
                 %description\nt\n%files\n"
            )
        };
        let specs = [
            (
                "dw-epoch",
                spec(
                    "dw-epoch",
                    "Epoch: 2\n",
                    "MIT AND (Apache-2.0 OR BSD-3-Clause)",
                ),
            ),
            ("dw-plain", spec("dw-plain", "", "GPL-2.0-or-later")),
        ];
        for (name, text) in &specs {
            let path = dir.path().join(format!("{name}.spec"));
            std::fs::write(&path, text).unwrap();
            let ok = Command::new("rpmbuild")
                .arg("--define")
                .arg(format!("_topdir {}", top.display()))
                .arg("-bb")
                .arg(&path)
                .output()
                .expect("rpmbuild is installed (package rpm, see .ci/run)")
                .status
                .success();
            assert!(ok, "rpmbuild {name}");
        }
        std::fs::create_dir_all(&db).unwrap();
        let rpms: Vec<_> = std::fs::read_dir(top.join("RPMS/noarch"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let status = Command::new("rpm")
            .args(["-i", "--justdb", "--nodeps", "--dbpath"])
            .arg(&db)
            .args(&rpms)
            .output()
            .unwrap()
            .status;
        assert!(status.success());
        let fs = set(&[(
            "var/lib/rpm/rpmdb.sqlite",
            std::fs::read(db.join("rpmdb.sqlite")).unwrap(),
        )]);
        let ctx = CatalogContext {
            distro: super::super::os_release::distro_from_os_release(
                "ID=\"rhel\"\nVERSION_ID=\"9.4\"\n",
            ),
        };
        let out = RpmCataloger.catalog(&fs, &ctx);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let mut pkgs = out.packages;
        pkgs.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].version, "2:1.0-3.dw1");
        assert_eq!(
            pkgs[0].purl,
            "pkg:rpm/redhat/dw-epoch@1.0-3.dw1?arch=noarch&epoch=2&upstream=dw-epoch-1.0-3.dw1.src.rpm&distro=rhel-9.4"
        );
        assert_eq!(pkgs[0].licenses, ["MIT AND (Apache-2.0 OR BSD-3-Clause)"]);
        assert_eq!(pkgs[0].metadata["vendor"], "Dockwatch Tests");
        assert_eq!(pkgs[1].version, "1.0-3.dw1");
        assert_eq!(
            pkgs[1].purl,
            "pkg:rpm/redhat/dw-plain@1.0-3.dw1?arch=noarch&upstream=dw-plain-1.0-3.dw1.src.rpm&distro=rhel-9.4"
        );
        assert_eq!(pkgs[1].source_name.as_deref(), Some("dw-plain"));
    }

    #[test]
    fn a_bad_write_ahead_log_is_named_and_skipped() {
        let fs = set(&[
            ("var/lib/rpm/rpmdb.sqlite", mariner()),
            ("var/lib/rpm/rpmdb.sqlite-wal", b"torn".to_vec()),
        ]);
        let out = RpmCataloger.catalog(&fs, &CatalogContext::default());
        assert_eq!(out.packages.len(), 129);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].path, "/var/lib/rpm/rpmdb.sqlite-wal");
    }

    /// The peers' broken rpmdb fixtures: empty files and text where a database should be.
    #[test]
    fn peer_broken_databases_warn() {
        for fixture in [
            "osv-scalibr/os-pkgdb/extractor/filesystem/os/rpm/testdata/empty.sqlite",
            "osv-scalibr/os-pkgdb/extractor/filesystem/os/rpm/testdata/invalid",
            "syft/os-pkgdb/syft/pkg/cataloger/redhat/testdata/glob-paths/var/lib/rpm/Packages",
            "syft/os-pkgdb/syft/pkg/cataloger/redhat/testdata/bad/bad.rpm",
        ] {
            let bytes = std::fs::read(dockwatch_testdata::fixture(fixture)).unwrap();
            let out = RpmCataloger.catalog(
                &set(&[("var/lib/rpm/rpmdb.sqlite", bytes)]),
                &CatalogContext::default(),
            );
            assert!(out.packages.is_empty(), "{fixture}");
            assert_eq!(out.warnings.len(), 1, "{fixture}: {:?}", out.warnings);
            assert_eq!(out.warnings[0].path, "/var/lib/rpm/rpmdb.sqlite");
        }
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("bash-5.1.8-6.el9.src.rpm"),
            Some(("bash".into(), "5.1.8-6.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3.11-libs-3.11.2-1.fc38.src.rpm"),
            Some(("python3.11-libs".into(), "3.11.2-1.fc38".into()))
        );
        assert_eq!(split_source_rpm("garbage"), None);
        assert_eq!(split_source_rpm("-1-2.src.rpm"), None);
    }
}
