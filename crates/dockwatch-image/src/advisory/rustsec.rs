//! RUSTSEC advisories: markdown files whose TOML front matter (in a ```` ```toml ```` fence) holds
//! the advisory, as in the RustSec advisory database.
//!
//! Versions are SemVer requirements of the versions NOT affected (`patched`, `unaffected`); they
//! are kept as such ([`Affected::unaffected_requirements`]) rather than turned into OSV events.
//! Informational advisories (unmaintained, unsound, notice) are not vulnerabilities and are left out.

use super::osv::{Advisory, Affected, InvalidAdvisory, SeverityScore};
use serde::Deserialize;

/// Whether a markdown file is a RUSTSEC advisory.
pub fn is_rustsec(bytes: &[u8]) -> bool {
    bytes.starts_with(b"```toml")
}

#[derive(Deserialize)]
struct RawFile {
    advisory: RawAdvisory,
    versions: Option<RawVersions>,
}

#[derive(Deserialize)]
struct RawAdvisory {
    id: String,
    package: String,
    date: String,
    aliases: Option<Vec<String>>,
    cvss: Option<String>,
    withdrawn: Option<String>,
    informational: Option<String>,
}

#[derive(Deserialize)]
struct RawVersions {
    patched: Option<Vec<String>>,
    unaffected: Option<Vec<String>>,
}

fn invalid(id: Option<&str>, field: &str, reason: impl Into<String>) -> InvalidAdvisory {
    InvalidAdvisory {
        id: id.map(str::to_owned),
        field: field.into(),
        reason: reason.into(),
    }
}

/// Reads one RUSTSEC markdown advisory; `None` for informational ones.
pub fn parse(bytes: &[u8]) -> Result<Option<Advisory>, InvalidAdvisory> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(None, "(file)", e.to_string()))?;
    let body = text.strip_prefix("```toml").unwrap_or(text);
    let Some((front, rest)) = body.split_once("\n```") else {
        return Err(invalid(
            None,
            "(front matter)",
            "the ```toml fence is not closed",
        ));
    };
    let de = toml::Deserializer::new(front);
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().message().to_owned();
        invalid(None, &e.path().to_string(), message)
    })?;
    let a = raw.advisory;
    let id = Some(a.id.as_str());
    if a.informational.is_some() {
        return Ok(None);
    }
    let at_midnight = |field: &str, day: &str| -> Result<String, InvalidAdvisory> {
        let ts = format!("{day}T00:00:00Z");
        super::osv::parse_timestamp(&ts)
            .map(|_| ts)
            .ok_or_else(|| invalid(id, field, format!("{day:?} is not a date (YYYY-MM-DD)")))
    };
    let modified = at_midnight("advisory.date", &a.date)?;
    let withdrawn = a
        .withdrawn
        .as_deref()
        .map(|d| at_midnight("advisory.withdrawn", d))
        .transpose()?;
    let versions = raw.versions.unwrap_or(RawVersions {
        patched: None,
        unaffected: None,
    });
    let mut requirements = Vec::new();
    for (field, list) in [
        ("patched", versions.patched),
        ("unaffected", versions.unaffected),
    ] {
        for (i, req) in list.unwrap_or_default().into_iter().enumerate() {
            if let Err(e) = semver::VersionReq::parse(&req) {
                return Err(invalid(
                    id,
                    &format!("versions.{field}[{i}]"),
                    format!("{req:?}: {e}"),
                ));
            }
            requirements.push(req);
        }
    }
    let summary = rest
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_owned());
    let mut aliases = a.aliases.unwrap_or_default();
    aliases.sort();
    aliases.dedup();
    let severity = a
        .cvss
        .into_iter()
        .map(|vector| SeverityScore {
            kind: if vector.starts_with("CVSS:4") {
                "CVSS_V4"
            } else {
                "CVSS_V3"
            }
            .into(),
            score: vector,
        })
        .collect();
    // No patched and no unaffected version: every version is affected; the requirement `<0.0.0`
    // matches nothing, which [`Affected::unaffected_requirements`] then reads as "all affected".
    if requirements.is_empty() {
        requirements.push("<0.0.0".into());
    }
    Ok(Some(Advisory {
        id: a.id,
        modified,
        published: None,
        withdrawn,
        aliases,
        summary,
        severity,
        database_severity: None,
        affected: vec![Affected {
            ecosystem: "crates.io".into(),
            name: a.package,
            ranges: Vec::new(),
            versions: Vec::new(),
            severity: Vec::new(),
            vendor_severity: None,
            unaffected_requirements: requirements,
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "```toml\n[advisory]\nid = \"RUSTSEC-2020-0105\"\npackage = \"abi_stable\"\n\
        aliases = [\"CVE-2020-36212\"]\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"\n\
        date = \"2020-12-21\"\n\n[versions]\npatched = [\">= 0.9.1\"]\n```\n\n# Update unsound DrainFilter\n\nBody.\n";

    #[test]
    fn front_matter_becomes_an_advisory() {
        let a = parse(SAMPLE.as_bytes()).unwrap().unwrap();
        assert_eq!(a.id, "RUSTSEC-2020-0105");
        assert_eq!(a.modified, "2020-12-21T00:00:00Z");
        assert_eq!(a.summary.as_deref(), Some("Update unsound DrainFilter"));
        assert_eq!(a.affected[0].name, "abi_stable");
        assert_eq!(a.affected[0].unaffected_requirements, [">= 0.9.1"]);
        assert_eq!(a.severity[0].kind, "CVSS_V3");
    }

    #[test]
    fn informational_advisories_are_left_out() {
        let text = SAMPLE.replace("[versions]", "informational = \"unmaintained\"\n[versions]");
        assert_eq!(parse(text.as_bytes()).unwrap(), None);
    }

    #[test]
    fn bad_requirement_names_its_field() {
        let text = SAMPLE.replace(">= 0.9.1", ">= banana");
        let err = parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.field, "versions.patched[0]", "{err}");
        let text = SAMPLE.replace("date = \"2020-12-21\"\n", "");
        let err = parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.field, "advisory", "{err}");
    }
}
