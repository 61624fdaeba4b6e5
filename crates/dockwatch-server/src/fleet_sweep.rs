//! The fleet sweep task of `serve`: every `fleet_sweep_every`, and at once after a policy or
//! assignment change, re-judges machines that went silent or whose policy changed
//! ([`dockwatch_store::Store::fleet_sweep`], safe with several processes on one database).

use crate::AppState;
use dockwatch_core::SystemClock;

/// Starts the sweep on the current runtime.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let notify = state.store.fleet_notify();
        let stale_after_ms =
            i64::try_from(state.config.fleet_stale_after.as_millis()).unwrap_or(i64::MAX);
        loop {
            if let Err(e) = state.store.fleet_sweep(&SystemClock, stale_after_ms).await {
                tracing::warn!(error = %e, "Fleet sweep failed.");
            }
            tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep(state.config.fleet_sweep_every) => {}
            }
        }
    })
}
