//! Identifiers the SBOM formats share: document UUIDs, timestamps, SPDX ids, bom-refs, image purls.

use super::{Sbom, SourceInfo};
use dockwatch_core::{Package, PackageType};
use sha2::{Digest, Sha256};

/// The namespace of Dockwatch's UUIDv5 document identifiers (a fixed random UUID).
const DOCUMENT_NAMESPACE: uuid::Uuid = uuid::uuid!("3c1f4f6e-5a8e-4c59-9b5e-8f3d2a6c7b10");

/// A UUID that depends only on what the SBOM says: the same input gives the same document id, so
/// golden files are stable and re-running on an unchanged image names the same document.
pub(crate) fn document_uuid(sbom: &Sbom) -> uuid::Uuid {
    let mut hasher = Sha256::new();
    let s = &sbom.source;
    for part in [&s.kind, &s.name] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    for part in [&s.digest, &s.config_digest] {
        hasher.update(part.as_deref().unwrap_or("").as_bytes());
        hasher.update([0]);
    }
    for p in sbom.sorted_packages() {
        for part in [p.kind.as_str(), &p.name, &p.version, &p.purl] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    uuid::Uuid::new_v5(&DOCUMENT_NAMESPACE, &hasher.finalize())
}

/// RFC 3339 UTC time with second precision (`2026-01-02T03:04:05Z`), as both SPDX and CycloneDX
/// accept it.
pub(crate) fn timestamp(millis: i64) -> String {
    let secs = u64::try_from(millis.max(0) / 1000).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A short stable hash of a package's identity, to make identifiers unique.
pub(crate) fn package_hash(p: &Package) -> String {
    let mut hasher = Sha256::new();
    for part in [p.kind.as_str(), &p.name, &p.version, &p.purl] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    for l in &p.locations {
        hasher.update(l.path.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Keeps `[A-Za-z0-9.-]` and turns every other character into `-`: what SPDX allows after
/// `SPDXRef-` and `LicenseRef-`.
pub(crate) fn spdx_id_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unnamed".to_string()
    } else {
        cleaned
    }
}

/// One identifier per package, unique within the document: the purl when no other package has
/// it, else the purl plus a hash (CycloneDX `bom-ref`).
pub(crate) fn bom_refs(packages: &[&Package]) -> Vec<String> {
    let mut counts = std::collections::HashMap::new();
    for p in packages {
        *counts.entry(p.purl.as_str()).or_insert(0usize) += 1;
    }
    packages
        .iter()
        .map(|p| {
            if p.purl.is_empty() {
                format!("pkg-{}", package_hash(p))
            } else if counts[p.purl.as_str()] == 1 {
                p.purl.clone()
            } else {
                format!("{}#{}", p.purl, package_hash(p))
            }
        })
        .collect()
}

/// The SPDX identifier of a package: readable, valid, and unique thanks to the hash.
pub(crate) fn spdx_package_id(p: &Package) -> String {
    format!(
        "SPDXRef-Package-{}-{}-{}",
        p.kind.as_str(),
        spdx_id_part(&p.name),
        package_hash(p)
    )
}

/// The ecosystem a purl type names; [`PackageType::Generic`] for the others.
pub(crate) fn package_type_of_purl_type(purl_type: &str) -> PackageType {
    match purl_type {
        "deb" => PackageType::Deb,
        "apk" => PackageType::Apk,
        "rpm" => PackageType::Rpm,
        "pypi" => PackageType::Pypi,
        "npm" => PackageType::Npm,
        "golang" => PackageType::Golang,
        "cargo" => PackageType::Cargo,
        "maven" => PackageType::Maven,
        "gem" => PackageType::Gem,
        "composer" => PackageType::Composer,
        "nuget" => PackageType::Nuget,
        _ => PackageType::Generic,
    }
}

/// The image's package URL as Trivy writes it:
/// `pkg:oci/<last path element>@<manifest digest>?arch=<arch>&repository_url=<registry>/<repository>`.
/// `None` without a manifest digest or a repository name (a bare OCI layout, a folder).
pub(crate) fn image_purl(source: &SourceInfo) -> Option<String> {
    let digest = source.digest.as_deref()?;
    let repository = image_repository(source)?;
    let last = repository.rsplit('/').next()?.to_ascii_lowercase();
    let mut purl = packageurl::PackageUrl::new("oci", last).ok()?;
    purl.with_version(digest.to_string()).ok()?;
    if let Some(arch) = &source.architecture {
        purl.add_qualifier("arch", arch.clone()).ok()?;
    }
    purl.add_qualifier("repository_url", repository).ok()?;
    // Trivy (packageurl-go) percent-encodes every `:` after the scheme; the Rust crate leaves
    // them, and they are equivalent, so write them as Trivy does.
    let text = purl.to_string();
    let body = text.strip_prefix("pkg:")?;
    Some(format!("pkg:{}", body.replace(':', "%3A")))
}

/// `registry/repository` of the image, from the registry reference or the first tag, with Docker
/// Hub's defaults filled in (`alpine` is `index.docker.io/library/alpine`).
fn image_repository(source: &SourceInfo) -> Option<String> {
    let reference = if source.kind == "registry" {
        source.name.as_str()
    } else {
        source.tags.first()?.as_str()
    };
    let without_digest = reference.split('@').next()?;
    // A tag is a `:` after the last `/`; a `:` before it belongs to a registry port.
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let repository = match without_digest[last_slash..].find(':') {
        Some(i) => &without_digest[..last_slash + i],
        None => without_digest,
    };
    if repository.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = repository.split('/').collect();
    let has_registry = parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost");
    if !has_registry {
        if parts.len() == 1 {
            parts.insert(0, "library");
        }
        parts.insert(0, "index.docker.io");
    } else if parts[0] == "docker.io" {
        parts[0] = "index.docker.io";
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: &str, name: &str, tags: &[&str]) -> SourceInfo {
        SourceInfo {
            kind: kind.into(),
            name: name.into(),
            digest: Some("sha256:abc".into()),
            architecture: Some("amd64".into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn image_purls_fill_in_docker_hub_and_keep_registry_ports() {
        assert_eq!(
            image_purl(&source("registry", "alpine:3.20", &[])).unwrap(),
            "pkg:oci/alpine@sha256%3Aabc?arch=amd64&repository_url=index.docker.io%2Flibrary%2Falpine"
        );
        assert_eq!(
            image_purl(&source(
                "registry",
                "registry.example:5000/Team/App:1@sha256:x",
                &[]
            ))
            .unwrap(),
            "pkg:oci/app@sha256%3Aabc?arch=amd64&repository_url=registry.example%3A5000%2FTeam%2FApp"
        );
        assert_eq!(
            image_purl(&source("docker-archive", "/tmp/a.tar", &["team/app:2"])).unwrap(),
            "pkg:oci/app@sha256%3Aabc?arch=amd64&repository_url=index.docker.io%2Fteam%2Fapp"
        );
        assert_eq!(image_purl(&source("oci-dir", "/tmp/layout", &[])), None);
    }

    #[test]
    fn spdx_id_parts_keep_only_allowed_characters() {
        assert_eq!(spdx_id_part("libc6:amd64/x_y"), "libc6-amd64-x-y");
        assert_eq!(spdx_id_part(""), "unnamed");
    }

    #[test]
    fn timestamps_are_rfc3339_seconds() {
        assert_eq!(timestamp(1_700_000_000_123), "2023-11-14T22:13:20Z");
    }
}
