//! The HTTP server behind `dockwatch serve`: [`app`] builds the router (tested with `oneshot`),
//! [`serve`] runs it with graceful shutdown.
//!
//! Architecture invariant: this is the only crate that knows axum and the HTTP wire; it speaks
//! no SQL (that is `dockwatch-store`).
#![forbid(unsafe_code)]

pub mod activity_log_job;
pub mod alert;
pub mod api;
pub mod auth;
pub mod console;
pub mod dns;
pub mod error;
pub mod extract;
pub mod fleet_sweep;
pub mod health;
pub mod limiter;
pub mod openapi;
pub mod telemetry;
pub mod token_cache;
pub mod vuln;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use dockwatch_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Server settings (the store's are separate).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// DNS server for domain verification; the system's when `None`.
    pub dns_resolver: Option<SocketAddr>,
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    /// How long a sign-in session lasts.
    pub session_ttl: Duration,
    /// Let alert channels deliver to private, loopback and link-local addresses.
    pub allow_private_targets: bool,
    /// The key sealing alert channel settings at rest.
    pub seal_key: alert::seal::SealKey,
    /// Stop retrying an alert delivery this long after its first attempt.
    pub alert_dead_letter_after: Duration,
    /// Signs activity-log checkpoints (a key file in the data directory for `serve`).
    pub checkpoint_key: dockwatch_core::checkpoint::CheckpointKey,
    /// How often the activity-log job checkpoints and prunes.
    pub checkpoint_every: Duration,
    /// A machine without a report for this long is `unknown` (`fleet.compliance.silent`).
    pub fleet_stale_after: Duration,
    /// How often the fleet sweep looks for silent machines (policy changes wake it at once).
    pub fleet_sweep_every: Duration,
    /// The advisory database folder stored SBOMs are matched against; none: no matching.
    pub advisory_db: Option<std::path::PathBuf>,
    /// The organization whose owners may import advisories (the instance's admins).
    pub advisory_admin_org: String,
    /// How often the advisory database file is checked for imports by other processes.
    pub advisory_poll: Duration,
    /// The wait between an alert delivery's attempts.
    pub alert_backoff: dockwatch_alert::Backoff,
    /// Consecutive retriable failures that open an endpoint's circuit breaker.
    pub alert_breaker_threshold: u32,
    /// How long an open breaker holds deliveries before one probe goes.
    pub alert_breaker_open_for: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            dns_resolver: None,
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            allow_private_targets: false,
            seal_key: alert::seal::SealKey::generate(),
            alert_dead_letter_after: Duration::from_secs(24 * 3600),
            checkpoint_key: dockwatch_core::checkpoint::CheckpointKey::from_bytes(rand::random()),
            checkpoint_every: activity_log_job::DEFAULT_EVERY,
            fleet_stale_after: Duration::from_secs(24 * 3600),
            fleet_sweep_every: Duration::from_secs(60),
            advisory_db: None,
            advisory_admin_org: "default".into(),
            advisory_poll: Duration::from_secs(30),
            alert_backoff: dockwatch_alert::Backoff::default(),
            alert_breaker_threshold: 5,
            alert_breaker_open_for: Duration::from_secs(30),
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Failed sign-in counters.
    pub limiter: Arc<limiter::SignInLimiter>,
    /// TXT lookups.
    pub resolver: dns::TxtResolver,
    /// Recent bearer-token lookups.
    pub tokens: Arc<token_cache::TokenCache>,
    /// When this process last logged each token's use.
    pub token_use: Arc<token_cache::TokenUseThrottle>,
    /// What alert channels share (target policy, timeouts).
    pub alert_context: dockwatch_alert::ChannelContext,
    /// Seals alert channel settings.
    pub seal_key: alert::seal::SealKey,
    /// The advisory database, when one is configured.
    pub advisories: Option<Arc<vuln::Advisories>>,
    /// Alert endpoints' circuit breakers.
    pub alert_health: Arc<alert::health::ChannelHealth>,
}

impl AppState {
    /// State for `store` and `config`.
    pub fn new(store: Store, config: ServerConfig) -> Result<Self, String> {
        let resolver = dns::TxtResolver::new(config.dns_resolver)?;
        let alert_context = dockwatch_alert::ChannelContext {
            policy: dockwatch_alert::TargetPolicy {
                allow_private: config.allow_private_targets,
            },
            total_timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let advisories = match &config.advisory_db {
            Some(dir) => Some(
                vuln::Advisories::open(dir)
                    .map_err(|e| format!("opening the advisory database: {e}"))?,
            ),
            None => None,
        };
        let alert_health = Arc::new(alert::health::ChannelHealth::new(
            config.alert_breaker_threshold,
            config.alert_breaker_open_for,
        ));
        Ok(Self {
            advisories,
            alert_context,
            alert_health,
            seal_key: config.seal_key.clone(),
            store: store.with_checkpoint_key(config.checkpoint_key.clone()),
            config: Arc::new(config),
            limiter: Arc::default(),
            resolver,
            tokens: Arc::default(),
            token_use: Arc::default(),
        })
    }
}

/// The whole application: health, the web console, API v1 and its OpenAPI document.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api::v1::router(state.clone());
    let doc = Arc::new(doc);
    Router::new()
        .merge(health::routes())
        .merge(console::routes())
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/metrics", axum::routing::get(telemetry::metrics))
        .fallback(|| async { error::ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn(telemetry::count))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document, without running a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::v1::openapi()
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let store = state.store.clone();
    let worker = alert::worker::spawn(state.clone());
    let activity_log = activity_log_job::spawn(state.clone());
    let sweeper = fleet_sweep::spawn(state.clone());
    let watcher = state.advisories.clone().map(|advisories| {
        vuln::watch::spawn(store.clone(), advisories, state.config.advisory_poll)
    });
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    worker.abort();
    activity_log.abort();
    sweeper.abort();
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("Shutting down: finishing in-flight requests.");
}
