//! Go modules: binaries through their embedded build info (main module, dependencies with
//! `=>` replacements, and the Go version as a `stdlib` package, as Syft reports it), and
//! `go.mod` / `go.sum` files.

pub(crate) mod buildinfo;
mod gomod;

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger, Extractor};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;

/// Finds Go modules.
#[derive(Debug, Default)]
pub struct Golang;

/// The name recorded in each package's `found_by`.
const NAME: &str = "golang";

impl Cataloger for Golang {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        matches!(file_name(path), "go.mod" | "go.sum")
    }

    fn wants_content(&self, path: &str, mode: u32, head: &[u8]) -> bool {
        langpkg::is_executable(path, mode, head)
    }

    fn extractor(&self) -> Option<&'static Extractor> {
        Some(&super::executable::EXTRACTOR)
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            match file_name(&entry.path) {
                "go.mod" => gomod::parse_mod(entry, &mut out),
                "go.sum" => {
                    let go_mod = format!("{}/go.mod", langpkg::parent(&entry.path));
                    // go.mod is the better source; go.sum alone still names the modules.
                    if files.get(go_mod.trim_start_matches('/')).is_none() {
                        gomod::parse_sum(entry, &mut out);
                    }
                }
                _ if super::executable::is_executable(entry) => binary(entry, &mut out),
                _ => {}
            }
        }
        langpkg::finish(out)
    }
}

/// The modules of one Go binary; not a Go binary is no warning, a broken build info is.
fn binary(entry: &FileEntry, out: &mut CatalogOutput) {
    match super::executable::go_build_info(&entry.contents) {
        Some(Ok(info)) => modules(&info, entry, out),
        None => {}
        Some(Err(e)) => out.warnings.push(warning(
            &entry.path,
            format!("unreadable Go build info: {e}"),
        )),
    }
}

/// Packages from build info: the main module, each dependency (replaced where `=>` says so),
/// and the toolchain as `stdlib`.
fn modules(info: &buildinfo::BuildInfo, entry: &FileEntry, out: &mut CatalogOutput) {
    let go_version = info.go_version.split_whitespace().next().unwrap_or("");
    let lines: Vec<Vec<&str>> = info
        .modinfo
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    for (i, fields) in lines.iter().enumerate() {
        let (kind, path, version) = match fields.as_slice() {
            [kind @ ("mod" | "dep"), path, version, ..] => (*kind, *path, *version),
            _ => continue,
        };
        // A replacement by a local folder keeps the module's name: the folder is no module
        // anyone publishes, and its version is `(devel)`.
        let (path, version, replaced, local) = match lines.get(i + 1).map(Vec::as_slice) {
            Some(["=>", new_path, new_version, ..]) if new_path.starts_with(['.', '/']) => {
                (path, "(devel)", None, Some(*new_path))
            }
            Some(["=>", new_path, new_version, ..]) if !new_version.is_empty() => {
                (*new_path, *new_version, Some(path), None)
            }
            _ => (path, version, None, None),
        };
        let mut found = module(path, version, entry)
            .meta("replaces", replaced)
            .meta("replaced_by_folder", local)
            .meta("go_toolchain", Some(go_version));
        if kind == "mod" {
            found = found.meta("main_module", Some("true"));
        }
        out.packages.push(found.build());
    }
    if let Some(semver) = go_version.strip_prefix("go") {
        let purl = langpkg::purl("golang", None, "stdlib", semver);
        let stdlib = Found::new(PackageType::Golang, NAME, "stdlib", go_version, purl, entry);
        out.packages.push(stdlib.build());
    }
}

/// A Go module package; the purl's namespace is the module path up to its last `/`.
fn module<'a>(path: &'a str, version: &'a str, entry: &FileEntry) -> Found<'a> {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, path),
    };
    let purl = langpkg::purl("golang", namespace, name, version);
    Found::new(PackageType::Golang, NAME, path, version, purl, entry)
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Catalogs `files` (`path`, mode, contents) and returns `name@version` of each package.
    fn check(files: &[(&str, u32, Vec<u8>)], expected: &[&str]) -> CatalogOutput {
        let mut set = FileSet::new();
        for (path, mode, bytes) in files {
            let head = &bytes[..bytes.len().min(super::super::HEAD_LEN)];
            assert!(Golang.wants(path) || Golang.wants_content(path, *mode, head));
            set.insert(testkit::entry(path, *mode, bytes.clone()));
        }
        let out = Golang.catalog(&set, &CatalogContext::default());
        let found: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(found, expected, "warnings: {:?}", out.warnings);
        out
    }

    #[test]
    fn binary_modules_replacements_and_stdlib() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgithub.com/a/b\tv1.2.3\th1:x=\ndep\tgolang.org/x/net\tv0.1.0\th1:y=\n=>\tgithub.com/fork/net\tv0.1.1\th1:z=\ndep\tgithub.com/local/c\tv1.0.0\n=>\t../c\t(devel)\t\nbuild\t-compiler=gc\n";
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(16, 0); // the header is 16-byte aligned
        elf.extend(buildinfo::tests::inline_blob(
            "go1.22.1 X:boringcrypto",
            modinfo,
        ));
        let out = check(
            &[("usr/bin/app", 0o755, elf)],
            &[
                "example.com/app@(devel)",
                "github.com/a/b@v1.2.3",
                "github.com/fork/net@v0.1.1",
                "github.com/local/c@(devel)",
                "stdlib@go1.22.1",
            ],
        );
        let purls: Vec<&str> = out.packages.iter().map(|p| p.purl.as_str()).collect();
        assert!(
            purls.contains(&"pkg:golang/github.com/a/b@v1.2.3"),
            "{purls:?}"
        );
        assert!(purls.contains(&"pkg:golang/stdlib@1.22.1"), "{purls:?}");
        let fork = &out.packages[2];
        assert_eq!(fork.metadata["replaces"], "golang.org/x/net");
    }

    #[test]
    fn not_executable_or_not_go_is_ignored_and_broken_build_info_warns() {
        assert!(!Golang.wants_content("a", 0o644, b"\x7fELF...."));
        assert!(!Golang.wants_content("usr/lib/libc.so.6", 0o755, b"\x7fELF...."));
        assert!(!Golang.wants_content("usr/lib/libx.so", 0o755, b"\x7fELF...."));
        assert!(Golang.wants_content("usr/bin/app", 0o755, b"\x7fELF...."));
        assert!(Golang.wants_content("app/tool.exe", 0o644, b"MZ\x90\x00"));
        let mut broken = b"\x7fELF".to_vec();
        broken.resize(16, 0);
        broken.extend_from_slice(b"\xff Go buildinf:\x08\x02");
        broken.resize(48, 0);
        broken.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        let out = check(
            &[
                ("usr/bin/broken", 0o755, broken),
                ("usr/bin/c-program", 0o755, b"\x7fELF plain C".to_vec()),
            ],
            &[],
        );
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].path, "/usr/bin/broken");
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Golang,
            &[
                ("trivy/lang/pkg/dependency/parser/golang/mod", "go.mod", ""),
                (
                    "trivy/lang/pkg/dependency/parser/golang/mod",
                    "/gomod",
                    "go.mod",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/golang/sum",
                    ".sum",
                    "go.sum",
                ),
                (
                    "trivy/lang/pkg/fanal/analyzer/language/golang/mod",
                    "go.mod",
                    "",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/go",
                    ".mod",
                    "go.mod",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/golang/gomod",
                    ".mod",
                    "go.mod",
                ),
                ("syft/lang/syft/pkg/cataloger/golang/testdata", "go.mod", ""),
                ("syft/lang/syft/pkg/cataloger/golang/testdata", "go.sum", ""),
            ],
            &[
                // Modules without requirements, or whose only one is replaced by a folder.
                "replaced-with-local-path/xerrors/go.mod",
                "glob-paths/src/go.mod",
                "relative-replace/go.mod",
            ],
        );
        assert!(n > 20, "{n}");
    }

    #[test]
    fn real_go_binary_on_this_machine() {
        // skopeo is installed by .ci/run; Debian builds it without module information, so only
        // the toolchain is known.
        let bytes =
            std::fs::read("/usr/bin/skopeo").expect("/usr/bin/skopeo (.ci/run installs it)");
        let mut set = FileSet::new();
        set.insert(testkit::entry("usr/bin/skopeo", 0o755, bytes));
        let out = Golang.catalog(&set, &CatalogContext::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let stdlib: Vec<_> = out.packages.iter().filter(|p| p.name == "stdlib").collect();
        assert_eq!(stdlib.len(), 1, "{:?}", out.packages);
        assert!(
            stdlib[0].version.starts_with("go1."),
            "{}",
            stdlib[0].version
        );
    }
}
