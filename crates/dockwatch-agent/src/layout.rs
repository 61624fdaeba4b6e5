//! Where things are on each operating system, as paths relative to the agent's `--root`.

use std::path::Path;

/// The host's operating system family, which decides where Docker Desktop keeps its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOs {
    /// Linux: `/usr/share/docker-desktop`, `~/.docker/desktop`.
    Linux,
    /// macOS: `/Library/Application Support/com.docker.docker`, `~/Library/Group Containers`.
    MacOs,
    /// Windows: `C:\ProgramData\DockerDesktop`, `%APPDATA%\Docker`.
    Windows,
}

impl HostOs {
    /// The family for a root: the running system's for `/`, else guessed from the tree
    /// (`ProgramData` means Windows, `Library` or `Users` without `home` means macOS).
    pub fn detect(root: &Path) -> Self {
        if root == Path::new("/") {
            return Self::running();
        }
        if root.join("ProgramData").is_dir() || root.join("Windows").is_dir() {
            Self::Windows
        } else if root.join("Library").is_dir()
            || (root.join("Users").is_dir() && !root.join("home").is_dir())
        {
            Self::MacOs
        } else {
            Self::Linux
        }
    }

    fn running() -> Self {
        if cfg!(target_os = "macos") {
            Self::MacOs
        } else if cfg!(windows) {
            Self::Windows
        } else {
            Self::Linux
        }
    }

    /// `linux`, `macos`, `windows`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::MacOs => "macos",
            Self::Windows => "windows",
        }
    }

    /// Where Docker Desktop reads `admin-settings.json` (and where `--apply` writes it).
    pub fn admin_settings_path(self) -> &'static str {
        match self {
            Self::Linux => "usr/share/docker-desktop/admin-settings.json",
            Self::MacOs => "Library/Application Support/com.docker.docker/admin-settings.json",
            Self::Windows => "ProgramData/DockerDesktop/admin-settings.json",
        }
    }
}

/// Every place an installed admin-settings.json is looked for, in order (the documented one of
/// each OS, and the `registry/` folder older Linux packages used).
pub const ADMIN_SETTINGS_PATHS: &[&str] = &[
    "usr/share/docker-desktop/admin-settings.json",
    "usr/share/docker-desktop/registry/admin-settings.json",
    "Library/Application Support/com.docker.docker/admin-settings.json",
    "ProgramData/DockerDesktop/admin-settings.json",
];

/// A folder holding users' home folders, and where Desktop's settings are inside each home.
#[derive(Debug, Clone, Copy)]
pub struct HomeLayout {
    /// The folder of homes (`home`), or a single home (`root`) when `single` is set.
    pub homes: &'static str,
    /// `homes` is itself the home of the account named by its last component.
    pub single: bool,
    /// Desktop's settings folder inside a home.
    pub settings_dir: &'static str,
}

/// Linux homes, root's home, macOS and Windows user folders.
pub const HOME_LAYOUTS: &[HomeLayout] = &[
    HomeLayout {
        homes: "home",
        single: false,
        settings_dir: ".docker/desktop",
    },
    HomeLayout {
        homes: "root",
        single: true,
        settings_dir: ".docker/desktop",
    },
    HomeLayout {
        homes: "Users",
        single: false,
        settings_dir: "Library/Group Containers/group.com.docker",
    },
    HomeLayout {
        homes: "Users",
        single: false,
        settings_dir: "AppData/Roaming/Docker",
    },
];

/// The system Engine's API sockets, tried before Desktop's per-user ones.
pub const DOCKER_SOCKETS: &[&str] = &["var/run/docker.sock", "run/docker.sock"];
/// Docker Desktop's per-user Engine sockets (Linux `~/.docker/desktop/docker.sock`, macOS
/// `~/.docker/run/docker.sock`): (folder of homes, path inside each home).
pub const USER_DOCKER_SOCKETS: &[(&str, &str)] = &[
    ("home", ".docker/desktop/docker.sock"),
    ("Users", ".docker/run/docker.sock"),
];

/// The Engine's configuration file.
pub const DAEMON_JSON: &str = "etc/docker/daemon.json";
/// Docker Desktop's Engine configuration, per user (used when the host has no system Engine
/// configuration): (folder of homes, path inside each home).
pub const USER_DAEMON_JSON: &[(&str, &str)] = &[
    ("home", ".docker/daemon.json"),
    ("root", ".docker/daemon.json"),
    ("Users", ".docker/daemon.json"),
];

/// The files `inside` each home under `homes` (or `homes` itself when it is `root`), sorted.
pub fn in_homes(root: &Path, homes: &str, inside: &str) -> Vec<String> {
    if homes == "root" {
        return vec![format!("root/{inside}")];
    }
    let Ok(entries) = std::fs::read_dir(crate::rooted::resolve(root, homes)) else {
        return vec![];
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| format!("{homes}/{}/{inside}", e.file_name().to_string_lossy()))
        .collect();
    out.sort();
    out
}
