//! Alerts end to end: a webhook channel and a rule; team changes arrive signed per Standard
//! Webhooks (checked by the Python reference library); deliveries queued while the receiver is
//! down and the server is SIGKILLed all arrive after both restart, each with one delivery id.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) const TOKEN: &str = "e2e-alerts-secret";
pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const RECEIVER: &str = r#"
import http.server, json, sys
from standardwebhooks.webhooks import Webhook
wh = Webhook(sys.argv[2]); log = open(sys.argv[3], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            wh.verify(body, {k.lower(): v for k, v in self.headers.items()}); ok = True
        except Exception:
            ok = False
        log.write(json.dumps({"id": self.headers.get("webhook-id"), "ok": ok, "body": body.decode()}) + "\n"); log.flush()
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(s, "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200")
}

/// A child process killed (SIGKILL) when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn serve(data: &Path, port: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["serve", "--allow-private-targets", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data)
        .env("DOCKWATCH_BOOTSTRAP_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    for _ in 0..300 {
        if ready(port) {
            return p;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("serve did not become ready");
}

fn receiver(dir: &Path, port: u16) -> Proc {
    std::fs::write(dir.join("recv.py"), RECEIVER).unwrap();
    let child = Command::new("python3")
        .arg(dir.join("recv.py"))
        .arg(port.to_string())
        .arg(SECRET)
        .arg(dir.join("got.jsonl"))
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Proc(child)
}

pub(crate) fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(args)
        .env("DOCKWATCH_SERVER", format!("http://127.0.0.1:{port}"))
        .env("DOCKWATCH_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_ORG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dockwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// (delivery id, signature valid, body) per request received.
fn received(dir: &Path) -> Vec<(String, bool, serde_json::Value)> {
    std::fs::read_to_string(dir.join("got.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["ok"].as_bool().unwrap(),
                serde_json::from_str(v["body"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn team_names(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, _, body) in received(dir) {
        let text = body.to_string();
        for i in 0..=20 {
            let name = if i == 0 {
                "first-team".to_owned()
            } else {
                format!("t{i}")
            };
            if text.contains(&format!("team:{name}\"")) {
                names.entry(name).or_default().insert(id.clone());
            }
        }
    }
    names
}

fn wait_for(dir: &Path, count: usize) -> BTreeMap<String, BTreeSet<String>> {
    for _ in 0..600 {
        let names = team_names(dir);
        if names.len() >= count {
            return names;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    team_names(dir)
}

#[test]
fn queued_deliveries_survive_a_receiver_outage_and_a_sigkill() {
    if Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .status()
        .map_or(true, |s| !s.success())
    {
        panic!(
            "this test needs the Python package standardwebhooks (pip install standardwebhooks)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (port, rport) = (free_port(), free_port());
    let recv = receiver(dir.path(), rport);
    let server = serve(&data, port);
    let url = format!("http://127.0.0.1:{rport}/hook");
    cli(
        port,
        &[
            "alert", "channel", "add", "webhook", "--name", "hook", "--url", &url, "--secret",
            SECRET,
        ],
    );
    cli(
        port,
        &[
            "alert",
            "rule",
            "add",
            "--name",
            "teams",
            "--match",
            "team.*",
            "--channel",
            "hook",
        ],
    );
    let listed = cli(port, &["alert", "channel", "list", "--format", "json"]);
    assert!(
        !listed.contains(SECRET),
        "the API must not return secrets: {listed}"
    );
    assert!(listed.contains("[redacted]"), "{listed}");
    cli(port, &["team", "create", "first-team"]);
    assert!(wait_for(dir.path(), 1).contains_key("first-team"));

    drop(recv);
    for i in 1..=20 {
        cli(port, &["team", "create", &format!("t{i}")]);
    }
    drop(server); // SIGKILL, with deliveries pending and perhaps claimed
    let recv = receiver(dir.path(), rport);
    let server = serve(&data, port);
    let names = wait_for(dir.path(), 21);
    let got = received(dir.path());
    assert!(got.iter().all(|(_, ok, _)| *ok), "every signature verifies");
    assert_eq!(names.len(), 21, "every team's event arrived: {names:?}");
    for (name, ids) in &names {
        assert_eq!(
            ids.len(),
            1,
            "{name} arrived under one delivery id, retries included"
        );
    }
    let log = cli(
        port,
        &[
            "alert",
            "deliveries",
            "--status",
            "delivered",
            "--format",
            "json",
        ],
    );
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    assert_eq!(log.len(), 21, "the delivery log shows each delivered once");
    drop((recv, server));
}
