//! `dockwatch agent`: the real binary against a local receiver speaking the agent wire, on fake
//! host trees in Docker's file formats (as the fleet acceptance check builds them).

use dockwatch_agent::test_receiver::TestReceiver;
use dockwatch_core::settings::Policy;
use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "e2e-enrollment-token-0123456789";

fn policy() -> Policy {
    Policy::parse(
        br#"{"configurationFileVersion": 2,
 "analyticsEnabled": {"locked": true, "value": false},
 "disableUpdate": {"locked": true, "value": true},
 "exposeDockerAPIOnTCP2375": {"locked": true, "value": false}}"#,
    )
    .unwrap()
}

fn host(root: &Path, analytics: bool) {
    std::fs::create_dir_all(root.join("home/alice/.docker/desktop")).unwrap();
    std::fs::create_dir_all(root.join("etc/docker")).unwrap();
    std::fs::write(
        root.join("home/alice/.docker/desktop/settings.json"),
        format!("{{\"analyticsEnabled\": {analytics}, \"disableUpdate\": true, \"exposeDockerAPIOnTCP2375\": false}}\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/docker/daemon.json"),
        "{\"live-restore\": true}\n",
    )
    .unwrap();
}

fn agent(url: &str, token: &str, root: &Path, state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "agent",
            "--server",
            url,
            "--enroll-token",
            token,
            "--once",
            "--apply",
            "--root",
        ])
        .arg(root)
        .arg("--state-dir")
        .arg(state)
        .output()
        .unwrap()
}

#[test]
fn two_agents_one_in_line_one_drifted() {
    let server = TestReceiver::start(TOKEN, Some(policy()));
    let tmp = tempfile::tempdir().unwrap();
    for (name, analytics, status) in [
        ("good", false, "compliant"),
        ("drifted", true, "non-compliant"),
    ] {
        let root = tmp.path().join(format!("root-{name}"));
        host(&root, analytics);
        let out = agent(
            &server.url,
            TOKEN,
            &root,
            &tmp.path().join(format!("state-{name}")),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("status {status};")),
            "{name}: {stdout}"
        );
        assert!(
            stdout.contains("policy baseline v1 applied"),
            "{name}: {stdout}"
        );
        let written =
            std::fs::read(root.join("usr/share/docker-desktop/admin-settings.json")).unwrap();
        assert_eq!(written, policy().admin_settings_bytes());
    }
    server.received(|r| {
        assert_eq!(r.enrollments.len(), 2);
        let statuses: Vec<_> = r.reports.iter().map(|(_, _, s)| s.as_str()).collect();
        assert_eq!(statuses, ["compliant", "non-compliant"]);
        assert!(r.refused.is_empty(), "{:?}", r.refused);
    });
}

#[test]
fn a_refused_token_is_one_line_naming_the_url_and_exit_2() {
    let server = TestReceiver::start(TOKEN, None);
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let out = agent(
        &server.url,
        "not-the-token",
        tmp.path(),
        &tmp.path().join("state"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert!(
        last.contains(&format!("{}/api/v1/agent/enroll", server.url)),
        "{stderr}"
    );
    assert!(last.contains("401"), "{stderr}");
}

#[test]
fn a_missing_root_and_a_bad_interval_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "agent",
            "--server",
            "http://127.0.0.1:9",
            "--once",
            "--root",
            "/no/such/root",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/root"));
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "agent",
            "--server",
            "http://127.0.0.1:9",
            "--interval",
            "soon",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interval"));
}

/// Without `--once` the agent keeps running: it reports, then waits for the next interval.
#[test]
fn the_daemon_reports_and_keeps_running() {
    let server = TestReceiver::start(TOKEN, Some(policy()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "agent",
            "--server",
            &server.url,
            "--enroll-token",
            TOKEN,
            "--interval",
            "1h",
            "--root",
        ])
        .arg(tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reports = 0;
    for _ in 0..300 {
        reports = server.received(|r| r.reports.len());
        if reports > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(reports, 1);
    assert!(still_running, "the daemon exited after its first report");
    assert!(
        tmp.path()
            .join("var/lib/dockwatch-agent/credential.json")
            .is_file(),
        "default state dir under --root"
    );
}
