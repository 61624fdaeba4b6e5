//! The agent loop: enroll once, then each cycle fetch the policy (and apply it when asked),
//! probe the host and send the signed report; `--once`, or forever with an interval and
//! exponential backoff with jitter on failure.

use crate::apply::apply;
use crate::client::ServerClient;
use crate::error::{AgentError, random};
use crate::probe::{self, ProbeContext};
use crate::state::{Credential, StateDir};
use dockwatch_core::settings::Policy;
use dockwatch_core::settings::wire::{AssignedPolicy, EnrollRequest};
use dockwatch_core::{Clock, SystemClock};
use std::path::PathBuf;
use std::time::Duration;

/// The agent's version, sent in reports.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The server URL.
    pub server: String,
    /// The enrollment token (needed only until the machine is enrolled).
    pub enroll_token: Option<String>,
    /// Every host path is taken under this.
    pub root: PathBuf,
    /// Where the credential and the applied-policy record live.
    pub state_dir: PathBuf,
    /// Write the effective policy to admin-settings.json.
    pub apply: bool,
    /// Time between reports in daemon mode.
    pub interval: Duration,
    /// The signed-in user's e-mail (from MDM); else the only user with an e-mail, if any.
    pub user: Option<String>,
}

/// What one cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleOutcome {
    /// The server's id for this machine.
    pub machine_id: String,
    /// The effective policy's name and version number, if one is assigned.
    pub policy: Option<(String, u64)>,
    /// Whether admin-settings.json holds the effective policy after this cycle.
    pub applied: bool,
    /// The machine's status as the server judged the report.
    pub status: String,
    /// How many probe warnings the report carried.
    pub warnings: usize,
}

/// Runs one cycle.
pub async fn run_once(config: &AgentConfig) -> Result<CycleOutcome, AgentError> {
    let state = StateDir::open(&config.state_dir)?;
    let client = ServerClient::new(&config.server)?;
    let ctx = ProbeContext::new(&config.root, state.host_id()?);
    let cred = enrolled(config, &state, &client, &ctx).await?;

    // The policy is the signed-in user's (as Desktop gets it for the account signed in).
    let user = config.user.clone().or_else(|| probe::signed_in_user(&ctx));
    let assigned = client.policy(&cred, user.as_deref()).await?.policy;
    let mut applied = false;
    if let Some(a) = &assigned {
        let policy = check_policy(a)?;
        if config.apply {
            let record = apply(&ctx, &a.name, &a.version, &policy, SystemClock.now_millis())?;
            state.save_applied(&record)?;
            applied = true;
        }
    } else if config.apply {
        crate::apply::withdraw(&ctx, &state)?;
    }

    let mut report = probe::collect(&ctx, AGENT_VERSION, SystemClock.now_millis());
    report.signed_in_user = user;
    if let Some(record) = state.applied()? {
        let installed = report.admin_settings.as_ref();
        if installed.is_some_and(|i| i.sha256 == record.file_sha256 && i.path == record.path) {
            applied = applied
                || assigned
                    .as_ref()
                    .is_some_and(|a| a.version.hash == record.version.hash);
            report.applied_policy = Some(record.version);
        } else {
            probe::warn(
                &mut report,
                "agent",
                Some(record.path.clone()),
                format!(
                    "admin-settings.json no longer holds policy \"{}\" version {} that this agent applied",
                    record.name, record.version.number
                ),
            );
        }
    }
    let warnings = report.warnings.len();
    let body = serde_json::to_vec(&report).expect("the report serializes");
    let answer = client.report(&cred, body).await?;
    tracing::info!(status = %answer.status, warnings, "Report sent.");
    Ok(CycleOutcome {
        machine_id: cred.machine_id,
        policy: assigned.map(|a| (a.name, a.version.number)),
        applied,
        status: answer.status,
        warnings,
    })
}

/// The stored credential, or a new one from enrolling.
async fn enrolled(
    config: &AgentConfig,
    state: &StateDir,
    client: &ServerClient,
    ctx: &ProbeContext,
) -> Result<Credential, AgentError> {
    if let Some(c) = state.credential(&config.server)? {
        return Ok(c);
    }
    let Some(token) = &config.enroll_token else {
        return Err(AgentError::NotEnrolled {
            server: config.server.clone(),
        });
    };
    let identity = probe::identity(ctx);
    let answer = client
        .enroll(&EnrollRequest {
            enrollment_token: token.clone(),
            host_machine_id: identity.machine_id,
            hostname: identity.hostname,
            os: identity.os,
            agent_version: AGENT_VERSION.into(),
        })
        .await?;
    let cred = Credential {
        server: config.server.clone(),
        machine_id: answer.machine_id,
        credential: answer.credential,
        org: answer.org,
    };
    state.save_credential(&cred)?;
    tracing::info!(machine = %cred.machine_id, org = %cred.org, "Enrolled.");
    Ok(cred)
}

/// Validates a policy from the server and checks it is the version it claims to be.
fn check_policy(a: &AssignedPolicy) -> Result<Policy, AgentError> {
    let policy = Policy::from_value(a.document.clone()).map_err(|e| AgentError::BadPolicy {
        name: a.name.clone(),
        message: e.to_string(),
    })?;
    let hash = policy.content_hash();
    if hash != a.version.hash {
        return Err(AgentError::BadPolicy {
            name: a.name.clone(),
            message: format!(
                "its content hashes to {hash}, not to version {}'s {}",
                a.version.number, a.version.hash
            ),
        });
    }
    Ok(policy)
}

/// Runs cycles forever: after a success wait `interval`; after a transient failure back off
/// exponentially (with jitter) up to `interval`. A configuration error (no token, a refused
/// credential, a bad policy) ends the loop.
pub async fn run_daemon(config: &AgentConfig) -> Result<(), AgentError> {
    let mut backoff = Backoff::new(Duration::from_secs(5), config.interval);
    loop {
        let wait = match run_once(config).await {
            Ok(_) => {
                backoff.reset();
                config.interval.mul_f64(0.9 + 0.2 * jitter())
            }
            Err(e) if e.is_transient() => {
                let wait = backoff.next_delay(jitter());
                tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "Cycle failed; retrying.");
                wait
            }
            Err(e) => return Err(e),
        };
        tokio::time::sleep(wait).await;
    }
}

/// [`run_once`] on a runtime of its own, for callers without one (the CLI, cron, MDM).
pub fn run_once_blocking(config: &AgentConfig) -> Result<CycleOutcome, AgentError> {
    runtime()?.block_on(run_once(config))
}

/// [`run_daemon`] on a runtime of its own.
pub fn run_daemon_blocking(config: &AgentConfig) -> Result<(), AgentError> {
    runtime()?.block_on(run_daemon(config))
}

fn runtime() -> Result<tokio::runtime::Runtime, AgentError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AgentError::io("cannot start the async runtime for", "the agent", e))
}

fn jitter() -> f64 {
    random::<4>()
        .map(|b| f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX))
        .unwrap_or(0.5)
}

/// Exponential backoff with "equal jitter": the n-th delay is between half and all of
/// `min(max, base * 2^n)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `base`, never above `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The next delay; `jitter` in [0, 1] picks where in the upper half it falls.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        let cap = exp.min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        cap.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// Back to the first delay after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
        let full: Vec<u64> = (0..6).map(|_| b.next_delay(1.0).as_secs()).collect();
        assert_eq!(full, [5, 10, 20, 40, 60, 60]);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(2500));
        assert_eq!(b.next_delay(0.5), Duration::from_millis(7500));
    }
}
