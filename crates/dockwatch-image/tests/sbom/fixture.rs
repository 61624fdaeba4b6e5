//! Hand-made SBOMs that exercise every field the formats write.

use dockwatch_core::clock::FixedClock;
use dockwatch_core::{Distro, Location, Package, PackageType};
use dockwatch_image::catalog::Warning;
use dockwatch_image::sbom::{LayerInfo, RenderOptions, Sbom, SourceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const LAYER_BASE: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub const LAYER_APP: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Options pinning the time (2026-01-01T00:00:00Z) and the version, so goldens are stable.
pub fn options() -> RenderOptions {
    RenderOptions {
        clock: Arc::new(FixedClock(1_767_225_600_000)),
        tool_version: "0.0.0-test".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn package(
    kind: PackageType,
    name: &str,
    version: &str,
    purl: &str,
    licenses: &[&str],
    locations: &[(&str, Option<&str>)],
    found_by: &str,
) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        arch: None,
        source_name: None,
        source_version: None,
        licenses: licenses.iter().map(|l| l.to_string()).collect(),
        purl: purl.into(),
        cpes: vec![],
        locations: locations
            .iter()
            .map(|(path, layer)| Location {
                path: path.to_string(),
                layer: layer.map(str::to_string),
            })
            .collect(),
        found_by: found_by.into(),
        metadata: BTreeMap::new(),
    }
}

/// An image with OS and language packages: licenses as ids, expressions, free text and none;
/// several locations and layers; a duplicated purl; a warning.
pub fn rich() -> Sbom {
    let dpkg_status = "/var/lib/dpkg/status";
    let mut libc = package(
        PackageType::Deb,
        "libc6",
        "2.36-9+deb12u4",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
        &["LGPL-2.1-or-later", "GPL-2.0-or-later"],
        &[
            (dpkg_status, Some(LAYER_BASE)),
            ("/usr/share/doc/libc6/copyright", Some(LAYER_BASE)),
        ],
        "dpkg",
    );
    libc.arch = Some("amd64".into());
    libc.source_name = Some("glibc".into());
    libc.cpes = vec![
        "cpe:2.3:a:gnu:glibc:2.36-9\\+deb12u4:*:*:*:*:*:*:*".into(),
        "cpe:2.3:a:libc6:libc6:2.36-9\\+deb12u4:*:*:*:*:*:*:*".into(),
    ];
    libc.metadata.insert(
        "maintainer".into(),
        "Libc Maintainers <libc@example.org>".into(),
    );
    libc.metadata.insert("installedSize".into(), "12986".into());

    let mut bash = package(
        PackageType::Deb,
        "bash",
        "5.2.15-2+b2",
        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12",
        &["GPL-3.0-or-later"],
        &[(dpkg_status, Some(LAYER_BASE))],
        "dpkg",
    );
    bash.arch = Some("amd64".into());
    bash.source_name = Some("bash".into());
    bash.source_version = Some("5.2.15-2".into());
    bash.cpes = vec!["cpe:2.3:a:gnu:bash:5.2.15-2\\+b2:*:*:*:*:*:*:*".into()];

    let mut tzdata = package(
        PackageType::Deb,
        "tzdata",
        "2024a-0+deb12u1",
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
        &[],
        &[(dpkg_status, Some(LAYER_BASE))],
        "dpkg",
    );
    tzdata.arch = Some("all".into());

    let mut perl = package(
        PackageType::Deb,
        "perl-base",
        "5.36.0-7+deb12u1",
        "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&distro=debian-12",
        &["Artistic", "GPL v1+"],
        &[(dpkg_status, Some(LAYER_BASE))],
        "dpkg",
    );
    perl.arch = Some("amd64".into());
    perl.source_name = Some("perl".into());

    let left_pad = package(
        PackageType::Npm,
        "@scope/left-pad",
        "1.3.0",
        "pkg:npm/%40scope/left-pad@1.3.0",
        &["MIT OR Apache-2.0"],
        &[(
            "/app/node_modules/@scope/left-pad/package.json",
            Some(LAYER_APP),
        )],
        "npm",
    );
    let requests_app = package(
        PackageType::Pypi,
        "requests",
        "2.31.0",
        "pkg:pypi/requests@2.31.0",
        &["Apache-2.0"],
        &[(
            "/app/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            Some(LAYER_APP),
        )],
        "python",
    );
    let requests_system = package(
        PackageType::Pypi,
        "requests",
        "2.31.0",
        "pkg:pypi/requests@2.31.0",
        &["Apache-2.0"],
        &[
            (
                "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
                Some(LAYER_BASE),
            ),
            (
                "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/RECORD",
                None,
            ),
        ],
        "python",
    );
    let classpath = package(
        PackageType::Maven,
        "org.example:runtime",
        "1.0.0",
        "pkg:maven/org.example/runtime@1.0.0",
        &["GPL-2.0-only WITH Classpath-exception-2.0"],
        &[("/app/lib/runtime-1.0.0.jar", Some(LAYER_APP))],
        "java",
    );
    let go_mod = package(
        PackageType::Golang,
        "git.example/team/tool",
        "v1.2.3",
        "pkg:golang/git.example/team/tool@v1.2.3",
        // On the SPDX list but not in CycloneDX 1.6's enum: written as an expression.
        &["Bugroff"],
        &[("/app/bin/tool", Some(LAYER_APP))],
        "go-binary",
    );
    let unknown = package(
        PackageType::Generic,
        "busybox",
        "1.36.1",
        "",
        &["GPL-2.0-only"],
        &[("/bin/busybox", Some(LAYER_BASE))],
        "binary",
    );

    let mut packages = vec![
        libc,
        bash,
        tzdata,
        perl,
        left_pad,
        requests_app,
        requests_system,
        classpath,
        go_mod,
        unknown,
    ];
    sort(&mut packages);
    Sbom {
        source: SourceInfo {
            kind: "registry".into(),
            name: "registry.example:5000/team/app:1.0".into(),
            digest: Some(
                "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            ),
            config_digest: Some(
                "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc".into(),
            ),
            tags: vec!["registry.example:5000/team/app:1.0".into()],
            architecture: Some("amd64".into()),
            os: Some("linux".into()),
            variant: None,
            user: Some("app".into()),
            env: vec!["PATH=/usr/bin".into(), "API_TOKEN=not-in-cyclonedx".into()],
            labels: [
                (
                    "org.opencontainers.image.title".to_string(),
                    "app".to_string(),
                ),
                ("team".to_string(), "payments: core".to_string()),
            ]
            .into(),
            entrypoint: vec!["/app/bin/tool".into()],
            cmd: vec!["serve".into(), "--port=8080".into()],
            layers: vec![
                LayerInfo {
                    digest:
                        "sha256:b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
                            .into(),
                    diff_id: LAYER_BASE.into(),
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                    size: 29_000_000,
                },
                LayerInfo {
                    digest:
                        "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
                            .into(),
                    diff_id: LAYER_APP.into(),
                    media_type: "application/vnd.oci.image.layer.v1.tar+zstd".into(),
                    size: 1_234,
                },
            ],
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            id_like: vec![],
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }),
        packages,
        warnings: vec![Warning {
            path: "/var/lib/rpm/Packages".into(),
            message: "unsupported rpm database format".into(),
        }],
    }
}

/// A root folder with nothing recognized in it.
pub fn empty_dir() -> Sbom {
    Sbom {
        source: SourceInfo {
            kind: "dir".into(),
            name: "/srv/rootfs".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The order decoders and the fixture agree on: the package sort key, then the locations.
pub fn sort(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.locations.cmp(&b.locations))
    });
}

/// Every fixture, by golden name.
pub fn all() -> Vec<(&'static str, Sbom)> {
    vec![("rich", rich()), ("empty-dir", empty_dir())]
}

/// Renders `sbom` in format `name` with the pinned options.
pub fn render(name: &str, sbom: &Sbom) -> String {
    let format = dockwatch_image::sbom::formats_with(&options())
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("no format {name}"));
    let mut out = Vec::new();
    format.render(sbom, &mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}
