//! The package model: what a cataloger finds, what an SBOM lists and what matching reads.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The ecosystem a package belongs to. Its serialized name is the purl type where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    /// Debian and Ubuntu packages (dpkg).
    Deb,
    /// Alpine packages (apk).
    Apk,
    /// RPM packages (Red Hat, Fedora, SUSE, Amazon Linux, Mariner...).
    Rpm,
    /// Python distributions (PyPI).
    Pypi,
    /// JavaScript packages (npm registry).
    Npm,
    /// Go modules.
    Golang,
    /// Rust crates.
    Cargo,
    /// Java archives (Maven coordinates).
    Maven,
    /// Ruby gems.
    Gem,
    /// PHP packages (Packagist).
    Composer,
    /// .NET packages.
    Nuget,
    /// Anything identified some other way (a binary's version string).
    Generic,
}

impl PackageType {
    /// The purl type and the serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Apk => "apk",
            Self::Rpm => "rpm",
            Self::Pypi => "pypi",
            Self::Npm => "npm",
            Self::Golang => "golang",
            Self::Cargo => "cargo",
            Self::Maven => "maven",
            Self::Gem => "gem",
            Self::Composer => "composer",
            Self::Nuget => "nuget",
            Self::Generic => "generic",
        }
    }

    /// Whether the package comes from the operating system's package manager.
    pub fn is_os(self) -> bool {
        matches!(self, Self::Deb | Self::Apk | Self::Rpm)
    }
}

impl std::fmt::Display for PackageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a package was seen: a path in the final filesystem and the layer that put it there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the image, starting with `/`.
    pub path: String,
    /// The diff id (`sha256:...`) of the layer that introduced the file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// The operating system release, from os-release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`, e.g. `debian`, `alpine`, `rhel`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`, `3.20.3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `ID_LIKE`, split on spaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// `PRETTY_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

/// One package found in an image or a filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The package name as its ecosystem writes it.
    pub name: String,
    /// The version as its ecosystem writes it (dpkg `epoch:upstream-revision`, rpm
    /// `epoch:version-release`, ...).
    pub version: String,
    /// The ecosystem.
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// The architecture (`amd64`, `x86_64`, `noarch`...), for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package name (dpkg `Source:`, rpm `SOURCERPM` name, apk `origin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package version, when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Licenses: SPDX identifiers or expressions where known, else the text the database has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The package URL.
    pub purl: String,
    /// CPE 2.3 names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    /// The files that evidence the package (its database entry first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Which cataloger found it.
    pub found_by: String,
    /// Anything else the ecosystem records that users may want (maintainer, size, vendor...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Package {
    /// The layer that introduced the package: that of its first location.
    pub fn layer(&self) -> Option<&str> {
        self.locations.first().and_then(|l| l.layer.as_deref())
    }

    /// A key that orders packages deterministically in every output.
    pub fn sort_key(&self) -> (PackageType, &str, &str, &str) {
        (self.kind, &self.name, &self.version, &self.purl)
    }
}
