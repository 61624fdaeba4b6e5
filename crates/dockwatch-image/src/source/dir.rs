//! `dir:PATH`: a root filesystem folder, walked without following symlinks, so nothing outside
//! the root is ever read.

use crate::catalog::{HEAD_LEN, Keep, Warning};
use crate::error::{Error, Result};
use crate::fs::{FileEntry, FileSet};
use crate::layer::Selector;
use crate::limits::{Limits, human_bytes};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

/// Top-level folders of a live system that hold no packages and must not be read.
const VIRTUAL_DIRS: &[&str] = &["proc", "sys", "dev"];

/// Reads the files `selector` wants, and every symlink, from the folder `root`.
pub fn read_dir(
    root: &Path,
    selector: Selector<'_>,
    limits: &Limits,
) -> Result<(FileSet, Vec<Warning>)> {
    let meta = std::fs::metadata(root).map_err(|source| Error::Io {
        path: root.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(Error::InvalidSource {
            input: root.display().to_string(),
            reason: "`dir:` needs a folder".into(),
        });
    }
    let is_live_root = root.canonicalize().is_ok_and(|p| p == Path::new("/"));
    let mut files = FileSet::new();
    let mut warnings = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(is_live_root
                && e.depth() == 1
                && VIRTUAL_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warnings.push(Warning {
                    path: e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let path = relative.to_string_lossy().into_owned();
        if path.is_empty() {
            continue;
        }
        let kind = entry.file_type();
        if kind.is_symlink() {
            if let Ok(target) = std::fs::read_link(entry.path()) {
                files.insert_symlink(path, target.to_string_lossy().into_owned());
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        match read_wanted(entry.path(), &path, selector, limits) {
            Ok(Some(file)) => files.insert(file),
            Ok(None) => {}
            Err(message) => warnings.push(Warning {
                path: format!("/{path}"),
                message,
            }),
        }
    }
    Ok((files, warnings))
}

fn read_wanted(
    full: &Path,
    path: &str,
    selector: Selector<'_>,
    limits: &Limits,
) -> Result<Option<FileEntry>, String> {
    let mut file = std::fs::File::open(full).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    let mode = meta.permissions().mode();
    let mut head = Vec::new();
    let keep = if selector.wants(path) {
        Keep::Whole
    } else {
        (&mut file)
            .take(HEAD_LEN as u64)
            .read_to_end(&mut head)
            .map_err(|e| format!("cannot read: {e}"))?;
        match selector.keep_by_content(path, mode, &head) {
            Some(keep) if !head.is_empty() => keep,
            _ => return Ok(None),
        }
    };
    if matches!(keep, Keep::Whole) && meta.len() > limits.max_file_bytes {
        return Err(format!(
            "file of {} bytes exceeds the limit of {}; not analyzed",
            meta.len(),
            human_bytes(limits.max_file_bytes)
        ));
    }
    let contents = keep
        .read(head, file, meta.len(), limits.max_file_bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(Some(FileEntry {
        path: path.to_owned(),
        layer: None,
        mode,
        contents: Arc::from(contents),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogContext, CatalogOutput, Cataloger};

    struct Status;

    impl Cataloger for Status {
        fn name(&self) -> &'static str {
            "status"
        }
        fn wants(&self, path: &str) -> bool {
            path.ends_with("dpkg/status")
        }
        fn catalog(&self, _: &FileSet, _: &CatalogContext) -> CatalogOutput {
            CatalogOutput::default()
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("var/lib")).unwrap();
        // Outside the root: a file that must never be read.
        std::fs::create_dir_all(tmp.path().join("outside/dpkg")).unwrap();
        std::fs::write(tmp.path().join("outside/dpkg/status"), "Package: host\n").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside/dpkg"), root.join("var/lib/dpkg"))
            .unwrap();
        std::os::unix::fs::symlink("/etc/os-release", root.join("etc/os-release")).unwrap();
        std::fs::write(root.join("plain-status-elsewhere"), "x").unwrap();
        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(Status)];
        let (files, warnings) =
            read_dir(&root, Selector::new(&catalogers), &Limits::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(files.len(), 0);
        // The absolute symlink resolves inside the root (to itself: a loop), not to the host's.
        assert!(files.get("etc/os-release").is_none());
        assert!(files.get("var/lib/dpkg/status").is_none());
    }

    #[test]
    fn a_file_is_not_a_root() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let err = read_dir(tmp.path(), Selector::new(&[]), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("needs a folder"), "{err}");
    }
}
