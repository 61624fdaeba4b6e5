//! The delivery worker: claims due outbox rows under a lease, delivers them through the channel
//! library with bounded concurrency, records each attempt and schedules retries or dead-letters.
//!
//! At-least-once: a row claimed by a process that dies keeps its lease until it expires, then is
//! claimed again and sent with the same delivery id.
//!
//! Throughput: a slot frees as soon as its delivery ends and the loop claims as many rows as
//! there are free slots (no batch waits for its slowest delivery); results go to one recorder
//! task that writes them in a single transaction per batch (group commit); channels and
//! organization names are cached for a moment instead of read for every delivery.

use super::metrics;
use crate::AppState;
use dockwatch_alert::{Channel, ChannelConfig, DeadLetterPolicy, Delivery, Next, build, next_step};
use dockwatch_store::alerts::{AttemptLog, AttemptResult, Finish, OutboxRow, alert_event};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::{Mutex, Semaphore, mpsc};

/// Deliveries sent at once by one process.
const CONCURRENCY: usize = 64;
/// Results written per transaction, at most.
const RECORD_BATCH: usize = 512;
/// How long a claim holds a row: longer than one attempt's total timeout.
const LEASE_MS: i64 = 20_000;
/// Polling interval when nothing wakes the worker.
const POLL: Duration = Duration::from_millis(500);
/// How long a channel's settings or an organization's name are used before being read again
/// (so a changed or removed channel takes effect within this).
const CACHE_FOR: Duration = Duration::from_secs(2);

/// A built channel (it pools connections), kept while its sealed settings are unchanged.
struct CachedChannel {
    sealed: String,
    checked: Instant,
    kind: &'static str,
    channel: Arc<dyn Channel>,
}

#[derive(Default)]
struct Caches {
    channels: Mutex<HashMap<String, CachedChannel>>,
    orgs: Mutex<HashMap<String, (String, Instant)>>,
}

/// Starts the worker on the current runtime. Aborting it stops its deliveries too; results
/// not yet recorded are sent again once their leases expire (same delivery ids).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { run(state).await })
}

async fn run(state: AppState) {
    let notify = state.store.outbox_notify();
    let caches = Arc::new(Caches::default());
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let (done, results) = mpsc::channel::<Finish>(CONCURRENCY * 8);
    // Owned here, so aborting the worker aborts its deliveries and recorder.
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(record(state.clone(), results));
    loop {
        let first = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        while tasks.try_join_next().is_some() {}
        let free = 1 + slots.available_permits();
        let rows = match state
            .store
            .claim_deliveries(i64::try_from(free).unwrap_or(1), LEASE_MS)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "Claiming alert deliveries failed.");
                drop(first);
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if rows.is_empty() {
            drop(first);
            tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            continue;
        }
        let mut first = Some(first);
        for row in rows {
            let slot = match first.take() {
                Some(slot) => slot,
                None => slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed"),
            };
            let state = state.clone();
            let caches = caches.clone();
            let done = done.clone();
            tasks.spawn(async move {
                if let Some(finish) = deliver(&state, &caches, row).await {
                    let _ = done.send(finish).await;
                }
                drop(slot);
            });
        }
    }
}

/// Writes delivery results, as many as are waiting (up to a batch) per transaction.
async fn record(state: AppState, mut results: mpsc::Receiver<Finish>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while results.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(e) = state.store.finish_deliveries(&batch).await {
            // The rows stay leased; they are sent again when the leases expire (same ids).
            tracing::warn!(error = %e, count = batch.len(), "Recording alert deliveries failed.");
        }
        batch.clear();
    }
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

async fn channel_for(
    state: &AppState,
    caches: &Caches,
    channel_id: &str,
) -> Result<Option<(&'static str, Arc<dyn Channel>)>, String> {
    if let Some(c) = caches.channels.lock().await.get(channel_id)
        && c.checked.elapsed() < CACHE_FOR
    {
        return Ok(Some((c.kind, c.channel.clone())));
    }
    let Some(stored) = state
        .store
        .alert_channel_by_id(channel_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        caches.channels.lock().await.remove(channel_id);
        return Ok(None);
    };
    let mut cache = caches.channels.lock().await;
    if let Some(c) = cache.get_mut(channel_id)
        && c.sealed == stored.config
    {
        c.checked = Instant::now();
        return Ok(Some((c.kind, c.channel.clone())));
    }
    let config = open_config(state, &stored.config)?;
    let channel: Arc<dyn Channel> = Arc::from(
        build(&config, &state.alert_context).map_err(|e| format!("channel settings: {e}"))?,
    );
    let kind = channel.kind().as_str();
    cache.insert(
        channel_id.to_owned(),
        CachedChannel {
            sealed: stored.config,
            checked: Instant::now(),
            kind,
            channel: channel.clone(),
        },
    );
    Ok(Some((kind, channel)))
}

async fn org_name(state: &AppState, caches: &Caches, org_id: &str) -> Result<String, String> {
    if let Some((name, at)) = caches.orgs.lock().await.get(org_id)
        && at.elapsed() < CACHE_FOR
    {
        return Ok(name.clone());
    }
    let name = state
        .store
        .orgs_by_id(org_id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .map(|o| o.name)
        .unwrap_or_default();
    caches
        .orgs
        .lock()
        .await
        .insert(org_id.to_owned(), (name.clone(), Instant::now()));
    Ok(name)
}

/// Decrypts and parses a channel's stored settings.
pub fn open_config(state: &AppState, sealed: &str) -> Result<ChannelConfig, String> {
    let plain = state
        .seal_key
        .open(sealed)
        .map_err(|e| format!("channel settings: {e}"))?;
    serde_json::from_str(&plain).map_err(|e| format!("channel settings: {e}"))
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Makes one attempt (or puts the row back while its endpoint's breaker is open) and says what
/// to record; `None` when the database could not be read (the lease then runs out).
async fn deliver(state: &AppState, caches: &Caches, row: OutboxRow) -> Option<Finish> {
    match attempt(state, caches, &row).await {
        Ok(finish) => Some(finish),
        Err(e) => {
            tracing::warn!(delivery = %row.id, error = %e, "Alert delivery could not be prepared.");
            None
        }
    }
}

async fn attempt(state: &AppState, caches: &Caches, row: &OutboxRow) -> Result<Finish, String> {
    let store = &state.store;
    let (kind, channel) = match channel_for(state, caches, &row.channel_id).await {
        Ok(Some(ch)) => ch,
        Ok(None) => return Ok(dead(row, "other", "the channel was removed")),
        Err(e) => return Ok(dead(row, "other", &e)),
    };
    let org = org_name(state, caches, &row.org_id).await?;
    let events: Vec<_> = store
        .events_by_id(&row.event_ids)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|e| alert_event(e, &org))
        .collect();
    if events.is_empty() {
        return Ok(dead(row, kind, "its events are gone"));
    }
    // After this point the attempt is made and recorded: a half-open breaker's probe must
    // report back, or the endpoint would stay half-open.
    let endpoint = channel.endpoint();
    if let Err(until) =
        state
            .alert_health
            .allow(&row.channel_id, &endpoint, OffsetDateTime::now_utc())
    {
        metrics::breaker_wait(kind);
        return Ok(Finish::Postpone {
            row: row.clone(),
            until_ms: ms(until),
        });
    }
    let attempt = u32::try_from(row.attempts.max(1)).unwrap_or(u32::MAX);
    let delivery = Delivery {
        id: row.id.clone(),
        events,
        attempt,
    };
    let outcome = channel.deliver(&delivery).await;
    let now = OffsetDateTime::now_utc();
    state.alert_health.record(&endpoint, &outcome.decision, now);
    let first = at(row.first_attempt_ms.unwrap_or(row.next_attempt_ms));
    let next = next_step(
        &outcome.decision,
        attempt,
        first,
        now,
        &state.config.alert_backoff,
        &DeadLetterPolicy {
            max_age: state.config.alert_dead_letter_after,
        },
        &mut rand::thread_rng(),
    );
    let (result, counted) = match next {
        Next::Delivered => (AttemptResult::Delivered, metrics::Outcome::Delivered),
        Next::RetryAt(t) => (AttemptResult::RetryAt(ms(t)), metrics::Outcome::Retry),
        Next::DeadLetter { reason } => (AttemptResult::Dead(reason), metrics::Outcome::Dead),
    };
    metrics::attempt(kind, counted, outcome.latency);
    if counted == metrics::Outcome::Delivered {
        let queued_for = ms(now).saturating_sub(row.created_ms).max(0);
        metrics::delivered_after(kind, Duration::from_millis(queued_for as u64));
    }
    Ok(Finish::Attempt {
        row: row.clone(),
        log: AttemptLog {
            status: outcome.status.map(i64::from),
            latency_ms: outcome.latency.as_millis() as i64,
            excerpt: outcome.response_excerpt,
        },
        result,
    })
}

fn dead(row: &OutboxRow, kind: &str, reason: &str) -> Finish {
    metrics::finished(kind, metrics::Outcome::Dead);
    Finish::Attempt {
        row: row.clone(),
        log: AttemptLog {
            status: None,
            latency_ms: 0,
            excerpt: reason.to_owned(),
        },
        result: AttemptResult::Dead(reason.to_owned()),
    }
}
