//! decode(render(sbom)) gives the SBOM back, for each format that can be read.

use super::fixture;
use dockwatch_image::sbom::Sbom;
use dockwatch_image::sbom::decode::{SbomKind, decode};

fn round_trip(format: &str, sbom: &Sbom) -> (SbomKind, Sbom) {
    let text = fixture::render(format, sbom);
    let decoded = decode(text.as_bytes(), &format!("{format}.json"))
        .unwrap_or_else(|e| panic!("{format}: {e}"));
    let mut back = decoded.sbom;
    fixture::sort(&mut back.packages);
    (decoded.kind, back)
}

fn assert_same(format: &str, expected: &Sbom, actual: &Sbom, keeps_env: bool) {
    assert_eq!(
        expected.packages.len(),
        actual.packages.len(),
        "{format}: package count"
    );
    for (e, a) in expected.packages.iter().zip(&actual.packages) {
        assert_eq!(e, a, "{format}: package {}", e.name);
    }
    assert_eq!(expected.distro, actual.distro, "{format}: distro");
    assert_eq!(expected.warnings, actual.warnings, "{format}: warnings");
    let mut source = expected.source.clone();
    if !keeps_env {
        source.env.clear();
    }
    assert_eq!(source, actual.source, "{format}: source");
}

#[test]
fn cyclonedx_round_trips() {
    for (_, sbom) in fixture::all() {
        let (kind, back) = round_trip("cyclonedx-json", &sbom);
        assert_eq!(kind, SbomKind::CycloneDx("1.6".into()));
        assert_same("cyclonedx-json", &sbom, &back, false);
    }
}

#[test]
fn spdx_round_trips() {
    for (_, sbom) in fixture::all() {
        let (kind, back) = round_trip("spdx-json", &sbom);
        assert_eq!(kind, SbomKind::Spdx("SPDX-2.3".into()));
        assert_same("spdx-json", &sbom, &back, false);
    }
}

#[test]
fn native_json_round_trips() {
    for (_, sbom) in fixture::all() {
        let (kind, back) = round_trip("json", &sbom);
        assert_eq!(kind, SbomKind::Dockwatch("1.0.0".into()));
        assert_same("json", &sbom, &back, true);
    }
}

#[test]
fn the_environment_stays_out_of_cyclonedx_and_spdx() {
    let sbom = fixture::rich();
    for format in ["cyclonedx-json", "spdx-json"] {
        let text = fixture::render(format, &sbom);
        assert!(
            !text.contains("API_TOKEN"),
            "{format} leaks the image environment"
        );
    }
}
