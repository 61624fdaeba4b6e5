//! `go.mod` (require and replace directives) and `go.sum` (every module checksum, used only
//! when no `go.mod` sits beside it).

use super::super::CatalogOutput;
use super::super::langpkg::{self, warning};
use super::module;
use crate::fs::FileEntry;

/// A `go.mod` is small; anything larger is not one.
const MAX_GO_MOD: usize = 8 << 20;

/// One `require` line: module path and version.
#[derive(Debug, PartialEq, Eq)]
struct Require<'a> {
    path: &'a str,
    version: &'a str,
    indirect: bool,
}

/// One `replace` line: `old [version] => new [version]`.
#[derive(Debug)]
struct Replace<'a> {
    old: &'a str,
    old_version: Option<&'a str>,
    new: &'a str,
    new_version: Option<&'a str>,
}

/// Reads one `go.mod`: required modules after replacements. A module replaced by a local
/// folder is not the published module and is left out.
pub(super) fn parse_mod(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, MAX_GO_MOD, &mut out.warnings) else {
        return;
    };
    let (module_line, requires, replaces) = match directives(&text) {
        Ok(d) => d,
        Err(e) => {
            out.warnings
                .push(warning(&entry.path, format!("malformed go.mod: {e}")));
            return;
        }
    };
    if module_line.is_none() && requires.is_empty() {
        out.warnings
            .push(warning(&entry.path, "go.mod without a module directive"));
        return;
    }
    for req in &requires {
        let replace = replaces
            .iter()
            .rev()
            .find(|r| r.old == req.path && r.old_version.is_none_or(|v| v == req.version));
        let (path, version, replaced) = match replace {
            Some(r) => match r.new_version {
                Some(v) => (r.new, v, Some(req.path)),
                None => continue, // a local folder
            },
            None => (req.path, req.version, None),
        };
        let package = module(path, version, entry)
            .meta("replaces", replaced)
            .meta("indirect", req.indirect.then_some("true"))
            .build();
        out.packages.push(package);
    }
}

/// The module path and the require and replace directives, in single-line or block form.
#[allow(clippy::type_complexity)]
fn directives(text: &str) -> Result<(Option<&str>, Vec<Require<'_>>, Vec<Replace<'_>>), String> {
    let mut module = None;
    let mut requires = Vec::new();
    let mut replaces = Vec::new();
    let mut block: Option<&str> = None;
    for (n, raw) in text.lines().enumerate() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (verb, rest) = match block {
            Some(verb) if line == ")" => {
                let _ = verb;
                block = None;
                continue;
            }
            Some(verb) => (verb, line),
            None => {
                let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(verb);
                    continue;
                }
                (verb, rest)
            }
        };
        match verb {
            "module" => module = Some(unquote(rest)),
            "require" => {
                let mut words = rest.split_whitespace();
                let (Some(path), Some(version)) = (words.next(), words.next()) else {
                    return Err(format!(
                        "line {}: require needs a path and a version",
                        n + 1
                    ));
                };
                requires.push(Require {
                    path: unquote(path),
                    version,
                    indirect,
                });
            }
            "replace" => {
                let (old, new) = rest
                    .split_once("=>")
                    .ok_or_else(|| format!("line {}: replace without =>", n + 1))?;
                let mut old = old.split_whitespace();
                let mut new = new.split_whitespace();
                let (Some(old_path), Some(new_path)) = (old.next(), new.next()) else {
                    return Err(format!("line {}: replace needs two paths", n + 1));
                };
                replaces.push(Replace {
                    old: unquote(old_path),
                    old_version: old.next(),
                    new: unquote(new_path),
                    new_version: new.next(),
                });
            }
            "go" | "toolchain" | "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => return Err(format!("line {}: unknown directive {other:?}", n + 1)),
        }
    }
    if block.is_some() {
        return Err("unclosed ( block".into());
    }
    Ok((module, requires, replaces))
}

fn unquote(s: &str) -> &str {
    s.trim_matches('"').trim_matches('`')
}

/// Reads a `go.sum` alone: each module version with a content checksum (lines for a
/// `/go.mod` file only say the module graph was consulted).
pub(super) fn parse_sum(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, langpkg::MAX_TEXT_BYTES, &mut out.warnings) else {
        return;
    };
    let mut pins: Vec<(&str, &str)> = Vec::new();
    let mut lines = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        let mut words = line.split_whitespace();
        if let (Some(path), Some(version), Some(_)) = (words.next(), words.next(), words.next())
            && !version.ends_with("/go.mod")
        {
            pins.push((path, version));
        }
    }
    pins.sort_unstable();
    pins.dedup();
    if pins.is_empty() && lines > 0 {
        out.warnings.push(warning(
            &entry.path,
            "go.sum lists no module content checksums",
        ));
    }
    for (path, version) in pins {
        out.packages.push(module(path, version, entry).build());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_single_lines_and_replacements() {
        let text = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgithub.com/c/d v0.2.0 // indirect\n)\nrequire golang.org/x/net v0.1.0\nreplace golang.org/x/net => github.com/fork/net v0.1.1\nreplace (\n\tgithub.com/c/d v0.2.0 => ./local\n)\n";
        let (module, requires, replaces) = directives(text).unwrap();
        assert_eq!(module, Some("example.com/app"));
        assert_eq!(requires.len(), 3);
        assert!(requires[1].indirect);
        assert_eq!(replaces.len(), 2);
        assert_eq!(replaces[1].new_version, None);
        assert!(directives("require (\n a v1\n").is_err());
        assert!(directives("module m\nruire (\n a v1\n)\n").is_err());
    }
}
