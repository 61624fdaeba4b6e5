//! Benchmark of the advisory database (not a test): import time and size, open time, and the
//! time to match a synthetic 5,000-package SBOM. Method and figures: docs/benchmarks.md.
//!
//! `cargo run --release -p dockwatch-image --example advisory_bench -- DB_DIR [PATH...]`
//! imports PATH... into a fresh DB_DIR first when given.

use dockwatch_core::{Distro, Package, PackageType};
use dockwatch_image::advisory::{AdvisoryDb, read_paths};
use dockwatch_image::matcher::match_packages;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let dir = args
        .next()
        .ok_or("usage: advisory_bench DB_DIR [PATH...]")?;
    let inputs: Vec<PathBuf> = args.collect();
    if !inputs.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        let batch = read_paths(&inputs)?;
        let read = started.elapsed();
        let records = batch.advisories.len();
        let mut db = AdvisoryDb::open_or_create(&dir)?;
        let summary = db.import(batch, "2026-01-01T00:00:00Z")?;
        let total = started.elapsed();
        let size = std::fs::metadata(db.path())?.len();
        println!(
            "import: {records} records ({} added, {} withdrawn, {} skipped) in {:.2}s (read+validate {:.2}s), database {:.1} MiB",
            summary.added,
            summary.withdrawn,
            summary.skipped,
            total.as_secs_f64(),
            read.as_secs_f64(),
            size as f64 / 1024.0 / 1024.0
        );
        let started = Instant::now();
        let summary = db.import(read_paths(&inputs)?, "2026-01-02T00:00:00Z")?;
        println!(
            "re-import of the same inputs: {} unchanged, {} added, {} updated in {:.2}s",
            summary.unchanged,
            summary.added,
            summary.updated,
            started.elapsed().as_secs_f64()
        );
    }

    let started = Instant::now();
    let db = AdvisoryDb::open(&dir)?;
    println!(
        "open: {} advisories in {:.1} ms",
        db.advisory_count(),
        ms(started.elapsed())
    );

    let debian = Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        ..Default::default()
    };
    // Typical: one package in ten named by an advisory. Worst case: three in five.
    for (label, named_share) in [("typical", 0.1), ("worst case", 0.6)] {
        let packages = synthetic_sbom(&db, 5000, named_share);
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut report = None;
        for _ in 0..21 {
            let (started, cpu_started) = (Instant::now(), thread_cpu());
            let r = match_packages(&db, Some(&debian), &packages)?;
            times.push(started.elapsed());
            cpu.push(thread_cpu().saturating_sub(cpu_started));
            report = Some(r);
        }
        times.sort();
        cpu.sort();
        let report = report.expect("ran");
        println!(
            "match ({label}): {} packages, {} named by advisories -> {} findings, {} warnings; wall min {:.2} ms, median {:.2} ms; CPU min {:.2} ms, median {:.2} ms (21 runs)",
            packages.len(),
            (packages.len() as f64 * named_share) as usize,
            report.findings.len(),
            report.warnings.len(),
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(cpu[0]),
            ms(cpu[cpu.len() / 2])
        );
    }
    Ok(())
}

/// CPU time of this thread so far (Linux `schedstat`), so a loaded machine does not inflate
/// the figure; zero elsewhere.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `total` packages, sorted as an SBOM lists them: a share named by some advisory (so each is
/// compared), half at an old version (affected by most) and half at a far-future one (affected by
/// none); the rest are Debian packages that no advisory names (the common case in real images).
fn synthetic_sbom(db: &AdvisoryDb, total: usize, named_share: f64) -> Vec<Package> {
    let mut keys: Vec<(String, String)> = db
        .package_keys()
        .filter_map(|(eco, name)| kind_of(eco).map(|_| (eco.to_owned(), name.to_owned())))
        .collect();
    keys.sort();
    let named = (total as f64 * named_share) as usize;
    let mut packages = Vec::with_capacity(total);
    for i in 0..named {
        let (eco, name) = &keys[i % keys.len()];
        let kind = kind_of(eco).expect("filtered");
        let version = if i % 2 == 0 { "0.0.1" } else { "999.0.0" };
        packages.push(package(kind, name, version));
    }
    for i in packages.len()..total {
        let mut p = package(PackageType::Deb, &format!("libsynthetic{i}"), "1.2.3-4");
        p.source_name = Some(format!("synthetic{}", i / 3));
        packages.push(p);
    }
    packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    packages
}

fn kind_of(ecosystem: &str) -> Option<PackageType> {
    Some(match ecosystem {
        "PyPI" => PackageType::Pypi,
        "Go" => PackageType::Golang,
        "crates.io" => PackageType::Cargo,
        "npm" => PackageType::Npm,
        "Maven" => PackageType::Maven,
        _ => return None,
    })
}

fn package(kind: PackageType, name: &str, version: &str) -> Package {
    let purl_name = match kind {
        PackageType::Maven => name.replace(':', "/"),
        _ => name.to_owned(),
    };
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: vec![],
        purl: format!("pkg:{kind}/{purl_name}@{version}"),
        cpes: vec![],
        locations: vec![],
        found_by: "bench".into(),
        metadata: Default::default(),
    }
}
