//! Syslog into a real rsyslog (Debian's) started on loopback ports: UDP, TCP with octet
//! counting, and TLS with a CA made in the test; the test reads what rsyslog wrote.

use super::common::{ctx, free_port, make_certs};
use dockwatch_alert::{AlertEvent, ChannelConfig, Delivery, RetryDecision, build};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

struct Rsyslog {
    child: Child,
    out: PathBuf,
    udp: u16,
    tcp: u16,
    tls: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Rsyslog {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        make_certs(d);
        let (udp, tcp, tls) = (free_port(), free_port(), free_port());
        let out = d.join("received.log");
        let conf = format!(
            r#"global(workDirectory="{d}" maxMessageSize="64k"
  DefaultNetstreamDriverCAFile="{d}/ca.pem"
  DefaultNetstreamDriverCertFile="{d}/server.pem"
  DefaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imudp")
module(load="imtcp" maxSessions="50")
template(name="fields" type="string" string="%inputname%|%syslogfacility%|%syslogseverity%|%hostname%|%app-name%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="dw") {{ action(type="omfile" file="{out}" template="fields") }}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="dw")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="dw")
input(type="imtcp" address="127.0.0.1" port="{tls}" ruleset="dw" name="tls"
  streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
"#,
            d = d.display(),
            out = out.display()
        );
        std::fs::write(d.join("rsyslog.conf"), conf).unwrap();
        let check = Command::new("rsyslogd")
            .args(["-N1", "-f"])
            .arg(d.join("rsyslog.conf"))
            .output()
            .expect("rsyslogd (Debian package rsyslog, plus rsyslog-openssl for TLS)");
        assert!(
            check.status.success(),
            "rsyslog config: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(d.join("rsyslog.conf"))
            .arg("-i")
            .arg(d.join("rsyslog.pid"))
            // Its complaints about the handshakes the tests fail on purpose go to a file.
            .stderr(std::fs::File::create(d.join("rsyslogd.stderr")).unwrap())
            .spawn()
            .unwrap();
        for port in [tcp, tls] {
            wait_for_port(port).await;
        }
        Self {
            child,
            out,
            udp,
            tcp,
            tls,
            _dir: dir,
        }
    }

    fn ca(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("ca.pem")).unwrap()
    }

    /// Waits until rsyslog has written `n` lines containing `needle`, and returns them.
    async fn lines_with(&self, needle: &str, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let lines = read_lines(&self.out, needle);
            if lines.len() >= n {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "rsyslog wrote {} of {n} lines with {needle:?}: {:?}",
            read_lines(&self.out, needle).len(),
            std::fs::read_to_string(&self.out).unwrap_or_default()
        );
    }
}

fn read_lines(path: &Path, needle: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("rsyslog did not listen on {port}");
}

fn event(id: &str, summary: &str) -> AlertEvent {
    serde_json::from_value(json!({
        "id": id, "org": "acme", "time": "2026-11-25T13:14:15.678Z", "action": "team.created",
        "actor": "alice@example.com", "target": "team:first-team", "summary": summary, "severity": "high",
        "details": {"multi\nline": "value with \"quotes\" and ] bracket"},
    }))
    .unwrap()
}

fn syslog(
    host: &str,
    port: u16,
    transport: &str,
    format: &str,
    ca: Option<String>,
) -> ChannelConfig {
    serde_json::from_value(json!({
        "kind": "syslog", "host": host, "port": port, "transport": transport, "format": format, "ca": ca,
    }))
    .unwrap()
}

#[tokio::test]
async fn rsyslog_receives_tcp_tls_and_udp() {
    let rs = Rsyslog::start().await;

    // TCP, JSON body, a digest of three: three framed messages on one connection.
    let tcp = build(&syslog("127.0.0.1", rs.tcp, "tcp", "json", None), &ctx()).unwrap();
    let digest = Delivery::digest(
        "c",
        (1..=3)
            .map(|i| event(&format!("tcp-{i}"), &format!("tcp event {i}")))
            .collect(),
    );
    let outcome = tcp.deliver(&digest).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    let lines = rs.lines_with("\"id\":\"tcp-", 3).await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    let fields: Vec<&str> = lines[0].splitn(8, '|').collect();
    // imtcp; facility 13 (log audit); severity 3 (error) for a high event.
    assert_eq!(
        &fields[..6],
        [
            "imtcp",
            "13",
            "3",
            "dockwatch-test",
            "dockwatch",
            "team.created"
        ]
    );
    assert_eq!(
        fields[6],
        format!(
            r#"[dockwatch@32473 org="acme" event="tcp-1" delivery="{}" attempt="1"]"#,
            digest.id
        )
    );
    let body: serde_json::Value = serde_json::from_str(fields[7]).expect("the JSON body, intact");
    assert_eq!(body["summary"], "tcp event 1");
    assert_eq!(
        body["details"]["multi\nline"],
        "value with \"quotes\" and ] bracket"
    );

    // TLS with the test CA, CEF body.
    let tls = build(
        &syslog("localhost", rs.tls, "tls", "cef", Some(rs.ca())),
        &ctx(),
    )
    .unwrap();
    let outcome = tls
        .deliver(&Delivery::single("c", event("tls-1", "over | TLS = yes")))
        .await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert!(outcome.response_excerpt.contains("over TLS"), "{outcome:?}");
    let lines = rs.lines_with("externalId=tls-1", 1).await;
    let fields: Vec<&str> = lines[0].splitn(8, '|').collect();
    assert_eq!(fields[0], "tls");
    let cef = lines[0]
        .split_once("CEF:0|")
        .map(|(_, c)| format!("CEF:0|{c}"))
        .unwrap();
    assert!(
        cef.starts_with("CEF:0|Dockwatch|Dockwatch|0.1.0-test|team.created|over \\| TLS = yes|8|rt=1795612455678 suser=alice@example.com externalId=tls-1 "),
        "{cef}"
    );
    assert!(cef.contains(" msg=over | TLS \\= yes "), "{cef}");

    // UDP: fire and forget, but rsyslog gets it.
    let udp = build(&syslog("127.0.0.1", rs.udp, "udp", "json", None), &ctx()).unwrap();
    assert!(udp.test("acme").await.decision.is_delivered());
    let lines = rs.lines_with("alert.test", 1).await;
    assert!(
        lines[0].starts_with("imudp|13|6|dockwatch-test|dockwatch|alert.test|"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn tls_without_the_ca_is_a_permanent_certificate_failure() {
    let rs = Rsyslog::start().await;
    let tls = build(&syslog("localhost", rs.tls, "tls", "json", None), &ctx()).unwrap();
    let outcome = tls.test("acme").await;
    let RetryDecision::Permanent { reason } = &outcome.decision else {
        panic!("{outcome:?}")
    };
    assert!(
        reason.contains("TLS certificate of localhost rejected"),
        "{reason}"
    );
    // A TCP port with nobody listening: retry.
    let closed = build(
        &syslog("127.0.0.1", free_port(), "tcp", "json", None),
        &ctx(),
    )
    .unwrap();
    assert!(closed.test("acme").await.decision.is_retriable());
}

#[tokio::test]
async fn an_oversized_udp_message_is_a_permanent_failure() {
    let udp = build(
        &syslog("127.0.0.1", free_port(), "udp", "json", None),
        &ctx(),
    )
    .unwrap();
    let outcome = udp
        .deliver(&Delivery::single("c", event("big", &"x".repeat(70_000))))
        .await;
    let RetryDecision::Permanent { reason } = &outcome.decision else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("use tcp or tls"), "{reason}");
}
