//! Alpine (and Wolfi, Chainguard) packages from the apk database `lib/apk/db/installed`.
//!
//! The database is blank-line separated records of `K:value` lines: `P` name, `V` version, `A`
//! arch, `o` origin (the source package), `L` license, `m` maintainer, `I` installed size, `S`
//! size, `U` url, `c` aports commit, `F`/`R` folders and files (counted into metadata, not kept).

use super::purl::{namespace, os_cpes, os_purl};
use super::{CatalogContext, CatalogOutput, Cataloger, Warning};
use crate::fs::FileSet;
use dockwatch_core::{Location, Package, PackageType};
use std::collections::BTreeMap;

/// The database path, relative to the root.
pub const DB_PATH: &str = "lib/apk/db/installed";
/// Where a merged-`/usr` system keeps it (read when `lib/` does not lead to the same file).
pub const USR_DB_PATH: &str = "usr/lib/apk/db/installed";

/// Finds apk packages.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApkCataloger;

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, path: &str) -> bool {
        path == DB_PATH || path == USR_DB_PATH
    }

    fn catalog(&self, files: &FileSet, ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        // `lib` is often a symlink to `usr/lib`: one real file, read once.
        let Some(real) = [DB_PATH, USR_DB_PATH]
            .iter()
            .find_map(|p| files.resolve(p).filter(|r| files.get(r).is_some()))
        else {
            return out;
        };
        let Some(entry) = files.get(&real) else {
            return out;
        };
        let db_path = format!("/{real}");
        let text = String::from_utf8_lossy(&entry.contents);
        let (records, bad_lines) = parse_records(&text);
        if let Some(first) = bad_lines.first() {
            out.warnings.push(Warning {
                path: db_path.clone(),
                message: format!(
                    "{} malformed line(s) skipped, first at line {first}",
                    bad_lines.len()
                ),
            });
        }
        let location = Location {
            path: db_path.clone(),
            layer: entry.layer.clone(),
        };
        for record in records {
            let get = |k: char| record.fields.get(&k).map(String::as_str).unwrap_or("");
            let (name, version) = (get('P'), get('V'));
            if name.is_empty() || version.is_empty() {
                out.warnings.push(Warning {
                    path: db_path.clone(),
                    message: format!(
                        "record at line {} has no {}; skipped",
                        record.line,
                        if name.is_empty() {
                            "P: (name)"
                        } else {
                            "V: (version)"
                        }
                    ),
                });
                continue;
            }
            out.packages
                .push(package(&record, name, version, &location, ctx));
        }
        super::warning_cap::cap_since(&mut out, 0, &db_path);
        super::history::attribute_layers(files, &real, &mut out.packages, |version| {
            let (records, _) = parse_records(&String::from_utf8_lossy(&version.contents));
            let location = Location {
                path: db_path.clone(),
                layer: version.layer.clone(),
            };
            records
                .iter()
                .filter_map(|r| {
                    let get = |k: char| r.fields.get(&k).map(String::as_str).unwrap_or("");
                    let (name, version) = (get('P'), get('V'));
                    (!name.is_empty() && !version.is_empty())
                        .then(|| package(r, name, version, &location, ctx))
                })
                .collect()
        });
        out
    }
}

/// One database record: its first value for each key, and how many files it lists.
#[derive(Debug, Default)]
struct Record {
    line: usize,
    fields: BTreeMap<char, String>,
    files: usize,
}

/// Splits the database into records; also returns the lines that are not `K:value`.
fn parse_records(text: &str) -> (Vec<Record>, Vec<usize>) {
    let mut records = Vec::new();
    let mut bad = Vec::new();
    let mut current = Record::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            if !current.fields.is_empty() || current.files > 0 {
                records.push(std::mem::take(&mut current));
            }
            continue;
        }
        let mut chars = line.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            bad.push(lineno);
            continue;
        };
        if !key.is_ascii_alphabetic() {
            bad.push(lineno);
            continue;
        }
        if current.fields.is_empty() && current.files == 0 {
            current.line = lineno;
        }
        if key == 'R' {
            current.files += 1;
        }
        current
            .fields
            .entry(key)
            .or_insert_with(|| chars.as_str().trim().to_owned());
    }
    if !current.fields.is_empty() {
        records.push(current);
    }
    (records, bad)
}

fn package(
    record: &Record,
    name: &str,
    version: &str,
    location: &Location,
    ctx: &CatalogContext,
) -> Package {
    let get = |k: char| record.fields.get(&k).filter(|v| !v.is_empty()).cloned();
    let arch = get('A');
    let origin = get('o');
    let distro = ctx.distro.as_ref();
    let purl = os_purl(
        PackageType::Apk,
        namespace(distro, "alpine"),
        name,
        version,
        &[
            ("arch", arch.as_deref().unwrap_or("")),
            ("upstream", origin.as_deref().unwrap_or("")),
        ],
        distro,
    );
    let mut metadata = BTreeMap::new();
    for (key, meta) in [
        ('m', "maintainer"),
        ('I', "installed_size"),
        ('S', "size"),
        ('U', "url"),
        ('c', "commit"),
        ('T', "description"),
    ] {
        if let Some(v) = get(key) {
            metadata.insert(meta.to_owned(), v);
        }
    }
    if record.files > 0 {
        metadata.insert("file_count".to_owned(), record.files.to_string());
    }
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageType::Apk,
        arch,
        source_name: origin,
        source_version: None,
        licenses: get('L').into_iter().collect(),
        purl,
        cpes: os_cpes(name, version),
        locations: vec![location.clone()],
        found_by: "apk".to_owned(),
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FileEntry;
    use std::sync::Arc;

    fn db(text: &[u8]) -> FileSet {
        let mut fs = FileSet::new();
        fs.insert(FileEntry {
            path: DB_PATH.into(),
            layer: Some("sha256:base".into()),
            mode: 0o644,
            contents: Arc::from(text),
        });
        fs
    }

    const DB: &str = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:409034\nI:667648\n\
        T:the musl c library\nU:https://musl.example\nL:MIT\no:musl\nm:Maintainer <m@example>\n\
        F:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\n\
        P:ssl_client\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n";

    #[test]
    fn records_become_packages() {
        let ctx = CatalogContext {
            distro: super::super::os_release::distro_from_os_release(
                "ID=alpine\nVERSION_ID=3.20.3\n",
            ),
        };
        let out = ApkCataloger.catalog(&db(DB.as_bytes()), &ctx);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 2);
        let musl = &out.packages[0];
        assert_eq!(
            musl.purl,
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&upstream=musl&distro=alpine-3.20.3"
        );
        assert_eq!(musl.licenses, ["MIT"]);
        assert_eq!(musl.metadata["file_count"], "2");
        assert_eq!(musl.locations[0].path, "/lib/apk/db/installed");
        assert_eq!(musl.layer(), Some("sha256:base"));
        let ssl = &out.packages[1];
        assert_eq!(ssl.source_name.as_deref(), Some("busybox"));
        assert_eq!(
            ssl.purl,
            "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&upstream=busybox&distro=alpine-3.20.3"
        );
    }

    #[test]
    fn truncated_and_corrupt_databases_warn() {
        let bytes = DB.as_bytes();
        for cut in 0..bytes.len() {
            let out = ApkCataloger.catalog(&db(&bytes[..cut]), &CatalogContext::default());
            assert!(out.packages.len() <= 2);
            assert!(
                out.warnings
                    .iter()
                    .all(|w| w.path == "/lib/apk/db/installed")
            );
        }
        let out = ApkCataloger.catalog(
            &db(b"this is a corrupt db\n\nP:nover\n\n\xff\xfe:\nV:1\n"),
            &CatalogContext::default(),
        );
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
    }
}
