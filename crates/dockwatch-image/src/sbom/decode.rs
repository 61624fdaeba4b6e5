//! Reads an existing SBOM back into an [`Sbom`]: CycloneDX JSON (1.4 to 1.6, and the 1.2, 1.3 and
//! 1.7 documents that share their shape), SPDX 2.2/2.3 JSON, Syft JSON and Dockwatch's own JSON,
//! told apart by their content, also inside in-toto attestations (DSSE envelopes). Used by
//! `dockwatch scan sbom:PATH`.
//!
//! Every malformed document gives [`Error::Malformed`] naming the field (`components[3].name`).

mod cyclonedx;
mod spdx;
mod syft;

use super::Sbom;
use super::json::NativeDocument;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

/// The largest SBOM read, so a hostile file cannot exhaust memory (SBOMs of large images are a
/// few tens of MB).
pub const MAX_SBOM_BYTES: u64 = 512 * 1024 * 1024;

/// The kind of document found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbomKind {
    /// CycloneDX JSON, with its `specVersion`.
    CycloneDx(String),
    /// SPDX JSON, with its `spdxVersion` (`SPDX-2.3`).
    Spdx(String),
    /// Syft's own JSON, with its schema version when it names one.
    Syft(Option<String>),
    /// Dockwatch's native JSON, with its `schemaVersion`.
    Dockwatch(String),
}

impl std::fmt::Display for SbomKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CycloneDx(v) => write!(f, "CycloneDX {v} JSON"),
            Self::Spdx(v) => write!(f, "{v} JSON"),
            Self::Syft(Some(v)) => write!(f, "Syft JSON (schema {v})"),
            Self::Syft(None) => write!(f, "Syft JSON"),
            Self::Dockwatch(v) => write!(f, "Dockwatch JSON (schema {v})"),
        }
    }
}

/// An SBOM read from a document, and what kind of document it was.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The kind of document.
    pub kind: SbomKind,
    /// Its content. `source.kind` is what the document says was analyzed (`registry`,
    /// `docker-archive`...) when it says so, else `sbom`.
    pub sbom: Sbom,
}

/// Reads the SBOM in the file at `path`, refusing files over [`MAX_SBOM_BYTES`].
pub fn decode_file(path: &Path) -> Result<Decoded> {
    decode_file_within(path, MAX_SBOM_BYTES)
}

/// Reads the SBOM in the file at `path`, refusing files over `max_bytes`.
pub fn decode_file_within(path: &Path, max_bytes: u64) -> Result<Decoded> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > max_bytes {
        return Err(Error::LimitExceeded {
            what: "SBOM file size",
            location: path.display().to_string(),
            limit: format!("{max_bytes} bytes"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    decode(&bytes, &path.display().to_string())
}

/// Reads the SBOM in `bytes`; `location` names it in errors (a path).
pub fn decode(bytes: &[u8], location: &str) -> Result<Decoded> {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        return Err(malformed(
            location,
            "an XML document: only JSON SBOMs are read (write CycloneDX as JSON)",
        ));
    }
    if trimmed.starts_with(b"SPDXVersion:") || trimmed.starts_with(b"##") {
        return Err(malformed(
            location,
            "an SPDX tag-value document: only SPDX JSON is read",
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| malformed(location, &format!("not JSON: {e}")))?;
    let (value, subject) = unwrap_attestation(value, location)?;
    let kind = detect(&value).ok_or_else(|| malformed(location, &not_an_sbom(&value)))?;
    let mut sbom = match &kind {
        SbomKind::CycloneDx(_) => cyclonedx::decode(value, location)?,
        SbomKind::Spdx(_) => spdx::decode(value, location)?,
        SbomKind::Syft(_) => syft::decode(value, location)?,
        SbomKind::Dockwatch(version) => {
            if version.split('.').next() != Some("1") {
                return Err(malformed(
                    location,
                    &format!(
                        "field `schemaVersion`: Dockwatch JSON {version:?} is newer than this \
                         dockwatch reads (1.x)"
                    ),
                ));
            }
            let doc: NativeDocument = typed(value, "Dockwatch JSON SBOM", location)?;
            Sbom::from(doc)
        }
    };
    if !matches!(kind, SbomKind::Dockwatch(_)) {
        for p in &mut sbom.packages {
            add_epoch(p);
        }
        if let Some(d) = &mut sbom.distro {
            d.id = os_release_id(&d.id).to_string();
        }
    }
    if let Some((name, digest)) = subject {
        if sbom.source.name.is_empty() {
            sbom.source.name = name;
        }
        if sbom.source.digest.is_none() {
            sbom.source.digest = digest;
        }
    }
    if sbom.source.kind.is_empty() {
        sbom.source.kind = "sbom".into();
    }
    if sbom.source.name.is_empty() {
        sbom.source.name = location.to_string();
    }
    sbom.packages
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(Decoded { kind, sbom })
}

/// Puts the purl's `epoch` qualifier back into a deb or rpm version, as Dockwatch writes versions
/// (`1:4.4.27-1`): Trivy keeps the epoch only in the purl.
fn add_epoch(p: &mut dockwatch_core::Package) {
    use dockwatch_core::PackageType::{Deb, Rpm};
    if !matches!(p.kind, Deb | Rpm) || p.version.contains(':') || p.version.is_empty() {
        return;
    }
    if let Some(epoch) = cyclonedx::purl_qualifier(&p.purl, "epoch").filter(|e| e != "0") {
        p.version = format!("{epoch}:{}", p.version);
    }
}

/// What an attestation is about: a name and its `sha256:` digest.
type Subject = (String, Option<String>);

/// The SBOM inside an attestation (a DSSE envelope around an in-toto statement, or the bare
/// statement, as `cosign attest` and `trivy --format attest` write them), with the statement's
/// subject (name, `sha256:` digest). Anything else is returned as it is.
fn unwrap_attestation(value: Value, location: &str) -> Result<(Value, Option<Subject>)> {
    use base64::Engine;
    let mut value = value;
    if let Some(payload) = value.get("payload").and_then(Value::as_str) {
        if value.get("payloadType").and_then(Value::as_str) != Some("application/vnd.in-toto+json")
        {
            return Err(malformed(
                location,
                "field `payloadType`: a DSSE envelope that does not hold an in-toto statement",
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload.trim())
            .map_err(|e| malformed(location, &format!("field `payload`: not base64: {e}")))?;
        value = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(location, &format!("field `payload`: not JSON: {e}")))?;
    }
    let is_statement = value
        .get("_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("https://in-toto.io/Statement"));
    if !is_statement {
        return Ok((value, None));
    }
    let subject = value["subject"].get(0).map(|s| {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        let digest = s["digest"]["sha256"]
            .as_str()
            .map(|d| format!("sha256:{d}"));
        (name, digest)
    });
    let mut predicate = value.get_mut("predicate").map(Value::take).ok_or_else(|| {
        malformed(
            location,
            "field `predicate`: missing in the in-toto statement",
        )
    })?;
    // cosign wraps the document as `{"Data": ..., "Timestamp": ...}`, sometimes as text.
    if let Some(data) = predicate.get_mut("Data").map(Value::take) {
        predicate = match data {
            Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                malformed(location, &format!("field `predicate.Data`: not JSON: {e}"))
            })?,
            other => other,
        };
    }
    Ok((predicate, subject))
}

/// The os-release `ID` for Trivy's OS family names, which Dockwatch's distro ids follow.
fn os_release_id(id: &str) -> &str {
    match id {
        "cbl-mariner" => "mariner",
        "redhat" => "rhel",
        "amazon" => "amzn",
        "oracle" => "ol",
        "alma" => "almalinux",
        "suse linux enterprise server" => "sles",
        "suse linux enterprise micro" => "sle-micro",
        "opensuse.leap" => "opensuse-leap",
        "opensuse.tumbleweed" => "opensuse-tumbleweed",
        other => other,
    }
}

/// Which kind of SBOM `value` is, from the fields only that kind has.
pub fn detect(value: &Value) -> Option<SbomKind> {
    let obj = value.as_object()?;
    let text = |key: &str| obj.get(key).and_then(Value::as_str);
    if text("bomFormat") == Some("CycloneDX") {
        return Some(SbomKind::CycloneDx(
            text("specVersion").unwrap_or("").to_string(),
        ));
    }
    if let Some(v) = text("spdxVersion") {
        return Some(SbomKind::Spdx(v.to_string()));
    }
    if let (Some(v), Some("dockwatch")) = (
        text("schemaVersion"),
        obj.get("tool")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str),
    ) {
        return Some(SbomKind::Dockwatch(v.to_string()));
    }
    if obj.get("artifacts").is_some_and(Value::is_array) {
        let version = obj
            .get("schema")
            .and_then(|s| s.get("version"))
            .and_then(Value::as_str)
            .map(str::to_string);
        return Some(SbomKind::Syft(version));
    }
    None
}

/// Why `value` is not a known SBOM, naming what was looked for.
fn not_an_sbom(value: &Value) -> String {
    match value {
        Value::Object(obj) if obj.contains_key("@context") => {
            "an SPDX 3 JSON-LD document: only SPDX 2.2 and 2.3 JSON are read".into()
        }
        Value::Object(_) => "not a CycloneDX, SPDX, Syft or Dockwatch JSON SBOM: none of the \
                             fields bomFormat, spdxVersion, artifacts or schemaVersion is there"
            .into(),
        _ => "not an SBOM: the document is not a JSON object".into(),
    }
}

/// `Error::Malformed` for an SBOM at `location`.
pub(super) fn malformed(location: &str, reason: &str) -> Error {
    Error::Malformed {
        what: "SBOM",
        location: location.to_string(),
        reason: reason.to_string(),
    }
}

/// Deserializes `value` into `T`, naming the field at fault on error (`packages[2].SPDXID: ...`).
pub(super) fn typed<T: DeserializeOwned>(
    value: Value,
    what: &'static str,
    location: &str,
) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Malformed {
        what,
        location: location.to_string(),
        reason: format!("field `{}`: {}", e.path(), e.inner()),
    })
}

use std::str::FromStr;

/// The ecosystem of a package URL, if it parses.
pub(super) fn purl_type(purl: &str) -> Option<String> {
    packageurl::PackageUrl::from_str(purl)
        .ok()
        .map(|p| p.ty().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_that_are_not_json_sboms_say_what_they_are() {
        let err = decode(b"<?xml version='1.0'?><bom/>", "x.xml").unwrap_err();
        assert!(err.to_string().contains("XML"), "{err}");
        let err = decode(b"SPDXVersion: SPDX-2.3\n", "x.spdx").unwrap_err();
        assert!(err.to_string().contains("tag-value"), "{err}");
        let err = decode(b"{\"hello\": 1}", "x.json").unwrap_err();
        assert!(err.to_string().contains("bomFormat"), "{err}");
        let err = decode(b"[1]", "x.json").unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
        let err = decode(b"{\"payloadType\": \"x\", \"payload\": \"\"}", "x.json").unwrap_err();
        assert!(err.to_string().contains("field `payloadType`"), "{err}");
        let err = decode(
            br#"{"payloadType": "application/vnd.in-toto+json", "payload": "%%%"}"#,
            "x.json",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("field `payload`: not base64"),
            "{err}"
        );
        let err = decode(
            br#"{"schemaVersion": "2.0.0", "tool": {"name": "dockwatch"}}"#,
            "x.json",
        )
        .unwrap_err();
        assert!(err.to_string().contains("field `schemaVersion`"), "{err}");
        let err = decode(
            br#"{"schemaVersion": "1.0.0", "tool": {"name": "dockwatch", "version": "1"}}"#,
            "x.json",
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `created`"), "{err}");
        let mut deep = String::new();
        for _ in 0..200 {
            deep.push_str(r#"{"type":"library","name":"a","components":["#);
        }
        let deep = format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{deep}{}]}}"#,
            "]}".repeat(200)
        );
        let err = decode(deep.as_bytes(), "deep.json").unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        let err = decode(b"{", "x.json").unwrap_err();
        assert!(err.to_string().contains("x.json: not JSON"), "{err}");
    }
}
