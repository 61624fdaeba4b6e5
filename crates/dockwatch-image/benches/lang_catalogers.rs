//! Benchmark of the language catalogers on real installations of this machine: the global npm
//! tree, Python's site-packages, Debian's jars and the executables of /usr/bin and
//! /usr/local/bin, loaded once as a layer reader would keep them, then cataloged `ROUNDS` times
//! (default 5). Run with `cargo bench -p dockwatch-image --bench lang_catalogers`.

use std::hint::black_box;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use dockwatch_image::catalog::{CatalogContext, Cataloger, HEAD_LEN, all};
use dockwatch_image::fs::{FileEntry, FileSet};

/// Folders read, and where they sit in the pretend image.
const ROOTS: &[&str] = &[
    "/usr/lib/node_modules",
    "/usr/lib/python3/dist-packages",
    "/root/.pyenv/versions",
    "/usr/share/java",
    "/usr/bin",
    "/usr/local/bin",
];

/// Adds every file under `root` that some cataloger keeps; returns the files walked.
fn load(catalogers: &[Box<dyn Cataloger>], root: &Path, set: &mut FileSet) -> usize {
    let mut walked = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        walked += 1;
        let path = p.to_string_lossy().trim_start_matches('/').to_owned();
        let mode = meta.permissions().mode();
        let wanted = catalogers.iter().any(|c| c.wants(&path)) || {
            let mut head = Vec::with_capacity(HEAD_LEN);
            let ok = std::fs::File::open(&p)
                .and_then(|f| f.take(HEAD_LEN as u64).read_to_end(&mut head))
                .is_ok();
            ok && catalogers
                .iter()
                .any(|c| c.wants_content(&path, mode, &head))
        };
        if wanted && let Ok(bytes) = std::fs::read(&p) {
            set.insert(FileEntry {
                path,
                layer: None,
                mode,
                contents: Arc::from(bytes),
            });
        }
    }
    walked
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let catalogers: Vec<Box<dyn Cataloger>> = all();
    let mut set = FileSet::new();
    let started = Instant::now();
    let mut walked = 0;
    for root in ROOTS {
        walked += load(&catalogers, Path::new(root), &mut set);
    }
    let bytes: usize = set.files().map(|f| f.contents.len()).sum();
    println!(
        "walked {walked} files, kept {} ({} MiB) in {:.0} ms",
        set.len(),
        bytes >> 20,
        started.elapsed().as_secs_f64() * 1e3
    );
    let ctx = CatalogContext::default();
    for c in &catalogers {
        let started = Instant::now();
        let mut packages = 0;
        let mut warnings = 0;
        for _ in 0..rounds {
            let out = black_box(c.catalog(black_box(&set), &ctx));
            packages = out.packages.len();
            warnings = out.warnings.len();
        }
        let ms = started.elapsed().as_secs_f64() * 1e3 / rounds as f64;
        println!(
            "{:<8} {packages:>6} packages {warnings:>4} warnings {ms:>9.2} ms per run",
            c.name()
        );
    }
}
