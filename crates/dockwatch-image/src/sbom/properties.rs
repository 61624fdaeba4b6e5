//! Name/value properties that carry what CycloneDX and SPDX have no field for (locations, layers,
//! the cataloger, image config), written as CycloneDX `properties` and SPDX annotations, and read
//! back, also from Syft's and Trivy's property names.

use super::{LayerInfo, SourceInfo};
use dockwatch_core::{Distro, Location, Package, PackageType};
use std::collections::BTreeMap;

/// The properties of one package, in a fixed order. `extra_cpes`: also list the CPEs after the first
/// (CycloneDX has a single `cpe` field; SPDX lists every CPE as an external reference).
pub(crate) fn package_properties(p: &Package, extra_cpes: bool) -> Vec<(String, String)> {
    let mut out = vec![
        ("dockwatch:package:type".to_string(), p.kind.to_string()),
        ("dockwatch:package:foundBy".to_string(), p.found_by.clone()),
    ];
    if let Some(arch) = &p.arch {
        out.push(("dockwatch:package:arch".into(), arch.clone()));
    }
    if let Some(name) = &p.source_name {
        out.push(("dockwatch:package:sourceName".into(), name.clone()));
    }
    if let Some(version) = &p.source_version {
        out.push(("dockwatch:package:sourceVersion".into(), version.clone()));
    }
    if extra_cpes {
        for cpe in p.cpes.iter().skip(1) {
            out.push(("dockwatch:package:cpe".into(), cpe.clone()));
        }
    }
    for (i, l) in p.locations.iter().enumerate() {
        out.push((format!("dockwatch:location:{i}:path"), l.path.clone()));
        if let Some(layer) = &l.layer {
            out.push((format!("dockwatch:location:{i}:layerDiffID"), layer.clone()));
        }
    }
    for (k, v) in &p.metadata {
        out.push((format!("dockwatch:metadata:{k}"), v.clone()));
    }
    out
}

/// Collects the properties of one package as they are read, then fills in the package.
#[derive(Debug, Default)]
pub(crate) struct PackagePropertyReader {
    kind: Option<PackageType>,
    found_by: Option<String>,
    arch: Option<String>,
    source_name: Option<String>,
    source_version: Option<String>,
    trivy: TrivySource,
    cpes: Vec<String>,
    locations: BTreeMap<usize, (Option<String>, Option<String>)>,
    metadata: BTreeMap<String, String>,
}

impl PackagePropertyReader {
    /// Takes one property; names that mean nothing here are ignored.
    pub(crate) fn read(&mut self, name: &str, value: &str) {
        let value = value.to_string();
        match name {
            "dockwatch:package:type" => self.kind = parse_kind(&value),
            "dockwatch:package:foundBy" | "syft:package:foundBy" => self.found_by = Some(value),
            "dockwatch:package:arch" => self.arch = Some(value),
            "dockwatch:package:sourceName" => self.source_name = Some(value),
            "dockwatch:package:sourceVersion" => self.source_version = Some(value),
            "aquasecurity:trivy:SrcName" => self.trivy.name = Some(value),
            "aquasecurity:trivy:SrcVersion" => self.trivy.version = Some(value),
            "aquasecurity:trivy:SrcRelease" => self.trivy.release = Some(value),
            "aquasecurity:trivy:SrcEpoch" => self.trivy.epoch = Some(value),
            "aquasecurity:trivy:PkgType" => self.trivy.pkg_type = Some(value),
            "dockwatch:package:cpe" | "syft:cpe23" => self.cpes.push(value),
            // Trivy names one file and one layer per package.
            "aquasecurity:trivy:FilePath" => {
                let path = if value.starts_with('/') {
                    value
                } else {
                    format!("/{value}")
                };
                self.locations.entry(0).or_default().0 = Some(path);
            }
            "aquasecurity:trivy:LayerDiffID" => {
                self.locations.entry(0).or_default().1 = Some(value);
            }
            _ => {
                if let Some(key) = name.strip_prefix("dockwatch:metadata:") {
                    self.metadata.insert(key.to_string(), value);
                } else if let Some((index, field)) = location_property(name) {
                    let slot = self.locations.entry(index).or_default();
                    match field {
                        "path" => slot.0 = Some(value),
                        _ => slot.1 = Some(value),
                    }
                }
            }
        }
    }

    /// Takes Trivy's SPDX `sourceInfo`, `built package from: glibc 2.36-9`.
    pub(crate) fn read_source_info(&mut self, source_info: &str) {
        let Some(rest) = source_info.strip_prefix("built package from: ") else {
            return;
        };
        let mut words = rest.split_whitespace();
        if let (Some(name), version) = (words.next(), words.next()) {
            self.trivy.name = Some(name.to_string());
            self.trivy.version = version.map(str::to_string);
        }
    }

    /// Writes what was read into `p`; fields without a property keep their value.
    pub(crate) fn apply(self, p: &mut Package) {
        // A document Dockwatch wrote says everything in properties: what is absent was absent.
        let written_by_dockwatch = self.kind.is_some();
        if let Some(kind) = self.kind {
            p.kind = kind;
        } else if p.kind == PackageType::Generic {
            p.kind = self
                .trivy
                .pkg_type
                .as_deref()
                .map_or(p.kind, trivy_package_type);
        }
        if let Some(found_by) = self.found_by {
            p.found_by = found_by;
        }
        p.arch = if written_by_dockwatch {
            self.arch
        } else {
            self.arch.or(p.arch.take())
        };
        p.source_name = self.source_name.or(p.source_name.take());
        p.source_version = self.source_version.or(p.source_version.take());
        if p.source_name.is_none() && p.source_version.is_none() && !written_by_dockwatch {
            // apk always records an origin; peers leave it out when it is the package itself.
            let (name, version) = match self.trivy.full_version() {
                Some(version) => (self.trivy.name, Some(version)),
                None => upstream_of_purl(&p.purl, p.kind),
            };
            set_source(p, name, version);
        }
        p.cpes.extend(self.cpes);
        let kind = p.kind;
        p.locations
            .extend(self.locations.into_values().filter_map(|(path, layer)| {
                // Trivy gives OS packages a layer but no file: the package database is the evidence.
                let path = path.or_else(|| layer.as_ref().and(package_database(kind)))?;
                Some(Location { path, layer })
            }));
        p.metadata.extend(self.metadata);
    }
}

/// Records a source package read from another tool's SBOM as Dockwatch's catalogers record it:
/// rpm and apk always name the source package (SOURCERPM, origin), dpkg only when it differs; a
/// version only when it differs (an rpm source version has no epoch). Trivy repeats the
/// package's own name and version.
pub(crate) fn set_source(p: &mut Package, name: Option<String>, version: Option<String>) {
    // A source rpm's version has no epoch (its file name has none); Trivy lends it the binary's.
    let without_epoch = |v: &str| v.split_once(':').map_or(v, |(_, rest)| rest).to_string();
    let (own_version, version) = match p.kind {
        PackageType::Rpm => (
            without_epoch(&p.version),
            version.map(|v| without_epoch(&v)),
        ),
        _ => (p.version.clone(), version),
    };
    p.source_version =
        version.filter(|v| !v.is_empty() && *v != own_version && p.kind != PackageType::Apk);
    let name = name.filter(|n| !n.is_empty());
    p.source_name = match p.kind {
        PackageType::Apk => name.or_else(|| Some(p.name.clone())),
        PackageType::Rpm => name,
        _ => name.filter(|n| *n != p.name || p.source_version.is_some()),
    };
}

/// `bash-5.1.8-6.el9.src.rpm` → (`bash`, `5.1.8-6.el9`).
pub(crate) fn split_source_rpm(file: &str) -> (Option<String>, Option<String>) {
    let stem = file.trim_end_matches(".rpm").trim_end_matches(".src");
    let mut parts = stem.rsplitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(release), Some(version), Some(name)) => {
            (Some(name.to_string()), Some(format!("{version}-{release}")))
        }
        _ => (Some(stem.to_string()), None),
    }
}

/// Trivy's source package, written in parts.
#[derive(Debug, Default)]
struct TrivySource {
    name: Option<String>,
    version: Option<String>,
    release: Option<String>,
    epoch: Option<String>,
    pkg_type: Option<String>,
}

impl TrivySource {
    /// `epoch:version-release`, as Dockwatch writes versions; `None` without a version.
    fn full_version(&self) -> Option<String> {
        let mut full = self.version.clone()?;
        if let Some(release) = self.release.as_deref().filter(|r| !r.is_empty()) {
            full = format!("{full}-{release}");
        }
        if let Some(epoch) = self.epoch.as_deref().filter(|e| !e.is_empty() && *e != "0") {
            full = format!("{epoch}:{full}");
        }
        Some(full)
    }
}

/// Trivy's `PkgType` (its analyzer names) as a package type.
fn trivy_package_type(pkg_type: &str) -> PackageType {
    match pkg_type {
        "debian" | "ubuntu" => PackageType::Deb,
        "alpine" | "wolfi" | "chainguard" => PackageType::Apk,
        "redhat"
        | "centos"
        | "rocky"
        | "alma"
        | "amazon"
        | "fedora"
        | "oracle"
        | "suse"
        | "opensuse"
        | "opensuse.leap"
        | "opensuse.tumbleweed"
        | "sles"
        | "photon"
        | "azurelinux"
        | "cbl-mariner" => PackageType::Rpm,
        "npm" | "node-pkg" | "yarn" | "pnpm" => PackageType::Npm,
        "pip" | "pipenv" | "poetry" | "python-pkg" | "uv" => PackageType::Pypi,
        "gomod" | "gobinary" => PackageType::Golang,
        "cargo" | "rust-binary" => PackageType::Cargo,
        "jar" | "pom" | "gradle" | "sbt" => PackageType::Maven,
        "bundler" | "gemspec" => PackageType::Gem,
        "composer" | "composer-vendor" => PackageType::Composer,
        "nuget" | "dotnet-core" | "packages-props" => PackageType::Nuget,
        _ => PackageType::Generic,
    }
}

/// The source package named by a purl's `upstream` qualifier, as Syft writes it: `glibc` or
/// `attr@1:2.4.47-2` for deb and apk, `bash-5.1.8-6.el9.src.rpm` for rpm.
pub(crate) fn upstream_of_purl(purl: &str, kind: PackageType) -> (Option<String>, Option<String>) {
    use std::str::FromStr;
    let Ok(parsed) = packageurl::PackageUrl::from_str(purl) else {
        return (None, None);
    };
    let Some(upstream) = parsed
        .qualifiers()
        .iter()
        .find(|(k, _)| k.as_ref() == "upstream")
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
    else {
        return (None, None);
    };
    match kind {
        PackageType::Rpm => split_source_rpm(&upstream),
        _ => match upstream.split_once('@') {
            Some((name, version)) => (Some(name.to_string()), Some(version.to_string())),
            None => (Some(upstream), None),
        },
    }
}

/// Where an OS package manager keeps its database (rpm: the folder, whichever format is in it).
fn package_database(kind: PackageType) -> Option<String> {
    let path = match kind {
        PackageType::Deb => "/var/lib/dpkg/status",
        PackageType::Apk => "/lib/apk/db/installed",
        PackageType::Rpm => "/var/lib/rpm",
        _ => return None,
    };
    Some(path.to_string())
}

/// `dockwatch:location:3:path` → `(3, "path")`; `syft:location:0:layerID` → `(0, "layer")`.
fn location_property(name: &str) -> Option<(usize, &'static str)> {
    let rest = name
        .strip_prefix("dockwatch:location:")
        .or_else(|| name.strip_prefix("syft:location:"))?;
    let (index, field) = rest.split_once(':')?;
    let field = match field {
        "path" => "path",
        "layerDiffID" | "layerID" => "layer",
        _ => return None,
    };
    Some((index.parse().ok()?, field))
}

fn parse_kind(value: &str) -> Option<PackageType> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

/// The properties of the analyzed image (or folder): what `SourceInfo` holds beyond its name and
/// digest. The environment is left out on purpose: SBOMs are shared widely and `ENV` often
/// carries credentials.
pub(crate) fn image_properties(s: &SourceInfo) -> Vec<(String, String)> {
    let mut out = vec![("dockwatch:source:kind".to_string(), s.kind.clone())];
    let optional = [
        ("dockwatch:image:configDigest", &s.config_digest),
        ("dockwatch:image:architecture", &s.architecture),
        ("dockwatch:image:os", &s.os),
        ("dockwatch:image:variant", &s.variant),
        ("dockwatch:image:user", &s.user),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            out.push((name.to_string(), v.clone()));
        }
    }
    for tag in &s.tags {
        out.push(("dockwatch:image:tag".into(), tag.clone()));
    }
    for (name, list) in [
        ("dockwatch:image:entrypoint", &s.entrypoint),
        ("dockwatch:image:cmd", &s.cmd),
    ] {
        if !list.is_empty() {
            let json = serde_json::to_string(list).unwrap_or_default();
            out.push((name.to_string(), json));
        }
    }
    for (k, v) in &s.labels {
        out.push((format!("dockwatch:image:label:{k}"), v.clone()));
    }
    for (i, l) in s.layers.iter().enumerate() {
        out.push((
            format!("dockwatch:image:layer:{i}:digest"),
            l.digest.clone(),
        ));
        out.push((
            format!("dockwatch:image:layer:{i}:diffID"),
            l.diff_id.clone(),
        ));
        out.push((
            format!("dockwatch:image:layer:{i}:mediaType"),
            l.media_type.clone(),
        ));
        out.push((
            format!("dockwatch:image:layer:{i}:size"),
            l.size.to_string(),
        ));
    }
    out
}

/// Collects image properties (Dockwatch's and Trivy's) into a `SourceInfo`.
#[derive(Debug, Default)]
pub(crate) struct ImagePropertyReader {
    layers: BTreeMap<usize, LayerInfo>,
    trivy_diff_ids: Vec<String>,
}

impl ImagePropertyReader {
    /// Takes one property of the image.
    pub(crate) fn read(&mut self, s: &mut SourceInfo, name: &str, value: &str) {
        let v = value.to_string();
        match name {
            "dockwatch:source:kind" => s.kind = v,
            "dockwatch:image:configDigest" | "aquasecurity:trivy:ImageID" => {
                s.config_digest = Some(v)
            }
            "dockwatch:image:architecture" => s.architecture = Some(v),
            "dockwatch:image:os" => s.os = Some(v),
            "dockwatch:image:variant" => s.variant = Some(v),
            "dockwatch:image:user" => s.user = Some(v),
            "dockwatch:image:tag" | "aquasecurity:trivy:RepoTag" => s.tags.push(v),
            "aquasecurity:trivy:RepoDigest" => {
                if let Some((_, digest)) = value.split_once('@') {
                    s.digest.get_or_insert_with(|| digest.to_string());
                }
            }
            "aquasecurity:trivy:DiffID" => self.trivy_diff_ids.push(v),
            "dockwatch:image:entrypoint" => {
                s.entrypoint = serde_json::from_str(value).unwrap_or_default()
            }
            "dockwatch:image:cmd" => s.cmd = serde_json::from_str(value).unwrap_or_default(),
            _ => {
                if let Some(key) = name.strip_prefix("dockwatch:image:label:") {
                    s.labels.insert(key.to_string(), v);
                } else if let Some(rest) = name.strip_prefix("dockwatch:image:layer:") {
                    let Some((index, field)) = rest.split_once(':') else {
                        return;
                    };
                    let Ok(index) = index.parse() else { return };
                    let layer = self.layers.entry(index).or_default();
                    match field {
                        "digest" => layer.digest = v,
                        "diffID" => layer.diff_id = v,
                        "mediaType" => layer.media_type = v,
                        "size" => layer.size = value.parse().unwrap_or(0),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Adds the layers read to `s`.
    pub(crate) fn finish(self, s: &mut SourceInfo) {
        if !self.layers.is_empty() {
            s.layers = self.layers.into_values().collect();
        } else if !self.trivy_diff_ids.is_empty() {
            s.layers = self
                .trivy_diff_ids
                .into_iter()
                .map(|diff_id| LayerInfo {
                    diff_id,
                    ..Default::default()
                })
                .collect();
        }
    }
}

/// The properties of the operating system beyond its id, version and pretty name.
pub(crate) fn distro_properties(d: &Distro) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(codename) = &d.codename {
        out.push(("dockwatch:distro:codename".to_string(), codename.clone()));
    }
    for like in &d.id_like {
        out.push(("dockwatch:distro:idLike".to_string(), like.clone()));
    }
    out
}

/// Takes one property of the operating system (Dockwatch's or Syft's).
pub(crate) fn read_distro_property(d: &mut Distro, name: &str, value: &str) {
    match name {
        "dockwatch:distro:codename" | "syft:distro:versionCodename" => {
            d.codename = Some(value.to_string())
        }
        "dockwatch:distro:idLike" => d.id_like.push(value.to_string()),
        "syft:distro:id" => d.id = value.to_string(),
        "syft:distro:versionID" => d.version_id = Some(value.to_string()),
        "syft:distro:prettyName" => d.pretty_name = Some(value.to_string()),
        _ if name.starts_with("syft:distro:idLike:") => d.id_like.push(value.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_packages_from_trivy_parts_and_syft_upstream_qualifiers() {
        let mut r = PackagePropertyReader::default();
        r.read("aquasecurity:trivy:SrcName", "attr");
        r.read("aquasecurity:trivy:SrcVersion", "2.4.47");
        r.read("aquasecurity:trivy:SrcRelease", "2");
        r.read("aquasecurity:trivy:SrcEpoch", "1");
        let mut p = package(PackageType::Deb, "libattr1", "1:2.4.47-2build1", "");
        r.apply(&mut p);
        assert_eq!(p.source_name.as_deref(), Some("attr"));
        assert_eq!(p.source_version.as_deref(), Some("1:2.4.47-2"));

        let mut p = package(
            PackageType::Deb,
            "libc6",
            "2.36-9",
            "pkg:deb/debian/libc6@2.36-9?arch=amd64&upstream=glibc",
        );
        PackagePropertyReader::default().apply(&mut p);
        assert_eq!(p.source_name.as_deref(), Some("glibc"));
        assert_eq!(p.source_version, None);

        let mut p = package(
            PackageType::Rpm,
            "bash",
            "1:5.1.8-6.el9",
            "pkg:rpm/redhat/bash@5.1.8-6.el9?epoch=1&upstream=bash-5.1.8-6.el9.src.rpm",
        );
        PackagePropertyReader::default().apply(&mut p);
        assert_eq!(
            p.source_name.as_deref(),
            Some("bash"),
            "rpm names its source rpm"
        );
        assert_eq!(p.source_version, None, "the same version, less the epoch");

        let mut r = PackagePropertyReader::default();
        r.read("aquasecurity:trivy:PkgType", "alpine");
        let mut p = package(PackageType::Generic, "musl", "1.2.3-r0", "");
        r.apply(&mut p);
        assert_eq!(p.kind, PackageType::Apk);
    }

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
            found_by: "sbom".into(),
            metadata: BTreeMap::new(),
        }
    }

    #[test]
    fn syft_and_trivy_location_properties_are_read() {
        let mut p = Package {
            name: "musl".into(),
            version: "1.2.3-r0".into(),
            kind: PackageType::Apk,
            arch: None,
            source_name: None,
            source_version: None,
            licenses: vec![],
            purl: String::new(),
            cpes: vec![],
            locations: vec![],
            found_by: "sbom".into(),
            metadata: BTreeMap::new(),
        };
        let mut r = PackagePropertyReader::default();
        r.read("syft:location:1:path", "/b");
        r.read("syft:location:0:layerID", "sha256:l0");
        r.read("syft:location:0:path", "/a");
        r.read("syft:package:foundBy", "apk-db-cataloger");
        r.read("aquasecurity:trivy:SrcName", "musl");
        r.read("aquasecurity:trivy:SrcVersion", "1.2.3-r0");
        r.apply(&mut p);
        assert_eq!(
            p.locations,
            vec![
                Location {
                    path: "/a".into(),
                    layer: Some("sha256:l0".into())
                },
                Location {
                    path: "/b".into(),
                    layer: None
                }
            ]
        );
        assert_eq!(p.found_by, "apk-db-cataloger");
        assert_eq!(
            p.source_name.as_deref(),
            Some("musl"),
            "apk origin, always named"
        );
        assert_eq!(p.source_version, None);
    }
}
