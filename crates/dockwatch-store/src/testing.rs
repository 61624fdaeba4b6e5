//! Test support: a fresh PostgreSQL database per test run, dropped afterwards. Used by the
//! store's own story test and by the end-to-end tests; not used by the server.

use sqlx::AnyConnection;
use sqlx::Connection;

/// The PostgreSQL server tests use: `DOCKWATCH_TEST_POSTGRES_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_base_url() -> String {
    std::env::var("DOCKWATCH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database created for one test, dropped by [`TempDatabase::drop_now`].
#[derive(Debug)]
pub struct TempDatabase {
    base_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl TempDatabase {
    /// Creates `dw_test_<random>` on the test server.
    pub async fn create() -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let base_url = postgres_base_url();
        let name = format!("dw_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AnyConnection::connect(&base_url).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (prefix, rest) = base_url.rsplit_once('/').unwrap_or((&base_url, ""));
        let query = rest
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        let url = format!("{prefix}/{name}{query}");
        Ok(Self {
            base_url,
            name,
            url,
        })
    }

    /// Drops the database (set `DOCKWATCH_TEST_KEEP_DB=1` to keep it for debugging).
    pub async fn drop_now(self) -> Result<(), sqlx::Error> {
        if std::env::var_os("DOCKWATCH_TEST_KEEP_DB").is_some() {
            eprintln!("keeping test database {}", self.url);
            return Ok(());
        }
        let mut conn = AnyConnection::connect(&self.base_url).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await
    }
}
