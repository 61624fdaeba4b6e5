//! Image sources: where an image or filesystem comes from.
//!
//! To add a source: write `source/<kind>.rs`, add its prefix to [`SourceSpec::parse`], and add
//! fixtures, including hostile ones.

use crate::error::{Error, Result};
use std::path::PathBuf;

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
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            SourceSpec::parse(tmp.path().to_str().unwrap()).unwrap(),
            SourceSpec::Dir(tmp.path().into())
        );
    }
}
