//! Tests of the Java cataloger: peer archives and manifests, nested archives, hostile input.

use super::super::langpkg::testkit;
use super::*;
use std::io::Write;

/// A zip archive of `(name, contents)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Catalogs archives `(path, bytes)` with `limits` and returns `name@version` and the output.
fn check(files: &[(&str, Vec<u8>)], limits: Limits) -> (Vec<String>, CatalogOutput) {
    let mut out = CatalogOutput::default();
    for (path, bytes) in files {
        assert!(Java.wants(path), "{path}");
        let entry = testkit::entry(path, 0o644, bytes.clone());
        let mut budget = limits.inflated;
        let walk = Walk {
            entry: &entry,
            limits,
        };
        walk.archive(bytes, &format!("/{path}"), 0, &mut budget, &mut out);
    }
    let out = langpkg::finish(out);
    let found = out
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    (found, out)
}

/// Each claircore sample (a MANIFEST.MF or pom.properties named after its jar) put in a jar of
/// that name: the version found must be the one in the file name, except `documented`.
fn check_claircore_corpus(folder: &str, member_path: &str, documented: &[&str]) -> usize {
    let dir = dockwatch_testdata::fixture(&format!("claircore/lang/java/jar/testdata/{folder}"));
    let mut mismatches = Vec::new();
    let mut n = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        let jar = path.file_name().unwrap().to_string_lossy().into_owned();
        if !jar.ends_with(".jar") {
            continue;
        }
        let sample = std::fs::read(&path).unwrap();
        let stem = jar.trim_end_matches(".jar");
        let Some(want) = manifest::name_and_version(stem).1 else {
            continue; // nothing to compare with
        };
        n += 1;
        let (found, out) = check(
            &[(&format!("lib/{jar}"), zip_of(&[(member_path, &sample)]))],
            LIMITS,
        );
        if !found.iter().any(|f| f.ends_with(&format!("@{want}"))) {
            mismatches.push(format!("{jar}: {found:?} {:?}", out.warnings));
        }
    }
    let documented: Vec<String> = documented.iter().map(|s| s.to_string()).collect();
    mismatches.sort();
    let short: Vec<String> = mismatches
        .iter()
        .map(|m| m.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(short, documented, "{mismatches:#?}");
    n
}

#[test]
fn claircore_manifests_give_the_file_name_version() {
    let n = check_claircore_corpus(
        "manifest",
        "META-INF/MANIFEST.MF",
        &[
            // The file name carries a classifier: we report 3.11.0.
            "cassandra-driver-core-3.11.0-shaded.jar",
            // Only Bundle-Version (OSGi, three parts) is there: we report 1.26.0.
            "snakeyaml-1.26.jar",
        ],
    );
    assert!(n > 20, "{n}");
}

#[test]
fn claircore_pom_properties_give_the_file_name_version() {
    let n = check_claircore_corpus("properties", "META-INF/maven/g/a/pom.properties", &[]);
    assert!(n > 20, "{n}");
}

#[test]
fn trivy_jars() {
    let dir = "trivy/lang/pkg/dependency/parser/java/jar/testdata";
    let read =
        |name: &str| std::fs::read(dockwatch_testdata::fixture(&format!("{dir}/{name}"))).unwrap();
    let (found, out) = check(
        &[
            (
                "app/multi-license-1.0.0.jar",
                read("multi-license-1.0.0.jar"),
            ),
            (
                "app/heuristic-1.0.0-SNAPSHOT.jar",
                read("heuristic-1.0.0-SNAPSHOT.jar"),
            ),
        ],
        LIMITS,
    );
    assert_eq!(found, ["heuristic@1.0.0-SNAPSHOT", "multi-license@1.0.0"]);
    let multi = &out.packages[1];
    assert_eq!(multi.purl, "pkg:maven/com.example/multi-license@1.0.0");
}

#[test]
fn peer_archives_are_never_silently_empty() {
    let n = testkit::never_silently_empty(
        &Java,
        &[
            (
                "trivy/lang/pkg/dependency/parser/java/jar/testdata",
                ".jar",
                "",
            ),
            (
                "trivy/lang/pkg/fanal/analyzer/testdata/post-apps/jar",
                ".jar",
                "",
            ),
            ("syft/lang/syft/pkg/cataloger/java/testdata", "", ""),
            (
                "osv-scalibr/lang/extractor/filesystem/language/java/archive/testdata",
                ".jar",
                "",
            ),
        ],
        &[],
    );
    assert!(n > 10, "{n}");
}

#[test]
fn nested_archives_in_wars_and_spring_boot_jars() {
    let lib = zip_of(&[(
        "META-INF/maven/org.example/lib/pom.properties",
        b"groupId=org.example\nartifactId=lib\nversion=2.0.0\n",
    )]);
    let pom = b"<project><licenses><license><name>Apache License, Version 2.0</name></license></licenses></project>";
    let boot = zip_of(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Version: 1.0.0\n",
        ),
        ("BOOT-INF/lib/lib-2.0.0.jar", &lib),
        ("META-INF/maven/org.example/app/pom.xml", pom),
        (
            "META-INF/maven/org.example/app/pom.properties",
            b"groupId=org.example\nartifactId=app\nversion=1.0.0\n",
        ),
    ]);
    let war = zip_of(&[("WEB-INF/lib/app-1.0.0.jar", &boot)]);
    let (found, out) = check(&[("srv/site.war", war)], LIMITS);
    assert_eq!(found, ["app@1.0.0", "lib@2.0.0"], "{:?}", out.warnings);
    let lib = out.packages.iter().find(|p| p.name == "lib").unwrap();
    assert_eq!(
        lib.metadata["virtual_path"],
        "/srv/site.war:WEB-INF/lib/app-1.0.0.jar:BOOT-INF/lib/lib-2.0.0.jar"
    );
    assert_eq!(lib.locations[0].path, "/srv/site.war");
    let app = out.packages.iter().find(|p| p.name == "app").unwrap();
    assert_eq!(app.licenses, ["Apache-2.0"]);
}

#[test]
fn a_pom_of_a_renamed_archive_still_names_it() {
    let manifest: &[u8] = b"Implementation-Title: Maven Core\nImplementation-Version: 3.8.7\n";
    let renamed = zip_of(&[
        ("META-INF/MANIFEST.MF", manifest),
        (
            "META-INF/maven/org.apache.maven/maven-core/pom.properties",
            b"groupId=org.apache.maven\nartifactId=maven-core\nversion=3.8.7\n",
        ),
    ]);
    let spec = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Bundle-Version: 1.3.0\n"),
        (
            "META-INF/maven/g/x_1.3_spec/pom.properties",
            b"groupId=g\nartifactId=x_1.3_spec\nversion=1.3\n",
        ),
    ]);
    let fat = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Implementation-Version: 4.2.3\n"),
        (
            "META-INF/maven/cglib/cglib/pom.properties",
            b"groupId=cglib\nartifactId=cglib\nversion=3.2.12\n",
        ),
    ]);
    let (found, _) = check(
        &[
            ("usr/share/java/maven3-core.jar", renamed),
            ("usr/share/java/x-1.3-spec.jar", spec),
            ("usr/share/java/guice.jar", fat),
        ],
        LIMITS,
    );
    assert_eq!(
        found,
        [
            "cglib@3.2.12",
            "guice@4.2.3",
            "maven-core@3.8.7",
            "x_1.3_spec@1.3"
        ]
    );
}

#[test]
fn deep_nesting_stops_with_a_warning() {
    let mut jar = zip_of(&[("META-INF/MANIFEST.MF", b"Implementation-Version: 9\n")]);
    for _ in 0..6 {
        jar = zip_of(&[("lib/inner-1.0.jar", &jar)]);
    }
    let (_, out) = check(&[("a/outer.jar", jar)], LIMITS);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.path == "/a/outer.jar" && w.message.contains("nested deeper")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn zip_bombs_hit_the_decompression_budget() {
    let zeros = vec![0u8; 4 << 20];
    let bomb = zip_of(&[("lib/a-1.jar", &zeros), ("lib/b-1.jar", &zeros)]);
    assert!(bomb.len() < 64 << 10, "compresses well: {}", bomb.len());
    let limits = Limits {
        depth: 4,
        inflated: 6 << 20,
        meta: 1 << 10,
    };
    let (_, out) = check(&[("a/bomb.jar", bomb)], limits);
    let messages: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("limit of decompressed bytes")),
        "{messages:?}"
    );
    let big_manifest = zip_of(&[("META-INF/MANIFEST.MF", &vec![b'a'; 2 << 10])]);
    let (_, out) = check(&[("a/x-1.0.jar", big_manifest)], limits);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.message.contains("larger than")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn an_archive_full_of_broken_poms_gives_a_capped_list_of_warnings() {
    let names: Vec<String> = (0..100)
        .map(|i| format!("META-INF/maven/g/a{i}/pom.properties"))
        .collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"oops"[..])).collect();
    let mut set = FileSet::new();
    set.insert(testkit::entry("app/bad.jar", 0o644, zip_of(&members)));
    let out = Java.catalog(&set, &CatalogContext::default());
    assert_eq!(
        out.warnings.len(),
        super::super::warning_cap::MAX_PER_FILE + 1
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.message.contains("more warnings like these"))
    );
}

#[test]
fn not_a_zip_warns() {
    let (found, out) = check(&[("a/broken.jar", b"PK\x03\x04garbage".to_vec())], LIMITS);
    assert!(found.is_empty());
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].message.contains("not a readable zip"));
}

#[test]
fn real_debian_jars_name_their_version() {
    // Debian's Java libraries (Maven's runtime among them): each jar gives packages or a warning
    // naming it, and a plain numeric version in the file name is the one found, but for
    // Debian's own aliases listed here.
    let documented = [
        // A link kept for compatibility to the 2.1.1 jar.
        "plexus-component-annotations-1.5.jar",
        // The manifest says 1.0.0.
        "atinject-jsr330-api-1.0.jar",
    ];
    let dir = std::path::Path::new("/usr/share/java");
    assert!(
        dir.is_dir(),
        "/usr/share/java (Debian's Java libraries) missing"
    );
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Debian keeps one file per library and links the other name to it; read through the
        // link so the versioned name is the one the cataloger sees.
        if !name.ends_with(".jar") || !path.is_file() {
            continue;
        }
        let image_path = format!("usr/share/java/{name}");
        let (found, out) = check(&[(&image_path, std::fs::read(&path).unwrap())], LIMITS);
        assert!(
            !found.is_empty()
                || out
                    .warnings
                    .iter()
                    .any(|w| w.path == format!("/{image_path}")),
            "{name} silently empty"
        );
        let version = manifest::name_and_version(name.trim_end_matches(".jar")).1;
        if let Some(version) = version.filter(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            compared += 1;
            let hit = found.iter().any(|f| f.ends_with(&format!("@{version}")));
            if !hit && !documented.contains(&name.as_str()) {
                mismatches.push(format!("{name}: {found:?}"));
            }
        }
    }
    assert!(compared > 10, "{compared}");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
