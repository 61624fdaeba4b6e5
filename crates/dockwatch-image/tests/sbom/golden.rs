//! Every format renders every fixture exactly as its golden file says; `UPDATE_GOLDEN=1`
//! rewrites them.

use super::fixture;
use std::path::PathBuf;

fn golden_path(format: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/golden")
        .join(format)
        .join(format!("{name}.golden"))
}

fn check(format: &str) {
    for (name, sbom) in fixture::all() {
        let actual = fixture::render(format, &sbom);
        dockwatch_testdata::assert_golden(&golden_path(format, name), &actual);
    }
}

#[test]
fn cyclonedx_json_matches_golden() {
    check("cyclonedx-json");
}

#[test]
fn spdx_json_matches_golden() {
    check("spdx-json");
}

#[test]
fn native_json_matches_golden() {
    check("json");
}

#[test]
fn table_matches_golden() {
    check("table");
}

#[test]
fn every_registered_format_has_goldens() {
    for format in dockwatch_image::sbom::formats() {
        for (name, _) in fixture::all() {
            assert!(
                golden_path(format.name(), name).is_file()
                    || std::env::var_os("UPDATE_GOLDEN").is_some(),
                "format {} has no golden file for {name}",
                format.name()
            );
        }
    }
    let names: Vec<&str> = dockwatch_image::sbom::formats()
        .iter()
        .map(|f| f.name())
        .collect();
    assert_eq!(names, ["cyclonedx-json", "spdx-json", "json", "table"]);
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    let sbom = fixture::rich();
    for format in ["cyclonedx-json", "spdx-json", "json", "table"] {
        assert_eq!(
            fixture::render(format, &sbom),
            fixture::render(format, &sbom),
            "{format}"
        );
    }
}

#[test]
fn package_order_in_the_input_does_not_matter() {
    let sorted = fixture::rich();
    let mut shuffled = sorted.clone();
    shuffled.packages.reverse();
    for format in ["cyclonedx-json", "spdx-json", "json", "table"] {
        assert_eq!(
            fixture::render(format, &sorted),
            fixture::render(format, &shuffled),
            "{format}"
        );
    }
}
