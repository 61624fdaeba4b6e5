//! `oci-dir:PATH`: an OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/...`).

use super::manifest::{self, Parsed};
use super::{ImageSource, LayerStream, SourceOptions};
use crate::error::{Error, Result};
use crate::sbom::SourceInfo;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The annotation holding a tag in an OCI layout's index.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// How deep indexes may nest before the layout is refused.
const MAX_INDEX_DEPTH: usize = 4;

/// An image in an OCI layout folder.
#[derive(Debug)]
pub struct OciDir {
    root: PathBuf,
    info: SourceInfo,
}

impl OciDir {
    /// Reads the layout's index, manifest and config, verifying their digests.
    /// `root` may end in `:TAG` (as in skopeo's `oci:PATH:TAG`) to pick the image whose
    /// `org.opencontainers.image.ref.name` is TAG from a layout holding several.
    pub fn open(root: &Path, options: &SourceOptions) -> Result<Self> {
        let (root, wanted_tag) = split_tag(root);
        let root = root.as_path();
        let location = root.display().to_string();
        let max = options.limits.max_metadata_bytes;
        let index_path = root.join("index.json");
        let mut bytes = read_bounded(&index_path, max)?;
        let mut digest = None;
        let mut tags = Vec::new();
        for depth in 0..MAX_INDEX_DEPTH {
            match manifest::parse(&bytes, &location)? {
                Parsed::Index(mut index) => {
                    if let (0, Some(tag)) = (depth, &wanted_tag) {
                        filter_tag(&mut index, tag, &location)?;
                    }
                    let chosen = manifest::select(&index, options.platform.as_ref(), &location)?;
                    if let Some(tag) = chosen.annotations().as_ref().and_then(|a| a.get(REF_NAME)) {
                        tags.push(tag.clone());
                    }
                    let next = chosen.digest().to_string();
                    bytes = read_bounded(&blob_path(root, &next)?, max)?;
                    manifest::verify(&bytes, &next, "manifest", &location)?;
                    digest = Some(next);
                }
                Parsed::Image(image) => {
                    let config_digest = image.config().digest().to_string();
                    let config = read_bounded(&blob_path(root, &config_digest)?, max)?;
                    manifest::verify(&config, &config_digest, "image config", &location)?;
                    let mut info = manifest::describe(&image, &config, digest, &location)?;
                    manifest::check_platform(&info, options.platform.as_ref(), &location)?;
                    info.kind = "oci-dir".into();
                    info.name = location;
                    info.tags = tags;
                    return Ok(Self {
                        root: root.to_owned(),
                        info,
                    });
                }
            }
        }
        Err(Error::Malformed {
            what: "image index",
            location,
            reason: format!("indexes nest more than {MAX_INDEX_DEPTH} deep"),
        })
    }
}

impl ImageSource for OciDir {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream<'_>> {
        let layer = &self.info.layers[index];
        let path = blob_path(&self.root, &layer.digest)?;
        let file = std::fs::File::open(&path).map_err(|source| Error::Io { path, source })?;
        Ok(LayerStream {
            reader: Box::new(std::io::BufReader::with_capacity(256 << 10, file)),
            digest: Some(layer.digest.clone()),
        })
    }
}

/// Splits `PATH:TAG` when PATH is a folder and the whole is not.
fn split_tag(root: &Path) -> (PathBuf, Option<String>) {
    if !root.exists()
        && let Some((path, tag)) = root.to_string_lossy().rsplit_once(':')
        && !tag.is_empty()
        && !tag.contains('/')
        && Path::new(path).is_dir()
    {
        return (PathBuf::from(path), Some(tag.to_owned()));
    }
    (root.to_owned(), None)
}

/// Keeps only the index entries tagged `tag`.
fn filter_tag(index: &mut oci_spec::image::ImageIndex, tag: &str, location: &str) -> Result<()> {
    let ref_name = |d: &oci_spec::image::Descriptor| {
        d.annotations()
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .cloned()
    };
    let available: Vec<String> = index.manifests().iter().filter_map(ref_name).collect();
    let kept: Vec<_> = index
        .manifests()
        .iter()
        .filter(|d| ref_name(d).as_deref() == Some(tag))
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(Error::Malformed {
            what: "OCI layout",
            location: location.to_owned(),
            reason: format!("no image tagged {tag:?} (tags: {})", available.join(", ")),
        });
    }
    index.set_manifests(kept);
    Ok(())
}

/// `blobs/<algorithm>/<hex>` for a digest, refusing digests that are not plain hex (which could
/// otherwise name paths outside the layout).
pub fn blob_path(root: &Path, digest: &str) -> Result<PathBuf> {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("", ""));
    let valid = algorithm == "sha256"
        && hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return Err(Error::Malformed {
            what: "digest",
            location: root.display().to_string(),
            reason: format!("{digest:?} is not a sha256 digest"),
        });
    }
    Ok(root.join("blobs").join(algorithm).join(hex))
}

/// Reads a whole small file, refusing one larger than `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > max {
        return Err(Error::LimitExceeded {
            what: "metadata file size",
            location: path.display().to_string(),
            limit: crate::limits::human_bytes(max),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_never_leave_the_layout() {
        let root = Path::new("/layout");
        let hex = "a".repeat(64);
        assert_eq!(
            blob_path(root, &format!("sha256:{hex}")).unwrap(),
            root.join("blobs/sha256").join(&hex)
        );
        for bad in [
            "sha256:../../etc/passwd",
            "sha512:abc",
            "sha256:",
            &format!("sha256:{}/x", "a".repeat(62)),
        ] {
            assert!(blob_path(root, bad).is_err(), "{bad}");
        }
    }
}
