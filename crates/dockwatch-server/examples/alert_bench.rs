//! End-to-end alert delivery benchmark: events committed through the store (each queues an
//! outbox row in its transaction), the server's worker, a signed webhook channel, and a local
//! receiver in the same process. Run by `bench/alerts.sh`.
//!
//! `alert_bench [--database-url URL] [--events N] [--rate R] [--seconds S]`
//!
//! 1. Drain: N events queued with the worker stopped, then the worker started: deliveries per
//!    second until the receiver has all N.
//! 2. Under load: events committed at R per second for S seconds with the worker running:
//!    the delivery rate, and event-to-delivery latency (event time to receipt) p50/p99/max.

use axum::Router;
use axum::http::StatusCode;
use dockwatch_alert::RuleSpec;
use dockwatch_server::{AppState, ServerConfig};
use dockwatch_store::{Store, StoreConfig};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Default)]
struct Received {
    /// Event-to-delivery latency (ms) of each request, in arrival order.
    latency_ms: Vec<i64>,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap()
}

async fn receiver(got: Arc<Mutex<Received>>) -> String {
    let router = Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let got = got.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let sent = v["data"]["time"]
                    .as_str()
                    .and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .map_or(0, |t| {
                        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
                    });
                got.lock().unwrap().latency_ms.push(now_ms() - sent);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn wait_for(got: &Mutex<Received>, n: usize) {
    loop {
        if got.lock().unwrap().latency_ms.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn create_events(store: &Store, org: &dockwatch_store::orgs::Org, from: usize, n: usize) {
    let actor = dockwatch_store::write::system_actor();
    for i in from..from + n {
        store
            .create_team(&actor, org, &format!("t{i}"), "")
            .await
            .unwrap();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let events: usize = arg("--events").map_or(20_000, |v| v.parse().unwrap());
    let rate: usize = arg("--rate").map_or(5_000, |v| v.parse().unwrap());
    let seconds: usize = arg("--seconds").map_or(10, |v| v.parse().unwrap());
    let database_url = arg("--database-url");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig {
        database_url: database_url.clone(),
        data_dir: dir.path().into(),
        max_connections: 16,
    })
    .await
    .unwrap();
    store
        .bootstrap("bench-token", "owner@example.com", "default")
        .await
        .unwrap();
    let org = store.org("default").await.unwrap();
    let state = AppState::new(
        store.clone(),
        ServerConfig {
            allow_private_targets: true,
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let got = Arc::new(Mutex::new(Received::default()));
    let url = receiver(got.clone()).await;
    let actor = dockwatch_store::write::system_actor();
    let config = serde_json::json!({"kind": "webhook", "url": url, "secret": SECRET}).to_string();
    let channel = store
        .create_alert_channel(
            &actor,
            &org.id,
            "hook",
            "webhook",
            &state.seal_key.seal(&config),
        )
        .await
        .unwrap();
    let spec: RuleSpec = serde_json::from_value(serde_json::json!({
        "id": "", "name": "teams", "match": ["team.created"], "channels": [channel.id],
    }))
    .unwrap();
    store
        .create_alert_rule(&actor, &org.id, spec)
        .await
        .unwrap();
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    // 1. Drain a queue of `events`.
    let start = Instant::now();
    let producers = 4;
    let mut set = tokio::task::JoinSet::new();
    for p in 0..producers {
        let store = store.clone();
        let org = org.clone();
        let per = events / producers;
        set.spawn(async move { create_events(&store, &org, p * per, per).await });
    }
    while set.join_next().await.is_some() {}
    let queued = events / producers * producers;
    let write_secs = start.elapsed().as_secs_f64();
    println!(
        "{backend}: queued {queued} events in {write_secs:.2} s ({:.0} events/s committed)",
        queued as f64 / write_secs
    );
    let start = Instant::now();
    let worker = dockwatch_server::alert::worker::spawn(state.clone());
    wait_for(&got, queued).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend}: drained {queued} deliveries in {secs:.2} s: {:.0} deliveries/s",
        queued as f64 / secs
    );
    got.lock().unwrap().latency_ms.clear();

    // 2. Events at `rate` per second for `seconds`, worker running: four producers, each on
    // its own schedule (a producer behind schedule catches up rather than piling up tasks, so
    // the figure is the alert path's latency, not a queue of waiting writers).
    let total = rate * seconds;
    let start = Instant::now();
    let producers = 4;
    let mut set = tokio::task::JoinSet::new();
    for p in 0..producers {
        let store = store.clone();
        let org = org.clone();
        let per = total / producers;
        let interval = Duration::from_secs_f64(producers as f64 / rate as f64);
        set.spawn(async move {
            for i in 0..per {
                tokio::time::sleep_until((start + interval * i as u32).into()).await;
                create_events(&store, &org, queued + p * per + i, 1).await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    let total = total / producers * producers;
    let produced_secs = start.elapsed().as_secs_f64();
    wait_for(&got, total).await;
    let secs = start.elapsed().as_secs_f64();
    worker.abort();
    let mut lat = got.lock().unwrap().latency_ms.clone();
    lat.sort_unstable();
    println!(
        "{backend}: offered {rate}/s for {seconds} s; committed {total} events in {produced_secs:.2} s ({:.0}/s), delivered all in {secs:.2} s ({:.0} deliveries/s)",
        total as f64 / produced_secs,
        total as f64 / secs
    );
    println!(
        "{backend}: event-to-delivery latency ms: p50 {} p90 {} p99 {} max {}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    store.close().await;
}
