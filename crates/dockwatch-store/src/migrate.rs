//! Per-backend migrations, embedded in the binary and applied at start.
//!
//! A small runner rather than `sqlx::migrate!`: it works through the `Any` driver for both
//! backends, and `/readyz` compares the applied version with the embedded list.

use crate::error::{Result, StoreError};
use crate::{Backend, now_ms};
use sqlx::AnyPool;

/// One embedded migration.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "activity_log",
        sql: include_str!("../migrations/sqlite/0002_activity_log.sql"),
    },
    Migration {
        version: 3,
        name: "fleet",
        sql: include_str!("../migrations/sqlite/0003_fleet.sql"),
    },
    Migration {
        version: 4,
        name: "alerts",
        sql: include_str!("../migrations/sqlite/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "activity_log_retention",
        sql: include_str!("../migrations/sqlite/0005_activity_log_retention.sql"),
    },
    Migration {
        version: 6,
        name: "vulnerabilities",
        sql: include_str!("../migrations/sqlite/0006_vulnerabilities.sql"),
    },
    Migration {
        version: 7,
        name: "fleet_status",
        sql: include_str!("../migrations/sqlite/0007_fleet_status.sql"),
    },
    Migration {
        version: 8,
        name: "alert_throttle",
        sql: include_str!("../migrations/sqlite/0008_alert_throttle.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "activity_log",
        sql: include_str!("../migrations/postgres/0002_activity_log.sql"),
    },
    Migration {
        version: 3,
        name: "fleet",
        sql: include_str!("../migrations/postgres/0003_fleet.sql"),
    },
    Migration {
        version: 4,
        name: "alerts",
        sql: include_str!("../migrations/postgres/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "activity_log_retention",
        sql: include_str!("../migrations/postgres/0005_activity_log_retention.sql"),
    },
    Migration {
        version: 6,
        name: "vulnerabilities",
        sql: include_str!("../migrations/postgres/0006_vulnerabilities.sql"),
    },
    Migration {
        version: 7,
        name: "fleet_status",
        sql: include_str!("../migrations/postgres/0007_fleet_status.sql"),
    },
    Migration {
        version: 8,
        name: "alert_throttle",
        sql: include_str!("../migrations/postgres/0008_alert_throttle.sql"),
    },
];

/// The migrations of a backend, in order.
pub(crate) fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The version the embedded migrations bring a database to.
pub(crate) fn latest(backend: Backend) -> i64 {
    migrations(backend).last().map_or(0, |m| m.version)
}

/// Applies every pending migration, each in its own transaction. On PostgreSQL an advisory lock
/// keeps several `serve` processes starting at once from racing.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    for migration in migrations(backend) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(727468)")
                .execute(&mut *tx)
                .await?;
        }
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(migration.version)
                .fetch_optional(&mut *tx)
                .await?;
        if applied.is_some() {
            continue;
        }
        let fail = |source| StoreError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        };
        sqlx::raw_sql(migration.sql)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "Applied migration."
        );
    }
    Ok(())
}

/// The highest applied migration version (0 on an empty database).
pub(crate) async fn current(pool: &AnyPool) -> Result<i64> {
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(pool)
        .await?;
    Ok(version.unwrap_or(0))
}
