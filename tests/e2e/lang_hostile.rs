//! Hostile application-package files through the real binary: a zip bomb and a deep nest of
//! jars, JSON, YAML and TOML lockfiles that are malformed or nested past any parser's stack,
//! YAML alias expansion, non-UTF-8 metadata and huge files named like metadata. Each must give a
//! warning naming the file, keep what could be read, and never crash the analysis.

use super::image::layout;
use serde_json::Value;
use std::io::Write;
use std::process::Command;

/// A zip archive of `members` (deflated).
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn pom_properties(artifact: &str, version: &str) -> Vec<u8> {
    format!("groupId=org.example\nartifactId={artifact}\nversion={version}\n").into_bytes()
}

/// `depth` opening brackets, then as many closing ones: nested past any recursion limit.
fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// The hostile files: (path in the image, contents, a package that must still be found).
fn hostile_files() -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
    let zeros = vec![0u8; 300 << 20];
    let bomb = zip_of(&[
        (
            "META-INF/maven/org.example/bomb/pom.properties",
            &pom_properties("bomb", "1.0.0"),
        ),
        ("BOOT-INF/lib/zeros-1.0.jar", &zeros),
    ]);
    let manifest_bomb = zip_of(&[
        (
            "META-INF/maven/org.example/manifest-bomb/pom.properties",
            &pom_properties("manifest-bomb", "2.0.0"),
        ),
        ("META-INF/MANIFEST.MF", &zeros),
    ]);
    let egg_bomb = zip_of(&[("EGG-INFO/PKG-INFO", &zeros)]);
    drop(zeros);
    let mut truncated_jar = zip_of(&[(
        "META-INF/maven/org.example/cut/pom.properties",
        &pom_properties("cut", "1.0.0"),
    )]);
    truncated_jar.truncate(truncated_jar.len() / 2);
    // Each level holds its own pom.properties and the next level.
    let mut deep = zip_of(&[(
        "META-INF/maven/org.example/level-9/pom.properties",
        &pom_properties("level-9", "9.0.0"),
    )]);
    for level in (0..9).rev() {
        let pom = pom_properties(&format!("level-{level}"), &format!("{level}.0.0"));
        let path = format!("META-INF/maven/org.example/level-{level}/pom.properties");
        let inner = format!("BOOT-INF/lib/level-{}.jar", level + 1);
        deep = zip_of(&[(path.as_str(), &pom), (inner.as_str(), &deep)]);
    }
    let laughs = {
        let mut y = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            y.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        y.push_str("lockfileVersion: '9.0'\npackages: *i\n");
        y
    };
    let deep_json = format!(
        "{{\"name\":\"deep-json\",\"version\":\"1.0.0\",\"x\":{}}}",
        nested("[", "]", 100_000)
    );
    let mut latin1 = b"Metadata-Version: 2.1\nName: latin\nVersion: 1.0\nAuthor: Jos".to_vec();
    latin1.extend_from_slice(b"\xe9 \xc0lvarez\nLicense: MIT\n");
    let mut huge_lock = vec![b' '; 65 << 20];
    huge_lock.extend_from_slice(b"{}");
    let mut huge_metadata = b"Metadata-Version: 2.1\nName: huge\nVersion: 1.0\n".to_vec();
    huge_metadata.resize(17 << 20, b'x');
    let mut latin1_composer = b"{\"packages\":[{\"name\":\"acme/caf".to_vec();
    latin1_composer.extend_from_slice(b"\xe9\",\"version\":\"1.0.0\"}]}");
    vec![
        ("opt/app/bomb.jar", bomb, Some("bomb@1.0.0")),
        (
            "opt/app/manifest-bomb.jar",
            manifest_bomb,
            Some("manifest-bomb@2.0.0"),
        ),
        ("opt/app/deep.jar", deep, Some("level-0@0.0.0")),
        (
            "opt/app/not-a-zip.jar",
            b"PK\x03\x04 this is no zip archive".to_vec(),
            None,
        ),
        ("opt/app/truncated.jar", truncated_jar, None),
        (
            "usr/lib/python3.11/site-packages/bomb-1.0-py3.11.egg",
            egg_bomb,
            None,
        ),
        (
            "app/node_modules/deep-json/package.json",
            deep_json.into_bytes(),
            None,
        ),
        (
            "app/package-lock.json",
            br#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0"#.to_vec(),
            None,
        ),
        ("srv/laughs/pnpm-lock.yaml", laughs.into_bytes(), None),
        (
            "srv/deep-yaml/pnpm-lock.yaml",
            nested("[", "]", 100_000).into_bytes(),
            None,
        ),
        // Nested past the limit where the parser reads values it does not keep.
        (
            "srv/deep-yaml-ignored/pnpm-lock.yaml",
            format!(
                "lockfileVersion: '9.0'\nimporters: {}\n",
                nested("[", "]", 100_000)
            )
            .into_bytes(),
            None,
        ),
        (
            "srv/deep-yaml-entry/pnpm-lock.yaml",
            format!(
                "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {}\n",
                nested("{a: ", "}", 100_000)
            )
            .into_bytes(),
            None,
        ),
        (
            "srv/deep-json-ignored/package-lock.json",
            format!(
                "{{\"lockfileVersion\": 3, \"x\": {}}}",
                nested("[", "]", 100_000)
            )
            .into_bytes(),
            None,
        ),
        (
            "srv/deep-toml/poetry.lock",
            format!("x = {}\n", nested("[", "]", 100_000)).into_bytes(),
            None,
        ),
        (
            "srv/deep-inline-toml/Cargo.lock",
            format!("x = {}\n", nested("{a=", "}", 100_000)).into_bytes(),
            None,
        ),
        (
            "srv/broken-toml/Cargo.lock",
            b"[[package]]\nname = \"a\"\nversion = \"1.0\n".to_vec(),
            None,
        ),
        (
            "srv/deep-dotnet/app.deps.json",
            nested("[", "]", 100_000).into_bytes(),
            None,
        ),
        (
            "usr/lib/python3.11/site-packages/latin-1.0.dist-info/METADATA",
            latin1,
            Some("latin@1.0"),
        ),
        ("srv/huge/package-lock.json", huge_lock, None),
        (
            "srv/huge/site-packages/huge-1.0.dist-info/METADATA",
            huge_metadata,
            None,
        ),
        (
            "srv/php/composer.lock",
            latin1_composer,
            Some("acme/caf\u{fffd}@1.0.0"),
        ),
        (
            "srv/yarn/yarn.lock",
            b"\"a@^1\":\n  version 1.0.0\n\xff\xfe\x00garbage {{{\n".to_vec(),
            None,
        ),
        (
            "srv/go/go.mod",
            b"module example.com/x\n\nrequire (\n\texample.com/y v1.0.0\n".to_vec(),
            None,
        ),
        (
            "srv/ruby/specifications/x-1.0.gemspec",
            b"\x00\x01\x02\xff not ruby".to_vec(),
            None,
        ),
    ]
}

#[test]
fn hostile_language_files_warn_by_name_and_keep_what_was_readable() {
    let files = hostile_files();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes, _) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let oci = tmp.path().join("oci");
    layout::single_layer(&oci, &layout::gzip(&tar), &layout::sha256(&tar), None);
    drop(tar);
    let out = Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args([
            "sbom",
            &format!("oci-dir:{}", oci.display()),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<(String, String)> = sbom["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap().to_owned(),
                w["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let packages: Vec<String> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    for (path, _, keeps) in &files {
        assert!(
            warnings
                .iter()
                .any(|(p, _)| p.trim_start_matches('/') == *path),
            "no warning names {path}: {warnings:#?}"
        );
        // The warnings are printed too, each naming its file.
        assert!(stderr.contains(path), "{path} not in stderr: {stderr}");
        if let Some(package) = keeps {
            assert!(
                packages.contains(&package.to_string()),
                "{package} lost: {packages:?}"
            );
        }
    }
    for (path, message) in &warnings {
        eprintln!("warning: {path}: {message}");
    }
    // Parsers quote the offending line; a hostile line is long, a warning is not.
    for (path, message) in &warnings {
        assert!(message.len() < 1000, "{path}: {} bytes", message.len());
    }
    let message = |path: &str| {
        warnings
            .iter()
            .filter(|(p, _)| p.trim_start_matches('/') == path)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert!(
        message("opt/app/bomb.jar").contains("decompressed"),
        "{}",
        message("opt/app/bomb.jar")
    );
    assert!(
        message("srv/huge/package-lock.json").contains("exceeds the limit"),
        "{}",
        message("srv/huge/package-lock.json")
    );
    // The nested jars are read down to the depth limit, not beyond, and not zero levels.
    let levels = packages.iter().filter(|p| p.starts_with("level-")).count();
    assert!((2..10).contains(&levels), "{levels}: {packages:?}");
}
