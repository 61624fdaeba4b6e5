//! Rust crates: `Cargo.lock` files and binaries built with cargo-auditable (the dependency list
//! they embed, zlib-compressed JSON in a `.dep-v0` section).

pub(crate) mod auditable;

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger, Extractor};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;

/// Finds Rust crates.
#[derive(Debug, Default)]
pub struct Rust;

/// The name recorded in each package's `found_by`.
const NAME: &str = "rust";

impl Cataloger for Rust {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        file_name(path) == "Cargo.lock"
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
            if file_name(&entry.path) == "Cargo.lock" {
                cargo_lock(entry, &mut out);
                continue;
            }
            if super::executable::is_executable(entry) {
                match auditable::read(&entry.contents) {
                    Ok(Some(crates)) => {
                        for c in &crates {
                            out.packages.push(
                                krate(&c.name, &c.version, entry)
                                    .meta("source", Some(&c.source))
                                    .meta("kind", c.kind.as_deref())
                                    .build(),
                            );
                        }
                    }
                    Ok(None) => {}
                    Err(e) => out.warnings.push(warning(
                        &entry.path,
                        format!("unreadable cargo-auditable dependency list: {e}"),
                    )),
                }
            }
        }
        langpkg::finish(out)
    }
}

/// A crate package.
fn krate<'a>(name: &'a str, version: &'a str, entry: &FileEntry) -> Found<'a> {
    let purl = langpkg::purl("cargo", None, name, version);
    Found::new(PackageType::Cargo, NAME, name, version, purl, entry)
}

/// Every `[[package]]` of a `Cargo.lock` (v1 to v4), workspace members included.
fn cargo_lock(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings) else {
        return;
    };
    let doc: toml::Table = match toml::from_str(&text) {
        Ok(doc) => doc,
        Err(e) => {
            out.warnings.push(warning(
                &entry.path,
                format!("malformed Cargo.lock: {}", langpkg::toml_reason(&text, &e)),
            ));
            return;
        }
    };
    let Some(packages) = doc.get("package").and_then(|p| p.as_array()) else {
        out.warnings.push(warning(
            &entry.path,
            "Cargo.lock without [[package]] entries",
        ));
        return;
    };
    for p in packages {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(|v| v.as_str()),
            p.get("version").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        let source = p.get("source").and_then(|v| v.as_str());
        out.packages
            .push(krate(name, version, entry).meta("source", source).build());
    }
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Compares what the Rust cataloger finds in `fixtures` with `expected`.
    fn check(fixtures: &[(&str, &str)], expected: &[String], documented: &[&str]) -> CatalogOutput {
        testkit::compare(&Rust, fixtures, expected, documented)
    }

    #[test]
    fn trivy_cargo_lock() {
        check(
            &[(
                "trivy/integration/integration/testdata/fixtures/repo/cargo",
                "app",
            )],
            &testkit::trivy_golden("cargo.lock.json.golden"),
            &[
                "+winapi@0.3.9",
                "+winapi-i686-pc-windows-gnu@0.4.0",
                "+winapi-x86_64-pc-windows-gnu@0.4.0",
            ],
        );
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Rust,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/rust/cargo",
                    ".lock",
                    "Cargo.lock",
                ),
                (
                    "trivy/lang/pkg/fanal/analyzer/language/rust/cargo",
                    "Cargo.lock",
                    "",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/cargo",
                    ".lock",
                    "Cargo.lock",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/rust/cargolock",
                    ".lock",
                    "Cargo.lock",
                ),
                (
                    "syft/lang/syft/pkg/cataloger/rust/testdata",
                    "Cargo.lock",
                    "",
                ),
            ],
            &[],
        );
        assert!(n > 10, "{n}");
    }

    #[test]
    fn auditable_binaries_list_their_crates() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},{"name":"serde","version":"1.0.200","source":"crates.io","kind":"runtime"}]}"#;
        let elf = testkit::elf64(
            0x40_0000,
            b"code",
            &[(".dep-v0", &auditable::tests::zlib(json))],
        );
        let mut set = FileSet::new();
        set.insert(testkit::entry("usr/bin/app", 0o755, elf));
        let out = Rust.catalog(&set, &CatalogContext::default());
        let found: Vec<String> = out.packages.iter().map(|p| p.purl.clone()).collect();
        assert_eq!(found, ["pkg:cargo/app@0.1.0", "pkg:cargo/serde@1.0.200"]);
    }

    #[test]
    fn a_rust_binary_built_here_with_an_embedded_dependency_list() {
        // The section cargo-auditable adds, put there the same way by rustc itself: a real
        // executable, linked by the real toolchain.
        let dir = tempfile::tempdir().unwrap();
        let json = br#"{"packages":[{"name":"demo","version":"0.1.0","source":"local","root":true,"dependencies":[1]},{"name":"itoa","version":"1.0.11","source":"crates.io"},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}]}"#;
        std::fs::write(dir.path().join("dep.z"), auditable::tests::zlib(json)).unwrap();
        let source = "#[used]\n#[unsafe(link_section = \".dep-v0\")]\nstatic DEP: [u8; include_bytes!(\"dep.z\").len()] = *include_bytes!(\"dep.z\");\nfn main() { println!(\"{}\", DEP.len()); }\n";
        std::fs::write(dir.path().join("main.rs"), source).unwrap();
        let status = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .current_dir(dir.path())
            .args(["--edition", "2024", "-O", "main.rs", "-o", "demo"])
            .status()
            .expect("rustc runs");
        assert!(status.success());
        let bytes = std::fs::read(dir.path().join("demo")).unwrap();
        let mut set = FileSet::new();
        let head = &bytes[..super::super::HEAD_LEN];
        assert!(Rust.wants_content("usr/local/bin/demo", 0o755, head));
        // As the layer reader keeps it: reduced while streaming, a few hundred bytes.
        let summary = super::super::executable::summarize(&bytes, 64 << 10);
        assert!(summary.len() < 1024, "{} bytes", summary.len());
        set.insert(testkit::entry("usr/local/bin/demo", 0o755, bytes));
        set.insert(testkit::entry("srv/demo", 0o755, summary));
        let out = Rust.catalog(&set, &CatalogContext::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let (whole, streamed): (Vec<_>, Vec<_>) = out
            .packages
            .iter()
            .partition(|p| p.locations[0].path == "/usr/local/bin/demo");
        let purls =
            |v: &[&dockwatch_core::Package]| v.iter().map(|p| p.purl.clone()).collect::<Vec<_>>();
        assert_eq!(purls(&whole), purls(&streamed));
        let found: Vec<String> = whole
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p.purl,
                    p.metadata.get("kind").map_or("", |k| k.as_str())
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "pkg:cargo/cc@1.0.83 build",
                "pkg:cargo/demo@0.1.0 ",
                "pkg:cargo/itoa@1.0.11 "
            ]
        );
    }

    #[test]
    fn malformed_lockfiles_and_dependency_lists_warn() {
        let bomb = auditable::tests::zlib(&vec![b' '; 64 << 20]);
        let elf = testkit::elf64(0x40_0000, b"code", &[(".dep-v0", &bomb)]);
        let mut set = FileSet::new();
        set.insert(testkit::entry("usr/bin/bomb", 0o755, elf));
        set.insert(testkit::entry(
            "app/Cargo.lock",
            0o644,
            b"[[package]\nname=".to_vec(),
        ));
        let out = Rust.catalog(&set, &CatalogContext::default());
        assert!(out.packages.is_empty());
        let paths: Vec<&str> = out.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/app/Cargo.lock", "/usr/bin/bomb"],
            "{:?}",
            out.warnings
        );
    }
}
