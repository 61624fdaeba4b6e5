//! `dockwatch alert channel add` with each kind's own flags, `alert channel test` reporting the
//! receiver's answer, and a webhook secret rotation checked by the Python reference library.

use super::alerts::{Proc, SECRET, TOKEN, cli, free_port, serve};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const NEW_SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Answers `202 thanks <webhook-id>`; logs which of two secrets the signature verifies with.
const RECEIVER: &str = r#"
import http.server, json, sys
from standardwebhooks.webhooks import Webhook
old, new = Webhook(sys.argv[2]), Webhook(sys.argv[3]); log = open(sys.argv[4], "a")
def ok(wh, body, headers):
    try:
        wh.verify(body, headers); return True
    except Exception:
        return False
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        log.write(json.dumps({"old": ok(old, body, headers), "new": ok(new, body, headers),
            "signatures": len(headers.get("webhook-signature", "").split())}) + "\n"); log.flush()
        answer = ("thanks " + headers.get("webhook-id", "")).encode()
        self.send_response(202); self.send_header("content-length", str(len(answer))); self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

fn receiver(dir: &Path, port: u16) -> Proc {
    std::fs::write(dir.join("recv_cli.py"), RECEIVER).unwrap();
    let child = Command::new("python3")
        .arg(dir.join("recv_cli.py"))
        .arg(port.to_string())
        .arg(SECRET)
        .arg(NEW_SECRET)
        .arg(dir.join("checked.jsonl"))
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Proc(child)
}

fn run(port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(args)
        .env("DOCKWATCH_SERVER", format!("http://127.0.0.1:{port}"))
        .env("DOCKWATCH_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_ORG")
        .env_remove("DOCKWATCH_ALERT_SECRET")
        .output()
        .unwrap()
}

/// (verifies with the old secret, with the new one, signatures sent) per request received.
fn checked(dir: &Path) -> Vec<(bool, bool, u64)> {
    std::fs::read_to_string(dir.join("checked.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["old"].as_bool().unwrap(),
                v["new"].as_bool().unwrap(),
                v["signatures"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn channel(list: &[serde_json::Value], name: &str) -> serde_json::Value {
    list.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no channel {name} in {list:?}"))
        .clone()
}

#[test]
fn channel_add_takes_each_kinds_flags_and_test_reports_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (port, rport, closed) = (free_port(), free_port(), free_port());
    let _recv = receiver(dir.path(), rport);
    let _server = serve(&dir.path().join("data"), port);
    let url = format!("http://127.0.0.1:{rport}/hook");
    // One real CA certificate (the whole system bundle is larger than a request may be).
    let bundle = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let first = &bundle[..bundle.find(end).unwrap() + end.len()];
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, first).unwrap();
    let ca = ca_path.to_str().unwrap();
    let closed_port = closed.to_string();
    let adds: [&[&str]; 5] = [
        &[
            "slack",
            "--name",
            "chat",
            "--url",
            "https://hooks.slack.com/services/T000/B000/XXXX",
        ],
        &[
            "webhook",
            "--name",
            "hook",
            "--url",
            &url,
            "--secret",
            SECRET,
            "--payload",
            "standard",
        ],
        &[
            "splunk-hec",
            "--name",
            "splunk",
            "--url",
            "https://splunk.example:8088",
            "--secret",
            "hec-token",
            "--index",
            "security",
            "--sourcetype",
            "dockwatch:event",
            "--source",
            "dw",
            "--host",
            "dw-1",
            "--ack",
        ],
        &[
            "sentinel",
            "--name",
            "sentinel",
            "--authority",
            "https://login.example",
            "--tenant-id",
            "tenant-1",
            "--client-id",
            "client-1",
            "--secret",
            "client-secret",
            "--endpoint",
            "https://dce.example",
            "--dcr-immutable-id",
            "dcr-0123",
            "--stream",
            "Custom-DockwatchEvents_CL",
        ],
        &[
            "syslog",
            "--name",
            "siem",
            "--host",
            "127.0.0.1",
            "--port",
            &closed_port,
            "--transport",
            "tcp",
            "--message-format",
            "cef",
            "--facility",
            "10",
        ],
    ];
    for add in adds {
        let mut args = vec!["alert", "channel", "add"];
        args.extend_from_slice(add);
        cli(port, &args);
    }
    let out = run(
        port,
        &[
            "alert", "channel", "add", "webhook", "--name", "bad", "--url", &url, "--secret",
            SECRET, "--index", "main",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--index"), "{stderr}");
    let missing = dir.path().join("missing.pem");
    let out = run(
        port,
        &[
            "alert",
            "channel",
            "add",
            "syslog",
            "--name",
            "tls",
            "--host",
            "127.0.0.1",
            "--transport",
            "tls",
            "--ca",
            missing.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca"));
    cli(
        port,
        &[
            "alert",
            "channel",
            "add",
            "syslog",
            "--name",
            "tls",
            "--host",
            "127.0.0.1",
            "--transport",
            "tls",
            "--server-name",
            "siem.example",
            "--ca",
            ca,
        ],
    );

    let list: Vec<serde_json::Value> = serde_json::from_str(&cli(
        port,
        &["alert", "channel", "list", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(list.len(), 6, "{list:?}");
    let text = serde_json::to_string(&list).unwrap();
    for secret in [SECRET, "hec-token", "client-secret", "B000/XXXX"] {
        assert!(
            !text.contains(secret),
            "{secret} must not come back: {text}"
        );
    }
    let splunk = channel(&list, "splunk")["config"].clone();
    assert_eq!(splunk["index"], "security");
    assert_eq!(splunk["source"], "dw");
    assert_eq!(splunk["host"], "dw-1");
    assert_eq!(splunk["ack"], true);
    let sentinel = channel(&list, "sentinel")["config"].clone();
    assert_eq!(sentinel["tenant_id"], "tenant-1");
    assert_eq!(sentinel["dcr_immutable_id"], "dcr-0123");
    assert_eq!(sentinel["authority"], "https://login.example");
    let siem = channel(&list, "siem")["config"].clone();
    assert_eq!(siem["format"], "cef");
    assert_eq!(siem["facility"], 10);
    assert_eq!(siem["transport"], "tcp");
    let tls = channel(&list, "tls")["config"].clone();
    assert!(
        tls["ca"].as_str().unwrap().starts_with("-----BEGIN"),
        "{tls}"
    );
    assert_eq!(tls["server_name"], "siem.example");
    assert_eq!(channel(&list, "hook")["breaker"]["state"], "closed");

    // The test action shows what the receiver answered.
    let said = cli(port, &["alert", "channel", "test", "hook"]);
    assert!(
        said.starts_with("delivered (status 202") && said.contains("thanks msg_"),
        "{said}"
    );
    let out = run(port, &["alert", "channel", "test", "siem"]);
    assert!(!out.status.success(), "nothing listens on the syslog port");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("not delivered"), "{said}");

    // Rotation: both secrets sign until the rotation finishes.
    cli(
        port,
        &[
            "alert",
            "channel",
            "rotate-secret",
            "hook",
            "--secret",
            NEW_SECRET,
        ],
    );
    cli(port, &["alert", "channel", "test", "hook"]);
    cli(
        port,
        &["alert", "channel", "rotate-secret", "hook", "--finish"],
    );
    cli(port, &["alert", "channel", "test", "hook"]);
    let seen = checked(dir.path());
    assert_eq!(
        seen,
        [(true, false, 1), (true, true, 2), (false, true, 1)],
        "old only, both during the rotation, new only after"
    );
    let out = run(
        port,
        &["alert", "channel", "rotate-secret", "siem", "--secret", "x"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no secret to rotate"));
    let events = cli(
        port,
        &[
            "events",
            "search",
            "--action",
            "alert.channel.secret_rotated",
            "--format",
            "json",
        ],
    );
    let events: Vec<serde_json::Value> = serde_json::from_str(&events).unwrap();
    assert_eq!(
        events.len(),
        2,
        "rotations are in the activity log: {events:?}"
    );
}
