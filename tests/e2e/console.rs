//! The web console end to end: a real `serve` with data made through the CLI and a real agent,
//! then headless Chromium driven through chromedriver's WebDriver HTTP protocol (spoken with
//! curl, like the other e2e modules): sign in with the form, search the activity log, open an
//! event's before/after, load more, verify the chain, filter the fleet and export its CSV with the
//! session cookie, see the alert channels, rules and a dead delivery, redeliver it, sign out.
//! Skipped, saying so, when `chromium` or `chromedriver` is not installed.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TOKEN: &str = "e2e-console-bootstrap-secret";
const EMAIL: &str = "owner@dockwatch.localhost";
const PASSWORD: &str = "console-e2e-password";
const MEMBER: &str = "ann@example.com";
/// Shown as text, it reads the same; parsed as HTML, it would lose its tags (and run code).
const HOSTILE: &str = "on call <img src=x onerror=alert(1)><b>now</b>";
const WAIT: Duration = Duration::from_secs(60);

const POLICY: &str = r#"{"configurationFileVersion": 2,
 "analyticsEnabled": {"locked": true, "value": false},
 "disableUpdate": {"locked": true, "value": true}}"#;

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One HTTP request through curl: status, headers (lower-case names) and body.
fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-D",
        "/dev/stderr",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
        url,
    ]);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    if body.is_some() {
        cmd.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.unwrap_or_default().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    let head = String::from_utf8_lossy(&out.stderr).to_lowercase();
    (status.trim().parse().unwrap_or(0), head, body.to_owned())
}

fn serve(data: &Path, port: u16) -> Proc {
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
    let url = format!("http://127.0.0.1:{port}/readyz");
    wait_until("serve to be ready", || {
        (http("GET", &url, &[], None).0 == 200).then_some(())
    });
    p
}

fn cli(server: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(args)
        .env("DOCKWATCH_SERVER", server)
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

/// A webhook receiver that refuses everything with 404 (a permanent failure, so deliveries are
/// dead-lettered at once); counts the requests it got.
fn refusing_receiver() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\nconnection: close\r\n\r\ngone",
            );
        }
    });
    (port, count)
}

/// Organization data for every page: a team, a repository made public, a drifting machine, an
/// alert channel with a rule and one dead delivery.
fn seed(server: &str, tmp: &Path, receiver_port: u16) {
    let (status, _, body) = http(
        "PUT",
        &format!("{server}/api/v1/user/password"),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        Some(&json!({ "password": PASSWORD }).to_string()),
    );
    assert_eq!(status, 204, "{body}");
    cli(server, &["team", "create", "ops", "--description", HOSTILE]);
    cli(server, &["team", "add-member", "ops", EMAIL]);
    let invite = cli(
        server,
        &[
            "member", "invite", MEMBER, "--role", "member", "--format", "json",
        ],
    );
    let invite: Value = serde_json::from_str(&invite).unwrap();
    let invite = invite["token"].as_str().unwrap();
    cli(
        server,
        &["member", "accept", invite, "--password", PASSWORD],
    );
    cli(
        server,
        &["repo", "create", "web", "--visibility", "private"],
    );
    cli(server, &["repo", "update", "web", "--visibility", "public"]);

    let policy = tmp.join("baseline.json");
    std::fs::write(&policy, POLICY).unwrap();
    cli(
        server,
        &[
            "fleet",
            "policy",
            "set",
            policy.to_str().unwrap(),
            "--assign",
            "org",
        ],
    );
    let enroll = cli(server, &["fleet", "enroll-token", "create"])
        .trim()
        .to_owned();
    let root = tmp.join("root-drifting");
    std::fs::create_dir_all(root.join("home/alice/.docker/desktop")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/hostname"), "drifting-laptop\n").unwrap();
    std::fs::write(
        root.join("home/alice/.docker/desktop/settings.json"),
        r#"{"analyticsEnabled": true, "disableUpdate": true}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "agent",
            "--server",
            server,
            "--enroll-token",
            &enroll,
            "--once",
            "--root",
        ])
        .arg(&root)
        .arg("--state-dir")
        .arg(tmp.join("agent-state"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "agent: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let hook = format!("http://127.0.0.1:{receiver_port}/hook");
    cli(
        server,
        &[
            "alert",
            "channel",
            "add",
            "webhook",
            "--name",
            "hook",
            "--url",
            &hook,
            "--secret",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ],
    );
    cli(
        server,
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
    cli(server, &["team", "create", "alerted"]);
    wait_until("a dead delivery", || {
        let out = cli(
            server,
            &[
                "alert",
                "deliveries",
                "--status",
                "dead",
                "--format",
                "json",
            ],
        );
        let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
        (!rows.is_empty()).then_some(())
    });
    // Last: with two organizations the CLI would need --org.
    cli(server, &["org", "create", "second"]);
}

/// A WebDriver session on headless Chromium.
struct Browser {
    base: String,
    _driver: Proc,
}

impl Browser {
    fn start(profile: &Path) -> Self {
        let port = free_port();
        let driver = Proc(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let root = format!("http://127.0.0.1:{port}");
        wait_until("chromedriver", || {
            let (s, _, body) = http("GET", &format!("{root}/status"), &[], None);
            (s == 200 && body.contains("\"ready\":true")).then_some(())
        });
        let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": chromium_binary(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())]
        }}}});
        let (status, _, body) = http(
            "POST",
            &format!("{root}/session"),
            &[],
            Some(&caps.to_string()),
        );
        assert_eq!(status, 200, "new session: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let id = v["value"]["sessionId"].as_str().unwrap().to_owned();
        Browser {
            base: format!("{root}/session/{id}"),
            _driver: driver,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let body = (method == "POST").then(|| body.to_string());
        let (status, _, text) = http(
            method,
            &format!("{}{path}", self.base),
            &[],
            body.as_deref(),
        );
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(v["value"].to_string())
        }
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).unwrap();
    }

    fn find(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .ok()?;
        v.as_object()?.values().next()?.as_str().map(str::to_owned)
    }

    fn text(&self, css: &str) -> Option<String> {
        let id = self.find(css)?;
        self.call("GET", &format!("/element/{id}/text"), Value::Null)
            .ok()?
            .as_str()
            .map(str::to_owned)
    }

    /// Waits until `ready` holds; on timeout names what the page showed and what the browser
    /// logged.
    fn until(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            if start.elapsed() > WAIT {
                let page = self.text("body").unwrap_or_default();
                let log = self.call("POST", "/se/log", json!({"type": "browser"}));
                panic!("timed out waiting for {what}.\npage:\n{page}\nbrowser log: {log:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element `css` shows `needle` (and not `absent`); answers its text.
    fn wait_text_without(&self, css: &str, needle: &str, absent: &str) -> String {
        let shows = |b: &Self| {
            b.text(css)
                .is_some_and(|t| t.contains(needle) && (absent.is_empty() || !t.contains(absent)))
        };
        self.until(&format!("{css} to show {needle:?}"), shows);
        self.text(css).unwrap_or_default()
    }

    fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait_text_without(css, needle, "")
    }

    fn click(&self, css: &str) {
        let id = wait_until(css, || self.find(css));
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .unwrap();
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = wait_until(css, || self.find(css));
        self.call("POST", &format!("/element/{id}/clear"), json!({}))
            .unwrap();
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .unwrap();
    }

    fn rows(&self, table_css: &str) -> usize {
        let v = self
            .call(
                "POST",
                "/elements",
                json!({"using": "css selector", "value": format!("{table_css} tbody tr")}),
            )
            .unwrap();
        v.as_array().map_or(0, Vec::len)
    }

    fn attribute(&self, css: &str, name: &str) -> String {
        let id = wait_until(css, || self.find(css));
        let v = self
            .call(
                "GET",
                &format!("/element/{id}/attribute/{name}"),
                Value::Null,
            )
            .unwrap();
        v.as_str().unwrap_or_default().to_owned()
    }

    fn session_cookie(&self) -> Option<String> {
        let v = self
            .call("GET", "/cookie/dockwatch_session", Value::Null)
            .ok()?;
        v["value"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| format!("dockwatch_session={s}"))
    }

    /// Saves a screenshot when DOCKWATCH_CONSOLE_SCREENSHOTS names a folder (to look at the pages).
    fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("DOCKWATCH_CONSOLE_SCREENSHOTS") else {
            return;
        };
        use base64::Engine;
        let v = self.call("GET", "/screenshot", Value::Null).unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http("DELETE", &self.base, &[], None);
    }
}

fn chromium_binary() -> &'static str {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .unwrap_or("chromium")
}

#[test]
fn the_console_shows_the_real_data_through_the_api() {
    if !installed(chromium_binary()) || !installed("chromedriver") {
        eprintln!(
            "SKIPPED console e2e: headless Chromium is not installed \
             (apt-get install chromium chromium-driver)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(&tmp.path().join("data"), port);
    let url = format!("http://127.0.0.1:{port}");
    let (receiver_port, received) = refusing_receiver();
    seed(&url, tmp.path(), receiver_port);
    let refused_before = received.load(Ordering::SeqCst);

    // The page itself is public and holds no data; the data needs credentials.
    let (status, head, html) = http("GET", &format!("{url}/"), &[], None);
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(!html.contains("drifting-laptop") && !html.contains("repository."));
    let (status, _, _) = http(
        "GET",
        &format!("{url}/api/v1/orgs/default/events"),
        &[],
        None,
    );
    assert_eq!(status, 401);

    let b = Browser::start(&tmp.path().join("profile"));
    b.go(&format!("{url}/"));
    b.type_into("#signin-email", EMAIL);
    b.type_into("#signin-password", "wrong-password");
    b.click("#signin-submit");
    b.wait_text("#signin-error", "wrong email or password");
    b.type_into("#signin-password", PASSWORD);
    b.click("#signin-submit");

    // The activity log, newest first, with the repository's before/after.
    let log = b.wait_text("#event-table", "repository.visibility.changed");
    assert!(
        log.contains("team.created") && log.contains("fleet.compliance.drifted"),
        "{log}"
    );
    let (newer, older) = (log.find("team alerted"), log.find("repository.created"));
    assert!(newer.is_some() && newer < older, "newest first: {log}");
    b.screenshot("events");
    b.go(&format!(
        "{url}/#/orgs/default/events?action=repository.visibility.changed"
    ));
    b.until("one event", |b| b.rows("#event-table") == 1);
    b.wait_text("#event-table", "made repository web public");
    b.click("#event-table tbody tr");
    let detail = b.wait_text("#event-detail", "Before and after");
    let changes = b.wait_text("#event-changes", "visibility");
    assert!(
        changes.contains("private") && changes.contains("public"),
        "{changes}"
    );
    assert!(
        detail.contains(EMAIL) || detail.contains("token"),
        "the actor: {detail}"
    );
    b.screenshot("event-detail");
    // The address now names the event; opening it afresh shows the same detail.
    let address = b.call("GET", "/url", Value::Null).unwrap();
    assert!(address.as_str().unwrap().contains("event="), "{address}");
    b.call("POST", "/refresh", json!({})).unwrap();
    b.wait_text("#event-changes", "private");

    // Searching by action pattern through the form.
    b.go(&format!("{url}/#/orgs/default/events"));
    b.wait_text("#event-table", "repository.created");
    b.type_into("#filter-action", "team.*");
    b.click("#event-search-submit");
    b.wait_text_without("#event-table", "team.member.added", "repository.");
    b.type_into("#filter-action", "Not An Action");
    b.click("#event-search-submit");
    b.wait_text("#page-events", "is not an action name");
    // Free text and a time window: the last hour's events mentioning the repository.
    b.type_into("#filter-action", "");
    b.type_into("#filter-q", "web");
    b.type_into("#filter-since", "1h");
    b.click("#event-search-submit");
    b.wait_text_without("#event-table", "repository.created", "team.");
    b.type_into("#filter-since", "2000-01-01T00:00:00Z");
    b.type_into("#filter-until", "2000-01-02T00:00:00Z");
    b.click("#event-search-submit");
    b.wait_text("#page-events", "No event matches these filters.");

    // The cursor: two per page, "Load more" fetches the next two.
    b.go(&format!("{url}/#/orgs/default/events?limit=2"));
    b.until("two rows", |b| b.rows("#event-table") == 2);
    b.click("#load-more");
    b.until("four rows", |b| b.rows("#event-table") == 4);

    b.click("#verify-chain");
    b.wait_text("#verify-message", "The chain holds");

    // People.
    b.click("#nav-people");
    b.wait_text("#member-table", EMAIL);
    let teams = b.wait_text("#team-table", "ops");
    assert!(teams.contains(HOSTILE) && teams.contains(EMAIL), "{teams}");
    b.wait_text("#repository-table", "public");
    b.screenshot("people");
    // A second organization: the picker switches to it, same page.
    b.click("#org-select option[value=second]");
    b.wait_text("#page-people", "Members (1)");
    b.click("#org-select option[value=default]");
    b.wait_text("#page-people", "Members (2)");

    // Fleet: the drifting machine, its setting from what to what, the filter and the CSV.
    b.click("#nav-fleet");
    let fleet = b.wait_text("#fleet-table", "drifting-laptop");
    assert!(
        fleet.contains("non-compliant") && fleet.contains("analyticsEnabled"),
        "{fleet}"
    );
    assert!(fleet.contains("false → true"), "required → found: {fleet}");
    b.screenshot("fleet");
    b.click("#fleet-table tbody tr");
    b.wait_text("#machine-history-table", "non-compliant");
    b.click("#fleet-status option[value=compliant]");
    b.wait_text("#page-fleet", "No machine is compliant.");
    b.click("#fleet-status option[value=non-compliant]");
    b.wait_text("#fleet-table", "drifting-laptop");
    let csv_path = b.attribute("#fleet-csv", "href");
    assert!(
        csv_path.contains("format=csv") && csv_path.contains("status=non-compliant"),
        "{csv_path}"
    );
    let cookie = b
        .session_cookie()
        .expect("the sign-in set the session cookie");
    let csv_url = format!("{url}{csv_path}");
    let (status, _, csv) = http("GET", &csv_url, &[("cookie", &cookie)], None);
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.contains("drifting-laptop") && csv.contains("analyticsEnabled"),
        "{csv}"
    );
    assert_eq!(
        http("GET", &csv_url, &[], None).0,
        401,
        "the export needs the session"
    );

    // Alerts: channel, rule, the dead delivery, and redelivering it.
    b.click("#nav-alerts");
    b.wait_text("#channel-table", "hook");
    assert!(
        !b.text("#channel-table").unwrap().contains("whsec_"),
        "secrets stay redacted"
    );
    b.wait_text("#rule-table", "team.*");
    b.wait_text("#delivery-table", "dead");
    b.screenshot("alerts");
    b.click("#delivery-table .redeliver");
    b.wait_text("#redeliver-message", "queued again");
    wait_until("the redelivery to reach the receiver", || {
        (received.load(Ordering::SeqCst) > refused_before).then_some(())
    });

    // Signing out ends the session: the old cookie no longer reads anything.
    b.click("#sign-out");
    b.wait_text("#signin-error", "Signed out");
    let (status, _, _) = http(
        "GET",
        &format!("{url}/api/v1/orgs/default/members"),
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(status, 401);

    // A member sees what members may read, and is told the rest is not for them.
    b.type_into("#signin-email", MEMBER);
    b.type_into("#signin-password", PASSWORD);
    b.click("#signin-submit");
    b.wait_text("#member-table", MEMBER);
    b.click("#nav-events");
    b.wait_text("#page-events", "needs the owner role");
    b.click("#nav-alerts");
    b.wait_text("#delivery-table", "dead");
    assert!(
        b.find("#delivery-table .redeliver").is_none(),
        "members cannot redeliver"
    );
    let cookie = b.session_cookie().expect("the member's session");
    let (status, _, _) = http(
        "GET",
        &format!("{url}/api/v1/orgs/default/events"),
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(status, 403, "the API refuses the log to members too");
}
