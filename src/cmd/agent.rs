//! `dockwatch agent`: report this machine's Docker Desktop and Engine settings to a server, and
//! optionally apply its effective policy (see docs/fleet.md).

use anyhow::Context;
use dockwatch_agent::{AgentConfig, run_daemon_blocking, run_once_blocking};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Report this machine's Docker settings to a Dockwatch server and fetch its policy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Dockwatch server's URL.
    #[arg(long, env = "DOCKWATCH_SERVER")]
    pub server: String,
    /// The organization's enrollment token (needed until this machine is enrolled).
    #[arg(long, env = "DOCKWATCH_ENROLL_TOKEN", hide_env_values = true)]
    pub enroll_token: Option<String>,
    /// Report once and exit (for cron and MDM); otherwise run until stopped.
    #[arg(long)]
    pub once: bool,
    /// Also write the effective policy where Docker Desktop reads admin-settings.json.
    #[arg(long)]
    pub apply: bool,
    /// Time between reports when running as a daemon (`30s`, `5m`, `1h`).
    #[arg(long, default_value = "5m", value_parser = parse_interval)]
    pub interval: Duration,
    /// Where the machine credential is kept [default: ROOT/var/lib/dockwatch-agent].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The e-mail address of the user signed in on this machine, whose policy it gets
    /// [default: the only user with an e-mail in their ~/.gitconfig].
    #[arg(long, env = "DOCKWATCH_AGENT_USER", value_parser = parse_user)]
    pub user: Option<String>,
    /// Every path the agent reads or writes is taken under this folder (a host filesystem
    /// mounted into a container).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
}

fn parse_user(s: &str) -> Result<String, String> {
    if dockwatch_core::settings::report::is_email(s) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!("expected an e-mail address, found {s:?}"))
    }
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 30s, 5m or 1h)"))?;
    if d < Duration::from_secs(10) {
        return Err("the interval must be at least 10s".into());
    }
    Ok(d)
}

/// Runs the agent.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.root.is_dir(),
        "--root {}: not a folder",
        args.root.display()
    );
    let config = AgentConfig {
        state_dir: args
            .state_dir
            .unwrap_or_else(|| args.root.join("var/lib/dockwatch-agent")),
        server: args.server,
        enroll_token: args.enroll_token,
        root: args.root,
        apply: args.apply,
        interval: args.interval,
        user: args.user,
    };
    if args.once {
        let outcome = run_once_blocking(&config).context("agent run failed")?;
        let policy = match &outcome.policy {
            Some((name, n)) if outcome.applied => format!("policy {name} v{n} applied"),
            Some((name, n)) => format!("policy {name} v{n}"),
            None => "no policy assigned".into(),
        };
        println!(
            "machine {}: {policy}; status {}; {} warning(s)",
            outcome.machine_id, outcome.status, outcome.warnings
        );
    } else {
        run_daemon_blocking(&config).context("agent stopped")?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_durations() {
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_interval("1s").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
