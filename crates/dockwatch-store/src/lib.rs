//! The only crate that speaks SQL: the [`Store`] over embedded SQLite or PostgreSQL.
//!
//! Both backends run the same SQL text (`$1` placeholders work on both) through sqlx's `Any`
//! driver; each has its own migrations. Every mutation goes through [`write::WriteTx`], which
//! appends its activity-log events in the same transaction as the change.
//!
//! Architecture invariant: events can only be appended; no function updates or deletes them.
#![forbid(unsafe_code)]

mod error;
mod migrate;
pub mod write;

pub mod alerts;
pub mod auth_events;

pub mod domains;
pub mod events;
pub mod events_query;
pub mod fleet;
mod fleet_judge;
pub mod fleet_machines;
pub mod fleet_report;
pub mod fleet_sweep;
pub mod images;
pub mod members;
pub mod orgs;
pub mod repos;
pub mod retention;
pub mod secret;
pub mod sso;
pub mod teams;
pub mod testing;
pub mod tokens;
pub mod users;

pub use dockwatch_core::event::{EventActor as Actor, EventTarget as Target};
pub use error::{Result, StoreError};
pub use write::Change;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file under the data directory.
    Sqlite,
    /// A server shared by any number of `serve` processes.
    Postgres,
}

/// Where the data lives, and connection limits.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// A `postgres://` or `sqlite:` URL; `None` for `dockwatch.db` in `data_dir`.
    pub database_url: Option<String>,
    /// Directory for the embedded database.
    pub data_dir: std::path::PathBuf,
    /// Pool size.
    pub max_connections: u32,
}

/// The database handle: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer; taking this lock before a write transaction queues writers in the
    /// process instead of failing them with SQLITE_BUSY when a read would upgrade to a write.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Woken after a commit that queued alert deliveries, so the worker sends them at once.
    outbox_notify: Arc<tokio::sync::Notify>,
    /// Signs and checks activity-log checkpoints; without it checkpoints are not trusted.
    checkpoint_key: Option<Arc<dockwatch_core::checkpoint::CheckpointKey>>,
    /// Woken after a policy or assignment change, so the fleet sweep re-judges machines at once.
    fleet_notify: Arc<tokio::sync::Notify>,
    /// Recent policy resolvers by organization, for report ingest and policy fetches.
    fleet_cache: Arc<fleet_judge::ResolverCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let url = match &config.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|source| {
                    StoreError::DataDir {
                        path: config.data_dir.display().to_string(),
                        source,
                    }
                })?;
                sqlite_url(&config.data_dir.join("dockwatch.db"))
            }
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Per connection: enforce foreign keys, wait for other processes' writes,
                        // and trade fsync per commit for per checkpoint (safe in WAL mode); a 64 MB
                        // page cache keeps the activity log's indexes from spilling mid-batch.
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers never block the writer.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrate::run(&pool, backend).await?;
        Ok(Self {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            outbox_notify: Arc::default(),
            checkpoint_key: None,
            fleet_notify: Arc::default(),
            fleet_cache: Arc::default(),
        })
    }

    /// The same store, signing and checking activity-log checkpoints with `key`.
    pub fn with_checkpoint_key(mut self, key: dockwatch_core::checkpoint::CheckpointKey) -> Self {
        self.checkpoint_key = Some(Arc::new(key));
        self
    }

    pub(crate) fn checkpoint_key(&self) -> Option<&dockwatch_core::checkpoint::CheckpointKey> {
        self.checkpoint_key.as_deref()
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Notified after each commit that queued alert deliveries.
    pub fn outbox_notify(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_notify.clone()
    }

    /// Notified after each policy or assignment change.
    pub fn fleet_notify(&self) -> Arc<tokio::sync::Notify> {
        self.fleet_notify.clone()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Ready when the database answers and every embedded migration is applied.
    pub async fn readiness(&self) -> Result<Readiness> {
        let applied = migrate::current(&self.pool).await?;
        let expected = migrate::latest(self.backend);
        Ok(Readiness { applied, expected })
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The schema version applied and the one this build expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The highest applied migration.
    pub applied: i64,
    /// The highest embedded migration.
    pub expected: i64,
}

impl Readiness {
    /// Migrations are current.
    pub fn is_current(&self) -> bool {
        self.applied == self.expected
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    use dockwatch_core::Clock;
    dockwatch_core::SystemClock.now_millis()
}

/// A new sortable unique id (UUIDv7).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
