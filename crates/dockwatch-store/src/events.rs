//! Reading the activity log (writing happens only in `write.rs`, by appending).

use crate::Store;
use crate::error::Result;
use dockwatch_core::event::{Event, EventActor, EventTarget};
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) fn event(r: &AnyRow) -> std::result::Result<Event, sqlx::Error> {
    Ok(Event {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        seq: r.try_get("seq")?,
        time_ms: r.try_get("time_ms")?,
        actor: EventActor {
            kind: r.try_get("actor_kind")?,
            id: r.try_get("actor_id")?,
            name: r.try_get("actor_name")?,
            ip: r.try_get("actor_ip")?,
            user_agent: r.try_get("actor_user_agent")?,
        },
        action: r.try_get("action")?,
        target: EventTarget {
            kind: r.try_get("target_kind")?,
            id: r.try_get("target_id")?,
            name: r.try_get("target_name")?,
        },
        sentence: r.try_get("sentence")?,
        details: r.try_get("details")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// The columns of an event row, in `Event` order.
pub(crate) const EVENT_COLUMNS: &str = "id, org_id, seq, time_ms, actor_kind, actor_id, actor_name, \
     actor_ip, actor_user_agent, action, target_kind, target_id, target_name, sentence, details, \
     prev_hash, hash";

impl Store {
    /// An organization's events, newest first: at most `limit`, older than `before_seq` if given.
    pub async fn events(
        &self,
        org_id: &str,
        limit: i64,
        before_seq: Option<i64>,
    ) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(event)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// An organization's events in chain order (oldest first), for verification.
    pub async fn events_in_chain_order(&self, org_id: &str) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 ORDER BY seq");
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(event)
            .collect::<std::result::Result<_, _>>()?)
    }
}
