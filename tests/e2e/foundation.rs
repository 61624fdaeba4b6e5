//! The foundation end to end: `serve` started for real (SQLite, then two processes on one
//! PostgreSQL database), driven by the CLI's client commands and checked through the API.

use dockwatch_client::Client;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const TOKEN: &str = "e2e-bootstrap-secret";

fn dockwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dockwatch"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `dockwatch serve`, stopped with SIGTERM (then killed) when dropped.
struct Server {
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

impl Server {
    fn start(data_dir: &Path, extra: &[&str], bootstrap: Option<&str>) -> Self {
        let port = free_port();
        let log = data_dir.with_extension(format!("{port}.log"));
        let mut cmd = dockwatch();
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra);
        cmd.env_remove("DOCKWATCH_BOOTSTRAP_TOKEN")
            .env_remove("DOCKWATCH_DATABASE_URL");
        if let Some(token) = bootstrap {
            cmd.env("DOCKWATCH_BOOTSTRAP_TOKEN", token);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        for _ in 0..300 {
            if get_status(port, "/readyz") == Some(200) {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "serve exited with {status}: {}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.child.kill();
        panic!(
            "serve did not become ready: {}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and returns whether the process exited successfully.
    fn terminate(mut self) -> bool {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status.success()
    }

    /// Runs the CLI against this server with `token`.
    fn cli(&self, token: &str, args: &[&str]) -> Output {
        dockwatch()
            .args(args)
            .env("DOCKWATCH_SERVER", &self.url)
            .env("DOCKWATCH_TOKEN", token)
            .env_remove("DOCKWATCH_ORG")
            .output()
            .unwrap()
    }

    /// Like `cli`, asserting success and returning stdout.
    fn ok(&self, token: &str, args: &[&str]) -> String {
        let out = self.cli(token, args);
        assert!(
            out.status.success(),
            "dockwatch {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.0 GET for health polling (no client needed).
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn done_means_bootstrap_org_member_team_repo_with_the_cli_and_see_it_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], Some(TOKEN));
    assert!(
        dir.path().join("data/dockwatch.db").exists(),
        "embedded SQLite under --data-dir"
    );

    // One organization so far: commands default to it.
    let orgs = server.ok(TOKEN, &["org", "list"]);
    assert!(
        orgs.starts_with("NAME") && orgs.contains("default") && orgs.contains("owner"),
        "{orgs}"
    );
    server.ok(
        TOKEN,
        &["org", "create", "acme", "--display-name", "Acme Corp"],
    );
    let out = server.cli(TOKEN, &["team", "list"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "two organizations: --org is needed"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--org") && stderr.contains("acme") && stderr.contains("default"),
        "{stderr}"
    );

    // Invite a member, who accepts and gets a token of their own.
    let inv: serde_json::Value = serde_json::from_str(&server.ok(
        TOKEN,
        &[
            "member",
            "invite",
            "ann@example.com",
            "--role",
            "member",
            "--org",
            "acme",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let invite_token = inv["token"].as_str().unwrap();
    let accepted = server.ok(
        "",
        &[
            "member",
            "accept",
            invite_token,
            "--password",
            "ann's password",
            "--name",
            "Ann",
        ],
    );
    assert!(
        accepted.contains("ann@example.com joined organization acme as member"),
        "{accepted}"
    );

    // Team and repository, with the CLI.
    server.ok(
        TOKEN,
        &[
            "team",
            "create",
            "ops",
            "--description",
            "on call",
            "--org",
            "acme",
        ],
    );
    server.ok(
        TOKEN,
        &[
            "team",
            "add-member",
            "ops",
            "ann@example.com",
            "--org",
            "acme",
        ],
    );
    server.ok(
        TOKEN,
        &[
            "repo",
            "create",
            "web",
            "--visibility",
            "public",
            "--org",
            "acme",
        ],
    );
    server.ok(
        TOKEN,
        &[
            "repo",
            "update",
            "web",
            "--visibility",
            "private",
            "--org",
            "acme",
        ],
    );
    let created = server.ok(
        TOKEN,
        &[
            "token",
            "create",
            "ci",
            "--scope",
            "write",
            "--org-token",
            "--org",
            "acme",
            "--format",
            "json",
        ],
    );
    let ci: serde_json::Value = serde_json::from_str(&created).unwrap();
    let ci_secret = ci["secret"].as_str().unwrap().to_owned();

    // A duplicate is refused with exit 2 and a message naming it.
    let dup = server.cli(TOKEN, &["team", "create", "ops", "--org", "acme"]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("team \"ops\" already exists"));

    // All of it is visible in the API.
    let rt = runtime();
    rt.block_on(async {
        let api = Client::new(&server.url, Some(TOKEN.into())).unwrap();
        let members = api.members("acme").await.unwrap();
        let ann = members
            .iter()
            .find(|m| m.email == "ann@example.com")
            .expect("ann is a member");
        assert_eq!(ann.role, "member");
        let teams = api.teams("acme").await.unwrap();
        assert_eq!((teams[0].name.as_str(), teams[0].member_count), ("ops", 1));
        let repo = api.repository("acme", "web").await.unwrap();
        assert_eq!(repo.visibility, "private");
        assert_eq!(api.tokens(Some("acme")).await.unwrap().len(), 1);

        // The organization token acts within acme only, at its scope.
        let ci = Client::new(&server.url, Some(ci_secret)).unwrap();
        assert_eq!(ci.repositories("acme").await.unwrap().len(), 1);
        ci.create_repository("acme", "api", "", None).await.unwrap();
        assert!(
            ci.create_team("acme", "nope", "").await.is_err(),
            "write scope is not owner"
        );
        assert!(
            ci.teams("default").await.is_err(),
            "other organizations are invisible"
        );
    });
    let listed = server.ok(
        TOKEN,
        &["member", "list", "--org", "acme", "--format", "json"],
    );
    assert!(listed.contains("ann@example.com"));
    assert!(server.terminate(), "SIGTERM ends serve cleanly");
}

#[test]
fn first_start_without_a_token_prints_a_one_time_sign_up_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], None);
    let stderr = server.stderr();
    let token = stderr
        .split("signup?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no link in: {stderr}"));
    runtime().block_on(async {
        let anon = Client::new(&server.url, None).unwrap();
        anon.sign_up(token, "first@example.com", "first's password", "first-org")
            .await
            .unwrap();
        assert!(
            anon.sign_up(token, "again@example.com", "again's password", "x")
                .await
                .is_err(),
            "one use only"
        );
    });
}

#[test]
fn two_serve_processes_share_one_postgres_database() {
    let rt = runtime();
    let db = rt
        .block_on(dockwatch_store::testing::TempDatabase::create())
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    let dir = tempfile::tempdir().unwrap();
    let url_arg = ["--database-url", db.url.as_str()];
    let a = Server::start(&dir.path().join("a"), &url_arg, Some(TOKEN));
    let b = Server::start(&dir.path().join("b"), &url_arg, Some(TOKEN));

    // Writes through both, at once, into the same organization.
    std::thread::scope(|s| {
        for (name, server) in [("a", &a), ("b", &b)] {
            s.spawn(move || {
                for i in 0..6 {
                    server.ok(TOKEN, &["team", "create", &format!("team-{name}-{i}")]);
                    server.ok(TOKEN, &["repo", "create", &format!("repo-{name}-{i}")]);
                }
            });
        }
    });
    rt.block_on(async {
        for server in [&a, &b] {
            let api = Client::new(&server.url, Some(TOKEN.into())).unwrap();
            assert_eq!(api.teams("default").await.unwrap().len(), 12);
            assert_eq!(api.repositories("default").await.unwrap().len(), 12);
        }
        // Both processes appended to one chain, which still verifies.
        let config = dockwatch_store::StoreConfig {
            database_url: Some(db.url.clone()),
            data_dir: dir.path().into(),
            max_connections: 2,
        };
        let store = dockwatch_store::Store::open(&config).await.unwrap();
        let org = store.org("default").await.unwrap();
        let chain = store.events_in_chain_order(&org.id).await.unwrap();
        dockwatch_core::event::verify_chain(dockwatch_core::event::GENESIS_HASH, &chain).unwrap();
        assert_eq!(
            chain.iter().filter(|e| e.action == "team.created").count(),
            12
        );
        store.close().await;
    });
    assert!(a.terminate() && b.terminate());
    rt.block_on(db.drop_now()).unwrap();
}
