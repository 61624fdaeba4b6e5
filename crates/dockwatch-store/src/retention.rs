//! Signed checkpoints and retention: periodic checkpoints of verified chains, and pruning of
//! events older than an organization's retention, which leaves a signed prune checkpoint where
//! the remaining chain now starts.
//!
//! `prune_events` is the one function that deletes event rows (see the crate's invariant).

use crate::error::{Result, StoreError};
use crate::write::{Change, system_actor, target};
use crate::{Store, now_ms};
use dockwatch_core::actions::EVENTS_PRUNED;
use dockwatch_core::checkpoint::{Checkpoint, CheckpointKey, CheckpointKind};
use dockwatch_core::event::ChainError;
use dockwatch_core::org::OrgSettings;

/// What a prune did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneOutcome {
    /// Nothing was older than the cutoff (or another process pruned it first).
    Nothing,
    /// Events up to `through_seq` were deleted; the prune checkpoint stands for that event.
    Pruned { deleted: u64, through_seq: i64 },
    /// The chain does not verify: nothing was deleted, so the evidence stays.
    ChainBroken(ChainError),
}

type CheckpointRow = (String, i64, String, String, i64, String, String);

impl Store {
    fn key(&self) -> Result<&CheckpointKey> {
        self.checkpoint_key().ok_or_else(|| StoreError::Corrupt {
            what: "checkpoint key",
            message: "the store was opened without a checkpoint key".into(),
        })
    }

    /// An organization's checkpoints, by sequence number.
    pub async fn checkpoints(&self, org_id: &str) -> Result<Vec<Checkpoint>> {
        let rows: Vec<CheckpointRow> = sqlx::query_as(
            "SELECT org_id, seq, kind, hash, time_ms, key_id, signature FROM event_checkpoints \
             WHERE org_id = $1 ORDER BY seq, kind",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(org_id, seq, kind, hash, time_ms, key_id, signature)| {
                Ok(Checkpoint {
                    kind: CheckpointKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                        what: "checkpoint",
                        message: format!("seq {seq}: unknown kind {kind:?}"),
                    })?,
                    org_id,
                    seq,
                    hash,
                    time_ms,
                    key_id,
                    signature,
                })
            })
            .collect()
    }

    /// The organizations with a chain (the instance log is `""`).
    pub async fn chain_org_ids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT org_id FROM event_heads ORDER BY org_id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Organizations that keep events a limited number of days: `(id, days)`.
    pub async fn orgs_with_retention(&self) -> Result<Vec<(String, u32)>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, settings FROM orgs")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, settings)| {
                let s: OrgSettings = serde_json::from_str(&settings).ok()?;
                Some((id, s.event_retention_days?))
            })
            .collect())
    }

    /// Verifies the chain since its last checkpoint and, when it holds and has grown, records a
    /// signed checkpoint of the verified head. Answers the checkpoint made, or why none was.
    pub async fn checkpoint_events(
        &self,
        org_id: &str,
    ) -> Result<std::result::Result<Option<Checkpoint>, ChainError>> {
        let key = self.key()?.clone();
        let chain = match self.verify_events(org_id).await? {
            Ok(chain) => chain,
            Err(broken) => return Ok(Err(broken)),
        };
        let newest = self
            .checkpoints(org_id)
            .await?
            .iter()
            .map(|c| c.seq)
            .max()
            .unwrap_or(0);
        if chain.head_seq <= newest {
            return Ok(Ok(None));
        }
        let Some(head) = self
            .events_after_seq(org_id, chain.head_seq - 1, 1)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(Ok(None));
        };
        let mut c = Checkpoint {
            org_id: org_id.to_owned(),
            seq: head.seq,
            hash: head.hash,
            time_ms: head.time_ms,
            kind: CheckpointKind::Periodic,
            key_id: String::new(),
            signature: String::new(),
        };
        key.sign(&mut c);
        let inserted = insert_checkpoint(self.pool(), &c).await?;
        Ok(Ok((inserted > 0).then_some(c)))
    }

    /// Deletes `org_id`'s events older than `cutoff_ms`, after verifying the chain, leaving a
    /// signed prune checkpoint (the newest deleted event's seq and hash) where the remaining
    /// chain starts, and records `activity_log.pruned`, all in one transaction.
    pub async fn prune_events(&self, org_id: &str, cutoff_ms: i64) -> Result<PruneOutcome> {
        let key = self.key()?.clone();
        if let Err(broken) = self.verify_events(org_id).await? {
            return Ok(PruneOutcome::ChainBroken(broken));
        }
        let last: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT seq, hash, time_ms FROM events WHERE org_id = $1 AND time_ms < $2 \
             ORDER BY time_ms DESC, seq DESC LIMIT 1",
        )
        .bind(org_id)
        .bind(cutoff_ms)
        .fetch_optional(self.pool())
        .await?;
        let Some((seq, hash, time_ms)) = last else {
            return Ok(PruneOutcome::Nothing);
        };
        let mut c = Checkpoint {
            org_id: org_id.to_owned(),
            seq,
            hash,
            time_ms,
            kind: CheckpointKind::Prune,
            key_id: String::new(),
            signature: String::new(),
        };
        key.sign(&mut c);
        let mut w = self.write(&system_actor()).await?;
        if insert_checkpoint(w.conn(), &c).await? == 0 {
            // Another process made this prune checkpoint: it prunes; dropping rolls back.
            return Ok(PruneOutcome::Nothing);
        }
        let deleted = sqlx::query("DELETE FROM events WHERE org_id = $1 AND seq <= $2")
            .bind(org_id)
            .bind(seq)
            .execute(w.conn())
            .await?
            .rows_affected();
        // Older checkpoints stand for deleted events; the new prune checkpoint replaces them.
        sqlx::query("DELETE FROM event_checkpoints WHERE org_id = $1 AND seq < $2")
            .bind(org_id)
            .bind(seq)
            .execute(w.conn())
            .await?;
        w.record(
            Change::new(
                org_id,
                EVENTS_PRUNED,
                target("activity_log", org_id, "activity log"),
                format!(
                    "pruned {deleted} events older than {}",
                    humantime::format_rfc3339_millis(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_millis(cutoff_ms.max(0) as u64)
                    )
                ),
            )
            .details(serde_json::json!({
                "deleted": deleted,
                "through_seq": seq,
                "checkpoint_hash": c.hash,
                "cutoff_ms": cutoff_ms,
            })),
        );
        w.commit().await?;
        Ok(PruneOutcome::Pruned {
            deleted,
            through_seq: seq,
        })
    }
}

/// Inserts a checkpoint unless one of its kind exists at its seq; answers rows inserted.
async fn insert_checkpoint<'c, E>(conn: E, c: &Checkpoint) -> Result<u64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query(
        "INSERT INTO event_checkpoints (org_id, seq, kind, hash, time_ms, key_id, signature, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (org_id, seq, kind) DO NOTHING",
    )
    .bind(&c.org_id)
    .bind(c.seq)
    .bind(c.kind.as_str())
    .bind(&c.hash)
    .bind(c.time_ms)
    .bind(&c.key_id)
    .bind(&c.signature)
    .bind(now_ms())
    .execute(conn)
    .await?
    .rows_affected())
}
