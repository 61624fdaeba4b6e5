//! Alert delivery metrics for `/metrics`: counters per channel kind and outcome, latency
//! histograms, and the outbox's depth (read from the database at scrape time, so it is right
//! for every server sharing the database).

use dockwatch_store::alerts::OutboxDepth;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Channel kinds, in label order; anything else counts as the last, "other".
const KINDS: [&str; 6] = [
    "slack",
    "webhook",
    "splunk-hec",
    "sentinel",
    "syslog",
    "other",
];
/// What became of an attempt.
const OUTCOMES: [&str; 3] = ["delivered", "retry", "dead"];
/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// One attempt's result, as the worker saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted it.
    Delivered,
    /// It failed and will be tried again.
    Retry,
    /// It failed for good (dead letter).
    Dead,
}

struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, kind: &str) {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{kind=\"{kind}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum{{kind=\"{kind}\"}} {}",
            self.sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{{kind=\"{kind}\"}} {count}");
    }
}

static DELIVERIES: [[AtomicU64; OUTCOMES.len()]; KINDS.len()] =
    [const { [const { AtomicU64::new(0) }; OUTCOMES.len()] }; KINDS.len()];
static ATTEMPTS: [AtomicU64; KINDS.len()] = [const { AtomicU64::new(0) }; KINDS.len()];
static BREAKER_WAITS: [AtomicU64; KINDS.len()] = [const { AtomicU64::new(0) }; KINDS.len()];
static ATTEMPT_SECONDS: [Histogram; KINDS.len()] = [const { Histogram::new() }; KINDS.len()];
static QUEUED_TO_DELIVERED: [Histogram; KINDS.len()] = [const { Histogram::new() }; KINDS.len()];

fn kind_index(kind: &str) -> usize {
    KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KINDS.len() - 1)
}

/// Records an attempt that reached the channel: its outcome and how long it took.
pub fn attempt(kind: &str, outcome: Outcome, took: Duration) {
    let k = kind_index(kind);
    ATTEMPTS[k].fetch_add(1, Relaxed);
    ATTEMPT_SECONDS[k].observe(took);
    finished(kind, outcome);
}

/// Records what became of a delivery (also for those dead-lettered without an attempt).
pub fn finished(kind: &str, outcome: Outcome) {
    DELIVERIES[kind_index(kind)][outcome as usize].fetch_add(1, Relaxed);
}

/// Records the time from queueing to the receiver's acceptance.
pub fn delivered_after(kind: &str, since_queued: Duration) {
    QUEUED_TO_DELIVERED[kind_index(kind)].observe(since_queued);
}

/// Records a delivery put back because its endpoint's circuit breaker is open.
pub fn breaker_wait(kind: &str) {
    BREAKER_WAITS[kind_index(kind)].fetch_add(1, Relaxed);
}

/// Deliveries of `kind` that ended in `outcome` since start (for tests).
pub fn deliveries(kind: &str, outcome: Outcome) -> u64 {
    DELIVERIES[kind_index(kind)][outcome as usize].load(Relaxed)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The text exposition of every alert metric; `depth` is `None` when the database could not
/// be read (the gauges are then left out rather than reported as zero).
pub fn render(depth: Option<OutboxDepth>) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "dockwatch_alert_deliveries_total",
        "counter",
        "Alert delivery attempts by channel kind and outcome (delivered, retry, dead).",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        for (o, outcome) in OUTCOMES.iter().enumerate() {
            let _ = writeln!(
                out,
                "dockwatch_alert_deliveries_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {}",
                DELIVERIES[k][o].load(Relaxed)
            );
        }
    }
    header(
        &mut out,
        "dockwatch_alert_attempts_total",
        "counter",
        "Alert delivery attempts sent to a receiver.",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        let _ = writeln!(
            out,
            "dockwatch_alert_attempts_total{{kind=\"{kind}\"}} {}",
            ATTEMPTS[k].load(Relaxed)
        );
    }
    header(
        &mut out,
        "dockwatch_alert_failures_total",
        "counter",
        "Alert attempts that failed (retried or dead-lettered).",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        let failed = DELIVERIES[k][Outcome::Retry as usize].load(Relaxed)
            + DELIVERIES[k][Outcome::Dead as usize].load(Relaxed);
        let _ = writeln!(
            out,
            "dockwatch_alert_failures_total{{kind=\"{kind}\"}} {failed}"
        );
    }
    header(
        &mut out,
        "dockwatch_alert_dead_letters_total",
        "counter",
        "Alert deliveries dead-lettered (kept for manual redelivery).",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        let _ = writeln!(
            out,
            "dockwatch_alert_dead_letters_total{{kind=\"{kind}\"}} {}",
            DELIVERIES[k][Outcome::Dead as usize].load(Relaxed)
        );
    }
    header(
        &mut out,
        "dockwatch_alert_breaker_waits_total",
        "counter",
        "Deliveries put back because their endpoint's circuit breaker was open.",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        let _ = writeln!(
            out,
            "dockwatch_alert_breaker_waits_total{{kind=\"{kind}\"}} {}",
            BREAKER_WAITS[k].load(Relaxed)
        );
    }
    header(
        &mut out,
        "dockwatch_alert_throttled_total",
        "counter",
        "Events held back by a rule's throttle (sent in the window's summary).",
    );
    let _ = writeln!(
        out,
        "dockwatch_alert_throttled_total {}",
        dockwatch_store::alerts::THROTTLED.load(Relaxed)
    );
    header(
        &mut out,
        "dockwatch_alert_attempt_duration_seconds",
        "histogram",
        "Time for one delivery attempt, connection to answer.",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        ATTEMPT_SECONDS[k].render(&mut out, "dockwatch_alert_attempt_duration_seconds", kind);
    }
    header(
        &mut out,
        "dockwatch_alert_delivery_latency_seconds",
        "histogram",
        "Time from queueing (the event's commit, or a digest's window end) to acceptance.",
    );
    for (k, kind) in KINDS.iter().enumerate() {
        QUEUED_TO_DELIVERED[k].render(&mut out, "dockwatch_alert_delivery_latency_seconds", kind);
    }
    if let Some(d) = depth {
        header(
            &mut out,
            "dockwatch_alert_queue_depth",
            "gauge",
            "Outbox rows: due (waiting for a worker), leased (being sent), scheduled (retries, digests, open breakers), dead.",
        );
        for (state, n) in [
            ("due", d.due),
            ("leased", d.leased),
            ("scheduled", d.scheduled),
            ("dead", d.dead),
        ] {
            let _ = writeln!(out, "dockwatch_alert_queue_depth{{state=\"{state}\"}} {n}");
        }
    }
    out
}
