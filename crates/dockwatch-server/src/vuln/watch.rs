//! Polls the advisory database file: when another process (`dockwatch db import --db DIR`)
//! changed it, reload it and re-evaluate the keys whose advisories differ.

use super::Advisories;
use dockwatch_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Checks the file every `interval` until the task is aborted.
pub fn spawn(
    store: Store,
    advisories: Arc<Advisories>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = check_once(&store, &advisories).await {
                tracing::warn!(dir = %advisories.dir().display(), error = %e, "Advisory database check failed.");
            }
        }
    })
}

/// One check: reload if changed, then re-evaluate. Returns whether the database had changed.
pub async fn check_once(store: &Store, advisories: &Arc<Advisories>) -> Result<bool, String> {
    let shared = Arc::clone(advisories);
    let changed = tokio::task::spawn_blocking(move || shared.reload_if_changed())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let Some(keys) = changed else {
        return Ok(false);
    };
    tracing::info!(
        keys = keys.len(),
        "The advisory database changed on disk; re-evaluating."
    );
    if !keys.is_empty() {
        super::reevaluate::reevaluate(store, advisories, &keys)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(true)
}
