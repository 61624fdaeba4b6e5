//! The store's errors: each names the object and what was wrong with it.

use dockwatch_core::org::Invalid;

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{kind} {name:?} not found")]
    NotFound { kind: &'static str, name: String },
    /// The object already exists, or the change conflicts with the current state.
    #[error("{kind} {name:?} {reason}")]
    Conflict {
        kind: &'static str,
        name: String,
        reason: &'static str,
    },
    /// A value breaks a rule.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The database refused or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration {version} ({name}): {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// A stored value could not be read back.
    #[error("stored {what} is corrupt: {message}")]
    Corrupt { what: &'static str, message: String },
}

impl StoreError {
    pub(crate) fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }

    pub(crate) fn exists(kind: &'static str, name: impl Into<String>) -> Self {
        Self::Conflict {
            kind,
            name: name.into(),
            reason: "already exists",
        }
    }

    /// True when the database refused a duplicate (a race another process won).
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Maps a unique-constraint violation to `Conflict` for `kind`/`name`; anything else passes through.
pub(crate) fn conflict_on_duplicate(
    kind: &'static str,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let name = name.to_owned();
    move |error| {
        if StoreError::is_unique_violation(&error) {
            StoreError::exists(kind, name)
        } else {
            StoreError::Database(error)
        }
    }
}
