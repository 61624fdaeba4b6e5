//! The vulnerability database: OSV advisories (plus RUSTSEC, KEV and EPSS) imported into a
//! SQLite file under `--db DIR`, and read back as an in-memory index for matching.
//!
//! Flow: [`import::read_paths`] reads and validates every input (nothing is written yet), then
//! [`store::AdvisoryDb::import`] applies the batch in one transaction.

pub mod ecosystem;
pub mod epss;
pub mod import;
pub mod kev;
pub mod osv;
pub mod rustsec;
pub mod status;
pub mod store;

pub use import::{ImportBatch, ImportWarning, read_paths};
pub use osv::Advisory;
pub use status::DbStatus;
pub use store::{AdvisoryDb, ImportSummary};

use std::path::PathBuf;

/// A failure of the advisory database: each names the file or folder involved.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A file or folder could not be read or written.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed on the database file.
    #[error("advisory database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// An input file (archive, KEV catalog, EPSS CSV) is not what it claims to be.
    #[error("malformed {location}: {reason}")]
    Malformed {
        /// The file (`archive!/member` inside archives).
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// No database exists in the folder yet.
    #[error("no advisory database in {dir}: run `dockwatch db import` first")]
    NotFound {
        /// The `--db` folder.
        dir: PathBuf,
    },
    /// The database was written by a newer Dockwatch.
    #[error(
        "advisory database {path} has schema version {version}, newer than this dockwatch supports"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        version: i64,
    },
}
#[cfg(test)]
mod claircore_cases;
#[cfg(test)]
mod rpm_distros;
#[cfg(test)]
mod verdicts;
