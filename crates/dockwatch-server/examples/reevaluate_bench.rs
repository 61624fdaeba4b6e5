//! Benchmark of continuous re-evaluation (not a test): index 10,000 SBOMs, import 1,000 new
//! advisories, re-evaluate; and index one 5,000-package SBOM with the database open.
//!
//! ```sh
//! cargo run --release -p dockwatch-server --example reevaluate_bench [-- postgres://...]
//! ```
//!
//! The stored images: 10,000 SBOMs of 60 packages, each on one of 5 Debian 12 base images
//! (40 OS packages drawn from 400 source packages) plus 20 npm packages drawn from 20,000
//! names. The import: 1,000 advisories, 10 for Debian source packages of the pool and 990 for
//! npm names drawn from 50,000 (so about 40% name a package some image has); each affects
//! every version below 2.0 (the installed ones are 1.x), so every hit is a finding.

use dockwatch_core::{Distro, Package, PackageType};
use dockwatch_image::advisory::{ImportBatch, osv};
use dockwatch_image::sbom::{Sbom, SourceInfo};
use dockwatch_server::vuln::{Advisories, index, reevaluate};
use dockwatch_store::{Store, StoreConfig};
use std::time::Instant;

const IMAGES: usize = 10_000;
const BASES: usize = 5;
const OS_PER_IMAGE: usize = 40;
const OS_POOL: usize = 400;
const NPM_PER_IMAGE: usize = 20;
const NPM_POOL: usize = 20_000;
const ADVISORIES: usize = 1_000;
const OS_ADVISORIES: usize = 10;
const NPM_ADVISORY_POOL: usize = 50_000;

/// A small deterministic generator (xorshift), so every run stores the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

fn package(kind: PackageType, name: &str, version: &str, purl: String) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: vec![],
        purl,
        cpes: vec![],
        locations: vec![],
        found_by: "bench".into(),
        metadata: Default::default(),
    }
}

fn deb(i: usize) -> Package {
    let name = format!("src{i}");
    package(
        PackageType::Deb,
        &name,
        "1.0-1",
        format!("pkg:deb/debian/{name}@1.0-1?distro=debian-12"),
    )
}

fn npm(i: usize) -> Package {
    let name = format!("npm-pkg-{i}");
    package(
        PackageType::Npm,
        &name,
        "1.2.3",
        format!("pkg:npm/{name}@1.2.3"),
    )
}

fn debian12() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        ..Default::default()
    }
}

fn advisory(id: &str, ecosystem: &str, name: &str) -> osv::Advisory {
    osv::parse_value(serde_json::json!({
        "id": id, "modified": "2025-01-01T00:00:00Z", "aliases": [format!("CVE-2099-{id}")],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
        "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]
    }))
    .expect("valid advisory")
}

fn main() {
    let database_url = std::env::args().nth(1);
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Store::open(&StoreConfig {
            database_url: database_url.clone(),
            data_dir: tmp.path().join("data"),
            max_connections: 8,
        })
        .await
        .unwrap();
        store
            .bootstrap("bench-token", "bench@example.com", "default")
            .await
            .unwrap();
        let org = store.org("default").await.unwrap();
        let advisories = Advisories::open(&tmp.path().join("advisories")).unwrap();
        println!(
            "backend: {}",
            if database_url.is_some() { "PostgreSQL" } else { "SQLite" }
        );

        // Stored images.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let bases: Vec<Vec<Package>> = (0..BASES)
            .map(|_| {
                let mut picks: Vec<usize> = (0..OS_PER_IMAGE).map(|_| rng.next(OS_POOL)).collect();
                picks.sort_unstable();
                picks.dedup();
                picks.into_iter().map(deb).collect()
            })
            .collect();
        let started = Instant::now();
        let mut rows = 0;
        for i in 0..IMAGES {
            let mut packages = bases[i % BASES].clone();
            packages.extend((0..NPM_PER_IMAGE).map(|_| npm(rng.next(NPM_POOL))));
            let sbom = Sbom {
                source: SourceInfo {
                    kind: "registry".into(),
                    name: format!("registry.example/app-{i}:1.0"),
                    ..Default::default()
                },
                distro: Some(debian12()),
                packages,
                warnings: vec![],
            };
            let digest = format!("sha256:{:064x}", i + 1);
            let (new, _) = advisories
                .read(|db| {
                    index::prepare(Some(db), &sbom, "bench".into(), Some(digest), None, 0)
                })
                .unwrap();
            rows += new.packages.len();
            store
                .index_image(&dockwatch_store::write::system_actor(), &org, new)
                .await
                .unwrap();
        }
        let indexing = started.elapsed();
        println!(
            "indexed {IMAGES} SBOMs ({rows} package rows) in {:.1} s ({:.2} ms per SBOM)",
            indexing.as_secs_f64(),
            indexing.as_secs_f64() * 1000.0 / IMAGES as f64
        );

        // The import.
        let mut batch = ImportBatch::default();
        for i in 0..OS_ADVISORIES {
            let name = format!("src{}", rng.next(OS_POOL));
            batch
                .advisories
                .push((advisory(&format!("DEB-{i}"), "Debian:12", &name), "bench".into()));
        }
        for i in OS_ADVISORIES..ADVISORIES {
            let name = format!("npm-pkg-{}", rng.next(NPM_ADVISORY_POOL));
            batch
                .advisories
                .push((advisory(&format!("GHSA-{i}"), "npm", &name), "bench".into()));
        }
        let started = Instant::now();
        let summary = advisories.import(batch).unwrap();
        println!(
            "import of {} advisories ({} keys changed): {:.0} ms",
            summary.added,
            summary.changed_packages.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );

        // The re-evaluation, phase by phase (the same calls `reevaluate` makes), then whole.
        let keys: Vec<(String, String)> = summary.changed_packages.iter().cloned().collect();
        let t = Instant::now();
        let hits = store.packages_named(&keys).await.unwrap();
        let lookup = t.elapsed();
        let hit_count = hits.len();
        let t = Instant::now();
        let images = reevaluate::group(hits);
        let ids: Vec<String> = images.keys().cloned().collect();
        let stored = store.findings_of_images(&ids).await.unwrap();
        let read_findings = t.elapsed();
        let t = Instant::now();
        let (changes, stats) = advisories
            .read(|db| reevaluate::diff(db, images, 0))
            .unwrap();
        let matching = t.elapsed();
        println!(
            "phases: stored packages under the changed keys {:.0} ms ({hit_count} rows), \
             their images' findings {:.0} ms ({} images, {} stored findings), match + diff {:.0} ms \
             ({} new findings)",
            lookup.as_secs_f64() * 1000.0,
            read_findings.as_secs_f64() * 1000.0,
            ids.len(),
            stored.values().map(Vec::len).sum::<usize>(),
            matching.as_secs_f64() * 1000.0,
            stats.new_findings
        );
        drop(changes);
        let t = Instant::now();
        let stats = reevaluate::reevaluate(&store, &advisories, &summary.changed_packages)
            .await
            .unwrap();
        let whole = t.elapsed();
        println!(
            "re-evaluation, whole (lookup, match, write {} findings with their events): {:.0} ms; \
             {} images, {} packages",
            stats.new_findings,
            whole.as_secs_f64() * 1000.0,
            stats.images,
            stats.packages
        );
        let t = Instant::now();
        let again = reevaluate::reevaluate(&store, &advisories, &summary.changed_packages)
            .await
            .unwrap();
        println!(
            "re-evaluation again (nothing new, no writes): {:.0} ms, {} new",
            t.elapsed().as_secs_f64() * 1000.0,
            again.new_findings
        );

        // One 5,000-package SBOM, matched and stored with the database open.
        let packages: Vec<Package> = (0..5_000).map(|i| npm(i * 7 % NPM_ADVISORY_POOL)).collect();
        let sbom = Sbom {
            source: SourceInfo {
                kind: "registry".into(),
                name: "registry.example/big:1.0".into(),
                ..Default::default()
            },
            distro: Some(debian12()),
            packages,
            warnings: vec![],
        };
        let mut match_ms = Vec::new();
        for _ in 0..11 {
            let t = Instant::now();
            let report = advisories.read(|db| {
                dockwatch_image::matcher::match_packages(db, sbom.distro.as_ref(), &sbom.packages)
                    .unwrap()
            });
            match_ms.push((t.elapsed().as_secs_f64() * 1000.0, report.findings.len()));
        }
        match_ms.sort_by(|a, b| a.0.total_cmp(&b.0));
        let t = Instant::now();
        let (new, findings) = advisories
            .read(|db| index::prepare(Some(db), &sbom, "bench".into(), None, None, 0))
            .unwrap();
        let prepare = t.elapsed();
        let t = Instant::now();
        store
            .index_image(&dockwatch_store::write::system_actor(), &org, new)
            .await
            .unwrap();
        println!(
            "5,000-package SBOM: match min {:.1} ms, median {:.1} ms ({} findings); \
             prepare (native JSON, rows, match) {:.0} ms; store {:.0} ms",
            match_ms[0].0,
            match_ms[5].0,
            match_ms[0].1,
            prepare.as_secs_f64() * 1000.0,
            t.elapsed().as_secs_f64() * 1000.0,
        );
        drop(findings);
        store.close().await;
    });
}
