//! Alert channels, rules, and the delivery outbox: rows written in the same transaction as the
//! event they deliver, claimed by the server's worker under a lease.
//!
//! Channel settings are stored as the server hands them (already encrypted); this module never
//! sees a secret in clear.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::write::{Change, target};
use crate::{Actor, Backend, Store, new_id, now_ms};
use dockwatch_alert::{AlertEvent, Delivery, Rule, RuleSpec, Severity};
use dockwatch_core::event::Event;
use sqlx::AnyConnection;

/// A stored channel; `config` is the server's sealed (encrypted) settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertChannel {
    /// Stable id (delivery ids derive from it).
    pub id: String,
    /// Organization id.
    pub org_id: String,
    /// Unique name in the organization.
    pub name: String,
    /// `webhook`, `slack`...
    pub kind: String,
    /// Sealed settings.
    pub config: String,
    /// Creation time.
    pub created_ms: i64,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// The rule (its `channels` are channel ids).
    pub spec: RuleSpec,
    /// Creation time.
    pub created_ms: i64,
}

/// One outbox row: a delivery and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The delivery id (`msg_...`), the same on every attempt.
    pub id: String,
    /// Organization id.
    pub org_id: String,
    /// Channel id.
    pub channel_id: String,
    /// The activity-log events it carries.
    pub event_ids: Vec<String>,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts so far (a claimed row counts its running attempt).
    pub attempts: i64,
    /// When it is next due.
    pub next_attempt_ms: i64,
    /// When it was first tried.
    pub first_attempt_ms: Option<i64>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// The last attempt's latency.
    pub last_latency_ms: Option<i64>,
    /// The start of the last answer, or what went wrong.
    pub last_excerpt: Option<String>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    /// When it was queued.
    pub created_ms: i64,
}

/// What the worker decided after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// Delivered.
    Delivered,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// Give up, keeping it for manual redelivery.
    Dead(String),
}

/// One attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLog {
    /// The receiver's HTTP status, if any.
    pub status: Option<i64>,
    /// How long it took.
    pub latency_ms: i64,
    /// The start of the answer, or the error.
    pub excerpt: String,
}

type OutboxTuple = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
);

const OUTBOX_COLUMNS: &str = "id, org_id, channel_id, event_ids, status, attempts, next_attempt_ms, \
     first_attempt_ms, last_status, last_latency_ms, last_excerpt, reason, created_ms";

fn outbox(r: OutboxTuple) -> OutboxRow {
    OutboxRow {
        id: r.0,
        org_id: r.1,
        channel_id: r.2,
        event_ids: serde_json::from_str(&r.3).unwrap_or_default(),
        status: r.4,
        attempts: r.5,
        next_attempt_ms: r.6,
        first_attempt_ms: r.7,
        last_status: r.8,
        last_latency_ms: r.9,
        last_excerpt: r.10,
        reason: r.11,
        created_ms: r.12,
    }
}

/// The alerting view of an activity-log event (`org` is the organization's name).
pub fn alert_event(e: &Event, org: &str) -> AlertEvent {
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let severity = details
        .get("severity")
        .and_then(|s| s.as_str())
        .and_then(|s| s.parse::<Severity>().ok());
    let about = |kind: &str| (e.target.kind == kind).then(|| e.target.name.clone());
    AlertEvent {
        id: e.id.clone(),
        org: org.to_owned(),
        time: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.time_ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        action: e.action.clone(),
        actor: e.actor.name.clone(),
        target: format!("{}:{}", e.target.kind, e.target.name),
        summary: e.sentence.clone(),
        details,
        console_url: None,
        repository: about("repository"),
        severity,
        team: about("team"),
    }
}

/// Events held back by a rule's throttle (they go out in the window's summary), since start.
pub static THROTTLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Called by the mutation hook for each appended event, inside its transaction: for every
/// matching rule and each of its channels, a delivery of its own, a place in the rule's digest,
/// or (over the rule's throttle) a place in the window's summary. Returns how many it queued.
pub(crate) async fn enqueue(conn: &mut AnyConnection, event: &Event) -> Result<usize> {
    if event.org_id.is_empty() {
        return Ok(0);
    }
    let specs: Vec<(String,)> = sqlx::query_as("SELECT spec FROM alert_rules WHERE org_id = $1")
        .bind(&event.org_id)
        .fetch_all(&mut *conn)
        .await?;
    if specs.is_empty() {
        return Ok(0);
    }
    let alert = alert_event(event, "");
    let now = now_ms();
    let mut queued = 0;
    for (spec,) in specs {
        let Ok(rule) = serde_json::from_str::<RuleSpec>(&spec)
            .map_err(|e| e.to_string())
            .and_then(|s| Rule::new(s).map_err(|e| e.to_string()))
        else {
            continue;
        };
        if !rule.matches(&alert) {
            continue;
        }
        for channel_id in &rule.spec().channels {
            route(conn, &rule, channel_id, event, now).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues `event` for `channel_id` as `rule` says: in a digest, in a throttle summary, or alone.
async fn route(
    conn: &mut AnyConnection,
    rule: &Rule,
    channel_id: &str,
    event: &Event,
    now: i64,
) -> Result<()> {
    let spec = rule.spec();
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    if let Some(end) = rule.digest_window_end(at) {
        // A digest is already one delivery per window: the throttle does not apply to it.
        let end_ms = end.unix_timestamp() * 1000;
        let id = Delivery::id_for_batch(channel_id, &[&format!("digest:{}:{end_ms}", spec.id)]);
        return add_to_batch(conn, &id, channel_id, event, end_ms, now).await;
    }
    if let Some(t) = spec.throttle {
        let window_ms = i64::try_from(t.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let start = now.div_euclid(window_ms) * window_ms;
        if !throttle_admits(conn, &spec.id, channel_id, start, i64::from(t.max)).await? {
            THROTTLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id =
                Delivery::id_for_batch(channel_id, &[&format!("throttled:{}:{start}", spec.id)]);
            return add_to_batch(conn, &id, channel_id, event, start + window_ms, now).await;
        }
    }
    insert_single(conn, channel_id, event, now).await
}

async fn insert_single(
    conn: &mut AnyConnection,
    channel_id: &str,
    event: &Event,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO alert_outbox (id, org_id, channel_id, event_ids, status, next_attempt_ms, created_ms) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(Delivery::id_for_event(channel_id, &event.id))
    .bind(&event.org_id)
    .bind(channel_id)
    .bind(serde_json::json!([event.id]).to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts a send in the rule × channel's current window; false (and a suppression counted) when
/// the window is full. Atomic on both backends: the conditional UPDATE takes the row's lock.
async fn throttle_admits(
    conn: &mut AnyConnection,
    rule_id: &str,
    channel_id: &str,
    window_start_ms: i64,
    max: i64,
) -> Result<bool> {
    sqlx::query(
        "DELETE FROM alert_throttle WHERE rule_id = $1 AND channel_id = $2 AND window_start_ms < $3",
    )
    .bind(rule_id)
    .bind(channel_id)
    .bind(window_start_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO alert_throttle (rule_id, channel_id, window_start_ms, sent, suppressed) \
         VALUES ($1, $2, $3, 0, 0) ON CONFLICT (rule_id, channel_id, window_start_ms) DO NOTHING",
    )
    .bind(rule_id)
    .bind(channel_id)
    .bind(window_start_ms)
    .execute(&mut *conn)
    .await?;
    let admitted = sqlx::query(
        "UPDATE alert_throttle SET sent = sent + 1 \
         WHERE rule_id = $1 AND channel_id = $2 AND window_start_ms = $3 AND sent < $4",
    )
    .bind(rule_id)
    .bind(channel_id)
    .bind(window_start_ms)
    .bind(max)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !admitted {
        sqlx::query(
            "UPDATE alert_throttle SET suppressed = suppressed + 1 \
             WHERE rule_id = $1 AND channel_id = $2 AND window_start_ms = $3",
        )
        .bind(rule_id)
        .bind(channel_id)
        .bind(window_start_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(admitted)
}

/// Adds `event` to the batch delivery `id` (a digest or a throttle summary) due at `due_ms`,
/// creating it if needed. If the batch has already gone (servers whose clocks disagree), the
/// event goes alone rather than being lost.
async fn add_to_batch(
    conn: &mut AnyConnection,
    id: &str,
    channel_id: &str,
    event: &Event,
    due_ms: i64,
    now: i64,
) -> Result<()> {
    let inserted = sqlx::query(
        "INSERT INTO alert_outbox (id, org_id, channel_id, event_ids, status, next_attempt_ms, created_ms) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&event.org_id)
    .bind(channel_id)
    .bind(serde_json::json!([event.id]).to_string())
    .bind(due_ms)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(());
    }
    let lock = if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        " FOR UPDATE"
    } else {
        ""
    };
    let row: Option<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT event_ids, status, attempts FROM alert_outbox WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some((ids, status, 0)) if status == "pending" => {
            let mut ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
            if !ids.contains(&event.id) {
                ids.push(event.id.clone());
            }
            sqlx::query("UPDATE alert_outbox SET event_ids = $1 WHERE id = $2")
                .bind(serde_json::to_string(&ids).unwrap_or_default())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        _ => insert_single(conn, channel_id, event, now).await,
    }
}

/// What became of a claimed row, for [`Store::finish_deliveries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// An attempt was made: log it and schedule what comes next.
    Attempt {
        /// The row as claimed.
        row: OutboxRow,
        /// The attempt.
        log: AttemptLog,
        /// What comes next.
        result: AttemptResult,
    },
    /// No attempt (the endpoint's breaker is open): due again at `until_ms`, attempt not counted.
    Postpone {
        /// The row as claimed.
        row: OutboxRow,
        /// When it is due again.
        until_ms: i64,
    },
}

/// Rows per multi-row statement when recording attempts (8 parameters each).
const RECORD_CHUNK: usize = 100;

/// Placeholders `($1, ..., $w), ($w+1, ...)` for `rows` rows of `width` values.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Logs attempts and schedules what comes next: one UPDATE and one INSERT for all of them. A
/// row claimed again since (its attempt count moved on) is left alone.
async fn record_attempts(
    conn: &mut AnyConnection,
    batch: &[(&OutboxRow, &AttemptLog, &AttemptResult)],
    now: i64,
) -> Result<()> {
    let update = format!(
        "UPDATE alert_outbox SET status = v.column3, next_attempt_ms = v.column4, lease_until_ms = 0, \
         last_status = v.column5, last_latency_ms = v.column6, last_excerpt = v.column7, reason = v.column8 \
         FROM (VALUES {}) AS v WHERE alert_outbox.id = v.column1 AND alert_outbox.attempts = v.column2",
        placeholders(batch.len(), 8)
    );
    let mut q = sqlx::query(&update);
    for (row, log, result) in batch {
        let (status, next, reason) = match result {
            AttemptResult::Delivered => ("delivered", row.next_attempt_ms, None),
            AttemptResult::RetryAt(at) => ("pending", *at, None),
            AttemptResult::Dead(reason) => ("dead", row.next_attempt_ms, Some(reason.clone())),
        };
        q = q
            .bind(row.id.clone())
            .bind(row.attempts)
            .bind(status)
            .bind(next)
            .bind(log.status)
            .bind(log.latency_ms)
            .bind(log.excerpt.clone())
            .bind(reason);
    }
    q.execute(&mut *conn).await?;
    let insert = format!(
        "INSERT INTO alert_attempts (delivery_id, attempt, time_ms, status, latency_ms, excerpt, decision) VALUES {}",
        placeholders(batch.len(), 7)
    );
    let mut q = sqlx::query(&insert);
    for (row, log, result) in batch {
        let decision = match result {
            AttemptResult::Delivered => "delivered".to_owned(),
            AttemptResult::RetryAt(_) => "retry".to_owned(),
            AttemptResult::Dead(r) => format!("dead: {r}"),
        };
        q = q
            .bind(row.id.clone())
            .bind(row.attempts)
            .bind(now)
            .bind(log.status)
            .bind(log.latency_ms)
            .bind(log.excerpt.clone())
            .bind(decision);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Outbox rows by state, for the queue-depth gauge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Pending, due now and not leased.
    pub due: i64,
    /// Pending and claimed by a worker.
    pub leased: i64,
    /// Pending, due later (retries, digests, waiting breakers).
    pub scheduled: i64,
    /// Dead-lettered.
    pub dead: i64,
}

impl Store {
    /// Adds a channel whose settings the caller has sealed.
    pub async fn create_alert_channel(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
        kind: &str,
        sealed_config: &str,
    ) -> Result<AlertChannel> {
        dockwatch_core::org::check_name("channel name", name)?;
        let c = AlertChannel {
            id: new_id(),
            org_id: org_id.to_owned(),
            name: name.to_owned(),
            kind: kind.to_owned(),
            config: sealed_config.to_owned(),
            created_ms: now_ms(),
        };
        let mut tx = self.write(actor).await?;
        sqlx::query(
            "INSERT INTO alert_channels (id, org_id, name, kind, config, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.name)
        .bind(&c.kind)
        .bind(&c.config)
        .bind(c.created_ms)
        .execute(tx.conn())
        .await
        .map_err(conflict_on_duplicate("alert channel", name))?;
        tx.record(
            Change::new(
                org_id,
                "alert.channel.created",
                target("alert-channel", &c.id, name),
                format!("added {kind} alert channel {name}"),
            )
            .details(serde_json::json!({ "kind": kind })),
        );
        tx.commit().await?;
        Ok(c)
    }

    /// The organization's channels, by name.
    pub async fn alert_channels(&self, org_id: &str) -> Result<Vec<AlertChannel>> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, org_id, name, kind, config, created_ms FROM alert_channels WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(channel).collect())
    }

    /// A channel by name.
    pub async fn alert_channel(&self, org_id: &str, name: &str) -> Result<AlertChannel> {
        let row: Option<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, org_id, name, kind, config, created_ms FROM alert_channels WHERE org_id = $1 AND name = $2",
        )
        .bind(org_id)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.map(channel)
            .ok_or_else(|| StoreError::not_found("alert channel", name))
    }

    /// A channel by id, if it still exists.
    pub async fn alert_channel_by_id(&self, id: &str) -> Result<Option<AlertChannel>> {
        let row: Option<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, org_id, name, kind, config, created_ms FROM alert_channels WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(channel))
    }

    /// Replaces a channel's sealed settings after a secret rotation, recorded in the log.
    pub async fn rotate_alert_channel_secret(
        &self,
        actor: &Actor,
        c: &AlertChannel,
        sealed_config: &str,
        summary: &str,
    ) -> Result<AlertChannel> {
        let mut tx = self.write(actor).await?;
        sqlx::query("UPDATE alert_channels SET config = $1 WHERE id = $2")
            .bind(sealed_config)
            .bind(&c.id)
            .execute(tx.conn())
            .await?;
        tx.record(Change::new(
            &c.org_id,
            "alert.channel.secret_rotated",
            target("alert-channel", &c.id, &c.name),
            format!("{summary} of alert channel {}", c.name),
        ));
        tx.commit().await?;
        Ok(AlertChannel {
            config: sealed_config.to_owned(),
            ..c.clone()
        })
    }

    /// Removes a channel; rules that sent only to it are left sending nowhere for it.
    pub async fn delete_alert_channel(&self, actor: &Actor, c: &AlertChannel) -> Result<()> {
        let mut tx = self.write(actor).await?;
        sqlx::query("DELETE FROM alert_channels WHERE id = $1")
            .bind(&c.id)
            .execute(tx.conn())
            .await?;
        tx.record(Change::new(
            &c.org_id,
            "alert.channel.deleted",
            target("alert-channel", &c.id, &c.name),
            format!("removed alert channel {}", c.name),
        ));
        tx.commit().await?;
        Ok(())
    }

    /// Adds a rule (checked by [`Rule::new`]; its channels are ids).
    pub async fn create_alert_rule(
        &self,
        actor: &Actor,
        org_id: &str,
        mut spec: RuleSpec,
    ) -> Result<AlertRule> {
        spec.id = new_id();
        Rule::new(spec.clone()).map_err(|e| {
            StoreError::Invalid(dockwatch_core::org::Invalid {
                field: e.setting,
                message: e.message,
            })
        })?;
        let created_ms = now_ms();
        let mut tx = self.write(actor).await?;
        sqlx::query(
            "INSERT INTO alert_rules (id, org_id, name, spec, created_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&spec.id)
        .bind(org_id)
        .bind(&spec.name)
        .bind(serde_json::to_string(&spec).unwrap_or_default())
        .bind(created_ms)
        .execute(tx.conn())
        .await
        .map_err(conflict_on_duplicate("alert rule", &spec.name))?;
        tx.record(
            Change::new(
                org_id,
                "alert.rule.created",
                target("alert-rule", &spec.id, &spec.name),
                format!("added alert rule {}", spec.name),
            )
            .details(serde_json::to_value(&spec).unwrap_or_default()),
        );
        tx.commit().await?;
        Ok(AlertRule { spec, created_ms })
    }

    /// The organization's rules, by name.
    pub async fn alert_rules(&self, org_id: &str) -> Result<Vec<AlertRule>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT spec, created_ms FROM alert_rules WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(spec, created_ms)| {
                Ok(AlertRule {
                    spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt {
                        what: "alert rule",
                        message: e.to_string(),
                    })?,
                    created_ms,
                })
            })
            .collect()
    }

    /// Removes a rule by name.
    pub async fn delete_alert_rule(&self, actor: &Actor, org_id: &str, name: &str) -> Result<()> {
        let mut tx = self.write(actor).await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM alert_rules WHERE org_id = $1 AND name = $2")
                .bind(org_id)
                .bind(name)
                .fetch_optional(tx.conn())
                .await?;
        let id = id.ok_or_else(|| StoreError::not_found("alert rule", name))?;
        sqlx::query("DELETE FROM alert_rules WHERE id = $1")
            .bind(&id)
            .execute(tx.conn())
            .await?;
        tx.record(Change::new(
            org_id,
            "alert.rule.deleted",
            target("alert-rule", &id, name),
            format!("removed alert rule {name}"),
        ));
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due deliveries for `lease_ms`, counting the attempt. A claim that is
    /// never finished (the process died) expires and the row is claimed again, same id.
    pub async fn claim_deliveries(&self, limit: i64, lease_ms: i64) -> Result<Vec<OutboxRow>> {
        let now = now_ms();
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE alert_outbox SET lease_until_ms = $1, attempts = attempts + 1, \
             first_attempt_ms = COALESCE(first_attempt_ms, $2) WHERE id IN (SELECT id FROM alert_outbox \
             WHERE status = 'pending' AND next_attempt_ms <= $2 AND lease_until_ms <= $2 \
             ORDER BY next_attempt_ms LIMIT $3{lock}) RETURNING {OUTBOX_COLUMNS}"
        );
        let _guard = match self.backend() {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        };
        let rows: Vec<OutboxTuple> = sqlx::query_as(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(outbox).collect())
    }

    /// Records an attempt and what comes next; ignored if the row was claimed again since.
    pub async fn finish_delivery(
        &self,
        row: &OutboxRow,
        log: &AttemptLog,
        result: &AttemptResult,
    ) -> Result<()> {
        self.finish_deliveries(&[Finish::Attempt {
            row: row.clone(),
            log: log.clone(),
            result: result.clone(),
        }])
        .await
    }

    /// Records what became of several claimed rows in one transaction (the worker's group
    /// commit). Each is ignored if its row was claimed again since.
    pub async fn finish_deliveries(&self, batch: &[Finish]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let _guard = match self.backend() {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        };
        let mut tx = self.pool().begin().await?;
        let now = now_ms();
        let attempts: Vec<_> = batch
            .iter()
            .filter_map(|f| match f {
                Finish::Attempt { row, log, result } => Some((row, log, result)),
                Finish::Postpone { .. } => None,
            })
            .collect();
        // A few multi-row statements per batch rather than two per row: on PostgreSQL every
        // statement is a round trip.
        for chunk in attempts.chunks(RECORD_CHUNK) {
            record_attempts(&mut tx, chunk, now).await?;
        }
        for finish in batch {
            if let Finish::Postpone { row, until_ms } = finish {
                sqlx::query(
                    "UPDATE alert_outbox SET attempts = attempts - 1, next_attempt_ms = $1, lease_until_ms = 0, \
                     first_attempt_ms = CASE WHEN attempts = 1 THEN NULL ELSE first_attempt_ms END \
                     WHERE id = $2 AND attempts = $3 AND status = 'pending'",
                )
                .bind(until_ms)
                .bind(&row.id)
                .bind(row.attempts)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// An organization's deliveries, newest first, optionally of one channel and/or status.
    pub async fn deliveries(
        &self,
        org_id: &str,
        channel_id: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM alert_outbox WHERE org_id = $1 AND ($2 = '' OR channel_id = $2) \
             AND ($3 = '' OR status = $3) ORDER BY created_ms DESC, id LIMIT $4"
        );
        let rows: Vec<OutboxTuple> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(channel_id.unwrap_or(""))
            .bind(status.unwrap_or(""))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(outbox).collect())
    }

    /// Queues a dead delivery again (same id, fresh dead-letter clock), recorded in the log.
    pub async fn redeliver(&self, actor: &Actor, org_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write(actor).await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM alert_outbox WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        match status.as_deref() {
            None => return Err(StoreError::not_found("delivery", id)),
            Some("dead") => {}
            Some(_) => {
                return Err(StoreError::Conflict {
                    kind: "delivery",
                    name: id.to_owned(),
                    reason: "is not dead-lettered",
                });
            }
        }
        sqlx::query(
            "UPDATE alert_outbox SET status = 'pending', next_attempt_ms = $1, lease_until_ms = 0, \
             first_attempt_ms = NULL, reason = NULL WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.record(Change::new(
            org_id,
            "alert.delivery.redelivered",
            target("alert-delivery", id, id),
            format!("queued delivery {id} again"),
        ));
        tx.commit().await?;
        Ok(())
    }

    /// The outbox by state, over all organizations.
    pub async fn outbox_depth(&self) -> Result<OutboxDepth> {
        let now = now_ms();
        let (due, leased, scheduled, dead): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
             COALESCE(SUM(CASE WHEN status = 'pending' AND lease_until_ms <= $1 AND next_attempt_ms <= $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'pending' AND lease_until_ms > $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'pending' AND lease_until_ms <= $1 AND next_attempt_ms > $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) \
             FROM alert_outbox WHERE status IN ('pending', 'dead')",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(OutboxDepth {
            due,
            leased,
            scheduled,
            dead,
        })
    }

    /// Puts a claimed row back without counting the attempt (its endpoint's circuit breaker is
    /// open): due again at `until_ms`. Ignored if the row was claimed again since.
    pub async fn postpone_delivery(&self, row: &OutboxRow, until_ms: i64) -> Result<()> {
        self.finish_deliveries(&[Finish::Postpone {
            row: row.clone(),
            until_ms,
        }])
        .await
    }

    /// Pending deliveries (the queue depth), over all organizations.
    pub async fn pending_deliveries(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM alert_outbox WHERE status = 'pending'")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Activity-log events by id.
    pub async fn events_by_id(&self, ids: &[String]) -> Result<Vec<Event>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let sql = format!(
                "SELECT {} FROM events WHERE id = $1",
                crate::events::EVENT_COLUMNS
            );
            if let Some(row) = sqlx::query(&sql)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
            {
                out.push(crate::events::event_from_row(&row)?);
            }
        }
        Ok(out)
    }
}

fn channel(r: (String, String, String, String, String, i64)) -> AlertChannel {
    AlertChannel {
        id: r.0,
        org_id: r.1,
        name: r.2,
        kind: r.3,
        config: r.4,
        created_ms: r.5,
    }
}
