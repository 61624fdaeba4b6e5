//! Catalogers: one module per ecosystem, each turning the files it asked for into packages.
//!
//! To add an ecosystem: write `catalog/<eco>.rs` with a type implementing [`Cataloger`], add it to
//! [`all`], and add fixtures and a test. Parsing is pure: a cataloger never does IO, it reads the
//! [`FileSet`] it is given.

pub mod apk;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod java;
pub(crate) mod langpkg;
pub mod license;
pub mod npm;
pub mod os_release;
pub mod php;
pub mod purl;
pub mod python;
#[cfg(test)]
mod reference_tests;
pub mod rpm;
pub mod ruby;
pub mod rust;
mod warning_cap;

use crate::fs::FileSet;
use dockwatch_core::{Distro, Package};

/// What a cataloger needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct CatalogContext {
    /// The operating system, from os-release, used for purl `distro` qualifiers and CPEs.
    pub distro: Option<Distro>,
}

/// Something a cataloger could not read, reported beside the packages it could.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// The file concerned (absolute path in the image).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// The packages one cataloger found, and what it had to skip.
#[derive(Debug, Clone, Default)]
pub struct CatalogOutput {
    /// The packages found.
    pub packages: Vec<Package>,
    /// Files or records that could not be read.
    pub warnings: Vec<Warning>,
}

/// One ecosystem's package finder.
pub trait Cataloger: Send + Sync {
    /// A stable name, recorded in each package's `found_by` (`dpkg`, `apk`, `rpm`...).
    fn name(&self) -> &'static str;

    /// Whether the file at `path` (relative to the root, no leading `/`) must be kept for
    /// [`Cataloger::catalog`]. Called for every regular file of every layer: keep it cheap.
    fn wants(&self, path: &str) -> bool;

    /// Whether a regular file that [`Cataloger::wants`] declined must still be kept, judged from
    /// its first bytes (`head`, up to [`HEAD_LEN`]) and mode: executables with embedded build
    /// information (Go, cargo-auditable) are found by content, not by name. Default: no.
    fn wants_content(&self, _path: &str, _mode: u32, _head: &[u8]) -> bool {
        false
    }

    /// Finds the packages in the final filesystem.
    fn catalog(&self, files: &FileSet, ctx: &CatalogContext) -> CatalogOutput;
}

/// How many leading bytes of a file [`Cataloger::wants_content`] is shown.
pub const HEAD_LEN: usize = 64;

/// Every cataloger, in the order their packages are reported.
pub fn all() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(dpkg::DpkgCataloger),
        Box::new(apk::ApkCataloger),
        Box::new(rpm::RpmCataloger),
        Box::new(python::Python),
        Box::new(npm::Npm),
        Box::new(golang::Golang),
        Box::new(rust::Rust),
        Box::new(java::Java),
        Box::new(ruby::Ruby),
        Box::new(php::Php),
        Box::new(dotnet::Dotnet),
    ]
}

/// Whether any cataloger in `catalogers` wants `path`.
pub fn any_wants(catalogers: &[Box<dyn Cataloger>], path: &str) -> bool {
    catalogers.iter().any(|c| c.wants(path))
}

/// Whether any cataloger in `catalogers` wants the file judged by its first bytes.
pub fn any_wants_content(
    catalogers: &[Box<dyn Cataloger>],
    path: &str,
    mode: u32,
    head: &[u8],
) -> bool {
    catalogers.iter().any(|c| c.wants_content(path, mode, head))
}
