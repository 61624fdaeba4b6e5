//! The on-disk advisory database under `--db DIR`: one SQLite file, read whole into an
//! in-memory index by (ecosystem, package name) when opened, so matching never touches the disk.
//!
//! An import is one SQLite transaction: the file holds either the database as it was or the
//! database fully updated. KEV and EPSS rows are read on demand, for findings only.

use super::DbError;
use super::ecosystem::{canonical, normalize_name};
use super::epss::EpssScore;
use super::import::ImportBatch;
use super::kev::KevEntry;
use super::osv::Advisory;
use super::status::{DbStatus, EpssStatus, KevStatus};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The database file inside the `--db` folder.
pub const DB_FILE: &str = "advisories.sqlite3";

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS advisory (
    id TEXT PRIMARY KEY,
    modified_us INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    body TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS kev (
    cve TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS epss (
    cve TEXT PRIMARY KEY,
    score REAL NOT NULL,
    percentile REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// One advisory's `affected[]` entry that names a package.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The advisory.
    pub advisory: Arc<Advisory>,
    /// Which of its `affected[]` entries names the package.
    pub affected: usize,
}

/// What one import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Advisories not seen before.
    pub added: usize,
    /// Advisories replaced by a newer `modified` (or changed content).
    pub updated: usize,
    /// Advisories identical or older than the stored ones.
    pub unchanged: usize,
    /// Advisories now withdrawn (they stay stored but never match).
    pub withdrawn: usize,
    /// Malformed records skipped.
    pub skipped: usize,
    /// KEV entries loaded, if a catalog was imported.
    pub kev: Option<usize>,
    /// EPSS scores loaded, if a CSV was imported.
    pub epss: Option<usize>,
    /// The (ecosystem, normalized name) keys that added, updated or withdrawn advisories name,
    /// before and after the change: the only packages whose findings this import can change.
    pub changed_packages: BTreeSet<(String, String)>,
}

/// An open advisory database.
#[derive(Debug)]
pub struct AdvisoryDb {
    path: PathBuf,
    conn: Mutex<Connection>,
    index: HashMap<String, HashMap<String, Vec<Candidate>>>,
    advisories: usize,
    kev: HashMap<String, KevEntry>,
    has_epss: bool,
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> DbError + use<> {
    let path = path.to_path_buf();
    move |source| DbError::Sqlite {
        path: path.clone(),
        source,
    }
}

impl AdvisoryDb {
    /// Opens the database in `dir`; an error if there is none.
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(DbError::NotFound {
                dir: dir.to_path_buf(),
            });
        }
        Self::open_file(path)
    }

    /// Opens the database in `dir`, creating the folder and an empty database if needed.
    pub fn open_or_create(dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Self::open_file(dir.join(DB_FILE))
    }

    fn open_file(path: PathBuf) -> Result<Self, DbError> {
        let err = sqlite(&path);
        let conn = Connection::open(&path).map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(&err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(&err)?;
        if version > SCHEMA_VERSION {
            return Err(DbError::NewerSchema { path, version });
        }
        conn.execute_batch(SCHEMA).map_err(&err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(&err)?;
        let mut db = Self {
            path,
            conn: Mutex::new(conn),
            index: HashMap::new(),
            advisories: 0,
            kev: HashMap::new(),
            has_epss: false,
        };
        db.load_index()?;
        Ok(db)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many advisories can match (withdrawn ones excluded).
    pub fn advisory_count(&self) -> usize {
        self.advisories
    }

    fn load_index(&mut self) -> Result<(), DbError> {
        let err = sqlite(&self.path);
        let conn = self.conn.lock().expect("connection lock");
        let mut statement = conn
            .prepare("SELECT id, body FROM advisory WHERE withdrawn = 0")
            .map_err(&err)?;
        let mut rows = statement.query([]).map_err(&err)?;
        let mut index: HashMap<String, HashMap<String, Vec<Candidate>>> = HashMap::new();
        let mut count = 0;
        while let Some(row) = rows.next().map_err(&err)? {
            let body: String = row.get(1).map_err(&err)?;
            let advisory: Advisory =
                serde_json::from_str(&body).map_err(|e| DbError::Malformed {
                    location: format!(
                        "{} (advisory {})",
                        self.path.display(),
                        row.get::<_, String>(0).unwrap_or_default()
                    ),
                    reason: e.to_string(),
                })?;
            let advisory = Arc::new(advisory);
            for (i, affected) in advisory.affected.iter().enumerate() {
                let list = index
                    .entry(canonical(&affected.ecosystem).into_owned())
                    .or_default()
                    .entry(normalize_name(&affected.ecosystem, &affected.name))
                    .or_default();
                // One advisory may name the same package twice (two affected entries); keep both.
                list.push(Candidate {
                    advisory: Arc::clone(&advisory),
                    affected: i,
                });
            }
            count += 1;
        }
        drop(rows);
        drop(statement);
        let mut kev = HashMap::new();
        let mut statement = conn.prepare("SELECT cve, body FROM kev").map_err(&err)?;
        let mut rows = statement.query([]).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            let body: String = row.get(1).map_err(&err)?;
            if let Ok(entry) = serde_json::from_str::<KevEntry>(&body) {
                kev.insert(row.get(0).map_err(&err)?, entry);
            }
        }
        drop(rows);
        drop(statement);
        let has_epss = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM epss)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(&err)?;
        drop(conn);
        self.has_epss = has_epss;
        self.index = index;
        self.advisories = count;
        self.kev = kev;
        Ok(())
    }

    /// The advisories naming package `name` (normalized) in `ecosystem`.
    pub fn candidates(&self, ecosystem: &str, name: &str) -> &[Candidate] {
        self.index
            .get(ecosystem)
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }

    /// Every (ecosystem, normalized name) some advisory names: what a re-evaluation of stored
    /// SBOMs needs to know which packages an import concerns.
    pub fn package_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.index.iter().flat_map(|(ecosystem, names)| {
            names
                .keys()
                .map(move |name| (ecosystem.as_str(), name.as_str()))
        })
    }

    /// The KEV entry of a CVE, if the catalog lists it (held in memory: the catalog is small).
    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.kev.get(cve)
    }

    /// The EPSS scores of `cves` that are loaded, read in one read transaction.
    pub fn epss(&self, cves: &[&str]) -> Result<HashMap<String, EpssScore>, DbError> {
        let mut found = HashMap::new();
        if cves.is_empty() || !self.has_epss {
            return Ok(found);
        }
        let err = sqlite(&self.path);
        let mut conn = self.conn.lock().expect("connection lock");
        // One transaction: a lookup outside one would take and drop the file lock each time.
        let tx = conn.transaction().map_err(&err)?;
        {
            let mut statement = tx
                .prepare_cached("SELECT score, percentile FROM epss WHERE cve = ?1")
                .map_err(&err)?;
            for cve in cves {
                let score = statement
                    .query_row([cve], |r| {
                        Ok(EpssScore {
                            cve: (*cve).to_owned(),
                            score: r.get(0)?,
                            percentile: r.get(1)?,
                        })
                    })
                    .optional()
                    .map_err(&err)?;
                if let Some(score) = score {
                    found.insert((*cve).to_owned(), score);
                }
            }
        }
        tx.commit().map_err(&err)?;
        Ok(found)
    }

    /// Applies a batch in one transaction, then reloads the index. `now` is written as the
    /// time of the last import.
    pub fn import(&mut self, batch: ImportBatch, now: &str) -> Result<ImportSummary, DbError> {
        let mut summary = ImportSummary {
            skipped: batch.warnings.len(),
            ..Default::default()
        };
        // The newest version of each id in the batch wins.
        let mut newest: HashMap<String, (Advisory, String, i64)> = HashMap::new();
        for (advisory, source) in batch.advisories {
            let modified = advisory.modified_micros();
            match newest.get(&advisory.id) {
                Some((_, _, seen)) if *seen > modified => {}
                _ => {
                    newest.insert(advisory.id.clone(), (advisory, source, modified));
                }
            }
        }
        let mut ordered: Vec<_> = newest.into_values().collect();
        ordered.sort_by(|a, b| a.0.id.cmp(&b.0.id));

        let err = sqlite(&self.path);
        {
            let mut conn = self.conn.lock().expect("connection lock");
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&err)?;
            {
                let mut select = tx
                    .prepare("SELECT modified_us, withdrawn, body FROM advisory WHERE id = ?1")
                    .map_err(&err)?;
                let mut upsert = tx
                    .prepare(
                        "INSERT INTO advisory (id, modified_us, withdrawn, body, source) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (id) DO UPDATE SET modified_us = ?2, withdrawn = ?3, body = ?4, source = ?5",
                    )
                    .map_err(&err)?;
                let mut delete_affected = tx
                    .prepare("DELETE FROM affected WHERE advisory_id = ?1")
                    .map_err(&err)?;
                let mut insert_affected = tx
                    .prepare(
                        "INSERT INTO affected (advisory_id, ecosystem, name) VALUES (?1, ?2, ?3)",
                    )
                    .map_err(&err)?;
                for (advisory, source, modified) in ordered {
                    let body = serde_json::to_string(&advisory).expect("advisories serialize");
                    let withdrawn = advisory.withdrawn.is_some();
                    let stored: Option<(i64, bool, String)> = select
                        .query_row([&advisory.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()
                        .map_err(&err)?;
                    match &stored {
                        None => summary.added += 1,
                        Some((old, _, old_body))
                            if modified > *old || (modified == *old && body != *old_body) =>
                        {
                            summary.updated += 1;
                        }
                        Some(_) => {
                            summary.unchanged += 1;
                            continue;
                        }
                    }
                    if withdrawn && !stored.as_ref().is_some_and(|s| s.1) {
                        summary.withdrawn += 1;
                    }
                    let previous = stored.as_ref().and_then(|(_, _, old_body)| {
                        serde_json::from_str::<Advisory>(old_body).ok()
                    });
                    for a in advisory
                        .affected
                        .iter()
                        .chain(previous.iter().flat_map(|p| &p.affected))
                    {
                        summary.changed_packages.insert((
                            canonical(&a.ecosystem).into_owned(),
                            normalize_name(&a.ecosystem, &a.name),
                        ));
                    }
                    upsert
                        .execute(params![advisory.id, modified, withdrawn, body, source])
                        .map_err(&err)?;
                    delete_affected.execute([&advisory.id]).map_err(&err)?;
                    if !withdrawn {
                        for a in &advisory.affected {
                            insert_affected
                                .execute(params![
                                    advisory.id,
                                    a.ecosystem,
                                    normalize_name(&a.ecosystem, &a.name)
                                ])
                                .map_err(&err)?;
                        }
                    }
                }
            }
            if let Some(kev) = batch.kev {
                tx.execute("DELETE FROM kev", []).map_err(&err)?;
                let mut insert = tx
                    .prepare("INSERT OR REPLACE INTO kev (cve, body) VALUES (?1, ?2)")
                    .map_err(&err)?;
                for entry in &kev.entries {
                    let body = serde_json::to_string(entry).expect("KEV entries serialize");
                    insert.execute(params![entry.cve, body]).map_err(&err)?;
                }
                set_meta(&tx, "kev_version", &kev.version).map_err(&err)?;
                set_meta(&tx, "kev_released", kev.released.as_deref().unwrap_or(""))
                    .map_err(&err)?;
                summary.kev = Some(kev.entries.len());
            }
            if let Some(epss) = batch.epss {
                tx.execute("DELETE FROM epss", []).map_err(&err)?;
                let mut insert = tx
                    .prepare(
                        "INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)",
                    )
                    .map_err(&err)?;
                for s in &epss.scores {
                    insert
                        .execute(params![s.cve, s.score, s.percentile])
                        .map_err(&err)?;
                }
                set_meta(
                    &tx,
                    "epss_model_version",
                    epss.model_version.as_deref().unwrap_or(""),
                )
                .map_err(&err)?;
                set_meta(
                    &tx,
                    "epss_score_date",
                    epss.score_date.as_deref().unwrap_or(""),
                )
                .map_err(&err)?;
                summary.epss = Some(epss.scores.len());
            }
            set_meta(&tx, "last_import", now).map_err(&err)?;
            tx.commit().map_err(&err)?;
        }
        self.load_index()?;
        Ok(summary)
    }

    /// What is loaded: counts per ecosystem, last import, KEV and EPSS.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        let err = sqlite(&self.path);
        let conn = self.conn.lock().expect("connection lock");
        let count = |sql: &str| -> Result<usize, DbError> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(&err)
        };
        let advisories = count("SELECT count(*) FROM advisory WHERE withdrawn = 0")?;
        let withdrawn = count("SELECT count(*) FROM advisory WHERE withdrawn = 1")?;
        let kev_count = count("SELECT count(*) FROM kev")?;
        let epss_count = count("SELECT count(*) FROM epss")?;
        let mut statement = conn
            .prepare("SELECT ecosystem, count(DISTINCT advisory_id) FROM affected GROUP BY ecosystem ORDER BY ecosystem")
            .map_err(&err)?;
        let ecosystems = statement
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
            })
            .map_err(&err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&err)?;
        let meta = |key: &str| -> Result<Option<String>, DbError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(&err)
        };
        let kev = match meta("kev_version")? {
            Some(version) => Some(KevStatus {
                version,
                released: meta("kev_released")?,
                entries: kev_count,
            }),
            None => None,
        };
        let epss = if epss_count > 0 {
            Some(EpssStatus {
                model_version: meta("epss_model_version")?,
                score_date: meta("epss_score_date")?,
                scores: epss_count,
            })
        } else {
            None
        };
        Ok(DbStatus {
            path: self.path.clone(),
            advisories,
            withdrawn,
            ecosystems,
            last_import: meta("last_import")?,
            kev,
            epss,
        })
    }
}

fn set_meta(tx: &rusqlite::Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
        params![key, value],
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::import::read_paths;

    fn record(id: &str, modified: &str, fixed: &str, withdrawn: bool) -> String {
        let withdrawn = if withdrawn {
            r#","withdrawn":"2024-06-01T00:00:00Z""#
        } else {
            ""
        };
        format!(
            r#"{{"id":"{id}","modified":"{modified}"{withdrawn},"aliases":["CVE-2024-0001"],"affected":[{{"package":{{"ecosystem":"PyPI","name":"Demo_Pkg"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
        )
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        inputs: PathBuf,
        db_dir: PathBuf,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let inputs = dir.path().join("in");
            std::fs::create_dir(&inputs).unwrap();
            let db_dir = dir.path().join("db");
            Self {
                _dir: dir,
                inputs,
                db_dir,
            }
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.inputs.join(name);
            std::fs::write(&path, text).unwrap();
            path
        }

        fn import(&self, paths: &[PathBuf]) -> Result<ImportSummary, DbError> {
            let batch = read_paths(paths)?;
            AdvisoryDb::open_or_create(&self.db_dir)?.import(batch, "2024-07-01T00:00:00Z")
        }

        fn fixed_of(&self, id: &str) -> Option<String> {
            let db = AdvisoryDb::open(&self.db_dir).unwrap();
            db.candidates("PyPI", "demo-pkg")
                .iter()
                .find(|c| c.advisory.id == id)
                .map(|c| {
                    c.advisory.affected[0].ranges[0].events[1]
                        .version()
                        .to_owned()
                })
        }
    }

    #[test]
    fn reimport_is_idempotent() {
        let f = Fixture::new();
        let a = f.write(
            "a.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        );
        let first = f.import(std::slice::from_ref(&a)).unwrap();
        assert_eq!((first.added, first.updated, first.unchanged), (1, 0, 0));
        let again = f.import(&[a]).unwrap();
        assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 1));
        assert!(
            again.changed_packages.is_empty(),
            "an unchanged import concerns no package"
        );
        let status = AdvisoryDb::open(&f.db_dir).unwrap().status().unwrap();
        assert_eq!(status.advisories, 1);
        assert_eq!(status.ecosystems, [("PyPI".to_owned(), 1)]);
        assert_eq!(status.last_import.as_deref(), Some("2024-07-01T00:00:00Z"));
    }

    #[test]
    fn newer_modified_replaces_and_older_is_ignored() {
        let f = Fixture::new();
        f.import(&[f.write(
            "a.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        )])
        .unwrap();
        let newer = f
            .import(&[f.write(
                "a.json",
                &record("A-1", "2024-02-01T00:00:00.5Z", "1.1", false),
            )])
            .unwrap();
        assert_eq!(newer.updated, 1);
        assert_eq!(f.fixed_of("A-1").as_deref(), Some("1.1"));
        let older = f
            .import(&[f.write(
                "a.json",
                &record("A-1", "2024-01-15T00:00:00Z", "1.0", false),
            )])
            .unwrap();
        assert_eq!(older.unchanged, 1);
        assert_eq!(f.fixed_of("A-1").as_deref(), Some("1.1"));
    }

    #[test]
    fn withdrawn_advisory_leaves_matching() {
        let f = Fixture::new();
        f.import(&[f.write(
            "a.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        )])
        .unwrap();
        assert!(f.fixed_of("A-1").is_some());
        let summary = f
            .import(&[f.write(
                "a.json",
                &record("A-1", "2024-06-01T00:00:00Z", "1.0", true),
            )])
            .unwrap();
        assert_eq!((summary.updated, summary.withdrawn), (1, 1));
        let changed: Vec<_> = summary.changed_packages.into_iter().collect();
        assert_eq!(changed, [("PyPI".to_owned(), "demo-pkg".to_owned())]);
        assert_eq!(f.fixed_of("A-1"), None);
        let status = AdvisoryDb::open(&f.db_dir).unwrap().status().unwrap();
        assert_eq!((status.advisories, status.withdrawn), (0, 1));
        assert!(status.ecosystems.is_empty());
    }

    #[test]
    fn malformed_record_is_skipped_and_the_rest_imported() {
        let f = Fixture::new();
        f.write(
            "good.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        );
        f.write(
            "bad.json",
            &record("B-1", "2024-01-01T00:00:00Z", "1.0", false)
                .replace(r#"{"fixed":"1.0"}"#, r#"{"fixd":"1.0"}"#),
        );
        let batch = read_paths(std::slice::from_ref(&f.inputs)).unwrap();
        assert_eq!(batch.warnings.len(), 1);
        let w = &batch.warnings[0];
        assert!(w.file.ends_with("bad.json"));
        assert_eq!(w.field, "affected[0].ranges[0].events[1]");
        let summary = AdvisoryDb::open_or_create(&f.db_dir)
            .unwrap()
            .import(batch, "now")
            .unwrap();
        assert_eq!((summary.added, summary.skipped), (1, 1));
        assert!(f.fixed_of("A-1").is_some());
    }

    #[test]
    fn failing_import_leaves_the_database_unchanged() {
        let f = Fixture::new();
        f.import(&[f.write(
            "a.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        )])
        .unwrap();
        let before = AdvisoryDb::open(&f.db_dir).unwrap().status().unwrap();
        // A newer A-1 and a new B-1 come with an archive that cannot be read: nothing is applied.
        let newer = f.write(
            "a2.json",
            &record("A-1", "2024-02-01T00:00:00Z", "1.1", false),
        );
        let b = f.write(
            "b.json",
            &record("B-1", "2024-01-01T00:00:00Z", "1.0", false),
        );
        let broken = f.write("all.zip", "PK\u{3}\u{4} truncated");
        let err = f.import(&[newer, b, broken]).unwrap_err();
        assert!(err.to_string().contains("all.zip"), "{err}");
        assert_eq!(
            AdvisoryDb::open(&f.db_dir).unwrap().status().unwrap(),
            before
        );
        assert_eq!(f.fixed_of("A-1").as_deref(), Some("1.0"));
        assert_eq!(f.fixed_of("B-1"), None);
    }

    #[test]
    fn failure_inside_the_transaction_rolls_everything_back() {
        // A trigger makes the insert of Z-9 fail after A-1 has already been rewritten in the
        // same transaction (ids are applied in order): the database keeps the old A-1.
        let f = Fixture::new();
        f.import(&[f.write(
            "a.json",
            &record("A-1", "2024-01-01T00:00:00Z", "1.0", false),
        )])
        .unwrap();
        Connection::open(f.db_dir.join(DB_FILE))
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER fail_z BEFORE INSERT ON advisory WHEN NEW.id = 'Z-9'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
            )
            .unwrap();
        let newer = f.write(
            "a.json",
            &record("A-1", "2024-03-01T00:00:00Z", "2.0", false),
        );
        let z = f.write(
            "z.json",
            &record("Z-9", "2024-03-01T00:00:00Z", "2.0", false),
        );
        let err = f.import(&[newer, z]).unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert_eq!(f.fixed_of("A-1").as_deref(), Some("1.0"));
        assert_eq!(f.fixed_of("Z-9"), None);
        let status = AdvisoryDb::open(&f.db_dir).unwrap().status().unwrap();
        assert_eq!(status.last_import.as_deref(), Some("2024-07-01T00:00:00Z"));
        assert_eq!(status.advisories, 1);
    }

    #[test]
    fn kev_and_epss_load_and_replace() {
        let f = Fixture::new();
        let kev = f.write(
            "kev.json",
            r#"{"catalogVersion":"2025.01.01","dateReleased":"2025-01-01T00:00:00Z","vulnerabilities":[{"cveID":"CVE-2024-0001","dateAdded":"2025-01-01","knownRansomwareCampaignUse":"Known"}]}"#,
        );
        let epss = f.write("epss.csv", "#model_version:v2025.03.14,score_date:2025-03-15T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.5,0.97\n");
        let summary = f.import(&[kev, epss]).unwrap();
        assert_eq!((summary.kev, summary.epss), (Some(1), Some(1)));
        let db = AdvisoryDb::open(&f.db_dir).unwrap();
        assert_eq!(
            db.kev("CVE-2024-0001").unwrap().ransomware.as_deref(),
            Some("Known")
        );
        assert_eq!(
            db.epss(&["CVE-2024-0001"]).unwrap()["CVE-2024-0001"].percentile,
            0.97
        );
        assert_eq!(db.kev("CVE-2024-9999"), None);
        let status = db.status().unwrap();
        assert_eq!(status.kev.unwrap().version, "2025.01.01");
        assert_eq!(
            status.epss.unwrap().model_version.as_deref(),
            Some("v2025.03.14")
        );
    }

    #[test]
    fn opening_a_missing_database_names_the_folder() {
        let err = AdvisoryDb::open(Path::new("/nonexistent/dockwatch-db")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/dockwatch-db"),
            "{err}"
        );
    }
}
