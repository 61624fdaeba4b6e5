//! Fleet load generator: simulates many machines enrolling and reporting to a running
//! `dockwatch serve` through the real HTTP path (enrollment token, HMAC-signed reports with
//! fresh nonces, several keep-alive connections), then times the fleet summary and report.
//!
//! Run by `bench/fleet-load.sh`; by hand:
//! `cargo run --release --example fleet-load -- --server URL --token API_TOKEN --machines 100000`

use anyhow::{Context, bail};
use clap::Parser;
use dockwatch_core::settings::wire::{self, EnrollResponse, REPORT_PATH};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Simulate machines reporting to a Dockwatch server.
#[derive(Debug, Parser)]
struct Args {
    /// The server, `http://127.0.0.1:PORT`.
    #[arg(long)]
    server: String,
    /// An API token of an organization owner.
    #[arg(long)]
    token: String,
    /// The organization.
    #[arg(long, default_value = "default")]
    org: String,
    /// Simulated machines.
    #[arg(long, default_value_t = 100_000)]
    machines: usize,
    /// Concurrent connections (requests in flight).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Report rounds after enrollment (round 1 is each machine's first report).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Times the summary is fetched.
    #[arg(long, default_value_t = 20)]
    summary_runs: usize,
    /// The server's process id, to report its CPU time per phase (the machine may be shared).
    #[arg(long)]
    server_pid: Option<u32>,
}

/// The server's CPU seconds (user + system) so far, from /proc.
fn server_cpu(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `; server CPU 12.3 s: 8130 per server CPU-second` when the pid is known.
fn per_cpu(pid: Option<u32>, before: Option<f64>, count: usize) -> String {
    match (before, server_cpu(pid)) {
        (Some(b), Some(a)) if a > b => format!(
            "; server CPU {:.1} s: {:.0} per server CPU-second",
            a - b,
            count as f64 / (a - b)
        ),
        _ => String::new(),
    }
}

const POLICY: &str = r#"{"configurationFileVersion": 2,
 "analyticsEnabled": {"locked": true, "value": false},
 "disableUpdate": {"locked": true, "value": true},
 "exposeDockerAPIOnTCP2375": {"locked": true, "value": false}}"#;

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A realistic small report: one user with Desktop's settings, daemon.json; every 10th machine
/// drifts.
fn report(i: usize, round: usize) -> Vec<u8> {
    let drift = i.is_multiple_of(10);
    serde_json::to_vec(&serde_json::json!({
        "schema": 1, "agent_version": "bench", "collected_at_ms": round as i64,
        "machine": {"machine_id": format!("bench-host-{i}"), "hostname": format!("host-{i:06}"),
            "os": {"family": "linux", "id": "ubuntu", "version": "24.04", "pretty_name": "Ubuntu 24.04.1 LTS"}},
        "users": [{"account": "dev", "uid": 1000, "email": format!("dev{}@corp.example", i % 5000),
            "files": [{"path": "home/dev/.docker/desktop/settings-store.json", "kind": "settings-store",
                "values": {"AnalyticsEnabled": drift, "DisableUpdate": true, "ExposeDockerAPIOnTCP2375": false,
                    "KubernetesEnabled": false, "UseVirtualizationFrameworkVirtioFS": true}}]}],
        "engine": {"daemon_json": {"live-restore": true, "log-driver": "json-file"},
            "daemon_json_path": "etc/docker/daemon.json"},
        "desktop_version": "Docker Desktop 4.37.1 (178610)"
    }))
    .expect("serializes")
}

/// Runs `total` jobs over `connections` workers; returns the elapsed time.
async fn spread<F, Fut>(total: usize, connections: usize, job: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let next = next.clone();
        let job = job.clone();
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                job(i).await?;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(start.elapsed())
}

async fn check(resp: reqwest::Response, what: &str) -> anyhow::Result<Vec<u8>> {
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body.to_vec())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let p = |q: f64| millis(v[((v.len() - 1) as f64 * q).round() as usize]);
    format!(
        "min {:.1} ms, median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        p(0.0),
        p(0.5),
        p(0.9),
        p(1.0)
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let base = args.server.trim_end_matches('/').to_owned();
    let api = format!("{base}/api/v1/orgs/{}/fleet", args.org);
    let auth = format!("Bearer {}", args.token);

    let policy: serde_json::Value = serde_json::from_str(POLICY)?;
    check(
        http.put(format!("{api}/policies/baseline"))
            .header("authorization", &auth)
            .json(&serde_json::json!({"document": policy, "assign": ["org"]}))
            .send()
            .await?,
        "set policy",
    )
    .await?;
    let token: serde_json::Value = serde_json::from_slice(
        &check(
            http.post(format!("{api}/enroll-tokens"))
                .header("authorization", &auth)
                .json(&serde_json::json!({"name": "bench"}))
                .send()
                .await?,
            "enroll token",
        )
        .await?,
    )?;
    let enroll_token = token["token"].as_str().context("enroll token")?.to_owned();

    // Enroll every machine.
    let creds: Arc<Vec<std::sync::OnceLock<EnrollResponse>>> =
        Arc::new((0..args.machines).map(|_| Default::default()).collect());
    let (h, b, c) = (http.clone(), base.clone(), creds.clone());
    let cpu = server_cpu(args.server_pid);
    let took = spread(args.machines, args.connections, move |i| {
        let (http, base, creds, token) = (h.clone(), b.clone(), c.clone(), enroll_token.clone());
        async move {
            let body = serde_json::json!({"enrollment_token": token,
                "host_machine_id": format!("bench-host-{i}"), "hostname": format!("host-{i:06}"),
                "os": {"family": "linux"}, "agent_version": "bench"});
            let resp = http
                .post(format!("{base}{}", wire::ENROLL_PATH))
                .json(&body)
                .send()
                .await?;
            let e: EnrollResponse = serde_json::from_slice(&check(resp, "enroll").await?)?;
            let _ = creds[i].set(e);
            Ok(())
        }
    })
    .await?;
    println!(
        "enrolled {} machines in {:.1} s: {:.0} enrollments/s{}",
        args.machines,
        took.as_secs_f64(),
        args.machines as f64 / took.as_secs_f64(),
        per_cpu(args.server_pid, cpu, args.machines)
    );

    // Report rounds: signed, a fresh nonce each, through the real endpoint.
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..args.machines).map(|i| report(i, 0)).collect());
    for round in 1..=args.rounds {
        let (h, b, c, bodies) = (http.clone(), base.clone(), creds.clone(), bodies.clone());
        let cpu = server_cpu(args.server_pid);
        let took = spread(args.machines, args.connections, move |i| {
            let (http, base, creds, bodies) = (h.clone(), b.clone(), c.clone(), bodies.clone());
            async move {
                let cred = creds[i].get().context("enrolled")?;
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
                nonce[8..].copy_from_slice(&(round as u64).to_le_bytes());
                let body = bodies[i].clone();
                let signed = wire::sign(
                    &cred.credential,
                    "POST",
                    REPORT_PATH,
                    &cred.machine_id,
                    now_secs(),
                    nonce,
                    &body,
                );
                let mut req = http
                    .post(format!("{base}{REPORT_PATH}"))
                    .header("content-type", "application/json");
                for (k, v) in signed.pairs() {
                    req = req.header(k, v);
                }
                check(req.body(body).send().await?, "report").await?;
                Ok(())
            }
        })
        .await?;
        println!(
            "round {round} ({}): {} reports in {:.1} s: {:.0} reports/s{}",
            if round == 1 {
                "first reports: a transition event each"
            } else {
                "steady state: same status, no event"
            },
            args.machines,
            took.as_secs_f64(),
            args.machines as f64 / took.as_secs_f64(),
            per_cpu(args.server_pid, cpu, args.machines)
        );
    }

    // The summary over every machine (the indexed aggregate), then the full report.
    let mut times = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..args.summary_runs {
        let t = Instant::now();
        let body = check(
            http.get(format!("{api}/report/summary"))
                .header("authorization", &auth)
                .send()
                .await?,
            "summary",
        )
        .await?;
        times.push(t.elapsed());
        last = serde_json::from_slice(&body)?;
    }
    println!(
        "summary over {} machines ({} runs, HTTP round trip): {}; {}",
        args.machines,
        args.summary_runs,
        stats(times),
        last["summary"]
    );
    let mut times = Vec::new();
    for _ in 0..1 {
        let t = Instant::now();
        let body = check(
            http.get(format!("{api}/report"))
                .header("authorization", &auth)
                .send()
                .await?,
            "report",
        )
        .await?;
        times.push(t.elapsed());
        last = serde_json::from_slice(&body)?;
    }
    println!(
        "full report (every machine re-judged, {} rows, 1 run): {}; {}",
        last["machines"].as_array().map_or(0, Vec::len),
        stats(times),
        last["summary"]
    );
    Ok(())
}
