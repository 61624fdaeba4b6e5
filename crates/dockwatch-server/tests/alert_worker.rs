//! The alert delivery worker in the server, against local HTTP receivers: `/metrics` counters
//! move, rule throttles and digests are kept in the database (a restart loses nothing),
//! an endpoint's circuit breaker holds its deliveries without using up their attempts while
//! other channels flow, and two workers on one PostgreSQL database share the outbox.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use dockwatch_server::{AppState, ServerConfig, app};
use dockwatch_store::{Store, StoreConfig};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const OWNER: &str = "owner-secret";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ORG: &str = "/api/v1/orgs/default";

/// A webhook receiver: answers `status`, keeps (webhook-id, body) of every request.
#[derive(Clone, Default)]
struct Receiver {
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    async fn start(status: u16) -> (Self, String) {
        let r = Self::default();
        r.status.store(status, Ordering::SeqCst);
        let shared = r.clone();
        let router = Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let shared = shared.clone();
                async move {
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let status = shared.status.load(Ordering::SeqCst);
                    if status < 300 {
                        let body = serde_json::from_str(&body).unwrap_or(Value::Null);
                        shared.got.lock().unwrap().push((id, body));
                    }
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (r, url)
    }

    fn got(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }

    /// Deliveries by id, counting repeats.
    fn by_id(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for (id, _) in self.got() {
            *out.entry(id).or_default() += 1;
        }
        out
    }

    async fn wait_for(&self, n: usize) {
        for _ in 0..1200 {
            if self.by_id().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} deliveries, got {}", self.by_id().len());
    }
}

/// Settings with short retries; every server of a test shares the key sealing channel settings.
fn config() -> ServerConfig {
    ServerConfig {
        allow_private_targets: true,
        seal_key: dockwatch_server::alert::seal::SealKey::new([7; 32]),
        alert_backoff: dockwatch_alert::Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(200),
        },
        ..ServerConfig::default()
    }
}

async fn open(dir: &std::path::Path, database_url: Option<&str>) -> Store {
    let store = Store::open(&StoreConfig {
        database_url: database_url.map(str::to_owned),
        data_dir: dir.into(),
        max_connections: 8,
    })
    .await
    .unwrap();
    store
        .bootstrap(OWNER, "owner@example.com", "default")
        .await
        .unwrap();
    store
}

/// A server over `store`: its router, and its worker when asked for.
struct Server {
    app: Router,
    store: Store,
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Stops the worker and closes the database, as a restart would.
    async fn stop(self) {
        if let Some(w) = self.worker {
            w.abort();
            let _ = w.await;
        }
        self.store.close().await;
    }
}

fn server(store: Store, config: ServerConfig, worker: bool) -> Server {
    let state = AppState::new(store.clone(), config).unwrap();
    let worker = worker.then(|| dockwatch_server::alert::worker::spawn(state.clone()));
    Server {
        app: app(state),
        store,
        worker,
    }
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {OWNER}"))
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn ok(app: &Router, method: &str, uri: &str, body: Option<Value>) -> Value {
    let (status, v) = call(app, method, uri, body).await;
    assert!(status.is_success(), "{method} {uri}: {status} {v}");
    v
}

async fn channel(app: &Router, name: &str, url: &str) {
    ok(
        app,
        "POST",
        &format!("{ORG}/alerts/channels"),
        Some(json!({"name": name, "config": {"kind": "webhook", "url": url, "secret": SECRET}})),
    )
    .await;
}

async fn rule(app: &Router, body: Value) {
    ok(app, "POST", &format!("{ORG}/alerts/rules"), Some(body)).await;
}

async fn team(app: &Router, name: &str) {
    ok(
        app,
        "POST",
        &format!("{ORG}/teams"),
        Some(json!({ "name": name })),
    )
    .await;
}

async fn deliveries(app: &Router, query: &str) -> Vec<Value> {
    let v = ok(
        app,
        "GET",
        &format!("{ORG}/alerts/deliveries?limit=1000&{query}"),
        None,
    )
    .await;
    v.as_array().unwrap().clone()
}

async fn metrics(app: &Router) -> String {
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

/// Team names carried by a webhook body (one event, or a digest's events).
fn teams_in(body: &Value) -> Vec<String> {
    let events = match body["data"]["events"].as_array() {
        Some(events) => events.clone(),
        None => vec![body["data"].clone()],
    };
    events
        .iter()
        .filter_map(|e| {
            e["target"]
                .as_str()?
                .strip_prefix("team:")
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn metrics_count_deliveries_failures_and_queue_depth() {
    let dir = tempfile::tempdir().unwrap();
    let app = server(open(dir.path(), None).await, config(), true).app;
    let (good, good_url) = Receiver::start(204).await;
    let (_bad, bad_url) = Receiver::start(400).await;
    channel(&app, "good", &good_url).await;
    channel(&app, "bad", &bad_url).await;
    rule(
        &app,
        json!({"name": "teams", "match": ["team.*"], "channels": ["good", "bad"]}),
    )
    .await;
    let before = metrics(&app).await;
    let delivered = r#"dockwatch_alert_deliveries_total{kind="webhook",outcome="delivered"}"#;
    let dead = r#"dockwatch_alert_dead_letters_total{kind="webhook"}"#;
    let attempts = r#"dockwatch_alert_attempts_total{kind="webhook"}"#;
    let latency = r#"dockwatch_alert_delivery_latency_seconds_count{kind="webhook"}"#;
    for i in 0..3 {
        team(&app, &format!("m{i}")).await;
    }
    good.wait_for(3).await;
    for _ in 0..200 {
        if deliveries(&app, "status=dead").await.len() == 3
            && deliveries(&app, "status=delivered").await.len() == 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = metrics(&app).await;
    // Other tests in this binary deliver too: the counters move by at least ours.
    assert!(sample(&after, delivered) >= sample(&before, delivered) + 3.0);
    assert!(
        sample(&after, dead) >= sample(&before, dead) + 3.0,
        "a 400 is permanent"
    );
    assert!(sample(&after, attempts) >= sample(&before, attempts) + 6.0);
    assert!(sample(&after, latency) >= sample(&before, latency) + 3.0);
    assert!(
        after.contains(
            r#"dockwatch_alert_attempt_duration_seconds_bucket{kind="webhook",le="+Inf"}"#
        ),
        "{after}"
    );
    // The gauges are this database's.
    assert_eq!(
        sample(&after, r#"dockwatch_alert_queue_depth{state="dead"}"#),
        3.0
    );
    assert_eq!(
        sample(&after, r#"dockwatch_alert_queue_depth{state="leased"}"#),
        0.0
    );
    assert_eq!(
        sample(&after, r#"dockwatch_alert_queue_depth{state="due"}"#),
        0.0
    );
}

#[tokio::test]
async fn an_open_breaker_holds_deliveries_without_using_attempts_and_spares_other_channels() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        alert_breaker_threshold: 3,
        alert_breaker_open_for: Duration::from_secs(2),
        ..config()
    };
    let app = server(open(dir.path(), None).await, config, true).app;
    let (down, down_url) = Receiver::start(503).await;
    let (up, up_url) = Receiver::start(204).await;
    channel(&app, "down", &down_url).await;
    channel(&app, "up", &up_url).await;
    rule(
        &app,
        json!({"name": "teams", "match": ["team.*"], "channels": ["down", "up"]}),
    )
    .await;
    for i in 0..3 {
        team(&app, &format!("b{i}")).await;
    }
    let mut breaker = Value::Null;
    for _ in 0..400 {
        breaker =
            ok(&app, "GET", &format!("{ORG}/alerts/channels/down"), None).await["breaker"].clone();
        if breaker["state"] == "open" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(breaker["state"], "open", "{breaker}");
    assert!(
        breaker["consecutive_failures"].as_u64().unwrap() >= 3,
        "{breaker}"
    );
    assert!(breaker["open_until"].is_string(), "{breaker}");
    // The receiver recovers while the breaker is open; new events keep flowing elsewhere.
    down.status.store(204, Ordering::SeqCst);
    team(&app, "b3").await;
    up.wait_for(4).await;
    let up_view = ok(&app, "GET", &format!("{ORG}/alerts/channels/up"), None).await;
    assert_eq!(up_view["breaker"]["state"], "closed");
    // After the cool-down one probe goes, succeeds, and the rest follow.
    down.wait_for(4).await;
    let log = deliveries(&app, "channel=down").await;
    assert_eq!(log.len(), 4);
    for d in &log {
        assert_eq!(d["status"], "delivered", "{d}");
        // Without the breaker, 2 s of retries 50-200 ms apart would use many more attempts.
        assert!(d["attempts"].as_i64().unwrap() <= 3, "{d}");
    }
    let view = ok(&app, "GET", &format!("{ORG}/alerts/channels/down"), None).await;
    assert_eq!(view["breaker"]["state"], "closed", "{view}");
    let text = metrics(&app).await;
    assert!(
        sample(
            &text,
            r#"dockwatch_alert_breaker_waits_total{kind="webhook"}"#
        ) >= 1.0
    );
}

/// Throttle: 2 deliveries per hour and channel, the rest summarised at the window's end; the
/// count is in the database, so a restarted server keeps throttling. Digest: one delivery per
/// minute holding every event, also across a restart.
async fn throttles_and_digests_survive_a_restart(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (recv, url) = Receiver::start(204).await;
    let (digests, digest_url) = Receiver::start(204).await;
    let first = server(open(dir.path(), database_url).await, config(), true);
    let app = &first.app;
    channel(app, "hook", &url).await;
    channel(app, "digest", &digest_url).await;
    rule(
        app,
        json!({"name": "throttled", "match": ["team.created"], "channels": ["hook"],
               "throttle": {"max": 2, "window_secs": 3600}}),
    )
    .await;
    rule(
        app,
        json!({"name": "digest", "match": ["team.deleted"], "channels": ["digest"], "digest_minutes": 1}),
    )
    .await;
    let rules = ok(app, "GET", &format!("{ORG}/alerts/rules"), None).await;
    assert_eq!(rules[1]["throttle"], json!({"max": 2, "window_secs": 3600}));
    assert_eq!(rules[0]["digest_minutes"], 1);
    let (s, v) = call(
        app,
        "POST",
        &format!("{ORG}/alerts/rules"),
        Some(json!({"name": "bad", "match": ["*"], "channels": ["hook"], "throttle": {"max": 0, "window_secs": 60}})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.to_string().contains("throttle"), "{v}");
    for i in 0..4 {
        team(app, &format!("t{i}")).await;
    }
    for i in 0..2 {
        ok(app, "DELETE", &format!("{ORG}/teams/t{i}"), None).await;
    }
    recv.wait_for(2).await;
    for _ in 0..200 {
        if deliveries(app, "status=delivered").await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.stop().await;

    let second = server(open(dir.path(), database_url).await, config(), true);
    let app = &second.app;
    team(app, "t4").await;
    ok(app, "DELETE", &format!("{ORG}/teams/t2"), None).await;
    let pending = deliveries(app, "status=pending&channel=hook").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let summary = &pending[0];
    assert_eq!(
        summary["event_ids"].as_array().unwrap().len(),
        3,
        "the 3 throttled events, before and after the restart: {summary}"
    );
    let hour_from_now = time::OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let due = time::OffsetDateTime::parse(
        summary["next_attempt_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        due <= hour_from_now && due.unix_timestamp() % 3600 == 0,
        "due when the window ends: {summary}"
    );
    let text = metrics(app).await;
    assert!(sample(&text, "dockwatch_alert_throttled_total") >= 3.0);
    // The digest of the three deletions (before and after the restart) arrives as one message
    // when its minute ends (two if the minute turned between them).
    let deleted = || -> Vec<String> {
        let mut names: Vec<String> = digests
            .got()
            .iter()
            .flat_map(|(_, b)| teams_in(b))
            .collect();
        names.sort();
        names
    };
    for _ in 0..1400 {
        if deleted().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(deleted(), ["t0", "t1", "t2"], "{:?}", digests.got());
    assert!(
        digests.got().len() <= 2,
        "batched per minute: {:?}",
        digests.got()
    );
    assert!(
        digests
            .got()
            .iter()
            .any(|(_, b)| b["type"] == "dockwatch.digest"),
        "{:?}",
        digests.got()
    );
    let mut created: Vec<String> = recv.got().iter().flat_map(|(_, b)| teams_in(b)).collect();
    created.sort();
    assert_eq!(created, ["t0", "t1"], "only two sent in the window");
    second.stop().await;
}

#[tokio::test]
async fn throttles_and_digests_survive_a_restart_on_sqlite() {
    throttles_and_digests_survive_a_restart(None).await;
}

#[tokio::test]
async fn throttles_and_digests_survive_a_restart_on_postgres() {
    let db = dockwatch_store::testing::TempDatabase::create()
        .await
        .unwrap();
    throttles_and_digests_survive_a_restart(Some(&db.url)).await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn two_workers_share_one_postgres_outbox_and_take_over_expired_leases() {
    let db = dockwatch_store::testing::TempDatabase::create()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (recv, url) = Receiver::start(204).await;
    let first = open(dir.path(), Some(&db.url)).await;
    let app = server(first.clone(), config(), false).app;
    channel(&app, "hook", &url).await;
    rule(
        &app,
        json!({"name": "teams", "match": ["team.*"], "channels": ["hook"]}),
    )
    .await;
    // A process that claimed five deliveries and died: their leases must run out first.
    for i in 0..5 {
        team(&app, &format!("early{i}")).await;
    }
    let abandoned = first.claim_deliveries(5, 1_500).await.unwrap();
    assert_eq!(abandoned.len(), 5);
    assert!(
        first.claim_deliveries(5, 1_500).await.unwrap().is_empty(),
        "leased rows are not claimed twice"
    );
    let a = server(first, config(), true);
    let b = server(open(dir.path(), Some(&db.url)).await, config(), true);
    for i in 0..100 {
        let app = if i % 2 == 0 { &a.app } else { &b.app };
        team(app, &format!("t{i}")).await;
    }
    recv.wait_for(105).await;
    let log = deliveries(&a.app, "").await;
    assert_eq!(log.len(), 105);
    let by_id = recv.by_id();
    for d in &log {
        let id = d["id"].as_str().unwrap();
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(by_id.get(id), Some(&1), "{id} delivered exactly once");
        let early = abandoned.iter().any(|a| a.id == id);
        // The abandoned claim counted an attempt; the take-over is the second.
        assert_eq!(d["attempts"], if early { 2 } else { 1 }, "{d}");
    }
    a.stop().await;
    b.stop().await;
    db.drop_now().await.unwrap();
}
