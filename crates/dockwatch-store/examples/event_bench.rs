//! Activity-log benchmark: fills the log through the real write path (`Store::write`, group
//! commit of `--batch` events per transaction), then times searches. Run by
//! `bench/activity-log.sh`; results in docs/benchmarks.md.
//!
//! `event_bench --events N [--database-url URL] [--data-dir DIR] [--batch N] [--writers N]
//!  [--orgs N] [--actors N] [--queries N]`

use dockwatch_store::events_query::EventFilter;
use dockwatch_store::write::{Change, target};
use dockwatch_store::{Actor, Store, StoreConfig};
use std::time::{Duration, Instant};

/// Realistic mix: mostly pulls, pushes, token use and sign-ins, some organization changes.
const ACTIONS: &[(&str, u32)] = &[
    ("image.pulled", 40),
    ("auth.token.used", 15),
    ("image.pushed", 10),
    ("auth.signin.succeeded", 8),
    ("auth.signin.failed", 3),
    ("repository.updated", 4),
    ("repository.created", 2),
    ("team.member.added", 3),
    ("team.member.removed", 1),
    ("team.created", 1),
    ("member.role.changed", 2),
    ("member.invited", 2),
    ("member.added", 2),
    ("token.created", 1),
    ("fleet.compliance.drifted", 3),
    ("fleet.compliance.restored", 2),
    ("image.vulnerability.new", 1),
];

const WORDS: &[&str] = &[
    "alpine", "nginx", "postgres", "redis", "api", "web", "worker", "frontend", "billing",
    "search", "metrics", "gateway", "auth", "payments", "reports", "ingest", "cache", "mailer",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic and cheap.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Args {
    events: u64,
    database_url: Option<String>,
    data_dir: std::path::PathBuf,
    batch: u64,
    writers: u64,
    orgs: u64,
    actors: u64,
    queries: usize,
}

fn args() -> Args {
    let mut a = Args {
        events: 1_000_000,
        database_url: None,
        data_dir: std::env::temp_dir().join("dockwatch-event-bench"),
        batch: 5000,
        writers: 1,
        orgs: 50,
        actors: 5000,
        queries: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let num = || {
            value
                .replace('_', "")
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag}: {value:?} is not a number"))
        };
        match flag.as_str() {
            "--events" => a.events = num(),
            "--database-url" => a.database_url = Some(value.clone()),
            "--data-dir" => a.data_dir = value.clone().into(),
            "--batch" => a.batch = num(),
            "--writers" => a.writers = num(),
            "--orgs" => a.orgs = num(),
            "--actors" => a.actors = num(),
            "--queries" => a.queries = num() as usize,
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn actor(i: u64) -> Actor {
    Actor {
        kind: if i.is_multiple_of(10) {
            "token"
        } else {
            "user"
        }
        .into(),
        id: format!("u-{i:06}"),
        name: format!("user{i}@example.com"),
        ip: Some(format!("198.51.{}.{}", (i / 250) % 250, i % 250)),
        user_agent: Some("docker/27.3.1 go/go1.22.7 git-commit/41ca978 os/linux arch/amd64".into()),
    }
}

fn pick_action(rng: &mut Rng) -> &'static str {
    let total: u32 = ACTIONS.iter().map(|a| a.1).sum();
    let mut r = rng.below(u64::from(total)) as u32;
    for (name, weight) in ACTIONS {
        if r < *weight {
            return name;
        }
        r -= weight;
    }
    ACTIONS[0].0
}

fn change(rng: &mut Rng, orgs: u64, actors: u64) -> Change {
    let org = format!("org-{:03}", rng.below(orgs));
    let who = actor(rng.below(actors));
    let action = pick_action(rng);
    let repo = format!(
        "{}-{}-{}",
        WORDS[rng.below(WORDS.len() as u64) as usize],
        WORDS[rng.below(WORDS.len() as u64) as usize],
        rng.below(500)
    );
    let tag = format!("1.{}.{}", rng.below(30), rng.below(10));
    Change::new(
        &org,
        action,
        target("repository", &format!("r-{repo}"), &repo),
        format!("{} {repo}:{tag}", action.replace('.', " ")),
    )
    .details(serde_json::json!({ "tag": tag, "digest": format!("sha256:{:064x}", rng.next()) }))
    .by(who)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn time_queries(
    store: &Store,
    name: &str,
    n: usize,
    mut make: impl FnMut(usize) -> (String, EventFilter),
) {
    let mut times = Vec::with_capacity(n);
    let mut rows = 0;
    for i in 0..n {
        let (org, filter) = make(i);
        let t = Instant::now();
        rows += store
            .search_events(&org, &filter, None, 100)
            .await
            .unwrap()
            .len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "search {name:<28} p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (avg rows {:.0})",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        rows as f64 / n as f64
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let a = args();
    let store = Store::open(&StoreConfig {
        database_url: a.database_url.clone(),
        data_dir: a.data_dir.clone(),
        max_connections: (a.writers as u32 + 2).max(4),
    })
    .await
    .unwrap();
    println!(
        "backend {:?}, {} events, batch {}, writers {}, {} orgs, {} actors",
        store.backend(),
        a.events,
        a.batch,
        a.writers,
        a.orgs,
        a.actors
    );
    let start_ms = now_ms();
    let started = Instant::now();
    let per_writer = a.events / a.writers;
    let mut tasks = Vec::new();
    for w in 0..a.writers {
        let store = store.clone();
        let (batch, orgs, actors) = (a.batch, a.orgs, a.actors);
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w + 1));
            let system = dockwatch_store::write::system_actor();
            let mut done = 0;
            let mut last_report = Instant::now();
            while done < per_writer {
                let n = batch.min(per_writer - done);
                let mut tx = store.write(&system).await.unwrap();
                for _ in 0..n {
                    tx.record(change(&mut rng, orgs, actors));
                }
                tx.commit().await.unwrap();
                done += n;
                if w == 0 && last_report.elapsed() > Duration::from_secs(30) {
                    last_report = Instant::now();
                    eprintln!("writer 0: {done} events");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    let total = per_writer * a.writers;
    println!(
        "ingest: {total} events in {:.1} s = {:.0} events/s (durable: each batch one commit)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    let end_ms = now_ms();
    let span = (end_ms - start_ms).max(1);

    // Searches: 1 hour windows are ~1/N of the ingest span; use a tenth of the span.
    let window = (span / 10).max(1);
    let mut rng = Rng(42);
    let ranged = |rng: &mut Rng| {
        let since = start_ms + rng.below((span - window).max(1) as u64) as i64;
        (Some(since), Some(since + window))
    };
    let org = |rng: &mut Rng| format!("org-{:03}", rng.below(a.orgs));
    let mut r1 = Rng(1);
    time_queries(&store, "actor + time range", a.queries, |_| {
        let (since_ms, until_ms) = ranged(&mut r1);
        let o = org(&mut r1);
        (
            o,
            EventFilter {
                actor: Some(actor(r1.below(a.actors)).name),
                since_ms,
                until_ms,
                ..Default::default()
            },
        )
    })
    .await;
    let prefixes = [
        "image.*",
        "auth.*",
        "team.*",
        "member.*",
        "fleet.compliance.*",
    ];
    time_queries(&store, "action prefix + time range", a.queries, |i| {
        let (since_ms, until_ms) = ranged(&mut rng);
        let o = org(&mut rng);
        (
            o,
            EventFilter {
                action: Some(prefixes[i % prefixes.len()].into()),
                since_ms,
                until_ms,
                ..Default::default()
            },
        )
    })
    .await;
    let mut r3 = Rng(3);
    time_queries(&store, "free text (repository name)", a.queries, |_| {
        let name = format!(
            "{}-{}-{}",
            WORDS[r3.below(WORDS.len() as u64) as usize],
            WORDS[r3.below(WORDS.len() as u64) as usize],
            r3.below(500)
        );
        (
            org(&mut r3),
            EventFilter {
                text: Some(name),
                ..Default::default()
            },
        )
    })
    .await;
    let mut r4 = Rng(4);
    time_queries(&store, "free text (no match)", a.queries, |_| {
        (
            org(&mut r4),
            EventFilter {
                text: Some("no-such-word".into()),
                ..Default::default()
            },
        )
    })
    .await;
    store.close().await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
