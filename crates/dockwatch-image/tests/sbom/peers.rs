//! Decoding SBOMs that Syft and Trivy wrote (their test data, in the shared fixtures).

use dockwatch_image::sbom::decode::{Decoded, SbomKind, decode, decode_file};

fn peer(relative: &str) -> Decoded {
    let path = dockwatch_testdata::fixture(relative);
    decode_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
