//! Image analysis on a real image built here from real Debian packages: a debootstrap minbase
//! rootfs, then an upper layer adding two real `.deb` packages and deleting a file (whiteout).
//! Packaged as an OCI layout (with a two-platform index), a docker-archive (skopeo) and pushed to
//! a real local registry (Debian's `docker-registry`); unpacked as a folder. All four sources must
//! give the same packages, and the deleted file must be absent from every one.

use dockwatch_core::{Location, Package, PackageType};
use dockwatch_image::catalog::{CatalogContext, CatalogOutput, Cataloger};
use dockwatch_image::fs::FileSet;
use dockwatch_image::source::{Platform, SourceOptions, SourceSpec};
use dockwatch_image::{Analysis, Options, analyze_with};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Bump to rebuild the cached image after changing how it is built.
const CACHE_VERSION: &str = "bookworm-minbase-v1";
/// Real packages added by the upper layer (small, not in minbase).
const ADDED_PACKAGES: &[&str] = &["hello", "tree"];
/// The file the upper layer deletes with a whiteout.
const DELETED: &str = "etc/debian_version";

/// Helpers to write OCI image layouts by hand (also used by the hostile-input tests).
pub mod layout {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    use std::path::Path;

    /// The digest (`sha256:<hex>`) of `bytes`.
    pub fn sha256(bytes: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
    }

    /// Writes `bytes` as a blob of the layout at `root`, returning its descriptor fields.
    pub fn blob(root: &Path, bytes: &[u8]) -> (String, u64) {
        let digest = sha256(bytes);
        let dir = root.join("blobs/sha256");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&digest["sha256:".len()..]), bytes).unwrap();
        (digest, bytes.len() as u64)
    }

    /// gzip at the fastest level.
    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// A descriptor as JSON.
    pub fn descriptor(media_type: &str, digest: &str, size: u64) -> serde_json::Value {
        serde_json::json!({"mediaType": media_type, "digest": digest, "size": size})
    }

    /// An image config for `arch` with these diff ids.
    pub fn config(arch: &str, diff_ids: &[String]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "architecture": arch,
            "os": "linux",
            "config": {
                "User": "nobody",
                "Env": ["PATH=/usr/bin:/bin", "DOCKWATCH_E2E=1"],
                "Entrypoint": ["/usr/bin/hello"],
                "Cmd": ["--greeting", "hi"],
                "Labels": {"org.example.purpose": "e2e"}
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": diff_ids.iter().map(|_| serde_json::json!({"created_by": "dockwatch e2e"})).collect::<Vec<_>>()
        }))
        .unwrap()
    }

    /// Writes an image manifest (config + layers given as (media type, digest, size)) and
    /// returns its descriptor fields.
    pub fn manifest(root: &Path, config: &[u8], layers: &[(String, String, u64)]) -> (String, u64) {
        let (config_digest, config_size) = blob(root, config);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config_digest, config_size),
            "layers": layers.iter().map(|(t, d, s)| descriptor(t, d, *s)).collect::<Vec<_>>(),
        });
        blob(root, &serde_json::to_vec(&manifest).unwrap())
    }

    /// Writes `oci-layout` and an `index.json` naming one manifest or index as `tag`.
    pub fn index_json(root: &Path, media_type: &str, digest: &str, size: u64, tag: &str) {
        std::fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let mut entry = descriptor(media_type, digest, size);
        entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [entry]});
        std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }

    /// A one-layer OCI layout at `root` whose layer blob is `blob_bytes` (tar `diff_id`).
    pub fn single_layer(root: &Path, blob_bytes: &[u8], diff_id: &str, declared_size: Option<u64>) {
        let (digest, size) = blob(root, blob_bytes);
        let config = config("amd64", &[diff_id.to_owned()]);
        let layers = [(
            "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(),
            digest,
            declared_size.unwrap_or(size),
        )];
        let (m, s) = manifest(root, &config, &layers);
        index_json(
            root,
            "application/vnd.oci.image.manifest.v1+json",
            &m,
            s,
            "latest",
        );
    }
}

/// A test-only cataloger reading `var/lib/dpkg/status` (and keeping the deleted file, so its
/// absence can be checked), standing in until the dpkg cataloger is on this branch.
struct StatusCataloger;

impl Cataloger for StatusCataloger {
    fn name(&self) -> &'static str {
        "e2e-dpkg-status"
    }
    fn wants(&self, path: &str) -> bool {
        path == "var/lib/dpkg/status" || path == DELETED
    }
    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        let Some(status) = files.get("var/lib/dpkg/status") else {
            return out;
        };
        for stanza in String::from_utf8_lossy(&status.contents).split("\n\n") {
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
                    .map(|v| v.trim().to_owned())
            };
            let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
                continue;
            };
            if !field("Status").is_some_and(|s| s.ends_with(" installed")) {
                continue;
            }
            out.packages.push(Package {
                purl: format!("pkg:deb/debian/{name}@{version}"),
                name,
                version,
                kind: PackageType::Deb,
                arch: field("Architecture"),
                source_name: None,
                source_version: None,
                licenses: vec![],
                cpes: vec![],
                locations: vec![Location {
                    path: "/var/lib/dpkg/status".into(),
                    layer: status.layer.clone(),
                }],
                found_by: self.name().into(),
                metadata: Default::default(),
            });
        }
        out
    }
}

/// The built image, cached under `target/dockwatch-e2e/`.
struct Image {
    /// The OCI layout (tag `e2e`, an index with linux/amd64 and linux/arm64).
    oci: PathBuf,
    /// `docker save`-style archive written by skopeo (linux/amd64).
    archive: PathBuf,
    /// The final filesystem unpacked as a folder.
    rootfs: PathBuf,
    /// The diff id of the upper layer.
    upper_diff_id: String,
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dockwatch-e2e")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Debian mirror this machine's apt uses (deb822 `URIs:` or one-line `deb URL`).
fn debian_mirror() -> String {
    let mut texts = vec![std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default()];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for entry in dir.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "sources" || e == "list") {
                texts.push(std::fs::read_to_string(p).unwrap_or_default());
            }
        }
    }
    for text in texts {
        for line in text.lines() {
            let url = line.strip_prefix("URIs:").map(str::trim).or_else(|| {
                line.strip_prefix("deb ")
                    .and_then(|l| l.split_whitespace().find(|w| w.starts_with("http")))
            });
            if let Some(url) = url
                && url.trim_end_matches('/').ends_with("/debian")
            {
                return url.to_owned();
            }
        }
    }
    "http://deb.debian.org/debian".into()
}

/// The debootstrap minbase rootfs as a tar, built once and cached.
fn rootfs_tar() -> Option<PathBuf> {
    let cached = cache_dir().join(format!("rootfs-{CACHE_VERSION}.tar"));
    if cached.exists() {
        return Some(cached);
    }
    if !have("debootstrap") {
        eprintln!(
            "SKIPPED: debootstrap is not installed; the real-image tests need it (apt-get install debootstrap)"
        );
        return None;
    }
    std::fs::create_dir_all(cache_dir()).unwrap();
    let work = tempfile::tempdir_in(cache_dir()).unwrap();
    let root = work.path().join("root");
    run(Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(debian_mirror()));
    let tmp = work.path().join("rootfs.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["--numeric-owner", "-cf"])
        .arg(&tmp)
        .arg("."));
    std::fs::rename(&tmp, &cached).unwrap();
    Some(cached)
}

/// The upper layer: the added packages' files, the updated dpkg status, a whiteout.
fn upper_layer(rootfs: &Path) -> Vec<u8> {
    let debs = cache_dir().join("debs-v1");
    if !debs.join(".complete").exists() {
        std::fs::create_dir_all(&debs).unwrap();
        run(Command::new("apt-get")
            .arg("download")
            .args(ADDED_PACKAGES)
            .current_dir(&debs));
        std::fs::write(debs.join(".complete"), b"").unwrap();
    }
    let mut status =
        read_member(rootfs, "var/lib/dpkg/status").expect("the rootfs has a dpkg status");
    let work = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut entries: Vec<_> = std::fs::read_dir(&debs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for deb in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
    {
        let out = Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb)
            .output()
            .unwrap();
        let control = String::from_utf8(out.stdout).unwrap();
        let mut stanza = String::new();
        for line in control.lines() {
            stanza.push_str(line);
            stanza.push('\n');
            if line.starts_with("Package:") {
                stanza.push_str("Status: install ok installed\n");
            }
        }
        status.extend_from_slice(b"\n");
        status.extend_from_slice(stanza.trim_end().as_bytes());
        status.extend_from_slice(b"\n");
        let unpacked = work.path().join(deb.file_stem().unwrap());
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&unpacked));
        builder.append_dir_all(".", &unpacked).unwrap();
    }
    let mut header = tar::Header::new_gnu();
    header.set_size(status.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "var/lib/dpkg/status", &status[..])
        .unwrap();
    let (dir, name) = DELETED.rsplit_once('/').unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_size(0);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, format!("{dir}/.wh.{name}"), &[][..])
        .unwrap();
    builder.into_inner().unwrap()
}

fn read_member(tar_path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(std::fs::File::open(tar_path).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        if path == name {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return Some(bytes);
        }
    }
    None
}

/// Builds (or reuses) the image in every packaging. `None` when debootstrap is missing.
fn image() -> Option<&'static Image> {
    static IMAGE: OnceLock<Option<Image>> = OnceLock::new();
    IMAGE.get_or_init(build_image).as_ref()
}

fn build_image() -> Option<Image> {
    let rootfs = rootfs_tar()?;
    let dir = cache_dir().join(format!("image-{CACHE_VERSION}"));
    let marker = dir.join("upper-diff-id");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let staging = tempfile::tempdir_in(cache_dir()).unwrap();
        let oci = staging.path().join("oci");
        let lower_tar = std::fs::read(&rootfs).unwrap();
        let lower_blob = layout::gzip(&lower_tar);
        let upper_tar = upper_layer(&rootfs);
        let upper_blob = zstd::encode_all(&upper_tar[..], 3).unwrap();
        let diff_ids = [layout::sha256(&lower_tar), layout::sha256(&upper_tar)];
        let (lower_digest, lower_size) = layout::blob(&oci, &lower_blob);
        let (upper_digest, upper_size) = layout::blob(&oci, &upper_blob);
        let layers = [
            (
                "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(),
                lower_digest,
                lower_size,
            ),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd".to_owned(),
                upper_digest,
                upper_size,
            ),
        ];
        // The same layers under two platforms, so `--platform` has something to choose.
        let mut platforms = Vec::new();
        for arch in ["amd64", "arm64"] {
            let (digest, size) = layout::manifest(&oci, &layout::config(arch, &diff_ids), &layers);
            let mut d =
                layout::descriptor("application/vnd.oci.image.manifest.v1+json", &digest, size);
            d["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
            platforms.push(d);
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": platforms,
        });
        let (index_digest, index_size) = layout::blob(&oci, &serde_json::to_vec(&index).unwrap());
        layout::index_json(
            &oci,
            "application/vnd.oci.image.index.v1+json",
            &index_digest,
            index_size,
            "e2e",
        );
        // skopeo cannot turn zstd layers into a docker-archive: that one is made from a twin
        // layout whose upper layer is gzip (the same diff ids; the lower blob is shared).
        let twin = staging.path().join("oci-gzip");
        std::fs::create_dir_all(twin.join("blobs/sha256")).unwrap();
        let lower_name = &layers[0].1["sha256:".len()..];
        std::fs::hard_link(
            oci.join("blobs/sha256").join(lower_name),
            twin.join("blobs/sha256").join(lower_name),
        )
        .unwrap();
        let (gz_digest, gz_size) = layout::blob(&twin, &layout::gzip(&upper_tar));
        let twin_layers = [
            layers[0].clone(),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(),
                gz_digest,
                gz_size,
            ),
        ];
        let (m, s) = layout::manifest(&twin, &layout::config("amd64", &diff_ids), &twin_layers);
        layout::index_json(
            &twin,
            "application/vnd.oci.image.manifest.v1+json",
            &m,
            s,
            "e2e",
        );
        let archive = staging.path().join("image.docker.tar");
        run(Command::new("skopeo")
            .args(["copy", "--quiet"])
            .arg(format!("oci:{}:e2e", twin.display()))
            .arg(format!(
                "docker-archive:{}:dockwatch/e2e:v1",
                archive.display()
            )));
        // The final filesystem as a folder: lower, then upper, then the whiteout applied.
        let root = staging.path().join("rootfs");
        std::fs::create_dir_all(&root).unwrap();
        run(Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["--numeric-owner", "-xf"])
            .arg(&rootfs));
        let upper_path = staging.path().join("upper.tar");
        std::fs::write(&upper_path, &upper_tar).unwrap();
        run(Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["--numeric-owner", "--exclude=*/.wh.*", "-xf"])
            .arg(&upper_path));
        std::fs::remove_file(root.join(DELETED)).unwrap();
        std::fs::remove_file(&upper_path).unwrap();
        std::fs::remove_dir_all(&twin).unwrap();
        std::fs::write(staging.path().join("upper-diff-id"), &diff_ids[1]).unwrap();
        std::fs::rename(staging.keep(), &dir).unwrap();
    }
    Some(Image {
        oci: dir.join("oci"),
        archive: dir.join("image.docker.tar"),
        rootfs: dir.join("rootfs"),
        upper_diff_id: std::fs::read_to_string(&marker).unwrap(),
    })
}

/// A local registry (Debian's `docker-registry`) on a free loopback port, stopped on drop.
pub struct Registry {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry; `htpasswd` (file contents) turns on basic auth. `None` when the
    /// `docker-registry` binary is missing.
    pub fn start(htpasswd: Option<&str>) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let auth = htpasswd.map(|htpasswd| {
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, htpasswd).unwrap();
            format!(
                "auth:\n  htpasswd:\n    realm: e2e\n    path: {}\n",
                path.display()
            )
        });
        Self::start_with(dir, auth.as_deref())
    }

    /// Starts a registry whose config gets `auth` (a YAML `auth:` section) appended.
    pub fn start_with(dir: tempfile::TempDir, auth: Option<&str>) -> Option<Self> {
        if !have("docker-registry") {
            eprintln!(
                "SKIPPED: docker-registry is not installed (apt-get install docker-registry)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        config.push_str(auth.unwrap_or_default());
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let registry = Self {
            child,
            host,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(&registry.host).is_ok() {
                return Some(registry);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("docker-registry did not start on {}", registry.host);
    }

    /// Copies an image into this registry with skopeo (all platforms).
    pub fn push(&self, from: &str, repo_tag: &str, creds: Option<&str>) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--all", "--dest-tls-verify=false"]);
        if let Some(creds) = creds {
            cmd.args(["--dest-creds", creds]);
        }
        run(cmd
            .arg(from)
            .arg(format!("docker://{}/{repo_tag}", self.host)));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn options(platform: Option<&str>) -> Options {
    Options {
        source: SourceOptions {
            platform: platform.map(|p| Platform::parse(p).unwrap()),
            insecure: true,
            ..SourceOptions::default()
        },
        threads: None,
    }
}

fn analyze(spec: SourceSpec, platform: Option<&str>) -> Analysis {
    let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(StatusCataloger)];
    analyze_with(&spec, &options(platform), &catalogers).unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

fn names_versions(a: &Analysis) -> Vec<(String, String)> {
    a.sbom
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

#[test]
fn all_four_sources_give_the_same_packages_and_apply_the_whiteout() {
    let Some(image) = image() else { return };
    let Some(registry) = Registry::start(None) else {
        return;
    };
    registry.push(
        &format!("oci:{}:e2e", image.oci.display()),
        "dockwatch/e2e:v1",
        None,
    );
    let reference = format!("{}/dockwatch/e2e:v1", registry.host);
    let sources = [
        ("registry", SourceSpec::Registry(reference.clone())),
        ("oci-dir", SourceSpec::OciDir(image.oci.clone())),
        (
            "docker-archive",
            SourceSpec::DockerArchive(image.archive.clone()),
        ),
        ("dir", SourceSpec::Dir(image.rootfs.clone())),
    ];
    let analyses: Vec<(&str, Analysis)> = sources
        .into_iter()
        .map(|(k, s)| (k, analyze(s, None)))
        .collect();
    let expected = names_versions(&analyses[0].1);
    assert!(
        expected.len() > 80,
        "a minbase Debian has ~90 packages: {expected:?}"
    );
    for added in ADDED_PACKAGES {
        assert!(
            expected.iter().any(|(n, _)| n == added),
            "{added} missing: {expected:?}"
        );
    }
    for (kind, analysis) in &analyses {
        assert_eq!(
            names_versions(analysis),
            expected,
            "{kind} differs from registry"
        );
        assert!(
            analysis.files.get(DELETED).is_none(),
            "{kind}: the whited-out {DELETED} is present"
        );
        assert_eq!(analysis.sbom.source.kind, *kind);
        let distro = analysis.sbom.distro.as_ref().expect("os-release found");
        assert_eq!(
            (distro.id.as_str(), distro.version_id.as_deref()),
            ("debian", Some("12"))
        );
        let status = analysis.files.get("var/lib/dpkg/status").unwrap();
        // Both layers wrote a status file: the lower one lacks the added packages.
        let versions: Vec<_> = analysis.files.versions("var/lib/dpkg/status").collect();
        assert_eq!(versions.len(), if *kind == "dir" { 1 } else { 2 }, "{kind}");
        assert!(
            !String::from_utf8_lossy(&versions[0].contents).contains("Package: hello")
                || *kind == "dir"
        );
        if *kind == "dir" {
            assert_eq!(status.layer, None);
        } else {
            assert_eq!(
                status.layer.as_deref(),
                Some(image.upper_diff_id.as_str()),
                "{kind}"
            );
        }
    }
    // Once real catalogers are registered (dpkg), their packages must agree across sources,
    // and with the status reader above; every package must name a layer (images) or none (dir).
    if !dockwatch_image::catalog::all().is_empty() {
        type Debs = Vec<(String, String, PackageType)>;
        let real: Vec<(&str, Debs)> = [
            ("registry", SourceSpec::Registry(reference.clone())),
            ("oci-dir", SourceSpec::OciDir(image.oci.clone())),
            (
                "docker-archive",
                SourceSpec::DockerArchive(image.archive.clone()),
            ),
            ("dir", SourceSpec::Dir(image.rootfs.clone())),
        ]
        .into_iter()
        .map(|(kind, spec)| {
            let sbom = dockwatch_image::analyze(&spec, &options(None)).unwrap();
            let debs = sbom
                .packages
                .iter()
                .filter(|p| p.kind == PackageType::Deb)
                .map(|p| (p.name.clone(), p.version.clone(), p.kind))
                .collect();
            (kind, debs)
        })
        .collect();
        for (kind, debs) in &real {
            assert_eq!(debs, &real[0].1, "{kind} differs from registry");
        }
        let mut names: Vec<_> = real[0]
            .1
            .iter()
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        names.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(
            names, want,
            "the dpkg cataloger and the status reader disagree"
        );
        // The binary agrees and exits 0.
        let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
            .args(["sbom", &format!("oci-dir:{}", image.oci.display())])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("hello"));
    }
}

#[test]
fn image_identity_is_recorded() {
    let Some(image) = image() else { return };
    let a = analyze(SourceSpec::OciDir(image.oci.clone()), None);
    let info = &a.sbom.source;
    assert!(
        info.digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert!(info.config_digest.is_some());
    assert_eq!(info.tags, ["e2e"]);
    assert_eq!(info.architecture.as_deref(), Some("amd64"));
    assert_eq!(info.os.as_deref(), Some("linux"));
    assert_eq!(info.user.as_deref(), Some("nobody"));
    assert!(info.env.contains(&"DOCKWATCH_E2E=1".to_owned()));
    assert_eq!(info.entrypoint, ["/usr/bin/hello"]);
    assert_eq!(
        info.labels.get("org.example.purpose").map(String::as_str),
        Some("e2e")
    );
    assert_eq!(info.layers.len(), 2);
    assert_eq!(info.layers[1].diff_id, image.upper_diff_id);
    assert!(info.layers[1].media_type.ends_with("zstd"));
    let archive = analyze(SourceSpec::DockerArchive(image.archive.clone()), None);
    // skopeo writes the tag fully qualified.
    assert_eq!(archive.sbom.source.tags, ["docker.io/dockwatch/e2e:v1"]);
    assert_eq!(archive.sbom.source.config_digest, info.config_digest);
    let diff_ids = |a: &Analysis| {
        a.sbom
            .source
            .layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(diff_ids(&archive), diff_ids(&a));
}

#[test]
fn platform_picks_from_the_index_and_unknown_platforms_are_named() {
    let Some(image) = image() else { return };
    let arm = analyze(SourceSpec::OciDir(image.oci.clone()), Some("linux/arm64"));
    assert_eq!(arm.sbom.source.architecture.as_deref(), Some("arm64"));
    let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(StatusCataloger)];
    let err = analyze_with(
        &SourceSpec::OciDir(image.oci.clone()),
        &options(Some("linux/s390x")),
        &catalogers,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("linux/s390x") && err.contains("linux/amd64, linux/arm64"),
        "{err}"
    );
    // `oci-dir:PATH:TAG` picks by tag, as skopeo's `oci:PATH:TAG` does.
    let tagged = PathBuf::from(format!("{}:e2e", image.oci.display()));
    assert_eq!(
        analyze(SourceSpec::OciDir(tagged), None).sbom.source.tags,
        ["e2e"]
    );
    let missing = PathBuf::from(format!("{}:nope", image.oci.display()));
    let err = analyze_with(&SourceSpec::OciDir(missing), &options(None), &catalogers)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"nope\"") && err.contains("tags: e2e"),
        "{err}"
    );
    // The docker-archive holds one platform; asking for another is an error, not a silent pick.
    let err = analyze_with(
        &SourceSpec::DockerArchive(image.archive.clone()),
        &options(Some("linux/arm64")),
        &catalogers,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("linux/arm64"), "{err}");
}

#[test]
fn registry_platforms_and_cli_output() {
    let Some(image) = image() else { return };
    let Some(registry) = Registry::start(None) else {
        return;
    };
    registry.push(
        &format!("oci:{}:e2e", image.oci.display()),
        "multi/arch:1",
        None,
    );
    let reference = format!("{}/multi/arch:1", registry.host);
    let arm = analyze(SourceSpec::Registry(reference.clone()), Some("linux/arm64"));
    assert_eq!(arm.sbom.source.architecture.as_deref(), Some("arm64"));
    assert_eq!(arm.sbom.source.tags, ["1"]);
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "sbom",
            &reference,
            "--insecure",
            "--format",
            "json",
            "--platform",
            "linux/amd64",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["source"]["kind"], "registry");
    assert_eq!(json["source"]["architecture"], "amd64");
    assert_eq!(json["distro"]["id"], "debian");
    // Without --insecure the client speaks TLS to a plain-HTTP registry: a clear error, exit 2.
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(["sbom", &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&registry.host), "{stderr}");
}

/// A one-layer image with only an os-release, in an OCI layout at `root`.
fn tiny_layout(root: &Path) {
    let mut b = tar::Builder::new(Vec::new());
    let os_release = b"ID=tiny\nVERSION_ID=1\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(os_release.len() as u64);
    header.set_mode(0o644);
    b.append_data(&mut header, "etc/os-release", &os_release[..])
        .unwrap();
    let tar = b.into_inner().unwrap();
    layout::single_layer(root, &layout::gzip(&tar), &layout::sha256(&tar), None);
}

fn sbom_with_docker_config(
    reference: &str,
    docker_config: &Path,
    path_prefix: Option<&Path>,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dockwatch"));
    cmd.args(["sbom", reference, "--insecure", "--format", "json"])
        .env("DOCKER_CONFIG", docker_config);
    if let Some(dir) = path_prefix {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", dir.display()));
    }
    cmd.output().unwrap()
}

#[test]
fn registry_credentials_come_from_docker_config_auths_and_helpers() {
    if !have("htpasswd") {
        eprintln!("SKIPPED: htpasswd is not installed (apt-get install apache2-utils)");
        return;
    }
    let out = Command::new("htpasswd")
        .args(["-nbB", "alice", "s3cret"])
        .output()
        .unwrap();
    let Some(registry) = Registry::start(Some(&String::from_utf8(out.stdout).unwrap())) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let oci = tmp.path().join("oci");
    tiny_layout(&oci);
    registry.push(
        &format!("oci:{}:latest", oci.display()),
        "private/tiny:1",
        Some("alice:s3cret"),
    );
    let reference = format!("{}/private/tiny:1", registry.host);
    let config_dir = tmp.path().join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    let write_config = |json: serde_json::Value| {
        std::fs::write(
            config_dir.join("config.json"),
            serde_json::to_vec(&json).unwrap(),
        )
        .unwrap();
    };
    let distro = |out: &std::process::Output| -> String {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["distro"]["id"].as_str().unwrap_or_default().to_owned()
    };

    // No credentials: the registry's refusal is an input error naming the registry.
    let out = sbom_with_docker_config(&reference, &config_dir, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&registry.host));

    // `auths` with base64 user:password.
    let encode = |s: &str| {
        let out = Command::new("sh")
            .args(["-c", &format!("printf %s '{s}' | base64")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    write_config(
        serde_json::json!({"auths": {registry.host.clone(): {"auth": encode("alice:s3cret")}}}),
    );
    assert_eq!(
        distro(&sbom_with_docker_config(&reference, &config_dir, None)),
        "tiny"
    );
    write_config(
        serde_json::json!({"auths": {registry.host.clone(): {"auth": encode("alice:wrong")}}}),
    );
    assert_eq!(
        sbom_with_docker_config(&reference, &config_dir, None)
            .status
            .code(),
        Some(2)
    );

    // A credential helper `docker-credential-e2e get`, named by credHelpers and by credsStore.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = tmp.path().join("helper-asked-for");
    let helper = bin.join("docker-credential-e2e");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat > {}\necho '{{\"ServerURL\":\"x\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_config(serde_json::json!({"credHelpers": {registry.host.clone(): "e2e"}}));
    assert_eq!(
        distro(&sbom_with_docker_config(
            &reference,
            &config_dir,
            Some(&bin)
        )),
        "tiny"
    );
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        registry.host
    );
    std::fs::remove_file(&marker).unwrap();
    write_config(serde_json::json!({"credsStore": "e2e"}));
    assert_eq!(
        distro(&sbom_with_docker_config(
            &reference,
            &config_dir,
            Some(&bin)
        )),
        "tiny"
    );
    assert!(marker.exists());
}

/// The refresh token the token server accepts (what `docker login` stores as `identitytoken`).
const IDENTITY_TOKEN: &str = "e2e-refresh-token";

/// A token server for the registry's bearer-token auth: checks basic credentials alice:s3cret
/// (or, on the OAuth2 `POST`, the refresh token [`IDENTITY_TOKEN`]), then issues an RS256 JWT (signed by `openssl`, certificate in `x5c`) granting the asked scope.
struct TokenServer {
    realm: String,
    cert: PathBuf,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TokenServer {
    fn start(dir: &Path) -> Self {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=e2e-token", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert));
        let pem = std::fs::read_to_string(&cert).unwrap();
        let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve_token(stream, &key, &der_b64, &seen);
            }
        });
        Self {
            realm,
            cert,
            requests,
        }
    }

    fn auth_yaml(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: e2e-registry\n    issuer: e2e-issuer\n    rootcertbundle: {}\n",
            self.realm,
            self.cert.display()
        )
    }
}

fn serve_token(
    mut stream: std::net::TcpStream,
    key: &Path,
    x5c: &str,
    seen: &std::sync::Mutex<Vec<String>>,
) {
    use base64::Engine as _;
    use std::io::{BufRead, BufReader, Write};
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut authorization = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or_default();
        if name.eq_ignore_ascii_case("authorization") {
            authorization = value.trim().to_owned();
        }
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    // The OAuth2 form (`POST`, refresh-token grant) carries its parameters in the body.
    let mut body = vec![0u8; content_length.min(1 << 16)];
    std::io::Read::read_exact(&mut reader, &mut body).unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    seen.lock()
        .unwrap()
        .push(format!("{target} {authorization} {body}"));
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let form = |key: &str| {
        body.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map(percent_decode)
    };
    let refresh_grant = request_line.starts_with("POST ")
        && form("grant_type").as_deref() == Some("refresh_token")
        && form("refresh_token").as_deref() == Some(IDENTITY_TOKEN);
    if authorization != expected && !refresh_grant {
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    let query = if refresh_grant {
        body.clone()
    } else {
        target
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default()
    };
    let access: Vec<serde_json::Value> = query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("scope="))
        .map(percent_decode)
        .filter_map(|scope| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            let actions: Vec<&str> = actions.split(',').collect();
            Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jti = format!("{now}-{}", seen.lock().unwrap().len());
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "e2e-issuer", "sub": "alice", "aud": "e2e-registry",
        "exp": now + 600, "nbf": now - 60, "iat": now - 60, "jti": jti,
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url.encode(serde_json::to_vec(&header).unwrap()),
        b64url.encode(serde_json::to_vec(&claims).unwrap())
    );
    let mut openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    openssl
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let signature = openssl.wait_with_output().unwrap().stdout;
    let token = format!("{signing_input}.{}", b64url.encode(signature));
    let body = serde_json::to_vec(
        &serde_json::json!({"token": token, "access_token": token, "expires_in": 600}),
    )
    .unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn registry_identity_tokens_are_exchanged_for_a_bearer_token() {
    if !have("openssl") {
        eprintln!("SKIPPED: openssl is not installed; it signs the test's registry tokens");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenServer::start(dir.path());
    let Some(registry) = Registry::start_with(dir, Some(&tokens.auth_yaml())) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let oci = tmp.path().join("oci");
    tiny_layout(&oci);
    registry.push(
        &format!("oci:{}:latest", oci.display()),
        "oauth/tiny:1",
        Some("alice:s3cret"),
    );
    let reference = format!("{}/oauth/tiny:1", registry.host);
    let config_dir = tmp.path().join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    let write_config = |token: &str| {
        let config =
            serde_json::json!({"auths": {registry.host.clone(): {"identitytoken": token}}});
        std::fs::write(
            config_dir.join("config.json"),
            serde_json::to_vec(&config).unwrap(),
        )
        .unwrap();
    };

    // A revoked token: a clear error naming the token endpoint, not an anonymous pull.
    write_config("revoked");
    let out = sbom_with_docker_config(&reference, &config_dir, None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&tokens.realm) && stderr.contains("identity token"),
        "{stderr}"
    );

    tokens.requests.lock().unwrap().clear();
    write_config(IDENTITY_TOKEN);
    let out = sbom_with_docker_config(&reference, &config_dir, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["distro"]["id"], "tiny");
    let requests = tokens.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("grant_type=refresh_token")
                && r.contains("scope=repository%3Aoauth%2Ftiny%3Apull")
                && r.contains("service=e2e-registry")),
        "the refresh-token grant was used: {requests:?}"
    );
}

#[test]
fn registry_bearer_token_auth_uses_the_configured_credentials() {
    if !have("openssl") {
        eprintln!("SKIPPED: openssl is not installed; it signs the test's registry tokens");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenServer::start(dir.path());
    let Some(registry) = Registry::start_with(dir, Some(&tokens.auth_yaml())) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let oci = tmp.path().join("oci");
    tiny_layout(&oci);
    let from = format!("oci:{}:latest", oci.display());
    registry.push(&from, "bearer/tiny:1", Some("alice:s3cret"));
    let reference = format!("{}/bearer/tiny:1", registry.host);
    let config_dir = tmp.path().join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    tokens.requests.lock().unwrap().clear();

    // Anonymous: the token server refuses, and so does the registry.
    let out = sbom_with_docker_config(&reference, &config_dir, None);
    assert_eq!(out.status.code(), Some(2));

    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    let config = serde_json::json!({"auths": {registry.host.clone(): {"auth": auth}}});
    std::fs::write(
        config_dir.join("config.json"),
        serde_json::to_vec(&config).unwrap(),
    )
    .unwrap();
    let out = sbom_with_docker_config(&reference, &config_dir, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["distro"]["id"], "tiny");
    let requests = tokens.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("scope=repository%3Abearer%2Ftiny%3Apull") && r.contains("Basic ")),
        "the token was asked for with the credentials: {requests:?}"
    );
}

/// Writes a Docker 25+ style `docker save` archive (OCI blobs + index.json + manifest.json)
/// holding `layer_tar` uncompressed; returns the manifest digest.
fn docker25_archive(path: &Path, layer_tar: &[u8], stored_layer: &[u8]) -> String {
    let layer_digest = layout::sha256(layer_tar);
    let config = layout::config("amd64", std::slice::from_ref(&layer_digest));
    let config_digest = layout::sha256(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": layout::descriptor("application/vnd.oci.image.config.v1+json", &config_digest, config.len() as u64),
        "layers": [layout::descriptor("application/vnd.oci.image.layer.v1.tar", &layer_digest, layer_tar.len() as u64)],
    }))
    .unwrap();
    let manifest_digest = layout::sha256(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [layout::descriptor("application/vnd.oci.image.manifest.v1+json", &manifest_digest, manifest.len() as u64)],
    }))
    .unwrap();
    let blob_name = |d: &str| format!("blobs/sha256/{}", &d["sha256:".len()..]);
    let docker_manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": blob_name(&config_digest),
        "RepoTags": ["new/style:1"],
        "Layers": [blob_name(&layer_digest)],
    }]))
    .unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        b.append_data(&mut header, name, data).unwrap();
    };
    add(&blob_name(&layer_digest), stored_layer);
    add(&blob_name(&config_digest), &config);
    add(&blob_name(&manifest_digest), &manifest);
    add("index.json", &index);
    add("manifest.json", &docker_manifest);
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    b.finish().unwrap();
    manifest_digest
}

#[test]
fn docker_archive_in_the_oci_style_layout_of_docker_25() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    let os_release = b"ID=newstyle\n";
    header.set_size(os_release.len() as u64);
    header.set_mode(0o644);
    b.append_data(&mut header, "usr/lib/os-release", &os_release[..])
        .unwrap();
    let layer = b.into_inner().unwrap();
    let path = tmp.path().join("new.tar");
    let manifest_digest = docker25_archive(&path, &layer, &layer);
    let a = analyze(SourceSpec::DockerArchive(path.clone()), None);
    assert_eq!(a.sbom.distro.unwrap().id, "newstyle");
    let info = &a.sbom.source;
    assert_eq!(info.digest.as_deref(), Some(manifest_digest.as_str()));
    assert_eq!(info.tags, ["new/style:1"]);
    assert_eq!(
        info.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(info.layers[0].digest, layout::sha256(&layer));

    // A blob that is not what its name says is refused.
    let mut other = layer.clone();
    let at = other.windows(9).position(|w| w == b"newstyle\n").unwrap();
    other[at] = b'N';
    docker25_archive(&path, &layer, &other);
    let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(StatusCataloger)];
    let err = analyze_with(
        &SourceSpec::DockerArchive(path.clone()),
        &options(None),
        &catalogers,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("digest mismatch"), "{err}");

    // A gzip-compressed archive gets a clear error.
    let gz = tmp.path().join("new.tar.gz");
    std::fs::write(&gz, layout::gzip(&std::fs::read(&path).unwrap())).unwrap();
    let err = analyze_with(&SourceSpec::DockerArchive(gz), &options(None), &catalogers)
        .unwrap_err()
        .to_string();
    assert!(err.contains("decompress it first"), "{err}");
}

#[test]
fn each_deb_names_the_layer_that_introduced_it() {
    let Some(image) = image() else { return };
    // Both layers write var/lib/dpkg/status; the upper one adds ADDED_PACKAGES. Every package
    // must name the layer it first appeared in, not the last writer of the status file.
    let spec = SourceSpec::OciDir(image.oci.clone());
    let analysis = analyze_with(
        &spec,
        &options(Some("linux/amd64")),
        &dockwatch_image::catalog::all(),
    )
    .unwrap();
    let lower = &analysis.sbom.source.layers[0].diff_id;
    assert_ne!(lower, &image.upper_diff_id);
    let debs: Vec<_> = analysis
        .sbom
        .packages
        .iter()
        .filter(|p| p.kind == PackageType::Deb)
        .collect();
    assert!(debs.len() > 80, "{}", debs.len());
    for deb in debs {
        let want = if ADDED_PACKAGES.contains(&deb.name.as_str()) {
            image.upper_diff_id.as_str()
        } else {
            lower.as_str()
        };
        assert_eq!(deb.layer(), Some(want), "{}", deb.name);
        assert_eq!(deb.locations[0].path, "/var/lib/dpkg/status");
    }
}
