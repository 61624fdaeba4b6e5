//! Test-only access to the shared peer fixtures (`../shared/fixtures` beside the repository).
//!
//! Fixtures whose text names package registries are kept packed in
//! `packed-registry-urls.tar.zst`; [`fixture`] unpacks that archive once into
//! `target/fixtures-unpacked` and prefers it, so tests see one tree. Never commit unpacked files.
//! `DOCKWATCH_FIXTURES` overrides the location of the shared fixtures folder.
#![forbid(unsafe_code)]

pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root (this crate lives in `crates/dockwatch-testdata`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// The shared fixtures folder.
pub fn shared_fixtures() -> PathBuf {
    if let Some(dir) = std::env::var_os("DOCKWATCH_FIXTURES") {
        return PathBuf::from(dir);
    }
    repo_root().join("../shared/fixtures")
}

/// The path of fixture `relative` (as in SOURCES.md, e.g. `trivy/os-pkgdb/...`), from the
/// unpacked archive when it is there, else from the shared folder.
pub fn fixture(relative: &str) -> PathBuf {
    let unpacked = unpacked_dir().join(relative);
    if unpacked.exists() {
        return unpacked;
    }
    shared_fixtures().join(relative)
}

/// The folder holding the unpacked `packed-registry-urls.tar.zst`, unpacking it on first use.
pub fn unpacked_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dest = repo_root().join("target/fixtures-unpacked");
        if dest.join(".complete").exists() {
            return dest;
        }
        let archive = shared_fixtures().join("packed-registry-urls.tar.zst");
        // Unpack beside, then rename: concurrent test processes never see half a tree.
        let staging = repo_root().join(format!(
            "target/fixtures-unpacked.{}.tmp",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).expect("create staging folder");
        let file = std::fs::File::open(&archive)
            .unwrap_or_else(|e| panic!("open {}: {e}", archive.display()));
        let decoder = zstd::Decoder::new(file).expect("zstd stream");
        tar::Archive::new(decoder)
            .unpack(&staging)
            .unwrap_or_else(|e| panic!("unpack {}: {e}", archive.display()));
        std::fs::write(staging.join(".complete"), b"").expect("mark complete");
        if std::fs::rename(&staging, &dest).is_err() {
            // Another process won the race; its tree is complete.
            let _ = std::fs::remove_dir_all(&staging);
        }
        dest
    })
    .clone()
}

/// Compares `actual` with the golden file at `path`; with `UPDATE_GOLDEN` set, rewrites the file
/// instead. A mismatch panics naming the file and the first differing line.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden files live in a folder"))
            .expect("create golden folder");
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             run with UPDATE_GOLDEN=1 if the change is intended",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_fixtures_are_found_after_unpacking() {
        let p = fixture(
            "osv-scalibr/lang/extractor/filesystem/language/javascript/packagelockjson/testdata/one-package.v2.json",
        );
        assert!(p.starts_with(unpacked_dir()), "{}", p.display());
        assert!(p.is_file());
    }

    #[test]
    fn plain_fixtures_come_from_the_shared_folder() {
        let p = fixture("SOURCES.md");
        assert!(p.is_file(), "{}", p.display());
    }
}
