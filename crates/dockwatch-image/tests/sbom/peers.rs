//! Decoding SBOMs that Syft and Trivy wrote (their test data, in the shared fixtures), and the
//! errors malformed ones give.

use dockwatch_core::{Location, Package, PackageType};
use dockwatch_image::sbom::decode::{Decoded, SbomKind, decode, decode_file};

fn peer(relative: &str) -> Decoded {
    let path = dockwatch_testdata::fixture(relative);
    decode_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn peer_error(relative: &str) -> String {
    let path = dockwatch_testdata::fixture(relative);
    match decode_file(&path) {
        Ok(d) => panic!(
            "{relative} decoded as {} with {} packages",
            d.kind,
            d.sbom.packages.len()
        ),
        Err(e) => e.to_string(),
    }
}

fn find<'a>(d: &'a Decoded, name: &str) -> &'a Package {
    d.sbom
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {:?}", names(d)))
}

fn names(d: &Decoded) -> Vec<&str> {
    d.sbom.packages.iter().map(|p| p.name.as_str()).collect()
}

const TRIVY_BASE_LAYER: &str =
    "sha256:dd565ff850e7003356e2b252758f9bdc1ff2803f61e995e24c7844f6297f8fc3";
const TRIVY_APP_LAYER: &str =
    "sha256:3c79e832b1b4891a1cb4a326ef8524e0bd14a2537150ac0e203a5677176c1ca1";

#[test]
fn trivy_cyclonedx_image_sbom() {
    let d = peer("trivy/sbom/pkg/sbom/cyclonedx/testdata/happy/bom.json");
    assert!(matches!(d.kind, SbomKind::CycloneDx(_)), "{}", d.kind);
    assert_eq!(d.sbom.packages.len(), 7, "{:?}", names(&d));
    let distro = d.sbom.distro.as_ref().expect("distro");
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_deref()),
        ("alpine", Some("3.16.0"))
    );
    let musl = find(&d, "musl");
    assert_eq!(musl.kind, PackageType::Apk);
    assert_eq!(musl.version, "1.2.3-r0");
    assert_eq!(musl.purl, "pkg:apk/alpine/musl@1.2.3-r0?distro=3.16.0");
    assert_eq!(musl.licenses, ["MIT"]);
    assert_eq!(musl.layer(), Some(TRIVY_BASE_LAYER));
    assert_eq!(musl.source_name.as_deref(), Some("musl"), "apk origin");
    assert_eq!(
        musl.source_version, None,
        "Trivy's SrcVersion repeats the version"
    );
    // The npm scope is CycloneDX's `group`.
    let bootstrap = find(&d, "@example/bootstrap");
    assert_eq!(bootstrap.kind, PackageType::Npm);
    assert_eq!(
        bootstrap.locations,
        [Location {
            path: "/app/app/package.json".into(),
            layer: Some(TRIVY_APP_LAYER.into())
        }]
    );
    let maven = find(&d, "org.codehaus.mojo:child-project");
    assert_eq!(
        (maven.kind, maven.version.as_str()),
        (PackageType::Maven, "1.0")
    );
    // Lock files and binaries (type application, no purl) hold packages; they are not ones.
    assert!(
        !names(&d).iter().any(|n| n.starts_with("app/")),
        "{:?}",
        names(&d)
    );
}

#[test]
fn trivy_cyclonedx_1_5_and_epochs_in_purls() {
    let d = peer("trivy/sbom/pkg/fanal/artifact/sbom/testdata/bom.json");
    assert_eq!(d.kind, SbomKind::CycloneDx("1.5".into()));
    assert_eq!(d.sbom.packages.len(), 6, "{:?}", names(&d));
    assert_eq!(d.sbom.source.name, "maven-test-project");
    assert_eq!(d.sbom.source.tags, ["maven-test-project:latest"]);
    assert_eq!(d.sbom.source.layers.len(), 2);

    let d = peer("trivy/sbom/pkg/sbom/cyclonedx/testdata/happy/infinite-loop-bom.json");
    assert_eq!(d.sbom.packages.len(), 2);
    assert_eq!(
        find(&d, "libcrypt1").version,
        "1:4.4.27-1",
        "epoch from the purl"
    );
    assert_eq!(find(&d, "libc6").version, "2.35-0ubuntu3.1");
    assert_eq!(d.sbom.distro.as_ref().unwrap().id, "ubuntu");
}

#[test]
fn trivy_spdx_image_sbom() {
    let d = peer("trivy/sbom/pkg/sbom/spdx/testdata/happy/bom.json");
    assert_eq!(d.kind, SbomKind::Spdx("SPDX-2.2".into()));
    assert_eq!(d.sbom.packages.len(), 6, "{:?}", names(&d));
    assert_eq!(d.sbom.source.name, "meven-test-project");
    assert_eq!(
        d.sbom.distro.as_ref().unwrap().version_id.as_deref(),
        Some("3.16.0")
    );
    let musl = find(&d, "musl");
    assert_eq!(musl.purl, "pkg:apk/alpine/musl@1.2.3-r0?distro=3.16.0");
    assert_eq!(musl.licenses, ["MIT"]);
    assert_eq!(
        musl.layer(),
        Some(TRIVY_BASE_LAYER),
        "from Trivy's annotations"
    );
    let npm = find(&d, "bootstrap");
    assert_eq!(
        (npm.kind, npm.version.as_str()),
        (PackageType::Npm, "5.0.2")
    );

    let d = peer("trivy/sbom/pkg/fanal/analyzer/sbom/testdata/ca-certificates.spdx.json");
    assert_eq!(d.kind, SbomKind::Spdx("SPDX-2.3".into()));
    assert_eq!(names(&d), ["ca-certificates"]);
    assert_eq!(d.sbom.packages[0].kind, PackageType::Deb);
    assert_eq!(d.sbom.distro.as_ref().unwrap().id, "debian");
}

#[test]
fn syft_json_old_schema() {
    let d = peer("syft/sbom-format/syft/format/testdata/alpine-syft.json");
    assert_eq!(d.kind, SbomKind::Syft(Some("1.1.0".into())));
    assert_eq!(d.sbom.packages.len(), 14);
    assert_eq!(d.sbom.source.name, "alpine:latest");
    assert_eq!(
        d.sbom.source.digest.as_deref(),
        Some("sha256:69704ef328d05a9f806b6b8502915e6a0a4faa4d72018dc42343f511490daf8a")
    );
    let distro = d.sbom.distro.as_ref().unwrap();
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_deref()),
        ("alpine", Some("3.14.2"))
    );
    let base = find(&d, "alpine-baselayout");
    assert_eq!(base.version, "3.2.0-r16");
    assert_eq!(base.kind, PackageType::Apk);
    assert_eq!(
        base.purl,
        "pkg:apk/alpine/alpine-baselayout@3.2.0-r16?arch=x86_64"
    );
    assert_eq!(base.licenses, ["GPL-2.0-only"]);
    assert_eq!(base.cpes.len(), 6);
    assert_eq!(base.arch.as_deref(), Some("x86_64"));
    assert_eq!(base.found_by, "apkdb-cataloger");
    assert_eq!(base.locations[0].path, "/lib/apk/db/installed");
    assert_eq!(find(&d, "zlib").version, "1.2.11-r3");
}

#[test]
fn syft_json_current_schema() {
    let d = peer("syft/sbom-format/syft/format/syftjson/testdata/snapshot/TestImageEncoder.golden");
    assert_eq!(d.kind, SbomKind::Syft(None));
    assert_eq!(
        names(&d),
        ["package-2", "package-1"],
        "deb sorts before pypi"
    );
    let deb = find(&d, "package-2");
    assert_eq!(deb.kind, PackageType::Deb);
    assert_eq!(deb.cpes, ["cpe:2.3:*:some:package:2:*:*:*:*:*:*:*"]);
    assert_eq!(deb.locations[0].path, "/somefile-2.txt");
    assert!(
        deb.locations[0]
            .layer
            .as_deref()
            .unwrap()
            .starts_with("sha256:")
    );
    let distro = d.sbom.distro.as_ref().unwrap();
    assert_eq!(distro.id_like, ["like!"]);
    // Syft's test data has a deliberately bad purl: kept, reported.
    assert_eq!(find(&d, "package-1").purl, "");
    assert!(
        d.sbom.warnings[0].message.contains("artifacts[0].purl"),
        "{:?}",
        d.sbom.warnings
    );
}

#[test]
fn syft_spdx_and_cyclonedx_of_every_version() {
    let d = peer("syft/sbom-format/syft/format/spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json");
    assert_eq!(names(&d), ["busybox", "libssl1.1", "ssl_client"]);
    let busybox = find(&d, "busybox");
    assert_eq!(busybox.licenses, ["GPL-2.0"]);
    assert_eq!(
        busybox.cpes,
        ["cpe:2.3:a:busybox:busybox:1.30.1-r5:*:*:*:*:*:*:*"]
    );
    assert_eq!(busybox.arch.as_deref(), Some("x86_64"));

    for version in ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"] {
        let d = peer(&format!(
            "syft/sbom-format/syft/format/cyclonedxjson/testdata/identify/{version}.json"
        ));
        assert_eq!(d.kind, SbomKind::CycloneDx(version.into()));
        assert_eq!(names(&d), ["github.com/wagoodman/go-partybus"], "{version}");
        assert_eq!(d.sbom.packages[0].kind, PackageType::Golang);
    }
    for version in ["2.2", "2.3"] {
        let d = peer(&format!(
            "syft/sbom-format/syft/format/spdxjson/testdata/identify/{version}.json"
        ));
        assert_eq!(d.kind, SbomKind::Spdx(format!("SPDX-{version}")));
        assert_eq!(names(&d), ["github.com/wagoodman/go-partybus"], "{version}");
    }
}

#[test]
fn malformed_sboms_name_the_field() {
    let e = peer_error("trivy/sbom/pkg/sbom/cyclonedx/testdata/sad/invalid-serial.json");
    assert!(
        e.contains("serialNumber") && e.contains("invalid-serial.json"),
        "{e}"
    );
    let e = peer_error(
        "syft/sbom-format/syft/format/spdxjson/testdata/spdx/bad/example7-bin.spdx.json",
    );
    assert!(e.contains("packages[0]") && e.contains("name"), "{e}");
    let e = peer_error("syft/sbom-format/syft/format/cyclonedxjson/testdata/bad-sbom");
    assert!(e.contains("not JSON"), "{e}");
    let e = peer_error("syft/sbom-format/syft/format/cyclonedxxml/testdata/identify/1.6.xml");
    assert!(e.contains("XML"), "{e}");
    let e = peer_error("syft/sbom-format/syft/format/spdxjson/testdata/identify/3.0.json");
    assert!(e.contains("SPDX 3"), "{e}");
    let e = peer_error("syft/sbom-format/syft/format/spdxtagvalue/testdata/identify/2.3.sbom");
    assert!(e.contains("tag-value"), "{e}");

    let cases: [(&str, &str); 5] = [
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","version":"1"}]}"#,
            "field `components[0]`: missing field `name`",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","properties":[{"name":7}]}]}"#,
            "field `components[0].properties[0].name`",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"2.0"}"#,
            "field `specVersion`",
        ),
        (
            r#"{"spdxVersion":"SPDX-2.1","packages":[]}"#,
            "field `spdxVersion`",
        ),
        (
            r#"{"artifacts":[{"name":"a","version":"1","locations":[{"layerID":"x"}]}]}"#,
            "field `artifacts[0].locations[0]`: missing field `path`",
        ),
    ];
    for (doc, expected) in cases {
        let e = decode(doc.as_bytes(), "case.json").unwrap_err().to_string();
        assert!(e.contains(expected) && e.contains("case.json"), "{e}");
    }
}

#[test]
fn invalid_package_urls_are_reported_and_the_package_kept() {
    let d = peer("trivy/sbom/pkg/sbom/cyclonedx/testdata/happy/invalid-purl.json");
    assert_eq!(names(&d), ["pear/core", "pear/log"]);
    assert_eq!(find(&d, "pear/log").purl, "");
    assert!(
        d.sbom.warnings[0].message.contains("components[1].purl"),
        "{:?}",
        d.sbom.warnings
    );
    let d = peer("trivy/sbom/pkg/sbom/spdx/testdata/sad/invalid-purl.json");
    assert_eq!(names(&d), ["musl"]);
    assert!(
        d.sbom.warnings[0].message.contains("externalRefs"),
        "{:?}",
        d.sbom.warnings
    );
}

#[test]
fn syft_cyclonedx_properties_give_locations_and_distro() {
    let d = peer(
        "syft/sbom-format/syft/format/cyclonedxjson/testdata/snapshot/TestCycloneDxImageEncoder.golden",
    );
    assert_eq!(d.kind, SbomKind::CycloneDx("1.7".into()));
    assert_eq!(d.sbom.source.name, "user-image-input");
    let deb = find(&d, "package-2");
    assert_eq!(deb.found_by, "the-cataloger-2");
    assert_eq!(deb.locations[0].path, "/somefile-2.txt");
    assert!(deb.locations[0].layer.is_some());
    let one = find(&d, "package-1");
    assert_eq!(one.licenses, ["MIT"]);
    let distro = d.sbom.distro.as_ref().unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.id_like, ["like!"]);
    assert_eq!(distro.pretty_name.as_deref(), Some("debian"));
}

#[test]
fn trivy_attestation_in_a_dsse_envelope() {
    let d = peer("trivy/sbom/pkg/fanal/artifact/sbom/testdata/sbom.cdx.intoto.jsonl");
    assert!(matches!(d.kind, SbomKind::CycloneDx(_)), "{}", d.kind);
    assert!(!d.sbom.packages.is_empty());
    assert_eq!(
        d.sbom.source.digest.as_deref(),
        Some("sha256:20d3f693dcffa44d6b24eae88783324d25cc132c22089f70e4fbfb858625b062"),
        "the statement's subject"
    );
}

#[test]
fn cyclonedx_evidence_occurrences_are_locations_when_no_property_says() {
    let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
        {"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0",
         "evidence":{"occurrences":[{"location":"/app/node_modules/left-pad/package.json"}]}}]}"#;
    let d = decode(doc, "cdxgen.json").unwrap();
    assert_eq!(
        d.sbom.packages[0].locations,
        [Location {
            path: "/app/node_modules/left-pad/package.json".into(),
            layer: None
        }]
    );
}

#[test]
fn nested_cyclonedx_components_are_packages_and_named_by_their_path() {
    let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
        {"type":"application","name":"app.jar","components":[
            {"type":"library","name":"a","version":"1","purl":"pkg:maven/g/a@1"},
            {"type":"library","name":"b","version":"2","purl":"not a purl"}]},
        {"type":"library","name":"c","version":"3","purl":"pkg:npm/c@3"}]}"#;
    let d = decode(doc, "nested.json").unwrap();
    assert_eq!(
        names(&d),
        ["c", "a", "b"],
        "sorted by type: npm, maven, generic"
    );
    assert_eq!(d.sbom.warnings.len(), 1);
    assert!(
        d.sbom.warnings[0]
            .message
            .starts_with("components[0].components[1].purl: invalid package URL"),
        "{:?}",
        d.sbom.warnings
    );
}

#[test]
fn spdx_roots_named_by_document_describes_or_described_by() {
    for describe in [
        r#""documentDescribes": ["SPDXRef-img"]"#,
        r#""relationships": [{"spdxElementId": "SPDXRef-img", "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-DOCUMENT"}]"#,
    ] {
        let doc = format!(
            r#"{{"spdxVersion": "SPDX-2.3", {describe}, "packages": [
                {{"SPDXID": "SPDXRef-img", "name": "team/app", "versionInfo": "sha256:abc"}},
                {{"SPDXID": "SPDXRef-p", "name": "zlib", "versionInfo": "1.3",
                  "licenseDeclared": "Zlib",
                  "externalRefs": [{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                    "referenceLocator": "pkg:apk/alpine/zlib@1.3"}}]}}]}}"#
        );
        let d = decode(doc.as_bytes(), "describes.json").unwrap();
        assert_eq!(d.sbom.source.name, "team/app", "{describe}");
        assert_eq!(d.sbom.source.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(names(&d), ["zlib"]);
        assert_eq!(d.sbom.packages[0].licenses, ["Zlib"]);
    }
}

#[test]
fn unreadable_paths_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let e = decode_file(&missing).unwrap_err().to_string();
    assert!(e.contains("missing.json"), "{e}");
    let e = decode_file(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&dir.path().display().to_string()), "{e}");
}

#[test]
fn files_over_the_size_limit_are_refused_before_reading() {
    let path = dockwatch_testdata::fixture("trivy/sbom/pkg/sbom/cyclonedx/testdata/happy/bom.json");
    let e = dockwatch_image::sbom::decode::decode_file_within(&path, 100)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bom.json") && e.contains("limit of 100 bytes"),
        "{e}"
    );
}
