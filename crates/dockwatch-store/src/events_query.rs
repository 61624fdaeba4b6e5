//! Searching and verifying the activity log: filtered keyset pages, and a chain walk in batches.

use crate::error::Result;
use crate::events::{EVENT_COLUMNS, event_from_row};
use crate::{Backend, Store};
use dockwatch_core::checkpoint::{Checkpoint, CheckpointKind};
use dockwatch_core::event::{ChainError, Event, GENESIS_HASH, chain_hash};

/// Rows read per batch while walking a chain: bounded memory however long the log is.
const VERIFY_BATCH: i64 = 1000;

/// What to look for; every given filter must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// An exact action name, or a prefix pattern ending in `.*` (`team.*`).
    pub action: Option<String>,
    /// The actor's id or name (exact).
    pub actor: Option<String>,
    /// The target's id or name (exact).
    pub target: Option<String>,
    /// Only events at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only events before this time (ms since the epoch).
    pub until_ms: Option<i64>,
    /// Case-insensitive text in the sentence, target name or details.
    pub text: Option<String>,
}

/// A position in newest-first order: the last event of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCursor {
    /// The event's time.
    pub time_ms: i64,
    /// The event's id (breaks ties between events of the same millisecond).
    pub id: String,
}

/// Where verification starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// After the latest valid signed checkpoint (cheap: only what was added since).
    FromCheckpoint,
    /// Every retained event (only a prune checkpoint, where retention cut the chain, is used).
    Full,
}

/// A chain that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// Events checked.
    pub events: i64,
    /// The newest event's sequence number (0 for an empty log).
    pub head_seq: i64,
    /// The signed checkpoint the walk started after, if any.
    pub from_checkpoint: Option<i64>,
    /// The hash of the newest event (the genesis hash for an empty log).
    pub head_hash: String,
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first string after every string starting with `prefix` (for an index range scan).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// SQL conditions and their bound values for a filter, numbered from `$first`.
///
/// An action prefix (`team.*`) is an index range (`action >= 'team.' AND action < 'team/'`):
/// SQLite's LIKE is case-insensitive and PostgreSQL's depends on the collation, so neither
/// would use the (org, action, time) index for it.
/// On PostgreSQL the range compares bytes (`COLLATE "C"`, as its index does), whatever the
/// database's collation.
fn conditions(
    filter: &EventFilter,
    first: usize,
    backend: Backend,
) -> (String, Vec<String>, Vec<i64>) {
    let action_col = match backend {
        Backend::Postgres => "action COLLATE \"C\"",
        Backend::Sqlite => "action",
    };
    // Text binds come first (numbered from `first`), then integer binds.
    let mut sql = String::new();
    let mut texts: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    let mut text_conds: Vec<String> = Vec::new();
    let next = |texts: &mut Vec<String>, v: String| {
        texts.push(v);
        format!("${}", first + texts.len() - 1)
    };
    if let Some(action) = &filter.action {
        if let Some(prefix) = action.strip_suffix('*') {
            let from = next(&mut texts, prefix.to_owned());
            match prefix_end(prefix) {
                Some(end) => {
                    let to = next(&mut texts, end);
                    text_conds.push(format!("{action_col} >= {from} AND {action_col} < {to}"));
                }
                None => text_conds.push(format!("{action_col} >= {from}")),
            }
        } else {
            let p = next(&mut texts, action.clone());
            text_conds.push(format!("action = {p}"));
        }
    }
    if let Some(actor) = &filter.actor {
        let p = next(&mut texts, actor.clone());
        text_conds.push(format!("(actor_id = {p} OR actor_name = {p})"));
    }
    if let Some(target) = &filter.target {
        let p = next(&mut texts, target.clone());
        text_conds.push(format!("(target_id = {p} OR target_name = {p})"));
    }
    if let Some(text) = &filter.text {
        let p = next(
            &mut texts,
            format!("%{}%", like_escape(&text.to_lowercase())),
        );
        text_conds.push(format!(
            "(LOWER(sentence) LIKE {p} ESCAPE '\\' OR LOWER(target_name) LIKE {p} ESCAPE '\\' \
             OR LOWER(details) LIKE {p} ESCAPE '\\')"
        ));
    }
    for c in text_conds {
        sql.push_str(" AND ");
        sql.push_str(&c);
    }
    let mut n = first + texts.len();
    if let Some(since) = filter.since_ms {
        sql.push_str(&format!(" AND time_ms >= ${n}"));
        ints.push(since);
        n += 1;
    }
    if let Some(until) = filter.until_ms {
        sql.push_str(&format!(" AND time_ms < ${n}"));
        ints.push(until);
    }
    (sql, texts, ints)
}

impl Store {
    /// One page of an organization's events matching `filter`, newest first, after `cursor`.
    pub async fn search_events(
        &self,
        org_id: &str,
        filter: &EventFilter,
        cursor: Option<&EventCursor>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let (conds, texts, ints) = conditions(filter, 5, self.backend());
        // `$2`..`$4` are the cursor; without one it sits past every event.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 \
             AND (time_ms < $2 OR (time_ms = $3 AND id < $4)){conds} \
             ORDER BY time_ms DESC, id DESC LIMIT {limit}"
        );
        let (time, id) = match cursor {
            Some(c) => (c.time_ms, c.id.clone()),
            None => (i64::MAX, String::new()),
        };
        let mut query = sqlx::query(&sql)
            .bind(org_id)
            .bind(time)
            .bind(time)
            .bind(id);
        for t in texts {
            query = query.bind(t);
        }
        for i in ints {
            query = query.bind(i);
        }
        let rows = query.fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(event_from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Events after `after_seq` in chain order (oldest first): the SIEM feed and export walk.
    pub async fn events_after_seq(
        &self,
        org_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(event_from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Verifies an organization's chain from its latest valid signed checkpoint
    /// ([`VerifyMode::FromCheckpoint`]).
    pub async fn verify_events(
        &self,
        org_id: &str,
    ) -> Result<std::result::Result<VerifiedChain, ChainError>> {
        self.verify_events_mode(org_id, VerifyMode::FromCheckpoint)
            .await
    }

    /// Walks an organization's chain in batches, recomputing every hash, and checks that it ends
    /// at the recorded head. The inner error names the first event that was edited, deleted,
    /// inserted or reordered, or the checkpoint that was forged.
    ///
    /// The walk starts after the latest prune checkpoint (where retention left the chain), or at
    /// the first event; in [`VerifyMode::FromCheckpoint`], after the latest periodic checkpoint
    /// that this server's key signed and whose event still has that hash. Every checkpoint
    /// claiming this server's key must carry a valid signature.
    pub async fn verify_events_mode(
        &self,
        org_id: &str,
        mode: VerifyMode,
    ) -> Result<std::result::Result<VerifiedChain, ChainError>> {
        let checkpoints = self.checkpoints(org_id).await?;
        let key = self.checkpoint_key();
        let ours = |c: &Checkpoint| key.is_some_and(|k| k.id() == c.key_id);
        for c in &checkpoints {
            if ours(c) && !key.is_some_and(|k| k.verifies(c)) {
                return Ok(Err(ChainError::Checkpoint {
                    seq: c.seq,
                    reason: "its signature does not verify (forged or altered)".into(),
                }));
            }
        }
        let mut start = (0_i64, GENESIS_HASH.to_owned());
        let mut trusted = None;
        if let Some(base) = checkpoints
            .iter()
            .filter(|c| c.kind == CheckpointKind::Prune)
            .max_by_key(|c| c.seq)
        {
            if !ours(base) {
                return Ok(Err(ChainError::Checkpoint {
                    seq: base.seq,
                    reason: format!(
                        "the chain starts at a prune checkpoint signed by key {}, which this \
                         server does not have (give every serve process the same checkpoint key)",
                        base.key_id
                    ),
                }));
            }
            start = (base.seq, base.hash.clone());
            trusted = Some(base.seq);
        }
        if mode == VerifyMode::FromCheckpoint
            && let Some(c) = checkpoints
                .iter()
                .filter(|c| c.kind == CheckpointKind::Periodic && c.seq > start.0 && ours(c))
                .max_by_key(|c| c.seq)
        {
            let at = self.events_after_seq(org_id, c.seq - 1, 1).await?;
            match at.first() {
                Some(e) if e.seq == c.seq && e.hash == c.hash => {}
                _ => {
                    return Ok(Err(ChainError::Checkpoint {
                        seq: c.seq,
                        reason: "the event it stands for is missing or has another hash".into(),
                    }));
                }
            }
            start = (c.seq, c.hash.clone());
            trusted = Some(c.seq);
        }
        let (mut last_seq, mut prev_hash) = start.clone();
        let mut count = 0_i64;
        loop {
            let batch = self
                .events_after_seq(org_id, last_seq, VERIFY_BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            for event in &batch {
                if chain_hash(event) != event.hash {
                    return Ok(Err(ChainError::Edited {
                        id: event.id.clone(),
                        seq: event.seq,
                    }));
                }
                if event.prev_hash != prev_hash || event.seq != last_seq + 1 {
                    return Ok(Err(ChainError::Broken {
                        id: event.id.clone(),
                        seq: event.seq,
                    }));
                }
                prev_hash = event.hash.clone();
                last_seq = event.seq;
                count += 1;
            }
        }
        // The head, written with every append, catches events deleted from or added at the end.
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM event_heads WHERE org_id = $1")
                .bind(org_id)
                .fetch_optional(self.pool())
                .await?;
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
        if head_seq != last_seq || head_hash != prev_hash {
            let id = if head_seq > last_seq {
                format!("(missing, the newest recorded is seq {head_seq})")
            } else {
                self.events_after_seq(org_id, head_seq, 1)
                    .await?
                    .first()
                    .map_or_else(|| "(unknown)".to_owned(), |e| e.id.clone())
            };
            return Ok(Err(ChainError::Broken {
                id,
                seq: head_seq.min(last_seq) + 1,
            }));
        }
        Ok(Ok(VerifiedChain {
            events: count,
            head_seq: last_seq,
            head_hash: prev_hash,
            from_checkpoint: trusted,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_number_text_then_integer_binds() {
        let f = EventFilter {
            action: Some("team.*".into()),
            actor: Some("ann".into()),
            since_ms: Some(5),
            until_ms: Some(9),
            ..Default::default()
        };
        let (sql, texts, ints) = conditions(&f, 5, Backend::Sqlite);
        assert_eq!(
            sql,
            " AND action >= $5 AND action < $6 AND (actor_id = $7 OR actor_name = $7) \
             AND time_ms >= $8 AND time_ms < $9"
        );
        assert_eq!(
            texts,
            vec!["team.".to_owned(), "team/".to_owned(), "ann".to_owned()]
        );
        assert_eq!(ints, vec![5, 9]);
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
