//! The OSV schema: `Raw*` types as read from JSON or YAML, validated into [`Advisory`].
//!
//! Only the fields matching and findings need are kept. Validation names the offending field
//! (`affected[0].ranges[1].events[2]`) so an import can skip one bad record with a precise warning.

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A validated OSV advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `id`, e.g. `PYSEC-2023-73`, `GO-2020-0001`, `DSA-5532-1`.
    pub id: String,
    /// `modified`, as written (RFC 3339).
    pub modified: String,
    /// `published`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// `withdrawn`: a withdrawn advisory never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// `aliases` (CVE and GHSA ids), then `upstream`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// `summary`, or else the first line of `details`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `severity[]`: CVSS vectors and vendor scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// `database_specific.severity` (GHSA writes `HIGH`, `MODERATE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_severity: Option<String>,
    /// `affected[]` entries that name a package.
    pub affected: Vec<Affected>,
}

/// One `severity[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    /// `type`: `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`...
    pub kind: String,
    /// `score`: a vector or a vendor word.
    pub score: String,
}

/// One `affected[]` entry: a package in an ecosystem and the versions it affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// `package.ecosystem` as written, e.g. `Debian:12`, `PyPI`, `Alpine:v3.20`.
    pub ecosystem: String,
    /// `package.name` as written.
    pub name: String,
    /// `ranges[]` of types ECOSYSTEM and SEMVER (GIT ranges are dropped: they name commits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// `versions[]`: versions affected, enumerated (sorted as text, without duplicates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// `severity[]` of this entry, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// A vendor's word for this package: `ecosystem_specific.severity` or
    /// `database_specific.severity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_severity: Option<String>,
    /// SemVer requirements of the versions NOT affected (RUSTSEC `patched` and `unaffected`):
    /// when present, every version matching none of them is affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected_requirements: Vec<String>,
}

/// A range of affected versions, as a list of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// How the events' versions are ordered.
    pub kind: RangeKind,
    /// The events, in the order written (matching sorts them by the scheme).
    pub events: Vec<Event>,
}

/// `ranges[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    /// Versions ordered by the ecosystem's own rules.
    Ecosystem,
    /// Versions ordered by SemVer 2.0.
    Semver,
}

/// One `ranges[].events[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Versions from here on are affected (`0`: from the beginning).
    Introduced(String),
    /// Versions from here on are not affected.
    Fixed(String),
    /// Versions after this one are not affected.
    LastAffected(String),
    /// Versions from here on are outside the range altogether.
    Limit(String),
}

impl Event {
    /// The event's version.
    pub fn version(&self) -> &str {
        match self {
            Self::Introduced(v) | Self::Fixed(v) | Self::LastAffected(v) | Self::Limit(v) => v,
        }
    }
}

impl Advisory {
    /// `modified` in microseconds since the epoch, for "is this newer" decisions.
    pub fn modified_micros(&self) -> i64 {
        parse_timestamp(&self.modified).unwrap_or(i64::MIN)
    }

    /// The CVE ids among the id and the aliases.
    pub fn cves(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|id| id.starts_with("CVE-"))
    }
}

/// Why a record is not a valid advisory: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct InvalidAdvisory {
    /// The advisory id, when it could be read.
    pub id: Option<String>,
    /// The path of the field, e.g. `affected[0].ranges[1].events[2]`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// The text formats OSV records come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML (as in the PyPA advisory database).
    Yaml,
}

/// Reads one OSV record.
pub fn parse(text: &[u8], format: Format) -> Result<Advisory, InvalidAdvisory> {
    let raw: RawAdvisory = match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_slice(text);
            serde_path_to_error::deserialize(&mut de).map_err(path_error)?
        }
        Format::Yaml => {
            // The YAML parser's time grows with the square of flow nesting: refuse deep nesting first.
            let depth = crate::yaml_depth::flow_depth(&String::from_utf8_lossy(text));
            if depth > crate::yaml_depth::MAX_FLOW_DEPTH {
                return Err(InvalidAdvisory {
                    id: None,
                    field: "(record)".into(),
                    reason: format!(
                        "flow collections nested {depth} deep (more than {})",
                        crate::yaml_depth::MAX_FLOW_DEPTH
                    ),
                });
            }
            let de = serde_yaml_ng::Deserializer::from_slice(text);
            serde_path_to_error::deserialize(de).map_err(path_error)?
        }
    };
    raw.validate()
}

/// Reads one OSV record already parsed as JSON (members of a JSON array).
pub fn parse_value(value: serde_json::Value) -> Result<Advisory, InvalidAdvisory> {
    let raw: RawAdvisory = serde_path_to_error::deserialize(value).map_err(path_error)?;
    raw.validate()
}

fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> InvalidAdvisory {
    let field = e.path().to_string();
    InvalidAdvisory {
        id: None,
        field: if field == "." {
            "(record)".into()
        } else {
            field
        },
        reason: e.inner().to_string(),
    }
}

/// An RFC 3339 timestamp in microseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

/// Milliseconds since the epoch as an RFC 3339 timestamp (for "last import").
pub fn format_timestamp_millis(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct RawAdvisory {
    id: Option<String>,
    modified: Option<Text>,
    published: Option<Text>,
    withdrawn: Option<Text>,
    aliases: Option<Vec<String>>,
    upstream: Option<Vec<String>>,
    summary: Option<String>,
    details: Option<String>,
    severity: Option<Vec<RawSeverity>>,
    affected: Option<Vec<RawAffected>>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    severity: Option<Vec<RawSeverity>>,
    ranges: Option<Vec<RawRange>>,
    versions: Option<Vec<Text>>,
    ecosystem_specific: Option<serde_json::Value>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: Option<String>,
    events: Option<Vec<RawEvent>>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<Text>,
    fixed: Option<Text>,
    last_affected: Option<Text>,
    limit: Option<Text>,
}

/// A string that YAML may have written as a bare number (`1.34`, `2`): versions and dates.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn invalid(
    id: &Option<String>,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> InvalidAdvisory {
    InvalidAdvisory {
        id: id.clone(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn nonempty(
    id: &Option<String>,
    field: &str,
    value: Option<String>,
) -> Result<String, InvalidAdvisory> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(invalid(id, field, "is empty")),
        None => Err(invalid(id, field, "is missing")),
    }
}

fn timestamp(
    id: &Option<String>,
    field: &str,
    value: Option<Text>,
) -> Result<Option<String>, InvalidAdvisory> {
    match value {
        None => Ok(None),
        Some(Text(t)) if parse_timestamp(&t).is_some() => Ok(Some(t)),
        Some(Text(t)) => Err(invalid(
            id,
            field,
            format!("{t:?} is not an RFC 3339 timestamp"),
        )),
    }
}

/// `severity` (GHSA, Ubuntu) or `urgency` (Debian) of a `*_specific` object.
fn severity_word(value: &Option<serde_json::Value>) -> Option<String> {
    let object = value.as_ref()?;
    ["severity", "urgency"]
        .iter()
        .filter_map(|key| object.get(key)?.as_str())
        .map(str::to_owned)
        .find(|s| !s.trim().is_empty())
}

fn severities(raw: Option<Vec<RawSeverity>>) -> Vec<SeverityScore> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|s| SeverityScore {
            kind: s.kind,
            score: s.score,
        })
        .collect()
}

impl RawAdvisory {
    fn validate(self) -> Result<Advisory, InvalidAdvisory> {
        let id = self.id.clone().filter(|i| !i.trim().is_empty());
        let id_text = nonempty(&None, "id", self.id)?;
        let modified = match self.modified {
            None => return Err(invalid(&id, "modified", "is missing")),
            some => timestamp(&id, "modified", some)?.expect("present"),
        };
        let published = timestamp(&id, "published", self.published)?;
        let withdrawn = timestamp(&id, "withdrawn", self.withdrawn)?;
        let mut aliases = self.aliases.unwrap_or_default();
        aliases.extend(self.upstream.unwrap_or_default());
        aliases.retain(|a| !a.trim().is_empty() && *a != id_text);
        aliases.sort();
        aliases.dedup();
        let summary = self
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                self.details
                    .as_deref()
                    .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
                    .map(str::to_owned)
            })
            .map(|s| s.trim().to_owned());
        let mut affected = Vec::new();
        for (i, raw) in self.affected.unwrap_or_default().into_iter().enumerate() {
            if let Some(a) = raw.validate(&id, &format!("affected[{i}]"))? {
                affected.push(a);
            }
        }
        Ok(Advisory {
            id: id_text,
            modified,
            published,
            withdrawn,
            aliases,
            summary,
            severity: severities(self.severity),
            database_severity: severity_word(&self.database_specific),
            affected,
        })
    }
}

impl RawAffected {
    /// `None` for entries without a package (GIT-only records name repositories, not packages).
    fn validate(self, id: &Option<String>, at: &str) -> Result<Option<Affected>, InvalidAdvisory> {
        let Some(package) = self.package else {
            return Ok(None);
        };
        let ecosystem = nonempty(id, &format!("{at}.package.ecosystem"), package.ecosystem)?;
        let name = nonempty(id, &format!("{at}.package.name"), package.name)?;
        let mut ranges = Vec::new();
        for (r, raw) in self.ranges.unwrap_or_default().into_iter().enumerate() {
            if let Some(range) = raw.validate(id, &format!("{at}.ranges[{r}]"))? {
                ranges.push(range);
            }
        }
        let mut versions: Vec<String> = self
            .versions
            .unwrap_or_default()
            .into_iter()
            .map(|Text(v)| v)
            .filter(|v| !v.is_empty())
            .collect();
        // Sorted as text, so matching can binary-search lists of hundreds of versions.
        versions.sort();
        versions.dedup();
        let vendor_severity = severity_word(&self.ecosystem_specific)
            .or_else(|| severity_word(&self.database_specific));
        Ok(Some(Affected {
            ecosystem,
            name,
            ranges,
            versions,
            severity: severities(self.severity),
            vendor_severity,
            unaffected_requirements: Vec::new(),
        }))
    }
}

impl RawRange {
    /// `None` for GIT ranges (commits, not versions).
    fn validate(self, id: &Option<String>, at: &str) -> Result<Option<Range>, InvalidAdvisory> {
        let kind = match self.kind.as_deref() {
            Some("ECOSYSTEM") => RangeKind::Ecosystem,
            Some("SEMVER") => RangeKind::Semver,
            Some("GIT") => return Ok(None),
            Some(other) => {
                return Err(invalid(
                    id,
                    format!("{at}.type"),
                    format!("unknown range type {other:?}"),
                ));
            }
            None => return Err(invalid(id, format!("{at}.type"), "is missing")),
        };
        let raw_events = self.events.unwrap_or_default();
        if raw_events.is_empty() {
            return Err(invalid(id, format!("{at}.events"), "is empty"));
        }
        let mut events = Vec::with_capacity(raw_events.len());
        for (e, raw) in raw_events.into_iter().enumerate() {
            let field = format!("{at}.events[{e}]");
            let mut found: Vec<Event> = [
                raw.introduced.map(|Text(v)| Event::Introduced(v)),
                raw.fixed.map(|Text(v)| Event::Fixed(v)),
                raw.last_affected.map(|Text(v)| Event::LastAffected(v)),
                raw.limit.map(|Text(v)| Event::Limit(v)),
            ]
            .into_iter()
            .flatten()
            .collect();
            let event = match (found.pop(), found.is_empty()) {
                (Some(event), true) => event,
                (Some(_), false) => {
                    return Err(invalid(
                        id,
                        field,
                        "has more than one of introduced, fixed, last_affected, limit",
                    ));
                }
                (None, _) => {
                    return Err(invalid(
                        id,
                        field,
                        "has none of introduced, fixed, last_affected, limit",
                    ));
                }
            };
            if event.version().trim().is_empty() {
                return Err(invalid(id, field, "has an empty version"));
            }
            events.push(event);
        }
        if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
            return Err(invalid(
                id,
                format!("{at}.events"),
                "has no introduced event",
            ));
        }
        Ok(Some(Range { kind, events }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_invalid(json: &str, field: &str) {
        let err = parse(json.as_bytes(), Format::Json).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }

    const GOOD: &str = r#"{"id":"X-1","modified":"2024-01-02T03:04:05Z","aliases":["CVE-2024-1"],
        "details":"\nFirst line.\nSecond.","affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},
        "ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"abc"}]},
                  {"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}],
        "versions":["1.0","1.1"],"ecosystem_specific":{"severity":"HIGH"}}]}"#;

    #[test]
    fn valid_record_keeps_what_matching_needs() {
        let a = parse(GOOD.as_bytes(), Format::Json).unwrap();
        assert_eq!(a.id, "X-1");
        assert_eq!(a.summary.as_deref(), Some("First line."));
        assert_eq!(a.affected.len(), 1);
        assert_eq!(a.affected[0].ranges.len(), 1, "GIT range dropped");
        assert_eq!(
            a.affected[0].ranges[0].events[1],
            Event::Fixed("1.2".into())
        );
        assert_eq!(a.affected[0].vendor_severity.as_deref(), Some("HIGH"));
        assert_eq!(a.cves().collect::<Vec<_>>(), ["CVE-2024-1"]);
    }

    #[test]
    fn yaml_nested_too_deep_is_refused_before_parsing() {
        let text = format!(
            "id: Y-2\nsummary: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = parse(text.as_bytes(), Format::Yaml).unwrap_err();
        assert_eq!(e.field, "(record)");
        assert!(e.reason.contains("nested 100000 deep"), "{}", e.reason);
    }

    #[test]
    fn yaml_bare_numbers_are_versions() {
        let yaml = "id: Y-1\nmodified: '2024-01-02T03:04:05Z'\naffected:\n- package: {ecosystem: PyPI, name: x}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 2\n";
        let a = parse(yaml.as_bytes(), Format::Yaml).unwrap();
        assert_eq!(
            a.affected[0].ranges[0].events[0],
            Event::Introduced("0".into())
        );
    }

    #[test]
    fn bad_fields_are_named() {
        check_invalid(r#"{"modified":"2024-01-02T03:04:05Z"}"#, "id");
        check_invalid(r#"{"id":"A"}"#, "modified");
        check_invalid(r#"{"id":"A","modified":"yesterday"}"#, "modified");
        check_invalid(
            r#"{"id":"A","modified":"2024-01-02T03:04:05Z","aliases":"CVE-1"}"#,
            "aliases",
        );
        check_invalid(
            r#"{"id":"A","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"name":"x"}}]}"#,
            "affected[0].package.ecosystem",
        );
        check_invalid(
            r#"{"id":"A","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm","name":"x"},
               "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1","limit":"2"}]}]}]}"#,
            "affected[0].ranges[0].events[1]",
        );
        check_invalid(
            r#"{"id":"A","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm","name":"x"},
               "ranges":[{"type":"SEMVER","events":[{"fixed":"1"}]}]}]}"#,
            "affected[0].ranges[0].events",
        );
        check_invalid(
            r#"{"id":"A","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"npm","name":"x"},
               "ranges":[{"type":"SEMVER","events":[{"introduced":7.5}]}]}]}"#,
            "affected[0].ranges[0].events[0].introduced",
        );
    }
}
