//! The command line's contract: `--version`, `--help`, and exit code 2 on usage errors.

use std::process::Command;

fn dockwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dockwatch"))
}

#[test]
fn version_names_the_binary() {
    let out = dockwatch().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("dockwatch "));
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = dockwatch().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_source_is_an_input_error_naming_the_source() {
    let out = dockwatch().args(["sbom", "dir:"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dir:"), "{stderr}");
}
