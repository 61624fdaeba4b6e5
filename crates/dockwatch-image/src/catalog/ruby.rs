//! Ruby gems: installed specifications (`specifications/*.gemspec`, the Ruby files rubygems
//! writes on install) and `Gemfile.lock` / `gems.locked`.

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;

/// Finds Ruby gems.
#[derive(Debug, Default)]
pub struct Ruby;

/// The name recorded in each package's `found_by`.
const NAME: &str = "ruby";

/// An installed gemspec is small generated Ruby; a larger file is not one.
const MAX_GEMSPEC: usize = 4 << 20;

impl Cataloger for Ruby {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        is_gemspec(path) || matches!(file_name(path), "Gemfile.lock" | "gems.locked")
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            if is_gemspec(&entry.path) {
                gemspec(entry, &mut out);
            } else if matches!(file_name(&entry.path), "Gemfile.lock" | "gems.locked") {
                gemfile_lock(entry, &mut out);
            }
        }
        langpkg::finish(out)
    }
}

fn is_gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("specifications/")
}

fn gem<'a>(name: &'a str, version: &'a str, entry: &FileEntry) -> Found<'a> {
    let purl = langpkg::purl("gem", None, name, version);
    Found::new(PackageType::Gem, NAME, name, version, purl, entry)
}

/// Reads `s.name = "x".freeze`, `s.version = "1.0"`, `s.licenses = ["MIT".freeze]` and
/// `s.license = "MIT"` assignments: the Ruby rubygems generates is regular, and evaluating Ruby
/// is out of the question, so the few assignments are read as text.
fn gemspec(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, MAX_GEMSPEC, &mut out.warnings) else {
        return;
    };
    let mut name = None;
    let mut version = None;
    let mut licenses = Vec::new();
    let mut authors = Vec::new();
    for line in text.lines() {
        let Some((lhs, rhs)) = line.split_once(" = ") else {
            continue;
        };
        let field = lhs.trim().rsplit('.').next().unwrap_or("");
        match field {
            "name" if name.is_none() => name = ruby_strings(rhs).into_iter().next(),
            "version" if version.is_none() => version = ruby_strings(rhs).into_iter().next(),
            "licenses" | "license" => licenses.extend(ruby_strings(rhs)),
            "authors" | "author" => authors.extend(ruby_strings(rhs)),
            _ => {}
        }
    }
    // The `# stub: name version platform` header rubygems writes is a fallback.
    if let (None, Some(stub)) = (
        &version,
        text.lines().find_map(|l| l.strip_prefix("# stub: ")),
    ) {
        let mut words = stub.split_whitespace();
        name = name.or_else(|| words.next().map(str::to_owned));
        version = words.next().map(str::to_owned);
    }
    let (Some(name), Some(version)) = (name, version) else {
        out.warnings
            .push(warning(&entry.path, "gemspec without a name or version"));
        return;
    };
    let authors = authors.join(", ");
    out.packages.push(
        gem(&name, &version, entry)
            .licenses(licenses)
            .meta("authors", Some(&authors))
            .build(),
    );
}

/// The string literals (`"x"`, `'x'`, `%q{x}`) of a Ruby expression, in order.
fn ruby_strings(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find(['"', '\'', '%']) {
        let (open, close) = match rest.as_bytes()[start] {
            b'%' if rest[start..].starts_with("%q{") || rest[start..].starts_with("%Q{") => {
                rest = &rest[start + 2..];
                ('{', '}')
            }
            b'%' => {
                rest = &rest[start + 1..];
                continue;
            }
            q => {
                rest = &rest[start..];
                (q as char, q as char)
            }
        };
        let body = &rest[open.len_utf8()..];
        let Some(end) = body.find(close) else {
            break;
        };
        out.push(body[..end].to_owned());
        rest = &body[end + 1..];
    }
    out
}

/// The `specs:` of the GEM and GIT sections (PATH is the project's own code): four-space
/// indented `name (version)` lines; a platform suffix (`-x86_64-linux`) is not the version.
fn gemfile_lock(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings) else {
        return;
    };
    let mut section = "";
    let mut in_specs = false;
    let mut pins = Vec::new();
    let mut bad_lines = Vec::new();
    let mut sections = 0;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            section = line.trim();
            sections += 1;
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        let wanted = matches!(section, "GEM" | "GIT");
        if !(in_specs && wanted && line.starts_with("    ") && !line.starts_with("     ")) {
            continue;
        }
        match line.trim().split_once(" (") {
            Some((name, rest)) => {
                let version = rest.trim_end_matches(')');
                let version = version.split('-').next().unwrap_or(version);
                pins.push((name.to_owned(), version.to_owned()));
            }
            None => bad_lines.push(line.trim().to_owned()),
        }
    }
    if !bad_lines.is_empty() {
        out.warnings.push(warning(
            &entry.path,
            format!("spec lines without a version: {}", bad_lines.join(", ")),
        ));
    }
    if sections == 0 || (pins.is_empty() && !text.contains("specs:")) {
        out.warnings.push(warning(
            &entry.path,
            "malformed Gemfile.lock: no GEM section with specs",
        ));
        return;
    }
    for (name, version) in &pins {
        out.packages.push(gem(name, version, entry).build());
    }
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Catalogs in-memory files and returns `name@version licenses` of each package.
    fn check(files: &[(&str, &[u8])], expected: &[&str]) -> CatalogOutput {
        let out = testkit::run_on(&Ruby, files);
        let found: Vec<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{} {:?}", p.name, p.version, p.licenses))
            .collect();
        assert_eq!(found, expected, "{:?}", out.warnings);
        out
    }

    #[test]
    fn installed_gemspecs() {
        let spec = b"# -*- encoding: utf-8 -*-\n# stub: bundler 2.1.4 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"bundler\".freeze\n  s.version = \"2.1.4\"\n  s.authors = [\"Andr\\u00E9\".freeze, \"Yehuda\".freeze]\n  s.licenses = [\"MIT\".freeze, 'Ruby']\nend\n";
        let stub_only = b"# stub: rake 13.0.6 ruby lib\nGem::Specification.new do |spec|\n  spec.license = %q{MIT}\nend\n";
        check(
            &[
                (
                    "usr/lib/ruby/gems/3.0.0/specifications/bundler-2.1.4.gemspec",
                    spec,
                ),
                (
                    "usr/lib/ruby/gems/3.0.0/specifications/default/rake-13.0.6.gemspec",
                    stub_only,
                ),
            ],
            &["bundler@2.1.4 [\"MIT\", \"Ruby\"]", "rake@13.0.6 [\"MIT\"]"],
        );
    }

    #[test]
    fn broken_gemspecs_and_lockfiles_warn() {
        let out = check(
            &[
                ("gems/specifications/x.gemspec", b"garbage"),
                ("app/Gemfile.lock", b"   nothing here\n"),
            ],
            &[],
        );
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    }

    #[test]
    fn gemfile_lock_sections_and_platforms() {
        let lock = b"GIT\n  remote: https://git.example/x.git\n  specs:\n    x (0.1.0)\n\nPATH\n  remote: .\n  specs:\n    app (1.0.0)\n\nGEM\n  remote: https://gems.example/\n  specs:\n    nokogiri (1.13.0-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.6.0)\n\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.3.0\n";
        check(
            &[("app/Gemfile.lock", lock)],
            &["nokogiri@1.13.0 []", "racc@1.6.0 []", "x@0.1.0 []"],
        );
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let n = testkit::never_silently_empty(
            &Ruby,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/ruby/bundler",
                    ".lock",
                    "Gemfile.lock",
                ),
                (
                    "osv-scanner/lockfile-v1/pkg/lockfile/fixtures/bundler",
                    ".lock",
                    "Gemfile.lock",
                ),
                (
                    "osv-scalibr/lang/extractor/filesystem/language/ruby",
                    ".lock",
                    "Gemfile.lock",
                ),
                ("syft/lang/syft/pkg/cataloger/ruby", "Gemfile.lock", ""),
            ],
            &["no-gems.lock"],
        );
        assert!(n > 5, "{n}");
    }
}
