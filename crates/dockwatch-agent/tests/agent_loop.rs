//! The agent against a local receiver speaking the real wire: enrollment, signed requests,
//! policy apply, reports and their statuses, and the refusals.

mod common;

use common::{linux_host, put};
use dockwatch_agent::test_receiver::TestReceiver;
use dockwatch_agent::{AgentConfig, AgentError, run_once_blocking};
use dockwatch_core::settings::Policy;
use dockwatch_core::settings::wire::{self, REPORT_PATH};
use std::path::Path;
use std::time::Duration;

const TOKEN: &str = "enroll-0123456789abcdef";

fn baseline() -> Policy {
    Policy::parse(
        br#"{"configurationFileVersion": 2,
             "analyticsEnabled": {"locked": true, "value": false},
             "disableUpdate": {"locked": true, "value": true},
             "exposeDockerAPIOnTCP2375": {"locked": true, "value": false},
             "x-dockwatch": {"engine": {"require": ["cis-2.15"]}}}"#,
    )
    .unwrap()
}

fn config(server: &TestReceiver, root: &Path, apply: bool) -> AgentConfig {
    AgentConfig {
        server: server.url.clone(),
        enroll_token: Some(TOKEN.into()),
        root: root.to_path_buf(),
        state_dir: root.join("var/lib/dockwatch-agent"),
        apply,
        interval: Duration::from_secs(300),
        user: None,
    }
}

/// A host whose only user keeps Desktop's settings in the older settings.json.
fn host(root: &Path, analytics: bool) {
    put(root, "etc/machine-id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n");
    put(root, "etc/docker/daemon.json", "{\"live-restore\": true}\n");
    put(
        root,
        "home/alice/.docker/desktop/settings.json",
        &format!(
            "{{\"analyticsEnabled\": {analytics}, \"disableUpdate\": true, \"exposeDockerAPIOnTCP2375\": false}}\n"
        ),
    );
}

#[test]
fn enroll_apply_and_report_make_a_compliant_machine() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let outcome = run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert_eq!(outcome.status, "compliant");
    assert_eq!(outcome.policy, Some(("baseline".into(), 1)));
    assert!(outcome.applied);

    let written = std::fs::read(
        tmp.path()
            .join("usr/share/docker-desktop/admin-settings.json"),
    )
    .unwrap();
    assert_eq!(written, baseline().admin_settings_bytes());
    assert!(!String::from_utf8_lossy(&written).contains("x-dockwatch"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(tmp.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("usr/share/docker-desktop/admin-settings.json"), 0o644);
        assert_eq!(mode("var/lib/dockwatch-agent/credential.json"), 0o600);
    }

    // The second run reuses the credential: one enrollment, two signed reports.
    let again = run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert_eq!(again.machine_id, outcome.machine_id);
    server.received(|r| {
        assert_eq!(r.enrollments.len(), 1);
        assert_eq!(
            r.enrollments[0].1.host_machine_id,
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        );
        assert_eq!(r.reports.len(), 2);
        let report = &r.reports[1].1;
        assert_eq!(report.applied_policy.as_ref().unwrap().number, 1);
        assert_eq!(
            report.admin_settings.as_ref().unwrap().path,
            "usr/share/docker-desktop/admin-settings.json"
        );
        assert!(r.refused.is_empty(), "{:?}", r.refused);
    });
}

#[test]
fn the_signed_in_user_is_named_on_the_signed_policy_fetch_and_in_the_report() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    // No e-mail on the host: the policy is the machine's.
    run_once_blocking(&config(&server, tmp.path(), false)).unwrap();
    // Named (as MDM would): the fetch carries it, signed, and so does the report.
    let mut cfg = config(&server, tmp.path(), false);
    cfg.user = Some("alice+dev@corp.example".into());
    run_once_blocking(&cfg).unwrap();
    // Found: the only user with an e-mail in their ~/.gitconfig.
    put(
        tmp.path(),
        "home/alice/.gitconfig",
        "[user]\n\tname = Alice\n\temail = alice@corp.example\n",
    );
    run_once_blocking(&config(&server, tmp.path(), false)).unwrap();
    server.received(|r| {
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        assert_eq!(
            r.policy_users,
            [
                None,
                Some("alice%2Bdev@corp.example".into()),
                Some("alice@corp.example".into())
            ]
        );
        assert_eq!(r.reports[0].1.signed_in_user, None);
        assert_eq!(
            r.reports[1].1.signed_in_user.as_deref(),
            Some("alice+dev@corp.example")
        );
        assert_eq!(r.reports[2].1.signed_in_email(), Some("alice@corp.example"));
    });
}

#[test]
fn a_drifted_setting_is_non_compliant_and_a_new_version_is_outdated() {
    let mut server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), true);
    let outcome = run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert_eq!(outcome.status, "non-compliant");

    // Back in line, then the policy changes and this agent does not apply: outdated.
    host(tmp.path(), false);
    let mut v2 = baseline().to_document();
    v2["blockDockerLoad"] = serde_json::json!({"locked": true, "value": true});
    server.set_policy("baseline", 2, Policy::from_value(v2).unwrap());
    let outcome = run_once_blocking(&config(&server, tmp.path(), false)).unwrap();
    assert_eq!(outcome.status, "outdated");
    assert!(!outcome.applied);
    // Applying brings it up to date.
    let outcome = run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert_eq!(outcome.status, "compliant");
}

#[test]
fn an_edited_admin_settings_file_is_noticed() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    put(
        tmp.path(),
        "usr/share/docker-desktop/admin-settings.json",
        "{\"configurationFileVersion\": 2}\n",
    );
    let outcome = run_once_blocking(&config(&server, tmp.path(), false)).unwrap();
    assert_eq!(outcome.status, "outdated");
    server.received(|r| {
        let report = &r.reports.last().unwrap().1;
        assert!(report.applied_policy.is_none());
        assert!(report.warnings.iter().any(|w| {
            w.message
                .contains("no longer holds policy \"baseline\" version 1")
        }));
    });
}

#[test]
fn unassigning_removes_only_the_file_the_agent_wrote() {
    let mut server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let file = tmp
        .path()
        .join("usr/share/docker-desktop/admin-settings.json");
    run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert!(file.is_file());
    server.clear_policy();
    let outcome = run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert_eq!(outcome.status, "no-policy");
    assert!(!file.exists(), "the agent's own file is withdrawn");
    // A file someone else installed stays.
    put(
        tmp.path(),
        "usr/share/docker-desktop/admin-settings.json",
        "{\"configurationFileVersion\": 2}\n",
    );
    run_once_blocking(&config(&server, tmp.path(), true)).unwrap();
    assert!(file.is_file());
}

#[test]
fn a_machine_with_the_real_formats_reports_every_user() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    linux_host(tmp.path());
    let outcome = run_once_blocking(&config(&server, tmp.path(), false)).unwrap();
    // bob's settings.json has analyticsEnabled true; live-restore is on, so cis-2.15 passes.
    assert_eq!(outcome.status, "non-compliant");
    assert_eq!(outcome.warnings, 1, "root's broken settings-store.json");
    server.received(|r| {
        let report = &r.reports[0].1;
        assert_eq!(report.users.len(), 2);
        assert_eq!(report.machine.hostname, "dev-laptop-17");
    });
}

#[test]
fn a_wrong_token_and_a_missing_token_are_clear_errors() {
    let server = TestReceiver::start(TOKEN, None);
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let mut cfg = config(&server, tmp.path(), false);
    cfg.enroll_token = Some("wrong".into());
    let err = run_once_blocking(&cfg).unwrap_err();
    assert!(
        matches!(err, AgentError::Status { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("/api/v1/agent/enroll"), "{err}");
    assert!(err.to_string().contains("enrollment token"), "{err}");
    assert!(!err.is_transient());
    cfg.enroll_token = None;
    let err = run_once_blocking(&cfg).unwrap_err();
    assert!(err.to_string().contains("no --enroll-token"), "{err}");
    // With no policy assigned, --apply writes nothing.
    cfg.enroll_token = Some(TOKEN.into());
    cfg.apply = true;
    let outcome = run_once_blocking(&cfg).unwrap();
    assert_eq!(outcome.status, "no-policy");
    assert!(
        !tmp.path()
            .join("usr/share/docker-desktop/admin-settings.json")
            .exists()
    );
}

#[test]
fn an_unreachable_server_is_transient() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let cfg = AgentConfig {
        server: url.clone(),
        enroll_token: Some(TOKEN.into()),
        root: tmp.path().to_path_buf(),
        state_dir: tmp.path().join("state"),
        apply: false,
        interval: Duration::from_secs(1),
        user: None,
    };
    let err = run_once_blocking(&cfg).unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

/// The receiver (and so the wire a server must implement) refuses replays, bad signatures and
/// malformed reports, naming why.
#[test]
fn replays_forgeries_and_junk_are_refused() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    host(tmp.path(), false);
    let cfg = config(&server, tmp.path(), false);
    run_once_blocking(&cfg).unwrap();
    let cred: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.state_dir.join("credential.json")).unwrap())
            .unwrap();
    let machine = cred["machine_id"].as_str().unwrap();
    let secret = cred["credential"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let send = |secret: &str, nonce: [u8; 16], body: &[u8]| -> u16 {
        let headers = wire::sign(secret, "POST", REPORT_PATH, machine, now, nonce, body);
        let mut request = post::new(&format!("{}{REPORT_PATH}", server.url));
        for (k, v) in headers.pairs() {
            request = request.header(k, v);
        }
        request.body(body.to_vec()).send_status()
    };
    let report = server.received(|r| serde_json::to_vec(&r.reports[0].1).unwrap());
    assert_eq!(send(secret, [1; 16], &report), 202);
    assert_eq!(send(secret, [1; 16], &report), 401, "replayed nonce");
    assert_eq!(send("forged", [2; 16], &report), 401, "wrong key");
    assert_eq!(
        send(secret, [3; 16], b"{\"schema\": 1}"),
        400,
        "not a report"
    );
    server.received(|r| {
        let reasons: Vec<_> = r.refused.iter().map(|(_, _, why)| why.as_str()).collect();
        assert_eq!(reasons[0], "replayed nonce");
        assert_eq!(reasons[1], "signature does not match");
        assert!(reasons[2].starts_with("malformed report"), "{reasons:?}");
    });
}

/// A tiny synchronous POST for the refusal test, on a runtime of its own.
mod post {
    pub struct Post {
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    pub fn new(url: &str) -> Post {
        Post {
            url: url.into(),
            headers: vec![],
            body: vec![],
        }
    }

    impl Post {
        pub fn header(mut self, k: &str, v: String) -> Self {
            self.headers.push((k.into(), v));
            self
        }
        pub fn body(mut self, b: Vec<u8>) -> Self {
            self.body = b;
            self
        }
        pub fn send_status(self) -> u16 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let client = ::reqwest::Client::new();
                let mut r = client.post(&self.url).body(self.body);
                for (k, v) in self.headers {
                    r = r.header(k, v);
                }
                r.send().await.unwrap().status().as_u16()
            })
        }
    }
}

#[test]
fn the_daemon_stops_on_a_configuration_error_instead_of_retrying() {
    let server = TestReceiver::start(TOKEN, None);
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(&server, tmp.path(), false);
    cfg.enroll_token = Some("revoked-token".into());
    let err = dockwatch_agent::run_daemon_blocking(&cfg).unwrap_err();
    assert!(
        matches!(err, AgentError::Status { status: 401, .. }),
        "{err}"
    );
    server.received(|r| assert_eq!(r.refused.len(), 1, "tried once, not in a loop"));
}

#[test]
fn apply_writes_where_each_os_reads_it() {
    let server = TestReceiver::start(TOKEN, Some(baseline()));
    let tmp = tempfile::tempdir().unwrap();
    let mac = tmp.path().join("mac");
    put(
        &mac,
        "Users/erin/Library/Group Containers/group.com.docker/settings-store.json",
        r#"{"AnalyticsEnabled": false, "DisableUpdate": true, "ExposeDockerAPIOnTCP2375": false}"#,
    );
    let outcome = run_once_blocking(&config(&server, &mac, true)).unwrap();
    assert!(
        mac.join("Library/Application Support/com.docker.docker/admin-settings.json")
            .is_file()
    );
    assert_eq!(outcome.status, "compliant");
    let win = tmp.path().join("win");
    put(
        &win,
        "Users/frank/AppData/Roaming/Docker/settings.json",
        r#"{"analyticsEnabled": false, "disableUpdate": true, "exposeDockerAPIOnTCP2375": false}"#,
    );
    std::fs::create_dir_all(win.join("ProgramData")).unwrap();
    run_once_blocking(&config(&server, &win, true)).unwrap();
    assert!(
        win.join("ProgramData/DockerDesktop/admin-settings.json")
            .is_file()
    );
}
