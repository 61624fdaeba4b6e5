//! Fleet compliance end to end: a real `serve`, a versioned policy set with the CLI, four real
//! agents on fake host trees (compliant, drifting, outdated, silent), the report, the drift
//! events in the activity log, and bad agent requests refused without changing anything.

use dockwatch_core::settings::wire::{self, REPORT_PATH};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "e2e-fleet-bootstrap-secret";

const POLICY_V1: &str = r#"{"configurationFileVersion": 2,
 "analyticsEnabled": {"locked": true, "value": false},
 "disableUpdate": {"locked": true, "value": true},
 "exposeDockerAPIOnTCP2375": {"locked": true, "value": false}}"#;

/// Version 2 adds an unlocked default: the same locked requirements, a new version.
const POLICY_V2: &str = r#"{"configurationFileVersion": 2,
 "analyticsEnabled": {"locked": true, "value": false},
 "disableUpdate": {"locked": true, "value": true},
 "exposeDockerAPIOnTCP2375": {"locked": true, "value": false},
 "allowBetaFeatures": {"locked": false, "value": false}}"#;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &Path) -> Server {
    start_with(data, &[])
}

fn start_with(data: &Path, extra: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .args(extra)
        .env("DOCKWATCH_BOOTSTRAP_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("serve did not listen");
}

fn cli(server: &Server, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(args)
        .env("DOCKWATCH_SERVER", &server.url)
        .env("DOCKWATCH_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_ORG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One HTTP request through curl (the body on stdin): status and body.
fn http(method: &str, url: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
    use std::io::Write;
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    cmd.args([
        "-H",
        "content-type: application/json",
        "--data-binary",
        "@-",
    ]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap(), body.to_owned())
}

fn host(root: &Path, hostname: &str, analytics: bool) {
    std::fs::create_dir_all(root.join("home/alice/.docker/desktop")).unwrap();
    std::fs::create_dir_all(root.join("etc/docker")).unwrap();
    std::fs::write(root.join("etc/hostname"), format!("{hostname}\n")).unwrap();
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

fn agent(server: &Server, enroll: &str, tmp: &Path, name: &str, analytics: bool) {
    agent_as(server, enroll, tmp, name, analytics, &[]);
}

/// Runs an agent once with extra flags; its one-line summary.
fn agent_as(
    server: &Server,
    enroll: &str,
    tmp: &Path,
    name: &str,
    analytics: bool,
    extra: &[&str],
) -> String {
    let root = tmp.join(format!("root-{name}"));
    host(&root, name, analytics);
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["agent", "--server", &server.url, "--enroll-token", enroll])
        .args(["--once", "--apply", "--root"])
        .arg(&root)
        .arg("--state-dir")
        .arg(tmp.join(format!("state-{name}")))
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "agent {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every event of the organization (JSON).
fn all_events(server: &Server) -> serde_json::Value {
    let (_, body) = http(
        "GET",
        &format!("{}/api/v1/orgs/default/events?limit=1000", server.url),
        &[("authorization", format!("Bearer {TOKEN}"))],
        "",
    );
    serde_json::from_str(&body).unwrap()
}

/// The organization's events with this action, by target name.
fn events_named(server: &Server, action: &str) -> Vec<String> {
    let (_, body) = http(
        "GET",
        &format!("{}/api/v1/orgs/default/events?limit=1000", server.url),
        &[("authorization", format!("Bearer {TOKEN}"))],
        "",
    );
    let events: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut names: Vec<String> = events
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| e["target"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

fn set_policy(server: &Server, tmp: &Path, text: &str) {
    let file = tmp.join("baseline.json");
    std::fs::write(&file, text).unwrap();
    cli(
        server,
        &[
            "fleet",
            "policy",
            "set",
            file.to_str().unwrap(),
            "--assign",
            "org",
        ],
    );
}

#[test]
fn compliant_drifting_outdated_and_silent_machines_are_told_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("data"));
    set_policy(&server, tmp.path(), POLICY_V1);
    let out = cli(&server, &["fleet", "enroll-token", "create"]);
    let enroll = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(enroll.starts_with("dwe_"), "{enroll}");

    agent(&server, &enroll, tmp.path(), "silent", false);
    let silent_at = Instant::now();
    std::thread::sleep(Duration::from_secs(4));
    agent(&server, &enroll, tmp.path(), "outdated", false);
    set_policy(&server, tmp.path(), POLICY_V2);
    agent(&server, &enroll, tmp.path(), "good", false);
    agent(&server, &enroll, tmp.path(), "drifting", true);

    // Silent: reported before `silent_at`; the others at least 4 s after it (see the sleep).
    let stale = (silent_at.elapsed().as_secs() - 1).to_string();
    let out = cli(
        &server,
        &[
            "fleet",
            "report",
            "--format",
            "json",
            "--stale-after",
            &stale,
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status_of = |host: &str| {
        report["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["hostname"] == host)
            .unwrap_or_else(|| panic!("{host} not in {report}"))
            .clone()
    };
    assert_eq!(status_of("good")["status"], "compliant", "{report}");
    assert_eq!(status_of("outdated")["status"], "outdated", "{report}");
    assert_eq!(status_of("silent")["status"], "unknown", "{report}");
    let drifting = status_of("drifting");
    assert_eq!(drifting["status"], "non-compliant", "{report}");
    assert_eq!(drifting["drifts"][0]["key"], "analyticsEnabled", "{report}");
    assert!(drifting["last_report_at_ms"].as_i64().unwrap() > 0);
    assert_eq!(report["summary"]["total"], 4, "{report}");
    assert_eq!(report["summary"]["non_compliant"], 1, "{report}");

    // Filters and CSV.
    let out = cli(
        &server,
        &[
            "fleet",
            "report",
            "--status",
            "non-compliant",
            "--format",
            "csv",
        ],
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains("drifting") && csv.contains("analyticsEnabled"),
        "{csv}"
    );

    // Both versions are kept; the export is the admin-settings.json of the one asked for.
    let out = cli(
        &server,
        &[
            "fleet",
            "policy",
            "export",
            "baseline",
            "--policy-version",
            "1",
        ],
    );
    let v1: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v1.get("allowBetaFeatures").is_none(), "{v1}");
    let out = cli(&server, &["fleet", "policy", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["version"], 2, "{list}");

    // The drift is an activity-log event, written through the mutation hook.
    let auth = [("authorization", format!("Bearer {TOKEN}"))];
    let (_, body) = http(
        "GET",
        &format!("{}/api/v1/orgs/default/events?limit=1000", server.url),
        &auth,
        "",
    );
    let events: serde_json::Value = serde_json::from_str(&body).unwrap();
    let drifted: Vec<_> = events
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .filter(|e| e["action"] == "fleet.compliance.drifted")
        .collect();
    assert_eq!(drifted.len(), 1, "{events}");
    assert!(
        drifted[0]["sentence"]
            .as_str()
            .unwrap()
            .contains("analyticsEnabled"),
        "{events}"
    );
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "fleet.policy.versioned")
    );
}

#[test]
fn bad_agent_requests_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("data"));
    set_policy(&server, tmp.path(), POLICY_V1);
    let out = cli(&server, &["fleet", "enroll-token", "create"]);
    let enroll = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let post = |path: &str, body: &str, headers: &[(&'static str, String)]| {
        http("POST", &format!("{}{path}", server.url), headers, body)
    };
    // A wrong enrollment token, then a real enrollment.
    let enroll_body = |token: &str| {
        serde_json::json!({"enrollment_token": token, "host_machine_id": "abc", "hostname": "h1",
            "os": {"family": "linux"}, "agent_version": "test"})
        .to_string()
    };
    assert_eq!(post(wire::ENROLL_PATH, &enroll_body("nope"), &[]).0, 401);
    let (status, body) = post(wire::ENROLL_PATH, &enroll_body(&enroll), &[]);
    assert_eq!(status, 201, "{body}");
    let enrolled: wire::EnrollResponse = serde_json::from_str(&body).unwrap();

    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let signed = |body: &[u8], nonce: u8| {
        wire::sign(
            &enrolled.credential,
            "POST",
            REPORT_PATH,
            &enrolled.machine_id,
            now(),
            [nonce; 16],
            body,
        )
        .pairs()
        .to_vec()
    };
    let events_before = all_events(&server);
    // Unsigned.
    let (status, body) = post(REPORT_PATH, "{}", &[]);
    assert_eq!(status, 401, "{body}");
    // Malformed (signed).
    let (status, body) = post(REPORT_PATH, "{not json", &signed(b"{not json", 1));
    assert_eq!(status, 400, "{body}");
    // A signature over other bytes.
    let (status, body) = post(REPORT_PATH, "{}", &signed(b"{ }", 2));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("signature"), "{body}");
    // Too large.
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(600 * 1024));
    let (status, _) = post(REPORT_PATH, &big, &signed(big.as_bytes(), 3));
    assert_eq!(status, 413);
    // Just over the report limit (inside the transport's): 413 naming the limit.
    let over = format!(
        "{{\"x\": \"{}\"}}",
        "a".repeat(dockwatch_core::settings::report::MAX_REPORT_BYTES)
    );
    let (status, body) = post(REPORT_PATH, &over, &signed(over.as_bytes(), 6));
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("too large"), "{body}");
    // A signed-in user that is not an e-mail address: 400 naming the field.
    let odd = serde_json::json!({"schema": 1, "agent_version": "test", "collected_at_ms": 1,
        "machine": {"machine_id": "abc", "hostname": "h1", "os": {"family": "linux"}},
        "signed_in_user": "alice"})
    .to_string();
    let (status, body) = post(REPORT_PATH, &odd, &signed(odd.as_bytes(), 7));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("signed_in_user"), "{body}");
    // A policy fetch for a user the signature does not cover: 401.
    let get_signed = |path: &str, nonce: u8| {
        wire::sign(
            &enrolled.credential,
            "GET",
            path,
            &enrolled.machine_id,
            now(),
            [nonce; 16],
            b"",
        )
        .pairs()
        .to_vec()
    };
    let swapped = format!(
        "{}?user=bob@corp.example",
        server.url.clone() + wire::POLICY_PATH
    );
    let (status, body) = http("GET", &swapped, &get_signed(wire::POLICY_PATH, 8), "");
    assert_eq!(status, 401, "{body}");
    // A malformed user, signed: 400 naming it.
    let path = format!("{}?user=bob", wire::POLICY_PATH);
    let (status, body) = http(
        "GET",
        &format!("{}{path}", server.url),
        &get_signed(&path, 9),
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("user"), "{body}");
    // None of the refused requests changed anything.
    assert_eq!(all_events(&server), events_before);
    let out = cli(&server, &["fleet", "report", "--format", "json"]);
    let untouched: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        untouched["machines"][0]["last_report_at_ms"],
        serde_json::Value::Null
    );
    // A valid report, then its replay.
    let report = serde_json::json!({"schema": 1, "agent_version": "test", "collected_at_ms": 1,
        "machine": {"machine_id": "abc", "hostname": "h1", "os": {"family": "linux"}},
        "users": [], "engine": {}})
    .to_string();
    let headers = signed(report.as_bytes(), 4);
    let (status, body) = post(REPORT_PATH, &report, &headers);
    assert_eq!(status, 202, "{body}");
    let (status, body) = post(REPORT_PATH, &report, &headers);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("replayed"), "{body}");

    let before = cli(&server, &["fleet", "report", "--format", "json"]).stdout;
    // Revoked: refused, and the report is unchanged.
    cli(&server, &["fleet", "revoke-machine", &enrolled.machine_id]);
    let (status, body) = post(REPORT_PATH, &report, &signed(report.as_bytes(), 5));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    let before: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(before["machines"].as_array().unwrap().len(), 1);

    // A policy with an unknown key or a wrong type is refused naming the key.
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"configurationFileVersion": 2, "analyticsEnabled": {"locked": true, "value": "no"}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["fleet", "policy", "set", bad.to_str().unwrap()])
        .env("DOCKWATCH_SERVER", &server.url)
        .env("DOCKWATCH_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("analyticsEnabled"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = http(
        "PUT",
        &format!("{}/api/v1/orgs/default/fleet/policies/bad", server.url),
        &[("authorization", format!("Bearer {TOKEN}"))],
        &serde_json::json!({"document": {"configurationFileVersion": 2,
            "noSuchSetting": {"locked": true, "value": 1}}})
        .to_string(),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("noSuchSetting"), "{body}");
}

#[test]
fn the_signed_in_user_gets_their_policy_and_policies_can_be_unassigned_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("data"));
    set_policy(&server, tmp.path(), POLICY_V1);
    let strict = tmp.path().join("alice-only.json");
    std::fs::write(&strict, POLICY_V2).unwrap();
    cli(
        &server,
        &[
            "fleet",
            "policy",
            "set",
            strict.to_str().unwrap(),
            "--assign",
            "user:alice@corp.example",
        ],
    );
    let out = cli(&server, &["fleet", "enroll-token", "create"]);
    let enroll = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    // alice is named (as MDM would) on one machine; the other has no named user.
    let line = agent_as(
        &server,
        &enroll,
        tmp.path(),
        "alices",
        false,
        &["--user", "alice@corp.example"],
    );
    assert!(line.contains("policy alice-only v1 applied"), "{line}");
    let line = agent_as(&server, &enroll, tmp.path(), "shared", false, &[]);
    assert!(line.contains("policy baseline v1 applied"), "{line}");

    // Compliance per user.
    let out = cli(
        &server,
        &["fleet", "report", "--by", "user", "--format", "json"],
    );
    let by_user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = by_user["users"].as_array().unwrap();
    let alice = users
        .iter()
        .find(|u| u["user"] == "alice")
        .unwrap_or_else(|| panic!("{by_user}"));
    let on = |host: &str| {
        alice["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["hostname"] == host)
            .unwrap_or_else(|| panic!("{host} in {by_user}"))
            .clone()
    };
    // The host's user has no e-mail: the account name; the named user is signed in.
    assert_eq!(on("alices")["signed_in"], true, "{by_user}");
    assert_eq!(on("alices")["policy"]["name"], "alice-only", "{by_user}");
    assert_eq!(on("shared")["policy"]["name"], "baseline", "{by_user}");
    let out = cli(
        &server,
        &["fleet", "report", "--by", "user", "--format", "csv"],
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("user,user_status,machine_id"), "{csv}");

    // Unassign, then delete: the machine falls back to the org default, then to no policy.
    cli(
        &server,
        &[
            "fleet",
            "policy",
            "unassign",
            "alice-only",
            "user:alice@corp.example",
        ],
    );
    let line = agent_as(
        &server,
        &enroll,
        tmp.path(),
        "alices",
        false,
        &["--user", "alice@corp.example"],
    );
    assert!(line.contains("policy baseline v1 applied"), "{line}");
    cli(&server, &["fleet", "policy", "delete", "alice-only"]);
    cli(&server, &["fleet", "policy", "delete", "baseline"]);
    let line = agent_as(&server, &enroll, tmp.path(), "shared", false, &[]);
    assert!(line.contains("no policy assigned"), "{line}");
    let out = cli(&server, &["fleet", "report", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["no_policy"], 2, "{report}");
    assert_eq!(
        events_named(&server, "fleet.policy.deleted"),
        ["alice-only", "baseline"]
    );
    assert_eq!(
        events_named(&server, "fleet.policy.unassigned"),
        ["alice-only", "baseline"]
    );
    // Unknown policy, unknown assignment: 404 and nothing changes.
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["fleet", "policy", "delete", "baseline"])
        .env("DOCKWATCH_SERVER", &server.url)
        .env("DOCKWATCH_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("baseline"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn silent_machines_are_logged_once_by_the_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_with(
        &tmp.path().join("data"),
        &["--fleet-stale-after", "2s", "--fleet-sweep-every", "1s"],
    );
    set_policy(&server, tmp.path(), POLICY_V1);
    let out = cli(&server, &["fleet", "enroll-token", "create"]);
    let enroll = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    agent(&server, &enroll, tmp.path(), "quiet-1", false);
    agent(&server, &enroll, tmp.path(), "quiet-2", true);
    // Nothing reports any more: each machine is marked silent by a sweep, once.
    let deadline = Instant::now() + Duration::from_secs(60);
    while events_named(&server, "fleet.compliance.silent").len() < 2 {
        assert!(Instant::now() < deadline, "no silent events");
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(4)); // several more sweeps
    assert_eq!(
        events_named(&server, "fleet.compliance.silent"),
        ["quiet-1", "quiet-2"]
    );
    let out = cli(
        &server,
        &["fleet", "report", "--summary", "--format", "json"],
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["summary"]["unknown"], 2, "{summary}");
    assert_eq!(summary["stale_after_ms"], 2000, "{summary}");
}
