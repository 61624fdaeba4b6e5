//! Where a package is looked up: its OSV ecosystem(s), the name advisories use, the version to compare.
//!
//! OS packages are looked up by their SOURCE package in the distro release's own ecosystem
//! (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.20`), never in a language ecosystem, so an
//! upstream advisory cannot match a distro's rebuilt package.

use dockwatch_core::{Distro, Package, PackageType};

/// The key a package is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupKey {
    /// OSV ecosystems to look in, most specific first.
    pub ecosystems: Vec<String>,
    /// The package name as advisories of those ecosystems write it, normalized by [`normalize_name`].
    pub name: String,
    /// The version to compare.
    pub version: String,
}

/// The ecosystem without its release suffix: `Debian:12` → `Debian`.
pub fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// The ecosystem an advisory is indexed under: most are their own, but Red Hat and SUSE write
/// one ecosystem per product stream (`Red Hat:enterprise_linux:9::appstream`,
/// `SUSE:Linux Enterprise Server 15 SP5`, `SUSE:Linux Enterprise Module for Basesystem 15 SP5`)
/// where an image only knows its release (`rhel` 9.3, `sles` 15.5). Those fold into one
/// ecosystem per release (`Red Hat:9`, `SUSE:15.5`, `SUSE:Micro 5.5`), the key
/// [`lookup_key`] gives such an image's packages. openSUSE's (`openSUSE:Leap 15.5`,
/// `openSUSE:Tumbleweed`) already name a release and stay as they are.
pub fn canonical(ecosystem: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match ecosystem.split_once(':') {
        Some(("Red Hat", rest)) => {
            // `<product>:<version>[:<...>]`: the release is the major of the version part.
            let version = rest.split(':').nth(1).unwrap_or("");
            let major: String = version.chars().take_while(char::is_ascii_digit).collect();
            if major.is_empty() {
                Cow::Borrowed(ecosystem)
            } else {
                Cow::Owned(format!("Red Hat:{major}"))
            }
        }
        Some(("SUSE", product)) => match suse_release(product) {
            Some(release) if product.contains("Micro") => {
                Cow::Owned(format!("SUSE:Micro {release}"))
            }
            Some(release) => Cow::Owned(format!("SUSE:{release}")),
            None => Cow::Borrowed(ecosystem),
        },
        _ => Cow::Borrowed(ecosystem),
    }
}

/// `15 SP5` → `15.5`, `15` → `15.0`, `5.5` → `5.5`: the last number (and service pack) of a
/// SUSE product name.
fn suse_release(product: &str) -> Option<String> {
    let words: Vec<&str> = product.split_whitespace().collect();
    let is_number = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.');
    let (i, number) = words.iter().enumerate().rev().find(|(_, w)| is_number(w))?;
    if number.contains('.') {
        return Some((*number).to_owned());
    }
    let pack = words
        .get(i + 1)
        .and_then(|w| w.strip_prefix("SP"))
        .filter(|n| is_number(n))
        .unwrap_or("0");
    Some(format!("{number}.{pack}"))
}

/// The name as stored in the index: case and separators folded where the ecosystem says
/// names are equal (PEP 503 for PyPI; NuGet, Packagist and Alpine are case-insensitive).
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match base(ecosystem) {
        "PyPI" => {
            // PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
            let mut out = String::with_capacity(name.len());
            let mut in_separator = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !in_separator {
                        out.push('-');
                    }
                    in_separator = true;
                } else {
                    out.extend(c.to_lowercase());
                    in_separator = false;
                }
            }
            out
        }
        "NuGet" | "Packagist" => name.trim().to_lowercase(),
        _ => name.trim().to_owned(),
    }
}

/// Every key `package` is looked up by: [`lookup_key`], and for RPM packages also the binary
/// package's own name and version, since the RPM distros' OSV records (AlmaLinux, Rocky Linux)
/// name binary packages (`libtiff-tools`) where Debian's and Alpine's name source packages.
pub fn lookup_keys(distro: Option<&Distro>, package: &Package) -> Vec<LookupKey> {
    let Some(primary) = lookup_key(distro, package) else {
        return Vec::new();
    };
    let binary =
        (package.kind == PackageType::Rpm && primary.name != package.name).then(|| LookupKey {
            ecosystems: primary.ecosystems.clone(),
            name: package.name.clone(),
            version: package.version.clone(),
        });
    std::iter::once(primary).chain(binary).collect()
}

/// The lookup key of `package` in an image whose OS is `distro`; `None` when no OSV ecosystem
/// covers it (a Debian package without a release, a generic binary).
pub fn lookup_key(distro: Option<&Distro>, package: &Package) -> Option<LookupKey> {
    let purl = parse_purl(&package.purl);
    let (ecosystems, name, version) = match package.kind {
        PackageType::Deb | PackageType::Apk | PackageType::Rpm => {
            let ecosystems = os_ecosystems(package.kind, distro, purl.as_ref())?;
            let name = package
                .source_name
                .clone()
                .unwrap_or_else(|| package.name.clone());
            let version = package
                .source_version
                .clone()
                .unwrap_or_else(|| package.version.clone());
            (ecosystems, name, version)
        }
        PackageType::Pypi => (
            vec!["PyPI".into()],
            package.name.clone(),
            package.version.clone(),
        ),
        PackageType::Npm => (
            vec!["npm".into()],
            purl_name(purl.as_ref(), "/", package),
            package.version.clone(),
        ),
        PackageType::Golang => {
            let name = purl_name(purl.as_ref(), "/", package);
            // Go advisories write versions without the `v` (and the toolchain without `go`).
            let version = package
                .version
                .trim_start_matches("go")
                .trim_start_matches('v')
                .to_owned();
            (vec!["Go".into()], name, version)
        }
        PackageType::Cargo => (
            vec!["crates.io".into()],
            package.name.clone(),
            package.version.clone(),
        ),
        PackageType::Maven => (
            vec!["Maven".into()],
            purl_name(purl.as_ref(), ":", package),
            package.version.clone(),
        ),
        PackageType::Gem => (
            vec!["RubyGems".into()],
            package.name.clone(),
            package.version.clone(),
        ),
        PackageType::Composer => (
            vec!["Packagist".into()],
            purl_name(purl.as_ref(), "/", package),
            package.version.clone(),
        ),
        PackageType::Nuget => (
            vec!["NuGet".into()],
            package.name.clone(),
            package.version.clone(),
        ),
        PackageType::Generic => return None,
    };
    if version.is_empty() || name.is_empty() {
        return None;
    }
    let name = normalize_name(&ecosystems[0], &name);
    Some(LookupKey {
        ecosystems,
        name,
        version,
    })
}

/// `namespace<sep>name` from the purl (npm scopes, Go module paths, Maven groups), else the
/// package's own name.
fn purl_name(purl: Option<&PurlParts>, separator: &str, package: &Package) -> String {
    match purl {
        Some(p) if !p.name.is_empty() => match &p.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}{separator}{}", p.name),
            _ => p.name.clone(),
        },
        _ => package.name.clone(),
    }
}

/// The OSV ecosystems of an OS package: from the image's os-release, else from the purl's
/// `distro` qualifier (`debian-12`, `alpine-3.20.3`).
fn os_ecosystems(
    kind: PackageType,
    distro: Option<&Distro>,
    purl: Option<&PurlParts>,
) -> Option<Vec<String>> {
    let (id, version) = match distro {
        Some(d) => (
            d.id.to_lowercase(),
            d.version_id
                .clone()
                .or_else(|| codename_release(d.codename.as_deref()?)),
        ),
        None => {
            let qualifier = purl?.distro.clone()?;
            let (id, version) = qualifier.split_once('-').unwrap_or((&qualifier, ""));
            let version = if version.is_empty() {
                None
            } else {
                Some(version.to_owned())
            };
            (id.to_lowercase(), version.or_else(|| codename_release(id)))
        }
    };
    let version = version?;
    let major = version.split('.').next().unwrap_or(&version).to_owned();
    let major_minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let ecosystems = match (kind, id.as_str()) {
        (PackageType::Deb, "debian") => vec![format!("Debian:{major}")],
        (PackageType::Deb, "ubuntu") => vec![
            format!("Ubuntu:{major_minor}:LTS"),
            format!("Ubuntu:{major_minor}"),
        ],
        (PackageType::Apk, "alpine") => vec![format!("Alpine:v{major_minor}")],
        (PackageType::Apk, "wolfi") => vec!["Wolfi".into()],
        (PackageType::Apk, "chainguard") => vec!["Chainguard".into()],
        (PackageType::Rpm, "rhel") => vec![format!("Red Hat:{major}")],
        (PackageType::Rpm, "sles" | "sled" | "sles_sap" | "sle_hpc") => {
            let minor = version.split('.').nth(1).unwrap_or("0");
            vec![format!("SUSE:{major}.{minor}")]
        }
        (PackageType::Rpm, "sle-micro" | "sl-micro") => vec![format!("SUSE:Micro {major_minor}")],
        (PackageType::Rpm, "opensuse-leap" | "opensuse") => {
            vec![format!("openSUSE:Leap {major_minor}")]
        }
        (PackageType::Rpm, "opensuse-tumbleweed") => vec!["openSUSE:Tumbleweed".into()],
        (PackageType::Rpm, "rocky") => vec![format!("Rocky Linux:{major}")],
        (PackageType::Rpm, "almalinux") => vec![format!("AlmaLinux:{major}")],
        (PackageType::Rpm, "mageia") => vec![format!("Mageia:{major}")],
        (PackageType::Rpm, "openeuler") => vec![format!("openEuler:{version}")],
        (PackageType::Rpm, "photon") => vec![format!("Photon OS:{major_minor}")],
        (PackageType::Rpm, "azurelinux") => vec![format!("Azure Linux:{major}")],
        (PackageType::Rpm, "mariner") => vec![format!("CBL-Mariner:{major}")],
        _ => return None,
    };
    Some(ecosystems)
}

/// Debian's release number for a codename (images of testing may lack `VERSION_ID`).
fn codename_release(codename: &str) -> Option<String> {
    let release = match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    };
    Some(release.to_owned())
}

/// The parts of a purl matching needs.
#[derive(Debug)]
struct PurlParts {
    namespace: Option<String>,
    name: String,
    distro: Option<String>,
}

fn parse_purl(text: &str) -> Option<PurlParts> {
    let purl: packageurl::PackageUrl<'_> = text.parse().ok()?;
    Some(PurlParts {
        namespace: purl.namespace().map(str::to_owned),
        name: purl.name().to_owned(),
        distro: purl.qualifiers().get("distro").map(|v| v.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(kind: PackageType, name: &str, version: &str, purl: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind,
            arch: None,
            source_name: None,
            source_version: None,
            licenses: vec![],
            purl: purl.into(),
            cpes: vec![],
            locations: vec![],
            found_by: "test".into(),
            metadata: Default::default(),
        }
    }

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: Some(version.into()),
            ..Default::default()
        }
    }

    #[test]
    fn red_hat_and_suse_streams_fold_into_releases() {
        assert_eq!(
            canonical("Red Hat:enterprise_linux:9::appstream"),
            "Red Hat:9"
        );
        assert_eq!(canonical("Red Hat:rhel_eus:8.6::baseos"), "Red Hat:8");
        assert_eq!(
            canonical("SUSE:Linux Enterprise Server 15 SP5"),
            "SUSE:15.5"
        );
        assert_eq!(
            canonical("SUSE:Linux Enterprise Module for Basesystem 15 SP5"),
            "SUSE:15.5"
        );
        assert_eq!(canonical("SUSE:Linux Enterprise Server 12"), "SUSE:12.0");
        assert_eq!(
            canonical("SUSE:Linux Enterprise Micro 5.5"),
            "SUSE:Micro 5.5"
        );
        assert_eq!(canonical("openSUSE:Leap 15.5"), "openSUSE:Leap 15.5");
        assert_eq!(canonical("Debian:12"), "Debian:12");
        let p = package(
            PackageType::Rpm,
            "openssl",
            "1:3.0.7-24.el9",
            "pkg:rpm/redhat/openssl@1:3.0.7-24.el9",
        );
        let eco = |id: &str, v: &str| lookup_key(Some(&distro(id, v)), &p).unwrap().ecosystems;
        assert_eq!(eco("rhel", "9.3"), ["Red Hat:9"]);
        assert_eq!(eco("sles", "15.5"), ["SUSE:15.5"]);
        assert_eq!(eco("sles", "12"), ["SUSE:12.0"]);
        assert_eq!(eco("opensuse-leap", "15.5"), ["openSUSE:Leap 15.5"]);
        assert_eq!(
            eco("opensuse-tumbleweed", "20240101"),
            ["openSUSE:Tumbleweed"]
        );
        assert_eq!(eco("sle-micro", "5.5"), ["SUSE:Micro 5.5"]);
    }

    #[test]
    fn pep503_names() {
        assert_eq!(
            normalize_name("PyPI", "Foo.Bar__baz-Qux"),
            "foo-bar-baz-qux"
        );
        assert_eq!(normalize_name("npm", "Foo_Bar"), "Foo_Bar");
    }

    #[test]
    fn debian_binary_package_is_looked_up_by_source() {
        let mut p = package(
            PackageType::Deb,
            "libssl3",
            "3.0.11-1~deb12u1",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u1",
        );
        p.source_name = Some("openssl".into());
        let key = lookup_key(Some(&distro("debian", "12")), &p).unwrap();
        assert_eq!(key.ecosystems, ["Debian:12"]);
        assert_eq!(key.name, "openssl");
        assert_eq!(key.version, "3.0.11-1~deb12u1");
    }

    #[test]
    fn os_releases_map_to_osv_ecosystems() {
        let p = package(
            PackageType::Apk,
            "musl",
            "1.2.5-r0",
            "pkg:apk/alpine/musl@1.2.5-r0",
        );
        assert_eq!(
            lookup_key(Some(&distro("alpine", "3.20.3")), &p)
                .unwrap()
                .ecosystems,
            ["Alpine:v3.20"]
        );
        let p = package(
            PackageType::Deb,
            "bash",
            "5.1-6ubuntu1",
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1",
        );
        assert_eq!(
            lookup_key(Some(&distro("ubuntu", "22.04")), &p)
                .unwrap()
                .ecosystems,
            ["Ubuntu:22.04:LTS", "Ubuntu:22.04"]
        );
        let p = package(
            PackageType::Deb,
            "bash",
            "5.2",
            "pkg:deb/debian/bash@5.2?distro=debian-12",
        );
        assert_eq!(lookup_key(None, &p).unwrap().ecosystems, ["Debian:12"]);
        let p = package(PackageType::Deb, "bash", "5.2", "pkg:deb/debian/bash@5.2");
        assert_eq!(lookup_key(None, &p), None, "no release, no lookup");
        let p = package(
            PackageType::Rpm,
            "bash",
            "5.1-1.el9",
            "pkg:rpm/rocky/bash@5.1-1.el9",
        );
        assert_eq!(
            lookup_key(Some(&distro("rocky", "9.3")), &p)
                .unwrap()
                .ecosystems,
            ["Rocky Linux:9"]
        );
    }

    #[test]
    fn rpm_packages_are_looked_up_by_source_and_binary_name() {
        let mut p = package(
            PackageType::Rpm,
            "libtiff-tools",
            "4.4.0-1.el9",
            "pkg:rpm/almalinux/libtiff-tools@4.4.0-1.el9",
        );
        p.source_name = Some("libtiff".into());
        let keys = lookup_keys(Some(&distro("almalinux", "9.1")), &p);
        let names: Vec<_> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["libtiff", "libtiff-tools"]);
        let mut d = package(
            PackageType::Deb,
            "libssl3",
            "3.0.11-1",
            "pkg:deb/debian/libssl3@3.0.11-1",
        );
        d.source_name = Some("openssl".into());
        assert_eq!(
            lookup_keys(Some(&distro("debian", "12")), &d).len(),
            1,
            "Debian: source only"
        );
    }

    #[test]
    fn language_names_come_from_the_purl() {
        let p = package(
            PackageType::Maven,
            "jackson-databind",
            "2.9.0",
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.0",
        );
        assert_eq!(
            lookup_key(None, &p).unwrap().name,
            "com.fasterxml.jackson.core:jackson-databind"
        );
        let p = package(
            PackageType::Npm,
            "core",
            "7.0.0",
            "pkg:npm/%40babel/core@7.0.0",
        );
        assert_eq!(lookup_key(None, &p).unwrap().name, "@babel/core");
        let p = package(
            PackageType::Golang,
            "net",
            "v0.1.0",
            "pkg:golang/golang.org/x/net@v0.1.0",
        );
        let key = lookup_key(None, &p).unwrap();
        assert_eq!(
            (key.name.as_str(), key.version.as_str()),
            ("golang.org/x/net", "0.1.0")
        );
        let p = package(
            PackageType::Pypi,
            "Django_Rest",
            "1.0",
            "pkg:pypi/django-rest@1.0",
        );
        assert_eq!(lookup_key(None, &p).unwrap().name, "django-rest");
    }
}
