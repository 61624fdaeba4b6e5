//! `dockwatch serve`: the server on embedded SQLite (default) or PostgreSQL.
//!
//! Every flag also reads `DOCKWATCH_<FLAG>` and, below both, the `--config` TOML file.

use anyhow::{Context, bail};
use dockwatch_core::checkpoint::CheckpointKey;
use dockwatch_server::alert::seal::SealKey;
use dockwatch_server::{AppState, ServerConfig};
use dockwatch_store::{Store, StoreConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the Dockwatch server.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "DOCKWATCH_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory of the embedded database [default: ./dockwatch-data].
    #[arg(long, env = "DOCKWATCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, env = "DOCKWATCH_DATABASE_URL")]
    database_url: Option<String>,
    /// TOML file with any of these settings (flags and env vars win).
    #[arg(long, env = "DOCKWATCH_CONFIG")]
    config: Option<PathBuf>,
    /// DNS server (IP:port) for domain verification [default: the system's].
    #[arg(long, env = "DOCKWATCH_DNS_RESOLVER")]
    dns_resolver: Option<SocketAddr>,
    /// Mark the session cookie Secure (when served behind HTTPS).
    #[arg(long, env = "DOCKWATCH_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    /// Database connections in the pool [default: 16].
    #[arg(long, env = "DOCKWATCH_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
    /// On a first start: the API token to create for the first owner (for automation).
    #[arg(long, env = "DOCKWATCH_BOOTSTRAP_TOKEN", hide_env_values = true)]
    bootstrap_token: Option<String>,
    /// On a first start: the first organization's name [default: default].
    #[arg(long, env = "DOCKWATCH_BOOTSTRAP_ORG")]
    bootstrap_org: Option<String>,
    /// On a first start with a bootstrap token: the first owner's email
    /// [default: owner@dockwatch.localhost].
    #[arg(long, env = "DOCKWATCH_BOOTSTRAP_EMAIL")]
    bootstrap_email: Option<String>,
    /// Let alert channels deliver to private, loopback and link-local addresses.
    #[arg(long, env = "DOCKWATCH_ALLOW_PRIVATE_TARGETS")]
    allow_private_targets: bool,
    /// A machine without a report for this long is unknown and logged as silent
    /// (`30m`, `24h`, `7d`) [default: 24h].
    #[arg(long, env = "DOCKWATCH_FLEET_STALE_AFTER", value_parser = parse_duration)]
    fleet_stale_after: Option<std::time::Duration>,
    /// How often to look for silent machines [default: 1m].
    #[arg(long, env = "DOCKWATCH_FLEET_SWEEP_EVERY", value_parser = parse_duration)]
    fleet_sweep_every: Option<std::time::Duration>,
    /// 64 hex digits sealing alert channel secrets (for PostgreSQL fleets sharing one database)
    /// [default: the key file `alerts.key` in the data directory, made at first start].
    #[arg(long, env = "DOCKWATCH_SECRETS_KEY", hide_env_values = true)]
    secrets_key: Option<String>,
    /// 64 hex digits signing activity-log checkpoints (the same for every process sharing a
    /// database) [default: the key file `checkpoint.key` in the data directory, made at first
    /// start].
    #[arg(long, env = "DOCKWATCH_CHECKPOINT_KEY", hide_env_values = true)]
    checkpoint_key: Option<String>,
    /// How often activity logs are checkpointed and pruned (`10m`, `1h`) [default: 10m].
    #[arg(long, env = "DOCKWATCH_CHECKPOINT_INTERVAL", value_parser = humantime::parse_duration)]
    checkpoint_interval: Option<std::time::Duration>,
    /// The advisory database stored SBOMs are matched against (`dockwatch db import --db DIR`
    /// fills it too) [default: DATA_DIR/advisories].
    #[arg(long, env = "DOCKWATCH_DB")]
    db: Option<PathBuf>,
    /// The organization whose owners may import advisories through the API
    /// [default: the bootstrap organization].
    #[arg(long, env = "DOCKWATCH_ADVISORY_ADMIN_ORG")]
    advisory_admin_org: Option<String>,
    /// How often to check the advisory database for imports by other processes (`30s`, `5m`).
    #[arg(long, env = "DOCKWATCH_ADVISORY_POLL", value_parser = humantime::parse_duration)]
    advisory_poll: Option<std::time::Duration>,
    /// Stop retrying an alert delivery this long after its first attempt and keep it for
    /// manual redelivery (`30m`, `24h`).
    #[arg(long, env = "DOCKWATCH_ALERT_DEAD_LETTER_AFTER", default_value = "24h", value_parser = humantime::parse_duration)]
    alert_dead_letter_after: std::time::Duration,
}

/// The `--config` file: the same settings as the flags (secrets stay in env vars).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    dns_resolver: Option<SocketAddr>,
    secure_cookies: Option<bool>,
    max_connections: Option<u32>,
    bootstrap_org: Option<String>,
    bootstrap_email: Option<String>,
    #[serde(default, with = "humantime_serde_opt")]
    fleet_stale_after: Option<std::time::Duration>,
    #[serde(default, with = "humantime_serde_opt")]
    fleet_sweep_every: Option<std::time::Duration>,
    db: Option<PathBuf>,
    advisory_admin_org: Option<String>,
    #[serde(default, with = "humantime_serde_opt")]
    advisory_poll: Option<std::time::Duration>,
}

/// Durations in the config file are written as on the command line (`24h`).
mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<std::time::Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| super::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 30m, 24h or 7d)"))?;
    if d < std::time::Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(d)
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            toml::from_str::<ConfigFile>(&text)
                .with_context(|| format!("config file {}", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let store_config = StoreConfig {
        database_url: args
            .database_url
            .or(file.database_url)
            .filter(|u| !u.is_empty()),
        data_dir: args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("dockwatch-data")),
        max_connections: args.max_connections.or(file.max_connections).unwrap_or(16),
    };
    if let Some(url) = &store_config.database_url
        && !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|p| url.starts_with(p))
    {
        bail!(
            "--database-url {}: expected postgres://, postgresql:// or sqlite:",
            redact(url)
        );
    }
    let bootstrap_org = args
        .bootstrap_org
        .or(file.bootstrap_org)
        .unwrap_or_else(|| "default".into());
    let advisory_db = args
        .db
        .or(file.db)
        .unwrap_or_else(|| store_config.data_dir.join("advisories"));
    let server_config = ServerConfig {
        advisory_db: Some(advisory_db),
        advisory_admin_org: args
            .advisory_admin_org
            .or(file.advisory_admin_org)
            .unwrap_or_else(|| bootstrap_org.clone()),
        advisory_poll: args
            .advisory_poll
            .or(file.advisory_poll)
            .unwrap_or(std::time::Duration::from_secs(30)),
        listen,
        dns_resolver: args.dns_resolver.or(file.dns_resolver),
        secure_cookies: args.secure_cookies.or(file.secure_cookies).unwrap_or(false),
        allow_private_targets: args.allow_private_targets,
        seal_key: seal_key(args.secrets_key.as_deref(), &store_config.data_dir)?,
        checkpoint_key: checkpoint_key(args.checkpoint_key.as_deref(), &store_config.data_dir)?,
        checkpoint_every: args
            .checkpoint_interval
            .unwrap_or(dockwatch_server::activity_log_job::DEFAULT_EVERY),
        fleet_stale_after: args
            .fleet_stale_after
            .or(file.fleet_stale_after)
            .unwrap_or(std::time::Duration::from_secs(24 * 3600)),
        fleet_sweep_every: args
            .fleet_sweep_every
            .or(file.fleet_sweep_every)
            .unwrap_or(std::time::Duration::from_secs(60)),
        alert_dead_letter_after: args.alert_dead_letter_after,
        ..ServerConfig::default()
    };

    let bootstrap_email = args
        .bootstrap_email
        .or(file.bootstrap_email)
        .unwrap_or_else(|| "owner@dockwatch.localhost".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let where_ = match &store_config.database_url {
            Some(url) => redact(url),
            None => store_config
                .data_dir
                .join("dockwatch.db")
                .display()
                .to_string(),
        };
        let store = Store::open(&store_config)
            .await
            .with_context(|| format!("opening the database {where_}"))?;
        tracing::info!(database = %where_, "Database ready.");
        if store.has_no_users().await? {
            first_start(
                &store,
                args.bootstrap_token.as_deref(),
                &bootstrap_email,
                &bootstrap_org,
                listen,
            )
            .await?;
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        tracing::info!(address = %listener.local_addr()?, "Serving.");
        let state = AppState::new(store, server_config).map_err(anyhow::Error::msg)?;
        dockwatch_server::serve(state, listener)
            .await
            .context("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn first_start(
    store: &Store,
    token: Option<&str>,
    email: &str,
    org: &str,
    listen: SocketAddr,
) -> anyhow::Result<()> {
    match token.filter(|t| !t.is_empty()) {
        Some(token) => {
            if store
                .bootstrap(token, email, org)
                .await
                .context("bootstrapping the first owner")?
            {
                tracing::info!(
                    email,
                    organization = org,
                    "Created the first owner, organization and API token from DOCKWATCH_BOOTSTRAP_TOKEN."
                );
            }
        }
        None => {
            let secret = store.create_signup_token().await?;
            eprintln!(
                "First start: create the first owner (and organization {org:?}) within this link's one use:\n  \
                 http://{listen}/signup?token={secret}\n  \
                 or: curl -X POST http://{listen}/api/v1/auth/signup -H 'content-type: application/json' \
                 -d '{{\"token\":\"{secret}\",\"email\":\"you@example.com\",\"password\":\"...\",\"organization\":\"{org}\"}}'"
            );
        }
    }
    Ok(())
}

/// The key sealing alert channel settings: given, or read from (first made in) the data dir.
fn seal_key(given: Option<&str>, data_dir: &std::path::Path) -> anyhow::Result<SealKey> {
    if let Some(hex) = given.filter(|k| !k.is_empty()) {
        return SealKey::from_hex(hex)
            .map_err(|e| anyhow::anyhow!("--secrets-key (DOCKWATCH_SECRETS_KEY): {e}"));
    }
    let path = data_dir.join("alerts.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            SealKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let key = SealKey::generate();
            write_private(&path, &key.to_hex())
                .with_context(|| format!("writing the key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "Made the key that seals alert channel secrets.");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The key signing activity-log checkpoints: given, or read from (first made in) the data dir.
fn checkpoint_key(
    given: Option<&str>,
    data_dir: &std::path::Path,
) -> anyhow::Result<CheckpointKey> {
    if let Some(hex) = given.filter(|k| !k.is_empty()) {
        return CheckpointKey::from_hex(hex)
            .map_err(|e| anyhow::anyhow!("--checkpoint-key (DOCKWATCH_CHECKPOINT_KEY): {e}"));
    }
    let path = data_dir.join("checkpoint.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            CheckpointKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let mut bytes = [0_u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
                .context("reading /dev/urandom for the checkpoint key")?;
            let key = CheckpointKey::from_bytes(bytes);
            write_private(&path, &key.to_hex())
                .with_context(|| format!("writing the key file {}", path.display()))?;
            tracing::info!(path = %path.display(), key_id = %key.id(), "Made the key that signs activity-log checkpoints.");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// A database URL with its password masked, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
