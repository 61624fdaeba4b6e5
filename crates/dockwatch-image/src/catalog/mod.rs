//! Catalogers: one module per ecosystem, each turning the files it asked for into packages.
//!
//! To add an ecosystem: write `catalog/<eco>.rs` with a type implementing [`Cataloger`], add it to
//! [`all`], and add fixtures and a test. Parsing is pure: a cataloger never does IO, it reads the
//! [`FileSet`] it is given.

pub mod apk;
pub mod dotnet;
pub mod dpkg;
pub(crate) mod executable;
pub mod golang;
mod history;
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

    /// How a file kept by content for this cataloger is held: `None` (the default) keeps it
    /// whole; an [`Extractor`] reduces it while the layer streams by, so the pipeline never
    /// holds whole executables. Catalogers sharing one extractor get one pass over the file,
    /// and [`Cataloger::catalog`] then sees the extractor's output as the file's contents.
    fn extractor(&self) -> Option<&'static Extractor> {
        None
    }

    /// Finds the packages in the final filesystem.
    fn catalog(&self, files: &FileSet, ctx: &CatalogContext) -> CatalogOutput;
}

/// Reduces one file to what a cataloger needs, fed the file's bytes in order in pieces of any
/// size, keeping bounded memory whatever the file's size.
pub trait Extract {
    /// The next bytes of the file.
    fn update(&mut self, chunk: &[u8]);
    /// What is kept of the file, given to the cataloger as its contents.
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// A kind of reduction; catalogers naming the same one share its single pass over a file.
pub struct Extractor {
    /// Names the reduction in logs.
    pub name: &'static str,
    /// Starts reducing one file.
    pub start: fn() -> Box<dyn Extract>,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("name", &self.name)
            .finish()
    }
}

/// How the layer reader holds a file some cataloger wants by its content.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// Whole, as read.
    Whole,
    /// Reduced while it streams by.
    Extract(&'static Extractor),
}

impl Keep {
    /// Reads the rest of a file whose first bytes were `head`: whole (bounded by `limit`) or
    /// through the extractor in fixed-size pieces.
    pub fn read(
        self,
        head: Vec<u8>,
        mut rest: impl std::io::Read,
        size_hint: u64,
        limit: u64,
    ) -> std::io::Result<Vec<u8>> {
        match self {
            Keep::Whole => {
                let mut contents = head;
                contents.reserve(usize::try_from(size_hint.min(8 << 20)).unwrap_or(0));
                std::io::Read::read_to_end(&mut rest.take(limit), &mut contents)?;
                Ok(contents)
            }
            Keep::Extract(extractor) => {
                let mut reducer = (extractor.start)();
                reducer.update(&head);
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match rest.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => reducer.update(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(reducer.finish())
            }
        }
    }
}

/// How to hold a regular file that no cataloger wants by name, judged from its first bytes:
/// `None` when none wants it, [`Keep::Extract`] when every cataloger wanting it shares one
/// extractor, else [`Keep::Whole`].
pub fn keep_by_content(
    catalogers: &[Box<dyn Cataloger>],
    path: &str,
    mode: u32,
    head: &[u8],
) -> Option<Keep> {
    let mut keep = None;
    for cataloger in catalogers
        .iter()
        .filter(|c| c.wants_content(path, mode, head))
    {
        match (keep, cataloger.extractor()) {
            (None, Some(e)) => keep = Some(Keep::Extract(e)),
            (Some(Keep::Extract(a)), Some(b)) if std::ptr::eq(a, b) => {}
            _ => return Some(Keep::Whole),
        }
    }
    keep
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
