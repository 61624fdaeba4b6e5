//! The activity log's background job in `serve`: signed checkpoints of every chain that grew
//! (after verifying what was added since the last one), and pruning of events older than each
//! organization's retention (leaving a prune checkpoint, so the rest still verifies).
//!
//! Several `serve` processes on one PostgreSQL database may all run it: checkpoints and prunes
//! are claimed by unique rows, so each is done once.

use crate::AppState;
use dockwatch_store::retention::PruneOutcome;
use std::time::Duration;

/// Runs [`run_once`] every `config.checkpoint_every`.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.config.checkpoint_every;
        loop {
            tokio::time::sleep(every).await;
            run_once(&state).await;
        }
    })
}

/// One pass: prune what retention says is expired, then checkpoint every chain. Failures are
/// logged, never fatal: the next pass tries again.
pub async fn run_once(state: &AppState) {
    let now = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock);
    match state.store.orgs_with_retention().await {
        Ok(orgs) => {
            for (org_id, days) in orgs {
                let cutoff = now - i64::from(days) * 86_400_000;
                match state.store.prune_events(&org_id, cutoff).await {
                    Ok(PruneOutcome::Pruned {
                        deleted,
                        through_seq,
                    }) => {
                        tracing::info!(org = %org_id, deleted, through_seq, "Pruned expired events.")
                    }
                    Ok(PruneOutcome::ChainBroken(e)) => tracing::error!(
                        org = %org_id, error = %e,
                        "The activity log does not verify: nothing pruned, the evidence stays."
                    ),
                    Ok(PruneOutcome::Nothing) => {}
                    Err(e) => tracing::warn!(org = %org_id, error = %e, "Pruning failed."),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "Reading retention settings failed."),
    }
    let orgs = match state.store.chain_org_ids().await {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!(error = %e, "Listing activity logs failed.");
            return;
        }
    };
    for org_id in orgs {
        match state.store.checkpoint_events(&org_id).await {
            Ok(Ok(Some(c))) => tracing::debug!(org = %org_id, seq = c.seq, "Signed a checkpoint."),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(
                org = %org_id, error = %e, "The activity log does not verify: no checkpoint made."
            ),
            Err(e) => tracing::warn!(org = %org_id, error = %e, "Checkpointing failed."),
        }
    }
}

/// The default interval between passes.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(600);
