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
use std::collections::{BTreeSet, HashMap};

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
    /// Who did it, when not the transaction's actor (a batch ingesting many people's actions,
    /// such as registry pulls, in one group commit).
    pub actor: Option<Actor>,
}

impl Change {
    /// A change of `target` recorded in `org_id`'s log.
    pub fn new(
        org_id: &str,
        action: &'static str,
        target: Target,
        sentence: impl Into<String>,
    ) -> Self {
        debug_assert!(
            dockwatch_core::actions::find(action).is_some(),
            "action {action} is not in dockwatch_core::actions::ACTIONS"
        );
        Self {
            org_id: org_id.to_owned(),
            action,
            target,
            sentence: sentence.into(),
            details: serde_json::json!({}),
            actor: None,
        }
    }

    /// Records the change as done by `actor` rather than the transaction's actor.
    pub fn by(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
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
    ///
    /// Group commit: many changes in one transaction cost one head read and one head update per
    /// organization, and multi-row inserts, so a batch of events is one durable commit.
    pub async fn commit(mut self) -> Result<Vec<Event>> {
        if self.changes.is_empty() {
            return Err(StoreError::Corrupt {
                what: "mutation",
                message: "a write transaction recorded no change".into(),
            });
        }
        let changes = std::mem::take(&mut self.changes);
        let events = append_all(&mut self.tx, self.backend, &self.actor, changes).await?;
        let mut queued = 0;
        let mut orgs_with_rules: HashMap<String, bool> = HashMap::new();
        for event in &events {
            let has_rules = match orgs_with_rules.get(&event.org_id) {
                Some(has) => *has,
                None => {
                    let has = has_alert_rules(&mut self.tx, &event.org_id).await?;
                    orgs_with_rules.insert(event.org_id.clone(), has);
                    has
                }
            };
            if has_rules {
                queued += crate::alerts::enqueue(&mut self.tx, event).await?;
            }
        }
        self.tx.commit().await?;
        if queued > 0 {
            self.outbox_notify.notify_one();
        }
        Ok(events)
    }
}

async fn has_alert_rules(conn: &mut AnyConnection, org_id: &str) -> Result<bool> {
    if org_id.is_empty() {
        return Ok(false);
    }
    let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM alert_rules WHERE org_id = $1 LIMIT 1")
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Locks (PostgreSQL: `FOR UPDATE`) or creates the chain head of `org_id`.
async fn lock_head(
    conn: &mut AnyConnection,
    backend: Backend,
    org_id: &str,
) -> Result<(i64, String, i64)> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let head_sql = format!("SELECT seq, hash, time_ms FROM event_heads WHERE org_id = $1{lock}");
    let head: Option<(i64, String, i64)> = sqlx::query_as(&head_sql)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(head) = head {
        return Ok(head);
    }
    sqlx::query(
        "INSERT INTO event_heads (org_id, seq, hash, time_ms) VALUES ($1, 0, $2, 0) \
         ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(org_id)
    .bind(GENESIS_HASH)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as(&head_sql)
        .bind(org_id)
        .fetch_one(&mut *conn)
        .await?)
}

/// Appends one event per change to its organization's chain, inside the caller's transaction.
/// Heads are locked in organization-id order, so two transactions touching the same
/// organizations cannot deadlock.
async fn append_all(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    changes: Vec<Change>,
) -> Result<Vec<Event>> {
    let orgs: BTreeSet<String> = changes.iter().map(|c| c.org_id.clone()).collect();
    let mut heads: HashMap<String, (i64, String, i64)> = HashMap::new();
    for org in orgs {
        let head = lock_head(conn, backend, &org).await?;
        heads.insert(org, head);
    }
    let tx_label = actor_label(actor);
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let (actor, label) = match &change.actor {
            Some(a) => (a, actor_label(a)),
            None => (actor, tx_label.clone()),
        };
        let (seq, prev_hash, last_ms) = heads.get_mut(&change.org_id).expect("locked above");
        // Time never runs backwards within a chain, so time order and chain order agree.
        let time_ms = now_ms().max(*last_ms);
        let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            (time_ms / 1000) as u64,
            ((time_ms % 1000) * 1_000_000) as u32,
        ))
        .to_string();
        let mut event = Event {
            id,
            org_id: change.org_id,
            seq: *seq + 1,
            time_ms,
            actor: actor.clone(),
            action: change.action.to_owned(),
            target: change.target,
            sentence: format!("{label} {}", change.sentence),
            details: change.details.to_string(),
            prev_hash: std::mem::take(prev_hash),
            hash: String::new(),
        };
        event.hash = chain_hash(&event);
        *seq = event.seq;
        *prev_hash = event.hash.clone();
        *last_ms = time_ms;
        events.push(event);
    }
    for chunk in events.chunks(INSERT_ROWS) {
        insert_events(conn, backend, chunk).await?;
    }
    for (org, (seq, hash, time_ms)) in &heads {
        sqlx::query("UPDATE event_heads SET seq = $1, hash = $2, time_ms = $3 WHERE org_id = $4")
            .bind(seq)
            .bind(hash)
            .bind(time_ms)
            .bind(org)
            .execute(&mut *conn)
            .await?;
    }
    Ok(events)
}

/// Events per insert statement.
const INSERT_ROWS: usize = 1000;

/// The event columns, in insert order.
const COLUMNS: [&str; 17] = [
    "id",
    "org_id",
    "seq",
    "time_ms",
    "actor_kind",
    "actor_id",
    "actor_name",
    "actor_ip",
    "actor_user_agent",
    "action",
    "target_kind",
    "target_id",
    "target_name",
    "sentence",
    "details",
    "prev_hash",
    "hash",
];

/// One insert statement per chunk of events, the rows passed as one JSON array bound once
/// (`json_each` on SQLite, `jsonb_to_recordset` on PostgreSQL). One bind instead of 17 a row:
/// sqlx's SQLite driver looks every bind up by name (quadratic in a statement's binds) and
/// crosses to its worker thread per statement, which made per-row or many-bind inserts the
/// bottleneck (docs/benchmarks.md).
async fn insert_events(conn: &mut AnyConnection, backend: Backend, events: &[Event]) -> Result<()> {
    let rows: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.id, "org_id": e.org_id, "seq": e.seq, "time_ms": e.time_ms,
                "actor_kind": e.actor.kind, "actor_id": e.actor.id, "actor_name": e.actor.name,
                "actor_ip": e.actor.ip, "actor_user_agent": e.actor.user_agent,
                "action": e.action, "target_kind": e.target.kind, "target_id": e.target.id,
                "target_name": e.target.name, "sentence": e.sentence, "details": e.details,
                "prev_hash": e.prev_hash, "hash": e.hash,
            })
        })
        .collect();
    let columns = COLUMNS.join(", ");
    let sql = match backend {
        Backend::Sqlite => {
            let values: Vec<String> = COLUMNS
                .iter()
                .map(|c| format!("json_extract(value, '$.{c}')"))
                .collect();
            format!(
                "INSERT INTO events ({columns}) SELECT {} FROM json_each($1)",
                values.join(", ")
            )
        }
        Backend::Postgres => {
            let types: Vec<String> = COLUMNS
                .iter()
                .map(|c| {
                    let ty = if matches!(*c, "seq" | "time_ms") {
                        "bigint"
                    } else {
                        "text"
                    };
                    format!("{c} {ty}")
                })
                .collect();
            format!(
                "INSERT INTO events ({columns}) SELECT {columns} FROM \
                 jsonb_to_recordset($1::text::jsonb) AS x({})",
                types.join(", ")
            )
        }
    };
    let inserted = sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if inserted != events.len() as u64 {
        return Err(StoreError::Corrupt {
            what: "event insert",
            message: format!("inserted {inserted} of {} events", events.len()),
        });
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    /// Every string literal in the store's and server's code that looks like an action name is
    /// in the catalogue: a new action cannot be emitted without being listed.
    #[test]
    fn every_emitted_action_is_catalogued() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = Vec::new();
        let mut found = 0;
        for dir in ["dockwatch-store/src", "dockwatch-server/src"] {
            for path in rust_files(&root.join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap();
                // Test modules quote names that are not actions.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                for literal in code.split('"').skip(1).step_by(2) {
                    if dockwatch_core::actions::is_well_formed(literal) && !is_file_name(literal) {
                        found += 1;
                        if dockwatch_core::actions::find(literal).is_none() {
                            missing.push(format!("{}: {literal}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(found > 30, "the scan found only {found} action names");
        assert!(missing.is_empty(), "not in the catalogue: {missing:#?}");
    }

    /// Dotted literals that are file names (the console's assets, the data dir's files), not actions.
    fn is_file_name(literal: &str) -> bool {
        matches!(
            literal.rsplit('.').next(),
            Some("db" | "key" | "html" | "css" | "js" | "svg" | "json" | "png")
        )
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
