//! What `dockwatch db status` reports: advisories per ecosystem, the last import, KEV and EPSS.

use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The state of an advisory database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbStatus {
    /// The database file.
    pub path: PathBuf,
    /// Advisories that can match.
    pub advisories: usize,
    /// Withdrawn advisories (kept, never matched).
    pub withdrawn: usize,
    /// Advisories per OSV ecosystem (an advisory naming packages in two ecosystems counts in both).
    pub ecosystems: Vec<(String, usize)>,
    /// When the last import finished (RFC 3339).
    pub last_import: Option<String>,
    /// The KEV catalog, if loaded.
    pub kev: Option<KevStatus>,
    /// EPSS scores, if loaded.
    pub epss: Option<EpssStatus>,
}

/// The loaded KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevStatus {
    /// `catalogVersion`.
    pub version: String,
    /// `dateReleased`.
    pub released: Option<String>,
    /// How many CVEs it lists.
    pub entries: usize,
}

/// The loaded EPSS scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpssStatus {
    /// `model_version`.
    pub model_version: Option<String>,
    /// `score_date`.
    pub score_date: Option<String>,
    /// How many CVEs are scored.
    pub scores: usize,
}

impl DbStatus {
    /// The human-readable report.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Database:     {}", self.path.display());
        let _ = writeln!(
            out,
            "Last import:  {}",
            self.last_import.as_deref().unwrap_or("never")
        );
        let _ = writeln!(
            out,
            "Advisories:   {} ({} withdrawn, not matched)",
            self.advisories, self.withdrawn
        );
        match &self.kev {
            Some(k) => {
                let _ = writeln!(
                    out,
                    "KEV:          {} CVEs, catalog {}",
                    k.entries, k.version
                );
            }
            None => out.push_str("KEV:          not loaded\n"),
        }
        match &self.epss {
            Some(e) => {
                let _ = writeln!(
                    out,
                    "EPSS:         {} CVEs, model {}, scored {}",
                    e.scores,
                    e.model_version.as_deref().unwrap_or("unknown"),
                    e.score_date.as_deref().unwrap_or("unknown")
                );
            }
            None => out.push_str("EPSS:         not loaded\n"),
        }
        if !self.ecosystems.is_empty() {
            out.push_str("\nECOSYSTEM                                 ADVISORIES\n");
            for (ecosystem, count) in &self.ecosystems {
                let _ = writeln!(out, "{ecosystem:<40} {count:>11}");
            }
        }
        out
    }
}
