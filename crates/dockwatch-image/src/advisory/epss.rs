//! EPSS scores (CSV): the probability that a CVE is exploited in the next 30 days.
//!
//! The file starts with a comment line `#model_version:v2023.03.01,score_date:2024-02-20T...`,
//! then a header `cve,epss,percentile`, then one row per CVE.

use std::io::Read;

/// A validated EPSS file.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssScores {
    /// `model_version` from the comment line.
    pub model_version: Option<String>,
    /// `score_date` from the comment line.
    pub score_date: Option<String>,
    /// The rows.
    pub scores: Vec<EpssScore>,
}

/// One CVE's EPSS score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpssScore {
    /// The CVE id.
    pub cve: String,
    /// The probability, 0 to 1.
    pub score: f64,
    /// The percentile among all scored CVEs, 0 to 1.
    pub percentile: f64,
}

/// Why a file is not an EPSS CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct InvalidEpss {
    /// The 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

/// Reads an EPSS CSV (already decompressed).
pub fn parse(mut input: impl Read) -> Result<EpssScores, InvalidEpss> {
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(|e| InvalidEpss {
        line: 0,
        reason: e.to_string(),
    })?;
    let (mut model_version, mut score_date) = (None, None);
    let mut body = text.as_str();
    let mut skipped_lines = 0;
    if let Some(rest) = body.strip_prefix('#') {
        let (comment, after) = rest.split_once('\n').unwrap_or((rest, ""));
        for part in comment.trim().split(',') {
            match part.split_once(':') {
                Some(("model_version", v)) => model_version = Some(v.to_owned()),
                Some(("score_date", v)) => score_date = Some(v.to_owned()),
                _ => {}
            }
        }
        body = after;
        skipped_lines = 1;
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let headers = reader.headers().map_err(|e| InvalidEpss {
        line: skipped_lines + 1,
        reason: e.to_string(),
    })?;
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(cve), Some(epss), Some(percentile)) =
        (column("cve"), column("epss"), column("percentile"))
    else {
        return Err(InvalidEpss {
            line: skipped_lines + 1,
            reason: format!(
                "header {:?} lacks cve, epss, percentile",
                headers.iter().collect::<Vec<_>>()
            ),
        });
    };
    let mut scores = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InvalidEpss {
            line: skipped_lines + e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        let line = skipped_lines + record.position().map_or(0, |p| p.line());
        let number = |i: usize, what: &str| -> Result<f64, InvalidEpss> {
            let text = record.get(i).unwrap_or("");
            text.parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| InvalidEpss {
                    line,
                    reason: format!("{what} {text:?} is not a number between 0 and 1"),
                })
        };
        let id = record.get(cve).unwrap_or("");
        if !id.starts_with("CVE-") {
            return Err(InvalidEpss {
                line,
                reason: format!("{id:?} is not a CVE id"),
            });
        }
        scores.push(EpssScore {
            cve: id.to_owned(),
            score: number(epss, "epss")?,
            percentile: number(percentile, "percentile")?,
        });
    }
    Ok(EpssScores {
        model_version,
        score_date,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::fs::File {
        let dir = "advisories/vunnel-provider-fixtures/tests/unit/providers/epss/test-fixtures";
        std::fs::File::open(dockwatch_testdata::fixture(&format!("{dir}/{name}"))).unwrap()
    }

    #[test]
    fn real_sample_reads_with_its_model_line() {
        let e = parse(fixture("example-1.csv")).unwrap();
        assert_eq!(e.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(e.score_date.as_deref(), Some("2025-02-20T00:00:00+0000"));
        assert_eq!(e.scores.len(), 5);
        assert_eq!(
            e.scores[0],
            EpssScore {
                cve: "CVE-1999-0001".into(),
                score: 0.00383,
                percentile: 0.73075
            }
        );
    }

    #[test]
    fn missing_date_is_allowed() {
        let e = parse(fixture("missing-date.csv")).unwrap();
        assert_eq!(e.score_date, None);
        assert!(!e.scores.is_empty());
    }

    #[test]
    fn invalid_header_names_its_line() {
        let err = parse(fixture("invalid-header.csv")).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn bad_number_names_its_line() {
        let err =
            parse("cve,epss,percentile\nCVE-1,0.5,0.5\nCVE-2,high,0.1\n".as_bytes()).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }
}
