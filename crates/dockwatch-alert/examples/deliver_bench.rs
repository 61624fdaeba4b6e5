//! Run with `cargo run --release -p dockwatch-alert --example deliver_bench [deliveries] [concurrency]`:
//! signed webhook deliveries per second to a local receiver, and attempt latency percentiles.

use dockwatch_alert::{AlertEvent, ChannelConfig, ChannelContext, Delivery, TargetPolicy, build};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|body: axum::body::Bytes| async move {
        std::hint::black_box(body.len());
        axum::http::StatusCode::NO_CONTENT
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config: ChannelConfig = serde_json::from_value(serde_json::json!({
        "kind": "webhook", "url": format!("http://{addr}/hook"), "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }))
    .unwrap();
    let ctx = ChannelContext {
        policy: TargetPolicy {
            allow_private: true,
        },
        ..ChannelContext::default()
    };
    let channel: Arc<dyn dockwatch_alert::Channel> = Arc::from(build(&config, &ctx).unwrap());
    let event: AlertEvent = serde_json::from_value(serde_json::json!({
        "id": "ev", "org": "acme", "time": "2026-11-25T13:14:15Z", "action": "team.created",
        "actor": "alice@example.com", "target": "team:t1", "summary": "alice created team t1",
        "details": {"name": "t1"},
    }))
    .unwrap();

    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (channel, event, next) = (channel.clone(), event.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let outcome = channel
                    .deliver(&Delivery::single("bench", event.clone()))
                    .await;
                assert!(outcome.decision.is_delivered(), "{outcome:?}");
                latencies.push(outcome.latency);
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{} deliveries, concurrency {concurrency}: {:.0}/s; latency p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies.last().unwrap()
    );
}
