//! Continuous re-evaluation end to end, on SQLite and PostgreSQL: `serve --db DIR`, an SBOM
//! indexed with `dockwatch image push-sbom`, then advisories arriving through the import API
//! and through `dockwatch db import --db DIR` beside the server. Each new finding is an
//! `image.vulnerability.new` event and shows on the image, without the image being analyzed
//! again; a withdrawn advisory resolves its finding.

use dockwatch_client::Client;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const TOKEN: &str = "e2e-vuln-secret";
const CVSS_HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";

const DPKG_STATUS: &str = "\
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit - shared libraries

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
Description: time zone and daylight-saving time data
";

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

const PACKAGE_LOCK: &str = r#"{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {"": {"name": "app", "version": "1.0.0"},
               "node_modules/lodash": {"version": "4.17.20", "license": "MIT"}}}"#;

fn dockwatch() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dockwatch"));
    c.env_remove("DOCKWATCH_DB")
        .env_remove("DOCKWATCH_ORG")
        .env_remove("DOCKWATCH_DATABASE_URL")
        .env_remove("DOCKWATCH_BOOTSTRAP_TOKEN")
        .env("RUST_LOG", "warn");
    c
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `dockwatch serve`, killed when dropped.
struct Server {
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, db: &Path, database_url: Option<&str>) -> Server {
    let port = free_port();
    let log = dir.join("serve.log");
    let mut cmd = dockwatch();
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir.join("data"))
    .arg("--db")
    .arg(db)
    .args(["--advisory-poll", "200ms"])
    .env("DOCKWATCH_BOOTSTRAP_TOKEN", TOKEN);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    };
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
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
    panic!("serve did not start");
}

fn osv(id: &str, modified: &str, ecosystem: &str, name: &str, events: Value) -> Value {
    json!({"id": id, "modified": modified, "summary": format!("{name} advisory"),
           "aliases": [format!("CVE-2099-{}", id.len())],
           "severity": [{"type": "CVSS_V3", "score": CVSS_HIGH}],
           "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                         "ranges": [{"type": "ECOSYSTEM", "events": events}]}]})
}

async fn events(api: &Client, action: &str) -> Vec<Value> {
    api.search_events("default", &[("action", action.to_owned())])
        .await
        .unwrap()
}

fn run_story(database_url: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let root = dir.join("rootfs");
    write(&root.join("etc/os-release"), OS_RELEASE);
    write(&root.join("var/lib/dpkg/status"), DPKG_STATUS);
    write(&root.join("srv/app/package-lock.json"), PACKAGE_LOCK);
    let sbom = dir.join("app.cdx.json");
    ok(
        dockwatch()
            .args(["sbom", &format!("dir:{}", root.display())])
            .args(["--format", "cyclonedx-json", "--output"])
            .arg(&sbom)
            .output()
            .unwrap(),
        "sbom",
    );
    let advisory_db = dir.join("advisories");
    let server = serve(dir, &advisory_db, database_url);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let cli = |args: &[&str]| {
        let mut c = dockwatch();
        c.args(args)
            .env("DOCKWATCH_SERVER", &server.url)
            .env("DOCKWATCH_TOKEN", TOKEN);
        c.output().unwrap()
    };

    // Indexed against an empty database: no findings yet.
    let pushed = ok(
        cli(&[
            "image",
            "push-sbom",
            &format!("sbom:{}", sbom.display()),
            "--reference",
            "registry.example/app:1.0",
            "--digest",
            &digest,
            "--format",
            "json",
        ]),
        "image push-sbom",
    );
    let pushed: Value = serde_json::from_str(&pushed).unwrap();
    assert_eq!(pushed["digest"], digest.as_str());
    assert_eq!(pushed["packages"], 3, "{pushed}");
    assert_eq!(pushed["findings"], 0);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let api = Client::new(&server.url, Some(TOKEN.into())).unwrap();
        assert_eq!(events(&api, "image.indexed").await.len(), 1);

        // An advisory for the image's openssl arrives through the API, next to a malformed
        // record that is skipped, naming its position and field.
        let dsa = osv(
            "DSA-5532-1",
            "2023-10-25T09:00:00Z",
            "Debian:12",
            "openssl",
            json!([{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]),
        );
        let bad = json!({"id": "BAD-1", "modified": "2023-01-01T00:00:00Z",
                         "affected": [{"package": {"ecosystem": "npm", "name": "x"},
                                       "ranges": [{"type": "ECOSYSTEM", "events": "nope"}]}]});
        let result = api.import_advisories(json!([dsa, bad])).await.unwrap();
        assert_eq!(result["added"], 1, "{result}");
        assert_eq!(result["skipped"], 1, "{result}");
        let skipped = &result["skipped_records"][0];
        assert_eq!(skipped["record"], "body[1]", "{result}");
        assert_eq!(skipped["id"], "BAD-1");
        assert!(
            skipped["field"]
                .as_str()
                .unwrap()
                .starts_with("affected[0].ranges[0].events"),
            "{result}"
        );
        assert_eq!(result["reevaluation"]["images"], 1, "{result}");
        assert_eq!(result["reevaluation"]["new_findings"], 1, "{result}");

        let new = events(&api, "image.vulnerability.new").await;
        assert_eq!(new.len(), 1, "{new:?}");
        let d = &new[0]["details"];
        assert_eq!(d["advisory"], "DSA-5532-1");
        assert_eq!(d["severity"], "high");
        assert_eq!(d["package"]["name"], "libssl3");
        assert_eq!(d["package"]["version"], "3.0.11-1~deb12u1");
        assert_eq!(d["fixed_version"], "3.0.11-1~deb12u2");
        assert_eq!(d["kev"], false);
        assert_eq!(d["image"]["digest"], digest.as_str());
        assert_eq!(new[0]["target"]["name"], "registry.example/app:1.0");
        assert_eq!(new[0]["actor"]["kind"], "system");
        assert_eq!(events(&api, "advisories.imported").await.len(), 1);

        let image = api.image("default", &digest).await.unwrap();
        let vulns = image["vulnerabilities"].as_array().unwrap();
        assert_eq!(vulns.len(), 1, "{image}");
        assert_eq!(vulns[0]["advisory"], "DSA-5532-1");
        assert_eq!(vulns[0]["fixed_versions"], json!(["3.0.11-1~deb12u2"]));
        // Still one index: the image was never analyzed or uploaded again.
        assert_eq!(events(&api, "image.indexed").await.len(), 1);

        // Importing the same advisory again changes nothing and makes no event.
        let again = api.import_advisories(json!([dsa])).await.unwrap();
        assert_eq!(again["unchanged"], 1, "{again}");
        assert_eq!(events(&api, "image.vulnerability.new").await.len(), 1);

        // A withdrawn advisory resolves the finding.
        let mut withdrawn = dsa.clone();
        withdrawn["modified"] = json!("2024-02-01T00:00:00Z");
        withdrawn["withdrawn"] = json!("2024-02-01T00:00:00Z");
        let result = api.import_advisories(json!([withdrawn])).await.unwrap();
        assert_eq!(result["withdrawn"], 1, "{result}");
        assert_eq!(result["reevaluation"]["resolved_findings"], 1, "{result}");
        let resolved = events(&api, "image.vulnerability.resolved").await;
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0]["details"]["advisory"], "DSA-5532-1");
        let image = api.image("default", &digest).await.unwrap();
        assert_eq!(image["findings"], 0, "{image}");
    });

    // `dockwatch db import --db DIR` beside the running server: the server notices the file
    // changed, and the lodash advisory (with its CVE in the KEV catalog) becomes a finding.
    let files = dir.join("feed");
    write(
        &files.join("GHSA-35jh-r3h4-6jhm.json"),
        &json!({"id": "GHSA-35jh-r3h4-6jhm", "modified": "2023-01-01T00:00:00Z",
                "summary": "Command Injection in lodash", "aliases": ["CVE-2021-23337"],
                "database_specific": {"severity": "HIGH"},
                "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                              "ranges": [{"type": "ECOSYSTEM",
                                          "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]})
        .to_string(),
    );
    write(
        &files.join("kev.json"),
        r#"{"catalogVersion":"2025.08.25","dateReleased":"2025-08-25T00:00:00Z","vulnerabilities":[{"cveID":"CVE-2021-23337","dateAdded":"2024-01-01","knownRansomwareCampaignUse":"Unknown"}]}"#,
    );
    ok(
        dockwatch()
            .args(["db", "import", "--db"])
            .arg(&advisory_db)
            .arg(files.join("GHSA-35jh-r3h4-6jhm.json"))
            .arg(files.join("kev.json"))
            .output()
            .unwrap(),
        "db import",
    );
    rt.block_on(async {
        let api = Client::new(&server.url, Some(TOKEN.into())).unwrap();
        let mut found = Vec::new();
        for _ in 0..300 {
            found = events(&api, "image.vulnerability.new").await;
            if found.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            found.len(),
            2,
            "the server did not pick up the outside import: {}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        let d = &found[0]["details"];
        assert_eq!(d["advisory"], "GHSA-35jh-r3h4-6jhm");
        assert_eq!(d["package"]["name"], "lodash");
        assert_eq!(d["kev"], true);
        assert_eq!(d["fixed_version"], "4.17.21");
    });
    let shown = ok(cli(&["image", "show", &digest]), "image show");
    assert!(
        shown.contains("GHSA-35jh-r3h4-6jhm") && shown.contains("4.17.21"),
        "{shown}"
    );
    let listed = ok(cli(&["image", "list"]), "image list");
    assert!(listed.contains("registry.example/app:1.0"), "{listed}");
}

#[test]
fn a_new_advisory_affecting_an_indexed_image_is_an_event_and_a_finding_on_sqlite() {
    run_story(None);
}

#[test]
fn a_new_advisory_affecting_an_indexed_image_is_an_event_and_a_finding_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt
        .block_on(dockwatch_store::testing::TempDatabase::create())
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    run_story(Some(&db.url));
    rt.block_on(db.drop_now()).unwrap();
}
