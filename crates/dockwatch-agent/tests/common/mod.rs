//! Fake host trees for the agent's tests, with file contents in Docker's real formats.

#![allow(dead_code)]

use std::path::Path;

/// Writes a file under a root, making its folders.
pub fn put(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A Desktop 4.35+ `settings-store.json` (PascalCase keys), trimmed from a real Linux install.
pub const SETTINGS_STORE: &str = r#"{
  "AnalyticsEnabled": false,
  "AutoDownloadUpdates": false,
  "AutoPauseTimedActivitySeconds": 30,
  "AutoPauseTimeoutSeconds": 300,
  "AutoStart": false,
  "Cpus": 8,
  "DisableUpdate": true,
  "DisplayedOnboarding": true,
  "EnableDockerAI": false,
  "ExposeDockerAPIOnTCP2375": false,
  "ExtensionsEnabled": true,
  "KubernetesEnabled": false,
  "LicenseTermsVersion": 2,
  "MemoryMiB": 8092,
  "OpenUIOnStartupDisabled": true,
  "SettingsVersion": 40,
  "ShowInstallScreen": false,
  "SwapMiB": 1024,
  "UseContainerdSnapshotter": true,
  "UseResourceSaver": true,
  "UseVirtualizationFrameworkVirtioFS": true
}
"#;

/// A Desktop 4.34-and-earlier `settings.json` (camelCase keys).
pub const LEGACY_SETTINGS: &str = r#"{
  "acceptCanaryUpdates": false,
  "analyticsEnabled": true,
  "autoStart": true,
  "backendType": "wsl-2",
  "cpus": 4,
  "disableUpdate": false,
  "displayedWelcomeMessage": true,
  "exposeDockerAPIOnTCP2375": false,
  "kubernetesEnabled": false,
  "memoryMiB": 4096,
  "openUIOnStartupDisabled": true,
  "swapMiB": 1024,
  "useVirtualizationFrameworkVirtioFS": false,
  "wslEngineEnabled": true
}
"#;

/// A daemon.json as Docker Desktop writes it, plus hardening from the dockerd reference.
pub const DAEMON_JSON: &str = r#"{
  "builder": {"gc": {"defaultKeepStorage": "20GB", "enabled": true}},
  "experimental": false,
  "icc": false,
  "live-restore": true,
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"},
  "no-new-privileges": true
}
"#;

/// An os-release as Ubuntu ships it.
pub const OS_RELEASE: &str = r#"PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
ID=ubuntu
ID_LIKE=debian
"#;

/// A Linux host: two users (one per settings format), root with a broken file, daemon.json.
pub fn linux_host(root: &Path) {
    put(root, "etc/machine-id", "4c4c4544003957108052b4c04f384833\n");
    put(root, "etc/hostname", "dev-laptop-17\n");
    put(root, "etc/os-release", OS_RELEASE);
    put(root, "etc/docker/daemon.json", DAEMON_JSON);
    put(
        root,
        "home/alice/.docker/desktop/settings-store.json",
        SETTINGS_STORE,
    );
    put(
        root,
        "home/alice/.gitconfig",
        "[core]\n\teditor = vim\n[user]\n\tname = Alice\n\temail = Alice@Corp.example\n",
    );
    put(
        root,
        "home/bob/.docker/desktop/settings.json",
        LEGACY_SETTINGS,
    );
    put(root, "home/carol/.bashrc", "# no Docker Desktop here\n");
    put(
        root,
        "root/.docker/desktop/settings-store.json",
        "{\"AnalyticsEnabled\": tru",
    );
}
