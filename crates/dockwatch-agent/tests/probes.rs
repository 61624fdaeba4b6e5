//! The probes on fake host trees: what each reads, and that bad files become warnings.

mod common;

use common::{linux_host, put};
use dockwatch_agent::probe::{ProbeContext, collect};
use dockwatch_core::settings::report::SettingsFileKind;
use serde_json::json;

fn report_of(root: &std::path::Path) -> dockwatch_core::settings::MachineReport {
    collect(&ProbeContext::new(root, "fallback-id".into()), "test", 1)
}

#[test]
fn a_linux_host_is_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    linux_host(tmp.path());
    let r = report_of(tmp.path());
    r.check().unwrap();

    assert_eq!(r.machine.machine_id, "4c4c4544003957108052b4c04f384833");
    assert_eq!(r.machine.hostname, "dev-laptop-17");
    assert_eq!(r.machine.os.family, "linux");
    assert_eq!(r.machine.os.id.as_deref(), Some("ubuntu"));
    assert_eq!(r.machine.os.version.as_deref(), Some("24.04"));

    let accounts: Vec<_> = r.users.iter().map(|u| u.account.as_str()).collect();
    assert_eq!(
        accounts,
        ["alice", "bob"],
        "carol has no Desktop; root's file is broken"
    );
    let alice = r.user("alice").unwrap();
    assert_eq!(alice.email.as_deref(), Some("alice@corp.example"));
    assert_eq!(alice.files[0].kind, SettingsFileKind::SettingsStore);
    assert_eq!(
        alice.files[0].path,
        "home/alice/.docker/desktop/settings-store.json"
    );
    assert_eq!(alice.files[0].values["AnalyticsEnabled"], json!(false));
    let bob = r.user("bob").unwrap();
    assert_eq!(bob.files[0].kind, SettingsFileKind::Settings);
    assert_eq!(bob.files[0].values["analyticsEnabled"], json!(true));

    let daemon = r.engine.daemon_json.as_ref().unwrap();
    assert_eq!(daemon["live-restore"], json!(true));
    assert_eq!(
        r.engine.daemon_json_path.as_deref(),
        Some("etc/docker/daemon.json")
    );
    assert!(r.engine.info.is_none(), "no socket under the root");
    assert!(r.admin_settings.is_none());

    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(
        r.warnings[0].path.as_deref(),
        Some("root/.docker/desktop/settings-store.json")
    );
    assert!(
        r.warnings[0].message.contains("not valid JSON"),
        "{:?}",
        r.warnings[0]
    );
}

#[test]
fn malformed_files_warn_and_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    put(root, "etc/docker/daemon.json", "[1, 2]");
    put(
        root,
        "usr/share/docker-desktop/admin-settings.json",
        "{\"configurationFileVersion\": ",
    );
    put(
        root,
        "home/dave/.docker/desktop/settings.json",
        "\"just a string\"",
    );
    let r = report_of(root);
    let paths: Vec<_> = r.warnings.iter().filter_map(|w| w.path.clone()).collect();
    assert!(
        paths.contains(&"etc/docker/daemon.json".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"usr/share/docker-desktop/admin-settings.json".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"home/dave/.docker/desktop/settings.json".to_string()),
        "{paths:?}"
    );
    // The broken admin-settings.json is still reported (by hash) so drift of it shows.
    assert_eq!(
        r.admin_settings.as_ref().unwrap().content,
        serde_json::Value::Null
    );
    assert!(r.engine.daemon_json.is_none());
    assert_eq!(r.machine.machine_id, "fallback-id");
    assert!(
        !r.machine.hostname.is_empty(),
        "no etc/hostname: the real host name"
    );
}

#[test]
fn macos_and_windows_trees_are_recognised() {
    let tmp = tempfile::tempdir().unwrap();
    let mac = tmp.path().join("mac");
    put(
        &mac,
        "Users/erin/Library/Group Containers/group.com.docker/settings-store.json",
        common::SETTINGS_STORE,
    );
    put(
        &mac,
        "Library/Application Support/com.docker.docker/admin-settings.json",
        r#"{"configurationFileVersion": 2, "analyticsEnabled": {"locked": true, "value": false}}"#,
    );
    let r = report_of(&mac);
    assert_eq!(r.machine.os.family, "macos");
    assert_eq!(r.users[0].account, "erin");
    let installed = r.admin_settings.unwrap();
    assert_eq!(
        installed.path,
        "Library/Application Support/com.docker.docker/admin-settings.json"
    );
    assert_eq!(installed.content["analyticsEnabled"]["locked"], json!(true));

    let win = tmp.path().join("win");
    put(
        &win,
        "Users/frank/AppData/Roaming/Docker/settings.json",
        common::LEGACY_SETTINGS,
    );
    put(
        &win,
        "ProgramData/DockerDesktop/admin-settings.json",
        r#"{"configurationFileVersion": 2}"#,
    );
    let r = report_of(&win);
    assert_eq!(r.machine.os.family, "windows");
    assert_eq!(r.users[0].account, "frank");
    assert_eq!(
        r.admin_settings.unwrap().path,
        "ProgramData/DockerDesktop/admin-settings.json"
    );
}

#[test]
fn oversized_values_are_cut_but_the_report_stays_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let big = "x".repeat(100_000);
    put(
        tmp.path(),
        "home/gina/.docker/desktop/settings-store.json",
        &format!("{{\"AnalyticsEnabled\": true, \"Blob\": \"{big}\"}}"),
    );
    let r = report_of(tmp.path());
    let values = &r.users[0].files[0].values;
    assert_eq!(values["AnalyticsEnabled"], json!(true));
    assert!(values["Blob"].get("dockwatch-omitted").is_some());
    assert!(serde_json::to_vec(&r).unwrap().len() < 10_000);
}

/// A fake Engine on a unix socket answering `/info` and `/version` as dockerd does.
#[cfg(unix)]
#[test]
fn docker_info_comes_from_the_engine_socket() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("var/run")).unwrap();
    let listener = UnixListener::bind(tmp.path().join("var/run/docker.sock")).unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap() == 1 {
                request.push(byte[0]);
            }
            let request = String::from_utf8_lossy(&request).to_string();
            let body = if request.starts_with("GET /info ") {
                r#"{"ID":"7TRN:IPZB","ServerVersion":"27.4.0","OperatingSystem":"Docker Desktop","KernelVersion":"6.10.14-linuxkit","LiveRestoreEnabled":false,"ExperimentalBuild":false,"LoggingDriver":"json-file","SecurityOptions":["name=seccomp,profile=unconfined","name=cgroupns"]}"#
            } else {
                r#"{"Platform":{"Name":"Docker Desktop 4.37.1 (178610)"},"Version":"27.4.0"}"#
            };
            // Chunked, to exercise the decoder.
            write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).unwrap();
        }
    });
    let r = report_of(tmp.path());
    server.join().unwrap();
    let info = r.engine.info.unwrap();
    assert_eq!(info.server_version.as_deref(), Some("27.4.0"));
    assert_eq!(info.operating_system.as_deref(), Some("Docker Desktop"));
    assert_eq!(info.live_restore_enabled, Some(false));
    assert_eq!(info.security_options.len(), 2);
    assert_eq!(
        r.desktop_version.as_deref(),
        Some("Docker Desktop 4.37.1 (178610)"),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[cfg(unix)]
#[test]
fn a_dead_socket_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    put(tmp.path(), "var/run/docker.sock", "not a socket");
    let r = report_of(tmp.path());
    assert!(r.engine.info.is_none());
    assert_eq!(r.warnings[0].path.as_deref(), Some("var/run/docker.sock"));
}

#[test]
fn desktops_own_daemon_json_is_read_when_the_host_has_none() {
    let tmp = tempfile::tempdir().unwrap();
    put(
        tmp.path(),
        "home/alice/.docker/daemon.json",
        r#"{"builder": {"gc": {"defaultKeepStorage": "20GB", "enabled": true}}, "experimental": false}"#,
    );
    let r = report_of(tmp.path());
    assert_eq!(
        r.engine.daemon_json_path.as_deref(),
        Some("home/alice/.docker/daemon.json")
    );
    assert_eq!(r.engine.daemon_json.unwrap()["experimental"], json!(false));
    // The system Engine's configuration wins when there is one.
    put(tmp.path(), "etc/docker/daemon.json", r#"{"icc": false}"#);
    let r = report_of(tmp.path());
    assert_eq!(
        r.engine.daemon_json_path.as_deref(),
        Some("etc/docker/daemon.json")
    );
}

/// The report of the fake Linux host, pinned as a golden file (uids redacted: they depend on who
/// runs the tests). `UPDATE_GOLDEN=1` rewrites it. It doubles as the wire example for servers.
#[test]
fn the_linux_host_report_matches_its_golden_file() {
    let tmp = tempfile::tempdir().unwrap();
    linux_host(tmp.path());
    let mut value = serde_json::to_value(report_of(tmp.path())).unwrap();
    for user in value["users"].as_array_mut().unwrap() {
        user["uid"] = serde_json::Value::Null;
    }
    let text = serde_json::to_string_pretty(&sorted(value)).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/golden/linux-host-report.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text, want, "differs from {}", path.display());
}

/// Keys sorted at every level, whatever order `serde_json::Map` keeps.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A host mounted at a folder: its absolute symbolic links must resolve inside the root, not in
/// the agent's own filesystem.
#[cfg(unix)]
#[test]
fn absolute_links_in_the_host_tree_stay_under_the_root() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    put(
        root,
        "var/home/alice/.docker/desktop/settings-store.json",
        common::SETTINGS_STORE,
    );
    put(root, "opt/docker-etc/daemon.json", r#"{"icc": false}"#);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    symlink("/var/home", root.join("home")).unwrap();
    symlink("/opt/docker-etc", root.join("etc/docker")).unwrap();
    let r = report_of(root);
    assert_eq!(r.users.len(), 1, "{:?}", r.warnings);
    assert_eq!(r.users[0].account, "alice");
    assert_eq!(
        r.users[0].files[0].path,
        "home/alice/.docker/desktop/settings-store.json"
    );
    assert_eq!(r.engine.daemon_json.unwrap()["icc"], json!(false));
}

#[test]
fn a_huge_file_is_not_read_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = format!("{{\"Pad\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
    put(tmp.path(), "etc/docker/daemon.json", &huge);
    let r = report_of(tmp.path());
    assert!(r.engine.daemon_json.is_none());
    assert!(
        r.warnings[0].message.starts_with("larger than"),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        r.warnings[0].path.as_deref(),
        Some("etc/docker/daemon.json")
    );
}
