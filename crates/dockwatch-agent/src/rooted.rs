//! Paths under `--root` resolved as the host would resolve them: a symbolic link's absolute
//! target is taken under the root (on a host mounted at `/host`, `var/run -> /run` means
//! `/host/run`), and `..` never climbs above the root.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Links followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// `rel` under `root`, with every symbolic link on the way resolved inside `root`. Parts that
/// don't exist are kept as written (so the result can be created).
pub fn resolve(root: &Path, rel: &str) -> PathBuf {
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: Vec<OsString> = parts(Path::new(rel));
    todo.reverse();
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        done.push(part);
        let here = join(root, &done);
        let Ok(meta) = std::fs::symlink_metadata(&here) else {
            continue;
        };
        if !meta.file_type().is_symlink() || links >= MAX_LINKS {
            continue;
        }
        let Ok(target) = std::fs::read_link(&here) else {
            continue;
        };
        links += 1;
        done.pop();
        if target.is_absolute() {
            done.clear();
        }
        let mut more = parts(&target);
        more.reverse();
        todo.extend(more);
    }
    join(root, &done)
}

fn parts(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

fn join(root: &Path, parts: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(parts);
    p
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::create_dir_all(root.join("var")).unwrap();
        std::fs::create_dir_all(root.join("data/alice")).unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        symlink("/run", root.join("var/run")).unwrap();
        symlink("../data/alice", root.join("home/alice")).unwrap();
        symlink("/../../../etc", root.join("escape")).unwrap();
        symlink("loop", root.join("loop")).unwrap();

        assert_eq!(
            resolve(root, "var/run/docker.sock"),
            root.join("run/docker.sock")
        );
        assert_eq!(
            resolve(root, "home/alice/.gitconfig"),
            root.join("data/alice/.gitconfig")
        );
        assert_eq!(resolve(root, "escape/passwd"), root.join("etc/passwd"));
        assert_eq!(resolve(root, "../../x"), root.join("x"));
        assert_eq!(resolve(root, "no/such/file"), root.join("no/such/file"));
        let _ = resolve(root, "loop/x");
    }
}
