//! The activity log end to end: the CLI's search paging, streamed export to a file, verify
//! (from the signed checkpoint and `--full`), retention; and a `kill -9` of `serve` in the middle
//! of a burst of concurrent writes, on SQLite and PostgreSQL: every write answered with success
//! is there after a restart, and the chain verifies.

use dockwatch_client::Client;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "e2e-activity-log-secret";

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

/// A running `dockwatch serve`; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path, database_url: Option<&str>, extra: &[&str]) -> Self {
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
        .args(extra)
        .env("DOCKWATCH_BOOTSTRAP_TOKEN", TOKEN)
        .env_remove("DOCKWATCH_DATABASE_URL");
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
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
        let rt = runtime();
        let api = Client::new(&server.url, None).unwrap();
        for _ in 0..300 {
            if rt.block_on(api.get_json("/readyz")).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("serve exited with {status}: {}", server.stderr());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("serve did not become ready: {}", server.stderr());
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn cli(&self, args: &[&str]) -> Output {
        dockwatch()
            .args(args)
            .env("DOCKWATCH_SERVER", &self.url)
            .env("DOCKWATCH_TOKEN", TOKEN)
            .env_remove("DOCKWATCH_ORG")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "dockwatch {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// SIGKILL: no graceful shutdown, no flush beyond what was committed.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn search_pages_export_verify_and_retention_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, None, &[]);
    for i in 0..12 {
        server.ok(&["team", "create", &format!("team-{i}")]);
    }
    // The checkpoint key was made at first start, readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("checkpoint.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Paging: --limit follows cursors past one page; --all takes everything.
    let page = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["events", "search", "--format", "jsonl"];
        all.extend_from_slice(args);
        server
            .ok(&all)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(page(&["--action", "team.*", "--limit", "5"]).len(), 5);
    let teams = page(&["--action", "team.created", "--all"]);
    assert_eq!(teams.len(), 12);
    let everything = page(&["--all"]);
    assert!(everything.len() > 12);

    // Export to a file: CSV with the stable header, one row per matching event.
    let file = dir.path().join("teams.csv");
    server.ok(&[
        "events",
        "export",
        "--format",
        "csv",
        "--action",
        "team.created",
        "--output",
        file.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&file).unwrap();
    assert_eq!(&reader.headers().unwrap()[0], "id");
    let ids: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let expected: Vec<&str> = teams.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, expected);
    assert!(!dir.path().join("teams.csv.partial").exists());
    // JSON Lines on stdout.
    let jsonl = server.ok(&["events", "export", "--format", "jsonl", "--since", "1h"]);
    assert!(jsonl.lines().count() >= everything.len());

    // Bad input: exit 2 naming the parameter.
    let out = server.cli(&["events", "search", "--since", "last tuesday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("since"));
    let out = server.cli(&["events", "export", "--format", "csv", "--action", "Team"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("action"));

    // Verify: both walks hold.
    assert!(server.ok(&["events", "verify"]).contains("default: ok"));
    assert!(
        server
            .ok(&["events", "verify", "--full"])
            .contains("default: ok")
    );

    // Retention: shown, set, back to forever.
    assert!(server.ok(&["events", "retention"]).contains("forever"));
    assert!(
        server
            .ok(&["events", "retention", "--days", "30"])
            .contains("30 days")
    );
    assert!(server.ok(&["events", "retention"]).contains("30 days"));
    assert!(
        server
            .ok(&["events", "retention", "--forever"])
            .contains("forever")
    );
    let changed = page(&["--action", "organization.settings.changed"]);
    assert_eq!(changed.len(), 2);
}

/// Writes from 16 concurrent clients until `stop_after` have succeeded, then SIGKILLs the server
/// while they keep writing; after a restart every acknowledged write and its event is there.
fn crash_in_a_burst(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, database_url, &["--checkpoint-interval", "1s"]);
    let url = server.url.clone();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let rt = runtime();
    let stop_after = 150;
    rt.block_on(async {
        let mut tasks = Vec::new();
        for task in 0..16 {
            let url = url.clone();
            let acknowledged = acknowledged.clone();
            tasks.push(tokio::spawn(async move {
                let api = Client::new(&url, Some(TOKEN.into())).unwrap();
                for i in 0.. {
                    let name = format!("t{task}-{i}");
                    match api.create_team("default", &name, "burst").await {
                        Ok(_) => acknowledged.lock().unwrap().push(name),
                        // The server is gone: every later write fails too.
                        Err(_) => return,
                    }
                }
            }));
        }
        while acknowledged.lock().unwrap().len() < stop_after {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill9();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= stop_after);

    let server = Server::start(&data, database_url, &[]);
    let teams: std::collections::HashSet<String> = rt
        .block_on(async {
            Client::new(&server.url, Some(TOKEN.into()))
                .unwrap()
                .teams("default")
                .await
        })
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let created: std::collections::HashSet<String> = server
        .ok(&[
            "events",
            "search",
            "--action",
            "team.created",
            "--all",
            "--format",
            "jsonl",
        ])
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            e["target"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    for name in &acknowledged {
        assert!(teams.contains(name), "acknowledged team {name} is missing");
        assert!(
            created.contains(name),
            "acknowledged team {name} has no event"
        );
    }
    // No team without its event, and no event without its team.
    assert_eq!(teams, created);
    let out = server.cli(&["events", "verify", "--full"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(server.ok(&["events", "verify"]).contains("default: ok"));
}

#[test]
fn kill_9_in_a_burst_of_writes_loses_nothing_acknowledged_on_sqlite() {
    crash_in_a_burst(None);
}

#[test]
fn kill_9_in_a_burst_of_writes_loses_nothing_acknowledged_on_postgres() {
    let rt = runtime();
    let db = rt
        .block_on(dockwatch_store::testing::TempDatabase::create())
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    crash_in_a_burst(Some(&db.url));
    rt.block_on(db.drop_now()).unwrap();
}
