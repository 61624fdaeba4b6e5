//! `docker-archive:PATH`: a `docker save` tarball (old layout `<id>/layer.tar` and the OCI-style
//! layout of Docker 25+, `blobs/sha256/<hex>`), read in place: the tar is indexed once and each
//! layer is then streamed from its offset, never extracted.

use super::manifest::{self, Parsed};
use super::{ImageSource, LayerStream, SourceOptions};
use crate::digest::sha256;
use crate::error::{Error, Result};
use crate::layer::normalize;
use crate::sbom::{LayerInfo, SourceInfo};
use oci_spec::image::ImageConfiguration;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Media type of an uncompressed Docker layer, as `docker save` stores them.
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// Most entries a `docker save` tarball may have (it holds a few per layer).
const MAX_ARCHIVE_ENTRIES: usize = 100_000;

/// One image in `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Where an archive member's bytes are.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    size: u64,
}

/// An image in a `docker save` tarball.
#[derive(Debug)]
pub struct DockerArchive {
    path: PathBuf,
    info: SourceInfo,
    spans: Vec<Span>,
    digests: Vec<Option<String>>,
}

impl DockerArchive {
    /// Indexes the tarball and reads its manifest and config.
    pub fn open(path: &Path, options: &SourceOptions) -> Result<Self> {
        let location = path.display().to_string();
        let members = index_members(path)?;
        let max = options.limits.max_metadata_bytes;
        let read = |name: &str| -> Result<Vec<u8>> {
            let span = members.get(name).ok_or_else(|| Error::Malformed {
                what: "docker archive",
                location: location.clone(),
                reason: format!("{name} is missing"),
            })?;
            read_span(path, *span, max)
        };
        let entries: Vec<RawManifestEntry> = serde_json::from_slice(&read("manifest.json")?)
            .map_err(|e| Error::Malformed {
                what: "manifest.json",
                location: location.clone(),
                reason: e.to_string(),
            })?;
        let Some(entry) = entries.into_iter().next() else {
            return Err(Error::Malformed {
                what: "manifest.json",
                location,
                reason: "it lists no image".into(),
            });
        };
        let config_name = normalize(&entry.config).unwrap_or_default();
        let config = read(&config_name)?;
        let config_digest = sha256(&config);
        if let Some(named) = blob_digest(&config_name) {
            manifest::verify(&config, &named, "image config", &location)?;
        }
        let parsed: ImageConfiguration =
            serde_json::from_slice(&config).map_err(|e| Error::Malformed {
                what: "image config",
                location: format!("{location}:{config_name}"),
                reason: e.to_string(),
            })?;
        let diff_ids = parsed.rootfs().diff_ids();
        if diff_ids.len() != entry.layers.len() {
            return Err(Error::Malformed {
                what: "manifest.json",
                location,
                reason: format!(
                    "{} layers listed but the config has {} diff ids",
                    entry.layers.len(),
                    diff_ids.len()
                ),
            });
        }
        // Docker 25+ also writes an OCI index.json naming the manifest: it gives the digest and
        // the layers' media types.
        let oci_manifest = members
            .get("index.json")
            .and_then(|span| read_span(path, *span, max).ok())
            .and_then(|bytes| oci_manifest(&bytes, &members, path, max, &location));
        let mut info = manifest::config_info(&parsed);
        let mut spans = Vec::new();
        let mut digests = Vec::new();
        for (i, (layer, diff_id)) in entry.layers.iter().zip(diff_ids).enumerate() {
            let name = normalize(layer).unwrap_or_default();
            let span = *members.get(&name).ok_or_else(|| Error::Malformed {
                what: "docker archive",
                location: location.clone(),
                reason: format!("layer {name} is missing"),
            })?;
            let digest = blob_digest(&name);
            let media_type = oci_manifest
                .as_ref()
                .and_then(|(_, m)| m.layers().get(i))
                .map_or_else(|| DOCKER_LAYER.to_owned(), |d| d.media_type().to_string());
            info.layers.push(LayerInfo {
                digest: digest.clone().unwrap_or_else(|| diff_id.clone()),
                diff_id: diff_id.clone(),
                media_type,
                size: span.size,
            });
            spans.push(span);
            digests.push(digest);
        }
        info.kind = "docker-archive".into();
        info.name = location.clone();
        info.digest = oci_manifest.map(|(digest, _)| digest);
        info.config_digest = Some(config_digest);
        info.tags = entry.repo_tags.unwrap_or_default();
        manifest::check_platform(&info, options.platform.as_ref(), &location)?;
        Ok(Self {
            path: path.to_owned(),
            info,
            spans,
            digests,
        })
    }
}

impl ImageSource for DockerArchive {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream<'_>> {
        let span = self.spans[index];
        let io = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = std::fs::File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(span.offset)).map_err(io)?;
        Ok(LayerStream {
            reader: Box::new(std::io::BufReader::with_capacity(
                256 << 10,
                file.take(span.size),
            )),
            digest: self.digests[index].clone(),
        })
    }
}

/// `sha256:<hex>` for an OCI-style member name `blobs/sha256/<hex>`.
fn blob_digest(name: &str) -> Option<String> {
    let hex = name.strip_prefix("blobs/sha256/")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// The manifest digest and manifest named by an archive's `index.json`, when it has one.
fn oci_manifest(
    index: &[u8],
    members: &HashMap<String, Span>,
    path: &Path,
    max: u64,
    location: &str,
) -> Option<(String, oci_spec::image::ImageManifest)> {
    let Ok(Parsed::Index(index)) = manifest::parse(index, location) else {
        return None;
    };
    let descriptor = index.manifests().first()?;
    let digest = descriptor.digest().to_string();
    let name = format!("blobs/{}", digest.replace(':', "/"));
    let bytes = read_span(path, *members.get(&name)?, max).ok()?;
    manifest::verify(&bytes, &digest, "manifest", location).ok()?;
    match manifest::parse(&bytes, location).ok()? {
        Parsed::Image(m) => Some((digest, *m)),
        Parsed::Index(_) => None,
    }
}

/// Every regular member of the tarball and where its bytes are, seeking over the data.
fn index_members(path: &Path) -> Result<HashMap<String, Span>> {
    let location = path.display().to_string();
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 4];
    let got = file.read(&mut magic).map_err(io)?;
    if crate::layer::Compression::detect(&magic[..got]) != crate::layer::Compression::None {
        return Err(Error::Malformed {
            what: "docker archive",
            location,
            reason:
                "the archive is compressed; decompress it first (`docker save` writes a plain tar)"
                    .into(),
        });
    }
    file.rewind().map_err(io)?;
    let mut archive = tar::Archive::new(file);
    let malformed = |e: std::io::Error| Error::Malformed {
        what: "docker archive",
        location: location.clone(),
        reason: e.to_string(),
    };
    let mut members = HashMap::new();
    for entry in archive.entries_with_seek().map_err(malformed)? {
        let entry = entry.map_err(malformed)?;
        if members.len() >= MAX_ARCHIVE_ENTRIES {
            return Err(Error::LimitExceeded {
                what: "number of archive members",
                location,
                limit: MAX_ARCHIVE_ENTRIES.to_string(),
            });
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if let Some(name) = normalize(&name) {
            members.insert(
                name,
                Span {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
            );
        }
    }
    Ok(members)
}

fn read_span(path: &Path, span: Span, max: u64) -> Result<Vec<u8>> {
    if span.size > max {
        return Err(Error::LimitExceeded {
            what: "metadata file size",
            location: path.display().to_string(),
            limit: crate::limits::human_bytes(max),
        });
    }
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(span.offset)).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(span.size).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
