//! The final filesystem of an image as the catalogers see it: only the files they asked for,
//! after every layer's additions and whiteouts were applied in order.

use std::collections::BTreeMap;
use std::sync::Arc;

/// One regular file kept from an image or a folder.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Path relative to the root, without a leading `/` (`var/lib/dpkg/status`).
    pub path: String,
    /// The diff id of the layer that wrote the final version of this file (`None` for `dir:`).
    pub layer: Option<String>,
    /// Unix mode bits.
    pub mode: u32,
    /// The file's contents.
    pub contents: Arc<[u8]>,
}

/// The kept files of a final filesystem, plus every symlink so paths can be resolved.
#[derive(Debug, Default, Clone)]
pub struct FileSet {
    files: BTreeMap<String, FileEntry>,
    symlinks: BTreeMap<String, String>,
    /// Earlier versions of files that later layers replaced, bottom first (see [`Self::versions`]).
    replaced: BTreeMap<String, Vec<FileEntry>>,
}

/// How many symlinks a lookup follows before it gives up (loops, hostile chains).
const MAX_SYMLINK_HOPS: usize = 40;

impl FileSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, entry: FileEntry) {
        self.symlinks.remove(&entry.path);
        let path = entry.path.clone();
        if let Some(previous) = self.files.insert(path.clone(), entry) {
            self.replaced.entry(path).or_default().push(previous);
        }
    }

    /// Every version of the file at `path` the layers wrote, bottom first, ending with the one
    /// [`Self::get`] returns; the versions before a whiteout are forgotten. A cataloger tells
    /// which layer introduced a package from the first version that lists it (a dpkg `status`
    /// is rewritten by every layer that installs something).
    pub fn versions(&self, path: &str) -> impl Iterator<Item = &FileEntry> {
        let resolved = self.resolve(path);
        let current = resolved.as_ref().and_then(|p| self.files.get(p));
        let earlier = resolved
            .as_ref()
            .filter(|_| current.is_some())
            .and_then(|p| self.replaced.get(p))
            .map(Vec::as_slice)
            .unwrap_or_default();
        earlier.iter().chain(current)
    }

    /// Records a symlink at `path` pointing to `target` (as written in the archive).
    pub fn insert_symlink(&mut self, path: String, target: String) {
        self.files.remove(&path);
        self.replaced.remove(&path);
        self.symlinks.insert(path, target);
    }

    /// Removes `path` and, if it is a folder, everything below it (a whiteout).
    pub fn remove_tree(&mut self, path: &str) {
        self.files.remove(path);
        self.symlinks.remove(path);
        self.replaced.remove(path);
        self.clear_dir(path);
    }

    /// Removes everything below folder `dir` but not `dir` itself (an opaque whiteout).
    pub fn clear_dir(&mut self, dir: &str) {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        // Range removal, not a full scan: a layer may carry a million whiteouts.
        remove_prefixed(&mut self.files, &prefix);
        remove_prefixed(&mut self.symlinks, &prefix);
        remove_prefixed(&mut self.replaced, &prefix);
    }

    /// The file at `path`, following symlinks in any component, never leaving the root.
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        let resolved = self.resolve(path)?;
        self.files.get(&resolved)
    }

    /// Resolves symlinks in every component of `path`; `None` on a loop or too many hops.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = split(path).into_iter().rev().collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." | "" => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(component);
            let current = done.join("/");
            if let Some(target) = self.symlinks.get(&current) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return None;
                }
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                for part in split(target).into_iter().rev() {
                    pending.push(part);
                }
            }
        }
        Some(done.join("/"))
    }

    /// Every kept file, in path order.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.files.values()
    }

    /// The number of kept files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was kept.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Removes every key starting with `prefix`: they are contiguous in a `BTreeMap`.
fn remove_prefixed<V>(map: &mut BTreeMap<String, V>, prefix: &str) {
    let doomed: Vec<String> = map
        .range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for key in doomed {
        map.remove(&key);
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            layer: None,
            mode: 0o644,
            contents: Arc::from(&b"x"[..]),
        }
    }

    #[test]
    fn follows_absolute_and_relative_symlinks() {
        let mut fs = FileSet::new();
        fs.insert(file("usr/lib/os-release"));
        fs.insert_symlink("etc/os-release".into(), "../usr/lib/os-release".into());
        fs.insert_symlink("lib".into(), "/usr/lib".into());
        assert!(fs.get("etc/os-release").is_some());
        assert!(fs.get("lib/os-release").is_some());
        assert_eq!(fs.resolve("lib/os-release").unwrap(), "usr/lib/os-release");
    }

    #[test]
    fn symlink_loops_and_escapes_stay_inside() {
        let mut fs = FileSet::new();
        fs.insert_symlink("a".into(), "b".into());
        fs.insert_symlink("b".into(), "a".into());
        assert!(fs.get("a").is_none());
        fs.insert(file("etc/passwd"));
        fs.insert_symlink("up".into(), "../../../../etc/passwd".into());
        assert_eq!(fs.resolve("up").unwrap(), "etc/passwd");
    }

    #[test]
    fn whiteouts_remove_trees_and_opaque_dirs_keep_the_dir() {
        let mut fs = FileSet::new();
        fs.insert(file("a/b/c"));
        fs.insert(file("a/d"));
        fs.insert(file("ab"));
        fs.remove_tree("a/b");
        assert!(fs.get("a/b/c").is_none());
        assert!(fs.get("a/d").is_some());
        fs.clear_dir("a");
        assert!(fs.get("a/d").is_none());
        assert!(fs.get("ab").is_some());
    }

    #[test]
    fn versions_list_what_each_layer_wrote_until_a_whiteout() {
        let mut fs = FileSet::new();
        let at = |layer: &str, body: &[u8]| FileEntry {
            path: "var/lib/dpkg/status".into(),
            layer: Some(layer.into()),
            mode: 0o644,
            contents: Arc::from(body),
        };
        fs.insert(at("l1", b"a"));
        fs.insert(at("l2", b"a b"));
        let layers: Vec<_> = fs
            .versions("var/lib/dpkg/status")
            .map(|f| f.layer.clone().unwrap())
            .collect();
        assert_eq!(layers, ["l1", "l2"]);
        fs.remove_tree("var/lib/dpkg");
        assert_eq!(fs.versions("var/lib/dpkg/status").count(), 0);
        fs.insert(at("l3", b"c"));
        assert_eq!(fs.versions("var/lib/dpkg/status").count(), 1);
    }
}
