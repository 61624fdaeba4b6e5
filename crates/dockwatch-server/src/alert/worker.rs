//! The delivery worker: claims due outbox rows under a lease, delivers them through the channel
//! library with bounded concurrency, records each attempt and schedules retries or dead-letters.
//!
//! At-least-once: a row claimed by a process that dies keeps its lease until it expires, then is
//! claimed again and sent with the same delivery id.

use super::metrics;
use crate::AppState;
use dockwatch_alert::{Channel, ChannelConfig, DeadLetterPolicy, Delivery, Next, build, next_step};
use dockwatch_store::alerts::{AttemptLog, AttemptResult, OutboxRow, alert_event};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Deliveries sent at once by one process.
const CONCURRENCY: i64 = 8;
/// How long a claim holds a row: longer than one attempt's total timeout.
const LEASE_MS: i64 = 20_000;
/// Polling interval when nothing wakes the worker.
const POLL: Duration = Duration::from_millis(500);

/// Built channels, kept while their sealed settings are unchanged (they pool connections).
type ChannelCache = Mutex<HashMap<String, (String, Arc<dyn Channel>)>>;

/// Starts the worker on the current runtime.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { run(state).await })
}

async fn run(state: AppState) {
    let notify = state.store.outbox_notify();
    let cache: Arc<ChannelCache> = Arc::default();
    loop {
        let rows = match state.store.claim_deliveries(CONCURRENCY, LEASE_MS).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "Claiming alert deliveries failed.");
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if rows.is_empty() {
            tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            continue;
        }
        let mut set = tokio::task::JoinSet::new();
        for row in rows {
            let state = state.clone();
            let cache = cache.clone();
            set.spawn(async move {
                if let Err(e) = deliver(&state, &cache, &row).await {
                    tracing::warn!(delivery = %row.id, error = %e, "Alert delivery failed to record.");
                }
            });
        }
        while set.join_next().await.is_some() {}
    }
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

async fn channel_for(
    state: &AppState,
    cache: &ChannelCache,
    channel_id: &str,
) -> Result<Option<(&'static str, Arc<dyn Channel>)>, String> {
    let Some(stored) = state
        .store
        .alert_channel_by_id(channel_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let mut cache = cache.lock().await;
    if let Some((sealed, ch)) = cache.get(channel_id)
        && *sealed == stored.config
    {
        return Ok(Some((ch.kind().as_str(), ch.clone())));
    }
    let config = open_config(state, &stored.config)?;
    let ch: Arc<dyn Channel> = Arc::from(
        build(&config, &state.alert_context).map_err(|e| format!("channel settings: {e}"))?,
    );
    cache.insert(channel_id.to_owned(), (stored.config, ch.clone()));
    Ok(Some((ch.kind().as_str(), ch)))
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

async fn deliver(state: &AppState, cache: &ChannelCache, row: &OutboxRow) -> Result<(), String> {
    let store = &state.store;
    let (kind, channel) = match channel_for(state, cache, &row.channel_id).await {
        Ok(Some(ch)) => ch,
        Ok(None) => return dead(state, row, "other", "the channel was removed").await,
        Err(e) => return dead(state, row, "other", &e).await,
    };
    let org = store
        .orgs_by_id(&row.org_id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .map(|o| o.name)
        .unwrap_or_default();
    let events: Vec<_> = store
        .events_by_id(&row.event_ids)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|e| alert_event(e, &org))
        .collect();
    if events.is_empty() {
        return dead(state, row, kind, "its events are gone").await;
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
        return store
            .postpone_delivery(row, ms(until))
            .await
            .map_err(|e| e.to_string());
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
    let log = AttemptLog {
        status: outcome.status.map(i64::from),
        latency_ms: outcome.latency.as_millis() as i64,
        excerpt: outcome.response_excerpt,
    };
    store
        .finish_delivery(row, &log, &result)
        .await
        .map_err(|e| e.to_string())
}

async fn dead(state: &AppState, row: &OutboxRow, kind: &str, reason: &str) -> Result<(), String> {
    let result = AttemptResult::Dead(reason.to_owned());
    metrics::finished(kind, metrics::Outcome::Dead);
    let log = AttemptLog {
        status: None,
        latency_ms: 0,
        excerpt: reason.to_owned(),
    };
    state
        .store
        .finish_delivery(row, &log, &result)
        .await
        .map_err(|e| e.to_string())
}
