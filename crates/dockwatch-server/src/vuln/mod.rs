//! The server's vulnerability side: the advisory database it matches stored SBOMs against, and
//! the continuous re-evaluation that turns an advisory change into findings and events.
//!
//! - `index.rs`: an uploaded SBOM → the rows the store keeps (packages by lookup key, findings).
//! - `reevaluate.rs`: changed (ecosystem, name) keys → new and resolved findings per image.
//! - `watch.rs`: polls the database folder, so a `dockwatch db import --db DIR` run beside the
//!   server is picked up too.
//!
//! Matching is CPU work on an in-memory index: it runs under a read lock of the database, outside
//! any await; the store is written afterwards.

pub mod index;
pub mod reevaluate;
pub mod watch;

use dockwatch_image::advisory::{AdvisoryDb, DbError, ImportBatch, ImportSummary};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The advisory database a server matches against, shared by handlers and the watcher.
#[derive(Debug)]
pub struct Advisories {
    dir: PathBuf,
    db: RwLock<AdvisoryDb>,
    /// The database file's (modified time, length) as last loaded, so the watcher sees outside
    /// imports only.
    seen: std::sync::Mutex<Option<FileStamp>>,
    /// One re-evaluation at a time: two imports in a row must not race on the same findings.
    pub(crate) reevaluation: tokio::sync::Mutex<()>,
}

/// What identifies a version of the database file on disk.
pub(crate) type FileStamp = (
    std::time::SystemTime,
    u64,
    Option<(std::time::SystemTime, u64)>,
);

impl Advisories {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Arc<Self>, DbError> {
        let db = AdvisoryDb::open_or_create(dir)?;
        let stamp = file_stamp(db.path());
        Ok(Arc::new(Self {
            dir: dir.to_path_buf(),
            db: RwLock::new(db),
            seen: std::sync::Mutex::new(stamp),
            reevaluation: tokio::sync::Mutex::new(()),
        }))
    }

    /// The `--db` folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` with the database, under the read lock.
    pub fn read<T>(&self, f: impl FnOnce(&AdvisoryDb) -> T) -> T {
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        f(&db)
    }

    /// Applies an import batch in one transaction and reloads the index (blocking: call it
    /// from a blocking task).
    pub fn import(&self, batch: ImportBatch) -> Result<ImportSummary, DbError> {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        let summary = db.import(batch, &now)?;
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = file_stamp(db.path());
        Ok(summary)
    }

    /// If the file changed since it was last loaded (an import by another process), reloads it
    /// and returns the (ecosystem, name) keys whose advisories differ (blocking).
    pub fn reload_if_changed(&self) -> Result<Option<BTreeSet<(String, String)>>, DbError> {
        let path = self.read(|db| db.path().to_path_buf());
        let stamp = file_stamp(&path);
        {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == stamp {
                return Ok(None);
            }
        }
        let fresh = AdvisoryDb::open(&self.dir)?;
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        let changed = changed_keys(&db, &fresh);
        *db = fresh;
        // Stamped after opening: opening may itself touch the file (schema check).
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = file_stamp(&path);
        Ok(Some(changed))
    }
}

fn file_stamp(path: &Path) -> Option<FileStamp> {
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    let (modified, len) = stamp(path)?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Some((modified, len, stamp(Path::new(&wal))))
}

/// The keys whose candidate advisories (id, entry, `modified`) differ between two databases.
pub fn changed_keys(old: &AdvisoryDb, new: &AdvisoryDb) -> BTreeSet<(String, String)> {
    let signature = |db: &AdvisoryDb, ecosystem: &str, name: &str| {
        let mut s: Vec<(String, usize, i64)> = db
            .candidates(ecosystem, name)
            .iter()
            .map(|c| {
                (
                    c.advisory.id.clone(),
                    c.affected,
                    c.advisory.modified_micros(),
                )
            })
            .collect();
        s.sort();
        s
    };
    let mut keys: BTreeSet<(String, String)> = old
        .package_keys()
        .chain(new.package_keys())
        .map(|(e, n)| (e.to_owned(), n.to_owned()))
        .collect();
    keys.retain(|(e, n)| signature(old, e, n) != signature(new, e, n));
    keys
}
