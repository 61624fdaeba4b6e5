//! Builds the language image: real packages from PyPI and the npm registry and a Go program
//! built here, in umoci layers and a skopeo docker-archive, cached under `target/`; and what
//! pip, npm and Go report about it, as the packages Dockwatch must find.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Bump to rebuild the cached image after changing how it is built.
const CACHE_VERSION: &str = "lang-v3";
/// What pip installs (with their dependencies); every version pinned so the licenses below hold.
pub const PIP_REQUIREMENTS: &[&str] = &[
    "requests==2.32.3",
    "six==1.16.0",
    "attrs==24.2.0",
    "packaging==24.1",
    "certifi==2024.8.30",
    "charset-normalizer==3.4.0",
    "idna==3.10",
    "urllib3==2.2.3",
];
/// The SPDX licenses each distribution's METADATA gives (License-Expression, License, or the
/// license classifiers), as Dockwatch must normalize them.
const PIP_LICENSES: &[(&str, &[&str])] = &[
    ("requests", &["Apache-2.0"]),
    ("six", &["MIT"]),
    ("attrs", &["MIT"]),
    // Only the classifiers `Apache Software License` and `BSD License`; the bare BSD classifier
    // is read as BSD-3-Clause (see docs/language-packages.md).
    ("packaging", &["Apache-2.0", "BSD-3-Clause"]),
    ("certifi", &["MPL-2.0"]),
    ("charset-normalizer", &["MIT"]),
    ("idna", &["BSD-3-Clause"]),
    ("urllib3", &["MIT"]),
];
/// What npm installs: express brings older `debug`/`ms` copies that cannot be hoisted next to the
/// top-level `debug@4`, so they are nested; `@types/debug` is scoped and depends on `@types/ms`.
const NPM_DEPENDENCIES: &[(&str, &str)] = &[
    ("express", "4.21.2"),
    ("debug", "4.3.7"),
    ("@types/debug", "4.1.12"),
    ("lodash", "4.17.21"),
];
/// Go modules vendored from Debian's source packages: (module path, Debian package).
pub const GO_MODULES: &[(&str, &str)] = &[
    ("github.com/google/uuid", "golang-github-google-uuid-dev"),
    ("github.com/pkg/errors", "golang-github-pkg-errors-dev"),
];
/// A module replaced by another module (a fork), as `go.mod`'s `replace` writes it.
const GO_FORK: (&str, &str, &str) = ("github.com/google/uuid", "example.com/uuid-fork", "v1.3.1");
/// Where the Go program goes in the image.
const GO_BINARY: &str = "usr/local/bin/langimage";

/// One package the tools say is installed, as Dockwatch must report it.
#[derive(Debug, Clone)]
pub struct Expected {
    pub found_by: &'static str,
    pub name: String,
    pub version: String,
    pub purl: String,
    /// The absolute path of the file that evidences it.
    pub location: String,
    /// SPDX identifiers; `None` where the format carries no license (Go binaries).
    pub licenses: Option<Vec<String>>,
}

/// The built image, cached under `target/dockwatch-e2e/`.
pub struct LangImage {
    /// The final filesystem as a folder.
    pub rootfs: PathBuf,
    /// The OCI layout written by umoci (one tag, `lang`).
    pub oci: PathBuf,
    /// The same image as a `docker save` archive, written by skopeo.
    pub archive: PathBuf,
    /// Every package pip, npm and Go report, installed copies and lockfile entries.
    pub expected: Vec<Expected>,
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dockwatch-e2e")
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether a failed pip or npm run failed for want of its registry (the only reason to skip).
fn registry_unreachable(stderr: &str) -> bool {
    [
        "NewConnectionError",
        "Temporary failure in name resolution",
        "Name or service not known",
        "Network is unreachable",
        "ENOTFOUND",
        "EAI_AGAIN",
        "ECONNREFUSED",
        "ECONNRESET",
        "ETIMEDOUT",
        "ReadTimeoutError",
        "ConnectTimeoutError",
    ]
    .iter()
    .any(|needle| stderr.contains(needle))
}

/// Runs an installer; `false` (after saying why) when its registry cannot be reached.
fn install(cmd: &mut Command, what: &str) -> bool {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return true;
    }
    if registry_unreachable(&stderr) {
        eprintln!("SKIPPED: the {what} registry is unreachable: {stderr}");
        return false;
    }
    panic!(
        "{cmd:?} failed: {}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `python3.X` of the interpreter pip runs under.
fn python_dir_name() -> String {
    let out = run(Command::new("python3").args([
        "-c",
        "import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')",
    ]));
    String::from_utf8(out).unwrap().trim().to_owned()
}

/// Installs the PyPI distributions; writes `pip list` beside the rootfs.
fn install_python(rootfs: &Path, refs: &Path) -> bool {
    let relative = format!("usr/lib/{}/site-packages", python_dir_name());
    std::fs::write(refs.join("site-packages"), &relative).unwrap();
    let site = rootfs.join(relative);
    if !install(
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--no-cache-dir"])
            .args(["--disable-pip-version-check", "--no-compile"])
            .args(["--timeout", "30", "--retries", "1", "--target"])
            .arg(&site)
            .args(PIP_REQUIREMENTS),
        "PyPI",
    ) {
        return false;
    }
    let list = run(Command::new("python3")
        .args(["-m", "pip", "list", "--format", "json", "--path"])
        .arg(&site));
    std::fs::write(refs.join("pip-list.json"), list).unwrap();
    true
}

/// Installs the npm packages into `/app`; writes `npm ls` beside the rootfs.
fn install_npm(rootfs: &Path, refs: &Path) -> bool {
    let app = rootfs.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let dependencies: serde_json::Map<String, Value> = NPM_DEPENDENCIES
        .iter()
        .map(|(n, v)| ((*n).to_owned(), Value::from(*v)))
        .collect();
    let manifest = serde_json::json!({
        "name": "lang-image-app", "version": "1.0.0", "private": true,
        "dependencies": dependencies,
    });
    std::fs::write(app.join("package.json"), manifest.to_string()).unwrap();
    if !install(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
            .args(["--loglevel=error", "--fetch-retries=1"])
            .current_dir(&app),
        "npm",
    ) {
        return false;
    }
    let ls = run(Command::new("npm")
        .args(["ls", "--all", "--json", "--long"])
        .current_dir(&app));
    std::fs::write(refs.join("npm-ls.json"), ls).unwrap();
    true
}

/// The upstream version of an installed Debian package (`1.3.0-1` → `1.3.0`).
fn debian_upstream_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status} ${Version}", package])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.strip_prefix("install ok installed ")?;
    let upstream = version.split(':').next_back()?.rsplit_once('-')?.0;
    Some(upstream.to_owned())
}

/// Builds the Go program (main module, two vendored modules, one of them replaced by a fork,
/// one module replaced by a local folder) into the rootfs; writes `go version -m` beside it.
/// `false` when Go or the module sources are missing (`.ci/run` installs them).
fn build_go(rootfs: &Path, refs: &Path, work: &Path) -> bool {
    let mut modules = Vec::new();
    for (path, deb) in GO_MODULES {
        let source = Path::new("/usr/share/gocode/src").join(path);
        match debian_upstream_version(deb) {
            Some(v) if have("go") && source.is_dir() => modules.push((*path, v, source)),
            _ => {
                eprintln!(
                    "SKIPPED (Go part): needs `go` and {deb} (apt-get install golang-go {deb})"
                );
                return false;
            }
        }
    }
    let src = work.join("go-src");
    let vendor = src.join("vendor");
    std::fs::create_dir_all(src.join("greeting")).unwrap();
    let mut go_mod = String::from("module example.com/langimage\n\ngo 1.19\n\nrequire (\n");
    go_mod.push_str("\texample.com/greeting v0.0.0\n");
    let mut modules_txt = String::from(
        "# example.com/greeting v0.0.0 => ./greeting\n## explicit; go 1.19\nexample.com/greeting\n",
    );
    let mut imports = String::new();
    for (path, version, source) in &modules {
        go_mod.push_str(&format!("\t{path} v{version}\n"));
        let fork = match GO_FORK {
            (replaced, fork, fork_version) if replaced == *path => {
                format!(" => {fork} {fork_version}")
            }
            _ => String::new(),
        };
        modules_txt.push_str(&format!("# {path} v{version}{fork}\n## explicit\n{path}\n"));
        imports.push_str(&format!("\t\"{path}\"\n"));
        let target = vendor.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        run(Command::new("cp").arg("-r").arg(source).arg(&target));
    }
    let (replaced, fork, fork_version) = GO_FORK;
    go_mod.push_str(")\n\nreplace example.com/greeting => ./greeting\n");
    go_mod.push_str(&format!("\nreplace {replaced} => {fork} {fork_version}\n"));
    modules_txt.push_str("# example.com/greeting => ./greeting\n");
    modules_txt.push_str(&format!("# {replaced} => {fork} {fork_version}\n"));
    std::fs::write(src.join("go.mod"), go_mod).unwrap();
    std::fs::write(
        src.join("greeting/go.mod"),
        "module example.com/greeting\n\ngo 1.19\n",
    )
    .unwrap();
    let greeting = "package greeting\n\nfunc Hello() string { return \"hello\" }\n";
    std::fs::write(src.join("greeting/greeting.go"), greeting).unwrap();
    std::fs::create_dir_all(vendor.join("example.com/greeting")).unwrap();
    std::fs::write(
        vendor.join("example.com/greeting/go.mod"),
        "module example.com/greeting\n\ngo 1.19\n",
    )
    .unwrap();
    std::fs::write(vendor.join("example.com/greeting/greeting.go"), greeting).unwrap();
    std::fs::write(vendor.join("modules.txt"), modules_txt).unwrap();
    std::fs::write(
        src.join("main.go"),
        format!(
            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greeting\"\n{imports})\n\n\
             func main() {{\n\tfmt.Println(greeting.Hello(), uuid.NewString(), errors.New(\"e2e\"))\n}}\n"
        ),
    )
    .unwrap();
    let binary = rootfs.join(GO_BINARY);
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    run(Command::new("go")
        .args(["build", "-trimpath", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&src)
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOPATH", work.join("gopath"))
        .env("GOCACHE", cache_dir().join("go-build-cache")));
    let info = run(Command::new("go").args(["version", "-m"]).arg(&binary));
    std::fs::write(refs.join("go-version-m.txt"), info).unwrap();
    true
}

/// Adds `paths` (relative to `rootfs`) to the image as one new layer, with umoci's
/// unpack/repack (its `insert` writes truncated layers in 0.4.7).
fn umoci_layer(oci: &Path, rootfs: &Path, paths: &[&str], work: &Path) {
    let bundle = work.join("bundle");
    let _ = std::fs::remove_dir_all(&bundle);
    let image = format!("{}:lang", oci.display());
    run(Command::new("umoci")
        .args(["unpack", "--image", &image])
        .arg(&bundle));
    for path in paths {
        let target = bundle.join("rootfs").join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        run(Command::new("cp")
            .arg("-a")
            .arg(rootfs.join(path))
            .arg(&target));
    }
    run(Command::new("umoci")
        .args(["repack", "--image", &image])
        .arg(&bundle));
    std::fs::remove_dir_all(&bundle).unwrap();
}

/// Builds (or reuses) the image. `None` (after saying why) when a registry is unreachable or
/// umoci/skopeo are missing.
pub fn lang_image() -> Option<&'static LangImage> {
    static IMAGE: OnceLock<Option<LangImage>> = OnceLock::new();
    IMAGE.get_or_init(build).as_ref()
}

fn build() -> Option<LangImage> {
    let dir = cache_dir().join(format!("image-{CACHE_VERSION}"));
    if !dir.join(".complete").exists() {
        for tool in ["umoci", "skopeo", "python3", "npm"] {
            if !have(tool) {
                eprintln!("SKIPPED: {tool} is not installed; the language image needs it");
                return None;
            }
        }
        std::fs::create_dir_all(cache_dir()).unwrap();
        let staging = tempfile::tempdir_in(cache_dir()).unwrap();
        let (rootfs, refs) = (staging.path().join("rootfs"), staging.path().join("refs"));
        std::fs::create_dir_all(&rootfs).unwrap();
        std::fs::create_dir_all(&refs).unwrap();
        if !install_python(&rootfs, &refs) || !install_npm(&rootfs, &refs) {
            return None;
        }
        let work = tempfile::tempdir().unwrap();
        let go_built = build_go(&rootfs, &refs, work.path());
        let oci = staging.path().join("oci");
        run(Command::new("umoci").args(["init", "--layout"]).arg(&oci));
        run(Command::new("umoci")
            .args(["new", "--image"])
            .arg(format!("{}:lang", oci.display())));
        umoci_layer(&oci, &rootfs, &["usr/lib"], work.path());
        umoci_layer(&oci, &rootfs, &["app"], work.path());
        if go_built {
            umoci_layer(&oci, &rootfs, &[GO_BINARY], work.path());
        }
        run(Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(format!("oci:{}:lang", oci.display()))
            .arg(format!(
                "docker-archive:{}:dockwatch/lang:v1",
                staging.path().join("image.docker.tar").display()
            )));
        std::fs::write(staging.path().join(".complete"), b"").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(staging.keep(), &dir).unwrap();
    }
    let rootfs = dir.join("rootfs");
    let expected = expected(&rootfs, &dir.join("refs"));
    Some(LangImage {
        oci: dir.join("oci"),
        archive: dir.join("image.docker.tar"),
        rootfs,
        expected,
    })
}

/// What pip, npm and Go report, as the packages Dockwatch must find.
fn expected(rootfs: &Path, refs: &Path) -> Vec<Expected> {
    let mut out = Vec::new();
    // pip: one dist-info folder per distribution (the wheel spec's `name_with_underscores`).
    let pip: Value =
        serde_json::from_slice(&std::fs::read(refs.join("pip-list.json")).unwrap()).unwrap();
    let site = std::fs::read_to_string(refs.join("site-packages")).unwrap();
    let folders: Vec<String> = std::fs::read_dir(rootfs.join(&site))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for dist in pip.as_array().unwrap() {
        let name = dist["name"].as_str().unwrap();
        let version = dist["version"].as_str().unwrap();
        let folder_name = format!("{}-{version}.dist-info", name.replace('-', "_")).to_lowercase();
        let folder = folders
            .iter()
            .find(|f| f.to_lowercase() == folder_name)
            .unwrap_or_else(|| panic!("no {folder_name} in {folders:?}"));
        let licenses = PIP_LICENSES
            .iter()
            .find(|(n, _)| *n == name.to_lowercase())
            .map(|(_, l)| l.iter().map(|s| (*s).to_owned()).collect())
            .unwrap_or_else(|| panic!("add the licenses of {name} to PIP_LICENSES"));
        out.push(Expected {
            found_by: "python",
            name: name.to_owned(),
            version: version.to_owned(),
            purl: format!(
                "pkg:pypi/{}@{version}",
                name.to_lowercase().replace('_', "-")
            ),
            location: format!("/{site}/{folder}/METADATA"),
            licenses: Some(licenses),
        });
    }
    // npm: every installed copy at its path, and each name@version once in the lockfile.
    let ls: Value =
        serde_json::from_slice(&std::fs::read(refs.join("npm-ls.json")).unwrap()).unwrap();
    assert!(ls.get("problems").is_none(), "npm ls: {}", ls["problems"]);
    let app = ls["path"].as_str().unwrap().to_owned();
    let mut stack = vec![&ls];
    let mut lock = BTreeMap::new();
    while let Some(node) = stack.pop() {
        let Some(deps) = node["dependencies"].as_object() else {
            continue;
        };
        for (name, dep) in deps {
            stack.push(dep);
            let version = dep["version"].as_str().unwrap().to_owned();
            let path = dep["path"].as_str().unwrap();
            let relative = path.strip_prefix(&app).unwrap();
            let purl = match name.split_once('/') {
                Some((scope, bare)) => {
                    format!("pkg:npm/{}/{bare}@{version}", scope.replace('@', "%40"))
                }
                None => format!("pkg:npm/{name}@{version}"),
            };
            let licenses = Some(
                dep["license"]
                    .as_str()
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
            );
            let package = Expected {
                found_by: "npm",
                name: name.clone(),
                version: version.clone(),
                purl,
                location: format!("/app{relative}/package.json"),
                licenses,
            };
            lock.entry((name.clone(), version))
                .or_insert_with(|| Expected {
                    location: "/app/package-lock.json".into(),
                    ..package.clone()
                });
            out.push(package);
        }
    }
    out.extend(lock.into_values());
    // Go: `go version -m`: the toolchain, the main module, each dep (a `=>` line replaces it).
    if let Ok(info) = std::fs::read_to_string(refs.join("go-version-m.txt")) {
        let binary = format!("/{GO_BINARY}");
        let mut go = |name: &str, version: &str, purl_version: &str| {
            out.push(Expected {
                found_by: "golang",
                name: name.to_owned(),
                version: version.to_owned(),
                purl: format!("pkg:golang/{name}@{purl_version}"),
                location: binary.clone(),
                licenses: None,
            });
        };
        let toolchain = info.lines().next().unwrap().rsplit(' ').next().unwrap();
        go("stdlib", toolchain, toolchain.trim_start_matches("go"));
        let lines: Vec<Vec<&str>> = info
            .lines()
            .skip(1)
            .map(|l| l.split('\t').filter(|f| !f.is_empty()).collect())
            .collect();
        for (i, fields) in lines.iter().enumerate() {
            match fields.as_slice() {
                ["mod", path, version, ..] => go(path, version, version),
                ["dep", path, version, ..] => match lines.get(i + 1).map(Vec::as_slice) {
                    // Replaced by a local folder: the module keeps its path, without a version.
                    Some(["=>", folder, ..]) if folder.starts_with('.') => {
                        go(path, "(devel)", "(devel)")
                    }
                    Some(["=>", new_path, new_version, ..]) => {
                        go(new_path, new_version, new_version)
                    }
                    _ => go(path, version, version),
                },
                _ => {}
            }
        }
    }
    out
}
