//! Many packages: every format renders them, the readers get them all back, identifiers stay
//! unique. Prints the time taken (information only, nothing is asserted on it).

use super::fixture;
use dockwatch_image::sbom::decode::decode;
use std::collections::HashSet;
use std::time::Instant;

fn many(count: usize) -> dockwatch_image::sbom::Sbom {
    let mut sbom = fixture::rich();
    let template = sbom.packages[0].clone();
    sbom.packages = (0..count)
        .map(|i| {
            let mut p = template.clone();
            // Some names repeat across versions, and some purls repeat across locations.
            p.name = format!("lib{}", i / 2);
            p.version = format!("1.{}", i % 2);
            p.purl = format!("pkg:deb/debian/{}@{}?arch=amd64", p.name, p.version);
            if i % 7 == 0 {
                p.purl = format!("pkg:deb/debian/lib{}@1.0?arch=amd64", i / 2);
                p.version = "1.0".into();
            }
            p.locations[0].path = format!("/var/lib/dpkg/status.d/{i}");
            p
        })
        .collect();
    sbom
}

#[test]
fn thousands_of_packages_round_trip_with_unique_ids() {
    let count = 5000;
    let sbom = many(count);
    for format in ["cyclonedx-json", "spdx-json", "json"] {
        let start = Instant::now();
        let text = fixture::render(format, &sbom);
        let rendered = start.elapsed();
        let start = Instant::now();
        let back = decode(text.as_bytes(), format).unwrap_or_else(|e| panic!("{format}: {e}"));
        let decoded = start.elapsed();
        eprintln!(
            "{format}: {count} packages, {} KiB, render {rendered:?}, decode {decoded:?}",
            text.len() / 1024
        );
        assert_eq!(back.sbom.packages.len(), count, "{format}");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ids: Vec<&str> = match format {
            "cyclonedx-json" => doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["bom-ref"].as_str().unwrap())
                .collect(),
            "spdx-json" => doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["SPDXID"].as_str().unwrap())
                .collect(),
            _ => continue,
        };
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{format}: duplicate identifiers");
    }
}
