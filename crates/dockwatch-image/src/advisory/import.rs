//! Reading advisory inputs: OSV files (JSON, YAML), RUSTSEC markdown, folders, OSV's `all.zip`
//! exports, tarballs (`.tar`, `.tar.gz`, `.tar.zst`), the CISA KEV catalog and EPSS CSVs.
//!
//! Everything is read and validated before the database is touched, so a path that cannot be
//! read aborts the import with nothing written. A malformed advisory is only skipped, with a
//! warning naming the file and the field.

use super::osv::{self, Advisory, Format};
use super::{DbError, epss, kev, rustsec};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Everything read from the paths of one `db import`.
#[derive(Debug, Default)]
pub struct ImportBatch {
    /// Valid advisories, with the file each came from.
    pub advisories: Vec<(Advisory, String)>,
    /// The KEV catalog, if one was given (the last one wins).
    pub kev: Option<kev::KevCatalog>,
    /// EPSS scores, if a CSV was given (the last one wins).
    pub epss: Option<epss::EpssScores>,
    /// Records that were skipped, and why.
    pub warnings: Vec<ImportWarning>,
    /// How many files were looked at (archive members included).
    pub files_read: usize,
}

/// A record skipped during an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    /// The file (`archive!/member` inside archives).
    pub file: String,
    /// The advisory id, when it could be read.
    pub id: Option<String>,
    /// The field that was wrong (`affected[0].ranges[0].events[1]`), or `(file)`.
    pub field: String,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: skipped", self.file)?;
        if let Some(id) = &self.id {
            write!(f, " {id}")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.reason)
    }
}

/// Reads every path (file, folder or archive) into one batch.
pub fn read_paths(paths: &[PathBuf]) -> Result<ImportBatch, DbError> {
    let mut batch = ImportBatch::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| DbError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            read_dir(path, &mut batch)?;
        } else {
            read_file(path, &mut batch)?;
        }
    }
    Ok(batch)
}

fn read_dir(dir: &Path, batch: &mut ImportBatch) -> Result<(), DbError> {
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| DbError::Io {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if entry.file_type().is_file() {
            read_file(entry.path(), batch)?;
        }
    }
    Ok(())
}

/// Kinds of archives, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Archive {
    Zip,
    Tar,
    TarGz,
    TarZst,
}

fn archive_kind(name: &str) -> Option<Archive> {
    let name = name.to_ascii_lowercase();
    if name.ends_with(".zip") {
        Some(Archive::Zip)
    } else if name.ends_with(".tar.zst") || name.ends_with(".tzst") {
        Some(Archive::TarZst)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Archive::TarGz)
    } else if name.ends_with(".tar") {
        Some(Archive::Tar)
    } else {
        None
    }
}

fn read_file(path: &Path, batch: &mut ImportBatch) -> Result<(), DbError> {
    let io = |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    };
    let label = path.display().to_string();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(kind) = archive_kind(name) else {
        if member_kind(name).is_some() {
            let bytes = std::fs::read(path).map_err(io)?;
            read_member(&label, name, &bytes, batch)?;
        }
        return Ok(());
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let malformed = |reason: String| DbError::Malformed {
        location: label.clone(),
        reason,
    };
    match kind {
        Archive::Zip => {
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
                .map_err(|e| malformed(e.to_string()))?;
            for i in 0..zip.len() {
                let mut member = zip.by_index(i).map_err(|e| malformed(e.to_string()))?;
                if !member.is_file() {
                    continue;
                }
                let member_name = member
                    .name()
                    .map_err(|e| malformed(e.to_string()))?
                    .into_owned();
                if member_kind(&member_name).is_none() {
                    continue;
                }
                let mut bytes = Vec::with_capacity(member.size() as usize);
                member
                    .read_to_end(&mut bytes)
                    .map_err(|e| malformed(format!("{member_name}: {e}")))?;
                read_member(
                    &format!("{label}!/{member_name}"),
                    &member_name,
                    &bytes,
                    batch,
                )?;
            }
        }
        Archive::Tar => read_tar(&label, file, batch)?,
        Archive::TarGz => read_tar(&label, flate2::read::GzDecoder::new(file), batch)?,
        Archive::TarZst => {
            let decoder = zstd::Decoder::new(file).map_err(|e| malformed(e.to_string()))?;
            read_tar(&label, decoder, batch)?;
        }
    }
    Ok(())
}

fn read_tar(label: &str, input: impl Read, batch: &mut ImportBatch) -> Result<(), DbError> {
    let malformed = |reason: String| DbError::Malformed {
        location: label.to_owned(),
        reason,
    };
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().map_err(|e| malformed(e.to_string()))? {
        let mut entry = entry.map_err(|e| malformed(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member_name = entry
            .path()
            .map_err(|e| malformed(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if member_kind(&member_name).is_none() {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| malformed(format!("{member_name}: {e}")))?;
        read_member(
            &format!("{label}!/{member_name}"),
            &member_name,
            &bytes,
            batch,
        )?;
    }
    Ok(())
}

/// What a single (non-archive) file holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Json,
    Yaml,
    Markdown,
    Csv,
    CsvGz,
}

fn member_kind(name: &str) -> Option<Member> {
    let lower = name.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    if file.starts_with('.') {
        return None;
    }
    [
        (".json", Member::Json),
        (".yaml", Member::Yaml),
        (".yml", Member::Yaml),
        (".md", Member::Markdown),
        (".csv", Member::Csv),
        (".csv.gz", Member::CsvGz),
    ]
    .into_iter()
    .find(|(ext, _)| file.ends_with(ext))
    .map(|(_, kind)| kind)
}

fn read_member(
    label: &str,
    name: &str,
    bytes: &[u8],
    batch: &mut ImportBatch,
) -> Result<(), DbError> {
    batch.files_read += 1;
    let warn = |batch: &mut ImportBatch, id: Option<String>, field: String, reason: String| {
        tracing::debug!(file = label, field = %field, "Skipped a malformed record: {reason}.");
        batch.warnings.push(ImportWarning {
            file: label.to_owned(),
            id,
            field,
            reason,
        });
    };
    let push =
        |batch: &mut ImportBatch, parsed: Result<Advisory, osv::InvalidAdvisory>| match parsed {
            Ok(advisory) => batch.advisories.push((advisory, label.to_owned())),
            Err(e) => warn(batch, e.id, e.field, e.reason),
        };
    match member_kind(name) {
        Some(Member::Json) => {
            let head = &bytes[..bytes.len().min(1024)];
            if contains(head, b"\"catalogVersion\"") {
                let catalog = kev::parse(bytes).map_err(|e| DbError::Malformed {
                    location: label.to_owned(),
                    reason: e.to_string(),
                })?;
                batch.kev = Some(catalog);
            } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                // A JSON array of OSV records.
                match serde_json::from_slice::<Vec<serde_json::Value>>(bytes) {
                    Ok(values) => {
                        for value in values {
                            push(batch, osv::parse_value(value));
                        }
                    }
                    Err(e) => warn(batch, None, "(file)".into(), e.to_string()),
                }
            } else {
                push(batch, osv::parse(bytes, Format::Json));
            }
        }
        Some(Member::Yaml) => push(batch, osv::parse(bytes, Format::Yaml)),
        Some(Member::Markdown) if rustsec::is_rustsec(bytes) => match rustsec::parse(bytes) {
            Ok(Some(advisory)) => push(batch, Ok(advisory)),
            Ok(None) => {} // informational: not a vulnerability
            Err(e) => push(batch, Err(e)),
        },
        Some(Member::Markdown) => {}
        Some(Member::Csv) => batch.epss = Some(parse_epss(label, bytes)?),
        Some(Member::CsvGz) => {
            batch.epss = Some(parse_epss(label, flate2::read::GzDecoder::new(bytes))?)
        }
        None => {}
    }
    Ok(())
}

fn parse_epss(label: &str, input: impl Read) -> Result<epss::EpssScores, DbError> {
    epss::parse(input).map_err(|e| DbError::Malformed {
        location: label.to_owned(),
        reason: e.to_string(),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_with_good_and_bad_records() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.json"),
            r#"{"id":"A-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("bad.yaml"),
            "id: B-1\nmodified: '2024-01-01T00:00:00Z'\naffected:\n- package: {name: x}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".hidden.json"), "not json").unwrap();
        std::fs::write(dir.path().join("README.md"), "# hello").unwrap();
        let batch = read_paths(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(batch.advisories.len(), 1);
        assert_eq!(batch.warnings.len(), 1);
        let w = &batch.warnings[0];
        assert!(w.file.ends_with("bad.yaml"), "{w}");
        assert_eq!(w.id.as_deref(), Some("B-1"));
        assert_eq!(w.field, "affected[0].package.ecosystem");
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let err = read_paths(&[PathBuf::from("/no/such/advisories")]).unwrap_err();
        assert!(err.to_string().contains("/no/such/advisories"), "{err}");
    }

    #[test]
    fn corrupt_zip_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        std::fs::write(&path, b"PK\x03\x04 not really").unwrap();
        let err = read_paths(&[path]).unwrap_err();
        assert!(err.to_string().contains("all.zip"), "{err}");
    }

    #[test]
    fn osv_all_zip_export() {
        // OSV's per-ecosystem exports are a flat zip of `<ID>.json` records.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for id in ["DSA-1-1", "DSA-2-1"] {
            zip.start_file(format!("{id}.json"), options).unwrap();
            let record = format!(
                r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"Debian:12","name":"x"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}}]}}]}}]}}"#
            );
            std::io::Write::write_all(&mut zip, record.as_bytes()).unwrap();
        }
        zip.start_file("broken.json", options).unwrap();
        std::io::Write::write_all(&mut zip, b"{").unwrap();
        zip.finish().unwrap();
        let batch = read_paths(&[path]).unwrap();
        let ids: Vec<_> = batch
            .advisories
            .iter()
            .map(|(a, _)| a.id.as_str())
            .collect();
        assert_eq!(ids, ["DSA-1-1", "DSA-2-1"]);
        assert!(batch.advisories[0].1.ends_with("all.zip!/DSA-1-1.json"));
        assert_eq!(batch.warnings.len(), 1);
        assert!(batch.warnings[0].file.ends_with("all.zip!/broken.json"));
    }

    #[test]
    fn json_array_of_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.json");
        std::fs::write(
            &path,
            r#"[{"id":"A-1","modified":"2024-01-01T00:00:00Z"},{"id":"A-2","modified":"2024-01-01T00:00:00Z"}]"#,
        )
        .unwrap();
        assert_eq!(read_paths(&[path]).unwrap().advisories.len(), 2);
    }
}
