//! Image manifests, indexes and configs (OCI and Docker v2 schema 2, via `oci-spec`): parsing,
//! platform selection, and the image identity they give.

use super::Platform;
use crate::digest::sha256;
use crate::error::{Error, Result};
use crate::sbom::{LayerInfo, SourceInfo};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

/// Media types of manifests and indexes a registry is asked for.
pub const ACCEPTED_MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// A manifest document: an index (manifest list) or an image manifest.
#[derive(Debug)]
pub enum Parsed {
    /// An OCI index or a Docker manifest list.
    Index(Box<ImageIndex>),
    /// An OCI image manifest or a Docker v2 schema 2 manifest.
    Image(Box<ImageManifest>),
}

/// Parses a manifest or index, telling which it is from its content.
pub fn parse(bytes: &[u8], location: &str) -> Result<Parsed> {
    let malformed = |reason: String| Error::Malformed {
        what: "manifest",
        location: location.to_owned(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
    if value
        .get("schemaVersion")
        .and_then(serde_json::Value::as_u64)
        == Some(1)
    {
        return Err(malformed(
            "Docker v2 schema 1 manifests are not supported (re-push the image with a current tool)"
                .into(),
        ));
    }
    if value.get("manifests").is_some() {
        let index = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        return Ok(Parsed::Index(Box::new(index)));
    }
    if value.get("layers").is_some() {
        let manifest = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        return Ok(Parsed::Image(Box::new(manifest)));
    }
    Err(malformed("neither an image manifest nor an index".into()))
}

/// Checks that `bytes` have `expected` digest.
pub fn verify(bytes: &[u8], expected: &str, what: &'static str, location: &str) -> Result<()> {
    let actual = sha256(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            what,
            location: location.to_owned(),
            expected: expected.to_owned(),
            actual,
        })
    }
}

/// Picks the manifest for `platform` (this machine's when `None`) from an index.
pub fn select<'a>(
    index: &'a ImageIndex,
    platform: Option<&Platform>,
    location: &str,
) -> Result<&'a Descriptor> {
    let wanted = platform.cloned().unwrap_or_else(Platform::host);
    let images: Vec<&Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| !is_attestation(d))
        .collect();
    // One entry without a platform (as OCI layouts' index.json often are, possibly pointing to
    // a nested index): follow it; the image's own config is checked against `platform` later.
    if images.len() == 1 && images[0].platform().is_none() {
        return Ok(images[0]);
    }
    let matching = images.iter().copied().find(|d| {
        d.platform().as_ref().is_some_and(|p| {
            wanted.matches(
                &p.os().to_string(),
                &p.architecture().to_string(),
                p.variant().as_deref(),
            )
        })
    });
    matching.ok_or_else(|| Error::NoPlatform {
        location: location.to_owned(),
        platform: wanted.to_string(),
        available: images
            .iter()
            .map(|d| match d.platform() {
                Some(p) => {
                    let mut s = format!("{}/{}", p.os(), p.architecture());
                    if let Some(v) = p.variant() {
                        s = format!("{s}/{v}");
                    }
                    s
                }
                None => "unknown".into(),
            })
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Buildkit attestation manifests sit in indexes beside images with platform unknown/unknown.
fn is_attestation(d: &Descriptor) -> bool {
    d.annotations()
        .as_ref()
        .is_some_and(|a| a.contains_key("vnd.docker.reference.type"))
        || d.platform()
            .as_ref()
            .is_some_and(|p| p.os().to_string() == "unknown")
}

/// The image identity from its manifest and config. `kind` and `name` say where it came from.
pub fn describe(
    manifest: &ImageManifest,
    config_bytes: &[u8],
    manifest_digest: Option<String>,
    location: &str,
) -> Result<SourceInfo> {
    let config: ImageConfiguration =
        serde_json::from_slice(config_bytes).map_err(|e| Error::Malformed {
            what: "image config",
            location: location.to_owned(),
            reason: e.to_string(),
        })?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::Malformed {
            what: "image config",
            location: location.to_owned(),
            reason: format!(
                "the manifest lists {} layers but the config has {} diff ids",
                manifest.layers().len(),
                diff_ids.len()
            ),
        });
    }
    let layers = manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| LayerInfo {
            digest: layer.digest().to_string(),
            diff_id: diff_id.clone(),
            media_type: layer.media_type().to_string(),
            size: layer.size(),
        })
        .collect();
    let mut info = config_info(&config);
    info.digest = manifest_digest;
    info.config_digest = Some(manifest.config().digest().to_string());
    info.layers = layers;
    Ok(info)
}

/// The identity fields an image config gives.
pub fn config_info(config: &ImageConfiguration) -> SourceInfo {
    let inner = config.config().clone().unwrap_or_default();
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    SourceInfo {
        architecture: nonempty(&config.architecture().to_string()),
        os: nonempty(&config.os().to_string()),
        variant: config.variant().clone(),
        user: inner.user().clone().filter(|u| !u.is_empty()),
        env: inner.env().clone().unwrap_or_default(),
        labels: inner
            .labels()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        entrypoint: inner.entrypoint().clone().unwrap_or_default(),
        cmd: inner.cmd().clone().unwrap_or_default(),
        ..SourceInfo::default()
    }
}

/// Fails when the image's own platform is not the one explicitly asked for.
pub fn check_platform(
    info: &SourceInfo,
    platform: Option<&Platform>,
    location: &str,
) -> Result<()> {
    let Some(wanted) = platform else {
        return Ok(());
    };
    let os = info.os.as_deref().unwrap_or_default();
    let arch = info.architecture.as_deref().unwrap_or_default();
    if wanted.matches(os, arch, info.variant.as_deref()) {
        return Ok(());
    }
    let mut available = format!("{os}/{arch}");
    if let Some(v) = &info.variant {
        available = format!("{available}/{v}");
    }
    Err(Error::NoPlatform {
        location: location.to_owned(),
        platform: wanted.to_string(),
        available,
    })
}

/// Refuses a layer whose declared size exceeds the limit, before anything is downloaded.
pub fn check_layer_sizes(info: &SourceInfo, max: u64, location: &str) -> Result<()> {
    for layer in &info.layers {
        if layer.size > max {
            return Err(Error::LimitExceeded {
                what: "declared layer size",
                location: format!("{location} layer {} ({} bytes)", layer.digest, layer.size),
                limit: crate::limits::human_bytes(max),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ImageIndex {
        let entry =
            |digest: char, os: &str, arch: &str, variant: Option<&str>, attestation: bool| {
                let mut d = serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{}", digest.to_string().repeat(64)),
                    "size": 100,
                    "platform": {"os": os, "architecture": arch},
                });
                if let Some(v) = variant {
                    d["platform"]["variant"] = v.into();
                }
                if attestation {
                    d["annotations"] =
                        serde_json::json!({"vnd.docker.reference.type": "attestation-manifest"});
                }
                d
            };
        let json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "manifests": [
                entry('a', "linux", "amd64", None, false),
                entry('b', "linux", "arm", Some("v7"), false),
                entry('c', "linux", "arm64", Some("v8"), false),
                entry('d', "unknown", "unknown", None, true),
            ],
        });
        match parse(&serde_json::to_vec(&json).unwrap(), "test").unwrap() {
            Parsed::Index(index) => *index,
            Parsed::Image(_) => panic!("an index"),
        }
    }

    fn pick(platform: &str) -> Result<String> {
        let index = index();
        let p = Platform::parse(platform).unwrap();
        select(&index, Some(&p), "test").map(|d| d.digest().to_string()[7..8].to_owned())
    }

    #[test]
    fn platforms_are_chosen_with_and_without_variants() {
        assert_eq!(pick("linux/amd64").unwrap(), "a");
        assert_eq!(pick("linux/arm/v7").unwrap(), "b");
        assert_eq!(pick("linux/arm64").unwrap(), "c");
        let err = pick("linux/arm/v6").unwrap_err().to_string();
        assert!(
            err.contains("linux/arm/v6") && err.contains("linux/arm/v7"),
            "{err}"
        );
        assert!(
            !err.contains("unknown"),
            "attestations are not images: {err}"
        );
    }

    #[test]
    fn schema_1_and_garbage_are_named() {
        let err = parse(br#"{"schemaVersion":1,"fsLayers":[]}"#, "here").unwrap_err();
        assert!(err.to_string().contains("schema 1"), "{err}");
        let err = parse(b"{}", "here").unwrap_err();
        assert!(err.to_string().contains("here"), "{err}");
    }
}
