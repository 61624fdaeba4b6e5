//! `dockwatch db import` and `dockwatch db status`: the real binary on real files.

use std::path::Path;
use std::process::{Command, Output};

fn dockwatch(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dockwatch"));
    command
        .env_remove("DOCKWATCH_DB")
        .env("XDG_CACHE_HOME", cache);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GOOD: &str = r#"{"id":"PYSEC-0000-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"demo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}"#;
const BAD: &str = "id: GO-0000-2\nmodified: '2024-01-01T00:00:00Z'\naffected:\n- package: {ecosystem: Go, name: example.org/m}\n  ranges:\n  - type: SEMVER\n    events:\n    - fixed: 1.0.0\n";

fn import(cache: &Path, args: &[&str]) -> Output {
    dockwatch(cache)
        .args(["db", "import"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn import_skips_malformed_records_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("advisories");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::write(inputs.join("good.json"), GOOD).unwrap();
    std::fs::write(inputs.join("bad.yaml"), BAD).unwrap();
    let db = tmp.path().join("db");
    let out = import(
        tmp.path(),
        &[inputs.to_str().unwrap(), "--db", db.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("affected[0].ranges[0].events"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("1 added") && stdout.contains("1 skipped"),
        "{stdout}"
    );

    let out = dockwatch(tmp.path())
        .args(["db", "status", "--format", "json"])
        .env("DOCKWATCH_DB", &db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["advisories"], 1);
    assert_eq!(status["ecosystems"], serde_json::json!([["PyPI", 1]]));
    assert_eq!(status["kev"], serde_json::Value::Null);
}

#[test]
fn default_database_is_in_the_cache_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("one.json");
    std::fs::write(&file, GOOD).unwrap();
    let kev = tmp.path().join("kev.json");
    std::fs::write(
        &kev,
        r#"{"catalogVersion":"2025.08.25","vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10"}]}"#,
    )
    .unwrap();
    let out = import(tmp.path(), &[file.to_str().unwrap(), kev.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(tmp.path().join("dockwatch/db/advisories.sqlite3").is_file());
    let out = dockwatch(tmp.path())
        .args(["db", "status"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("KEV:          1 CVEs, catalog 2025.08.25"),
        "{stdout}"
    );
    assert!(stdout.contains("EPSS:         not loaded"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("PyPI") && l.ends_with(" 1")),
        "{stdout}"
    );
}

#[test]
fn errors_name_what_and_where_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty-db");
    let out = dockwatch(tmp.path())
        .args(["db", "status", "--db", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("empty-db"),
        "{}",
        text(&out.stderr)
    );

    let out = import(
        tmp.path(),
        &["/no/such/advisories.zip", "--db", empty.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/no/such/advisories.zip"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !empty.join("advisories.sqlite3").exists(),
        "a failed import creates nothing"
    );
}
