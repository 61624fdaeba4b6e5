//! Image sources: where an image or filesystem comes from.
//!
//! To add a source: write `source/<kind>.rs`, add its prefix to [`SourceSpec::parse`], and add
//! fixtures, including hostile ones.

pub mod dir;
pub mod docker_archive;
pub mod manifest;
pub mod oci_dir;
pub mod registry;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::sbom::SourceInfo;
use std::io::Read;
use std::path::PathBuf;

/// An opened image: its identity, and its layers to read as streams.
pub trait ImageSource: Send + Sync {
    /// What the image is: digest, tags, config and layers (bottom first).
    fn info(&self) -> &SourceInfo;

    /// Opens the blob of layer `index` (into `info().layers`) as a stream, raw as stored.
    fn open_layer(&self, index: usize) -> Result<LayerStream<'_>>;
}

/// A layer blob being read, and what is known in advance to verify it.
pub struct LayerStream<'a> {
    /// The bytes of the blob as stored (compressed or not).
    pub reader: Box<dyn Read + Send + 'a>,
    /// The digest the stored bytes must have, when the source names the blob by digest.
    pub digest: Option<String>,
}

/// How to open a source.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// The platform to pick from a multi-platform image; `None` means this machine's.
    pub platform: Option<Platform>,
    /// Talk plain HTTP to registries (`--insecure`).
    pub insecure: bool,
    /// Bounds against hostile input.
    pub limits: Limits,
}

/// An image platform: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`...
    pub os: String,
    /// The Go-style architecture name: `amd64`, `arm64`, `arm`, `386`...
    pub architecture: String,
    /// `v7`, `v8`...
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(input: &str) -> Result<Self> {
        let parts: Vec<&str> = input.split('/').collect();
        let invalid = || Error::InvalidPlatform {
            input: input.to_owned(),
        };
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Self {
                    os: (*os).to_owned(),
                    architecture: (*arch).to_owned(),
                    variant: Some((*variant).to_owned()),
                })
            }
            _ => Err(invalid()),
        }
    }

    /// The platform of this machine, in image terms (`linux/amd64` on x86-64 Linux).
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Self {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Whether an image of `os/architecture/variant` runs on this platform. A platform without a
    /// variant accepts any variant.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == architecture
            && (self.variant.is_none() || self.variant.as_deref() == variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A source ready to be read.
pub enum Opened {
    /// An image made of layers.
    Image(Box<dyn ImageSource>),
    /// A root folder, walked as it is.
    Dir(PathBuf),
}

/// Opens `spec`: reads its manifest and config (verifying their digests), not yet its layers.
pub fn open(spec: &SourceSpec, options: &SourceOptions) -> Result<Opened> {
    Ok(match spec {
        SourceSpec::Registry(reference) => {
            Opened::Image(Box::new(registry::RegistryImage::open(reference, options)?))
        }
        SourceSpec::OciDir(path) => Opened::Image(Box::new(oci_dir::OciDir::open(path, options)?)),
        SourceSpec::DockerArchive(path) => Opened::Image(Box::new(
            docker_archive::DockerArchive::open(path, options)?,
        )),
        SourceSpec::Dir(path) => Opened::Dir(path.clone()),
        SourceSpec::Sbom(path) => {
            return Err(Error::InvalidSource {
                input: path.display().to_string(),
                reason: "an existing SBOM is read by `scan`, not analyzed again".into(),
            });
        }
    })
}

/// A parsed SOURCE argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// `registry:REF` or a plain image reference.
    Registry(String),
    /// `oci-dir:PATH`, an OCI image layout.
    OciDir(PathBuf),
    /// `docker-archive:PATH`, a `docker save` tarball.
    DockerArchive(PathBuf),
    /// `dir:PATH`, a root filesystem.
    Dir(PathBuf),
    /// `sbom:PATH`, an existing SBOM (only for `scan`).
    Sbom(PathBuf),
}

impl SourceSpec {
    /// Parses a SOURCE argument; a plain path that exists is detected by its shape.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidSource {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some((prefix, rest)) = input.split_once(':') {
            let path = || {
                if rest.is_empty() {
                    Err(invalid("the path after the prefix is empty"))
                } else {
                    Ok(PathBuf::from(rest))
                }
            };
            match prefix {
                "registry" | "docker" => {
                    return if rest.is_empty() {
                        Err(invalid("the reference after `registry:` is empty"))
                    } else {
                        Ok(Self::Registry(rest.to_owned()))
                    };
                }
                "oci-dir" | "oci" => return Ok(Self::OciDir(path()?)),
                "docker-archive" => return Ok(Self::DockerArchive(path()?)),
                "dir" => return Ok(Self::Dir(path()?)),
                "sbom" => return Ok(Self::Sbom(path()?)),
                _ => {}
            }
        }
        let path = PathBuf::from(input);
        if path.is_dir() {
            if path.join("oci-layout").is_file() {
                return Ok(Self::OciDir(path));
            }
            return Ok(Self::Dir(path));
        }
        if path.is_file() {
            let name = input.to_ascii_lowercase();
            if name.ends_with(".json") || name.ends_with(".spdx") {
                return Ok(Self::Sbom(path));
            }
            return Ok(Self::DockerArchive(path));
        }
        if input.is_empty() || input.chars().any(char::is_whitespace) {
            return Err(invalid("not an existing path nor an image reference"));
        }
        Ok(Self::Registry(input.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_plain_references() {
        assert_eq!(
            SourceSpec::parse("alpine:3.20").unwrap(),
            SourceSpec::Registry("alpine:3.20".into())
        );
        assert_eq!(
            SourceSpec::parse("registry:host:5000/r@sha256:ab").unwrap(),
            SourceSpec::Registry("host:5000/r@sha256:ab".into())
        );
        assert_eq!(
            SourceSpec::parse("oci-dir:/x").unwrap(),
            SourceSpec::OciDir("/x".into())
        );
        assert_eq!(
            SourceSpec::parse("docker-archive:a.tar").unwrap(),
            SourceSpec::DockerArchive("a.tar".into())
        );
        assert!(SourceSpec::parse("dir:").is_err());
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert!(Platform::parse("linux").is_err());
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            SourceSpec::parse(tmp.path().to_str().unwrap()).unwrap(),
            SourceSpec::Dir(tmp.path().into())
        );
    }
}
