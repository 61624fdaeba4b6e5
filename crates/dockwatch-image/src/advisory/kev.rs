//! The CISA Known Exploited Vulnerabilities catalog (JSON): which CVEs are exploited in the wild.

use serde::{Deserialize, Serialize};

/// The catalog, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevCatalog {
    /// `catalogVersion`, e.g. `2025.08.25`.
    pub version: String,
    /// `dateReleased`.
    pub released: Option<String>,
    /// The entries, one per CVE.
    pub entries: Vec<KevEntry>,
}

/// One known exploited CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    /// `cveID`.
    pub cve: String,
    /// `dateAdded`.
    pub date_added: String,
    /// `dueDate`: when US federal agencies must have remediated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `knownRansomwareCampaignUse`: `Known` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ransomware: Option<String>,
}

/// Why a file is not a KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct InvalidKev {
    /// The path of the field.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: Option<String>,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    date_added: String,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
}

/// Whether a JSON document looks like a KEV catalog (rather than an OSV record).
pub fn looks_like_kev(value: &serde_json::Value) -> bool {
    value.get("catalogVersion").is_some() && value.get("vulnerabilities").is_some()
}

/// Reads a KEV catalog.
pub fn parse(text: &[u8]) -> Result<KevCatalog, InvalidKev> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let raw: RawCatalog = serde_path_to_error::deserialize(&mut de).map_err(|e| InvalidKev {
        field: e.path().to_string(),
        reason: e.inner().to_string(),
    })?;
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    for (i, e) in raw.vulnerabilities.into_iter().enumerate() {
        if !e.cve_id.starts_with("CVE-") {
            return Err(InvalidKev {
                field: format!("vulnerabilities[{i}].cveID"),
                reason: format!("{:?} is not a CVE id", e.cve_id),
            });
        }
        entries.push(KevEntry {
            cve: e.cve_id,
            date_added: e.date_added,
            due_date: e.due_date,
            ransomware: e.known_ransomware_campaign_use,
        });
    }
    Ok(KevCatalog {
        version: raw.catalog_version,
        released: raw.date_released,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_catalog_reads() {
        let path =
            dockwatch_testdata::fixture("advisories/cisa-kev/known_exploited_vulnerabilities.json");
        let text = std::fs::read(path).unwrap();
        assert!(looks_like_kev(&serde_json::from_slice(&text).unwrap()));
        let kev = parse(&text).unwrap();
        assert_eq!(kev.version, "2025.08.25");
        assert_eq!(kev.entries.len(), 1404);
        let log4shell = kev
            .entries
            .iter()
            .find(|e| e.cve == "CVE-2021-44228")
            .unwrap();
        assert_eq!(log4shell.date_added, "2021-12-10");
        assert_eq!(log4shell.ransomware.as_deref(), Some("Known"));
    }

    #[test]
    fn bad_entry_is_named() {
        let err =
            parse(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"X","dateAdded":"d"}]}"#)
                .unwrap_err();
        assert_eq!(err.field, "vulnerabilities[0].cveID");
        let err =
            parse(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-1"}]}"#).unwrap_err();
        assert_eq!(err.field, "vulnerabilities[0]", "{err}");
    }
}
