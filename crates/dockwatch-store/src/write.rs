//! The mutation hook: every change to the organization model goes through a [`WriteTx`], which
//! appends one activity-log event per [`Change`] in the same transaction as the change itself.
//!
//! The chain head of each organization (`event_heads`) is read with `FOR UPDATE` on PostgreSQL
//! and under the single-writer lock on SQLite, so appends to one chain are serialized even across
//! several `serve` processes; a write and its record commit or roll back together.

use crate::error::{Result, StoreError};
use crate::{Actor, Backend, Store, Target, now_ms};
use dockwatch_core::event::{Event, GENESIS_HASH, chain_hash};
use sqlx::{Any, AnyConnection, Transaction};

/// One recorded change: what happened, to what, in which organization's log.
#[derive(Debug, Clone)]
pub struct Change {
    /// The organization whose chain records it; empty for instance-level events.
    pub org_id: String,
    /// Stable dotted action name (`team.created`, `member.role.changed`...).
    pub action: &'static str,
    /// What it was done to.
    pub target: Target,
    /// One human sentence, without the actor (the event prefixes the actor's name).
    pub sentence: String,
    /// Before/after and anything else worth keeping.
    pub details: serde_json::Value,
}

impl Change {
    /// A change of `target` recorded in `org_id`'s log.
    pub fn new(
        org_id: &str,
        action: &'static str,
        target: Target,
        sentence: impl Into<String>,
    ) -> Self {
        Self {
            org_id: org_id.to_owned(),
            action,
            target,
            sentence: sentence.into(),
            details: serde_json::json!({}),
        }
    }

    /// Attaches the details (before/after).
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Builds a [`Target`].
pub fn target(kind: &str, id: &str, name: &str) -> Target {
    Target {
        kind: kind.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

/// A write transaction that can only commit together with its events.
pub struct WriteTx<'s> {
    tx: Transaction<'static, Any>,
    backend: Backend,
    actor: Actor,
    changes: Vec<Change>,
    outbox_notify: std::sync::Arc<tokio::sync::Notify>,
    _single_writer: Option<tokio::sync::MutexGuard<'s, ()>>,
}

impl Store {
    /// Starts a mutation on behalf of `actor`.
    pub async fn write(&self, actor: &Actor) -> Result<WriteTx<'_>> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        };
        let tx = self.pool().begin().await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            actor: actor.clone(),
            changes: Vec::new(),
            outbox_notify: self.outbox_notify.clone(),
            _single_writer: guard,
        })
    }
}

impl WriteTx<'_> {
    /// The connection the change's statements run on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Who is making the change.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Whether any change was recorded (a transaction without one cannot commit).
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Records a change; its event is appended at commit.
    pub fn record(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Appends an event per recorded change, then commits everything at once. A transaction
    /// with no recorded change is refused: an unrecorded mutation is a bug.
    pub async fn commit(mut self) -> Result<Vec<Event>> {
        if self.changes.is_empty() {
            return Err(StoreError::Corrupt {
                what: "mutation",
                message: "a write transaction recorded no change".into(),
            });
        }
        let changes = std::mem::take(&mut self.changes);
        let mut events = Vec::with_capacity(changes.len());
        let mut queued = 0;
        for change in changes {
            let event = append(&mut self.tx, self.backend, &self.actor, change).await?;
            queued += crate::alerts::enqueue(&mut self.tx, &event).await?;
            events.push(event);
        }
        self.tx.commit().await?;
        if queued > 0 {
            self.outbox_notify.notify_one();
        }
        Ok(events)
    }
}

/// Appends one event to its organization's chain, inside the caller's transaction.
async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    change: Change,
) -> Result<Event> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let head_sql = format!("SELECT seq, hash, time_ms FROM event_heads WHERE org_id = $1{lock}");
    let mut head: Option<(i64, String, i64)> = sqlx::query_as(&head_sql)
        .bind(&change.org_id)
        .fetch_optional(&mut *conn)
        .await?;
    if head.is_none() {
        sqlx::query(
            "INSERT INTO event_heads (org_id, seq, hash, time_ms) VALUES ($1, 0, $2, 0) \
             ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(&change.org_id)
        .bind(GENESIS_HASH)
        .execute(&mut *conn)
        .await?;
        head = Some(
            sqlx::query_as(&head_sql)
                .bind(&change.org_id)
                .fetch_one(&mut *conn)
                .await?,
        );
    }
    let (seq, prev_hash, last_ms) = head.expect("set above");
    // Time never runs backwards within a chain, so time order and chain order agree.
    let time_ms = now_ms().max(last_ms);
    let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        (time_ms / 1000) as u64,
        ((time_ms % 1000) * 1_000_000) as u32,
    ))
    .to_string();
    let sentence = format!("{} {}", actor_label(actor), change.sentence);
    let mut event = Event {
        id,
        org_id: change.org_id,
        seq: seq + 1,
        time_ms,
        actor: actor.clone(),
        action: change.action.to_owned(),
        target: change.target,
        sentence,
        details: change.details.to_string(),
        prev_hash,
        hash: String::new(),
    };
    event.hash = chain_hash(&event);
    sqlx::query(
        "INSERT INTO events (id, org_id, seq, time_ms, actor_kind, actor_id, actor_name, actor_ip, \
         actor_user_agent, action, target_kind, target_id, target_name, sentence, details, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&event.id)
    .bind(&event.org_id)
    .bind(event.seq)
    .bind(event.time_ms)
    .bind(&event.actor.kind)
    .bind(&event.actor.id)
    .bind(&event.actor.name)
    .bind(&event.actor.ip)
    .bind(&event.actor.user_agent)
    .bind(&event.action)
    .bind(&event.target.kind)
    .bind(&event.target.id)
    .bind(&event.target.name)
    .bind(&event.sentence)
    .bind(&event.details)
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE event_heads SET seq = $1, hash = $2, time_ms = $3 WHERE org_id = $4")
        .bind(event.seq)
        .bind(&event.hash)
        .bind(event.time_ms)
        .bind(&event.org_id)
        .execute(&mut *conn)
        .await?;
    Ok(event)
}

fn actor_label(actor: &Actor) -> String {
    match actor.kind.as_str() {
        "token" => format!("token {}", actor.name),
        "system" => "dockwatch".to_owned(),
        _ => actor.name.clone(),
    }
}

/// The actor for changes the server makes on its own (bootstrap, migrations).
pub fn system_actor() -> Actor {
    Actor {
        kind: "system".into(),
        id: String::new(),
        name: "dockwatch".into(),
        ip: None,
        user_agent: None,
    }
}
