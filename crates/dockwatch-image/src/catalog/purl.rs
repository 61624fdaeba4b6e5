//! Package URLs and CPEs for OS packages, written as Syft writes them.
//!
//! purl: `pkg:<type>/<namespace>/<name>@<version>?<sorted qualifiers>&distro=<id>-<version_id>`.
//! Syft appends `distro` after the sorted qualifiers (Trivy sorts it in); we follow Syft, which is
//! why this is not the `packageurl` crate: that crate always sorts every qualifier.
//! Every character outside `A-Z a-z 0-9 - . _ ~` is percent-encoded, as current Syft and Trivy do
//! (`1%3A2.36-9%2Bdeb12u7`, `upstream=attr%401%3A2.4.47-2`).

use dockwatch_core::{Distro, PackageType};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the purl spec's unreserved characters.
const PURL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, PURL_ENCODE).to_string()
}

/// The `distro` qualifier value: `<id>-<version_id>`, or `<id>` without a version.
pub fn distro_qualifier(distro: &Distro) -> String {
    match distro.version_id.as_deref() {
        Some(v) if !v.is_empty() => format!("{}-{}", distro.id, v),
        _ => distro.id.clone(),
    }
}

/// Builds an OS package's purl. `qualifiers` with empty values are left out; the rest are sorted
/// by key and `distro` (when known) comes last.
pub fn os_purl(
    kind: PackageType,
    namespace: &str,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
    distro: Option<&Distro>,
) -> String {
    let mut out = format!("pkg:{}/", kind.as_str());
    if !namespace.is_empty() {
        out.push_str(&enc(&namespace.to_lowercase()));
        out.push('/');
    }
    out.push_str(&enc(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&enc(version));
    }
    let mut pairs: Vec<(&str, &str)> = qualifiers
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let distro_value = distro.filter(|d| !d.id.is_empty()).map(distro_qualifier);
    let mut rendered: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    if let Some(d) = distro_value {
        rendered.push(format!("distro={}", enc(&d)));
    }
    if !rendered.is_empty() {
        out.push('?');
        out.push_str(&rendered.join("&"));
    }
    out
}

/// The namespace Syft uses: the distro's `ID` (`rhel` becomes `redhat`), else `fallback`.
pub fn namespace<'a>(distro: Option<&'a Distro>, fallback: &'a str) -> &'a str {
    match distro.map(|d| d.id.as_str()) {
        Some("rhel") => "redhat",
        Some(id) if !id.is_empty() => id,
        _ => fallback,
    }
}

/// CPE 2.3 candidates for an OS package, generated as Syft does when its dictionary has no entry:
/// products are the name with `-` and with `_` as separators; vendors are every leading run of
/// the name's words (`ca`, `ca-certificates`, `ca-certificates-bundle`), with both separators.
/// Most specific (longest) first, then alphabetical.
pub fn os_cpes(name: &str, version: &str) -> Vec<String> {
    if name.is_empty() || version.is_empty() {
        return Vec::new();
    }
    let variations = |s: &str| {
        let mut v = vec![s.to_owned(), s.replace('_', "-"), s.replace('-', "_")];
        v.sort();
        v.dedup();
        v
    };
    let products = variations(name);
    let mut vendors = Vec::new();
    for (i, c) in name.char_indices() {
        if matches!(c, '-' | '_') && i > 0 {
            vendors.extend(variations(&name[..i]));
        }
    }
    vendors.extend(variations(name));
    let mut pairs: Vec<(String, String)> = Vec::new();
    for v in &vendors {
        for p in &products {
            let pair = (v.clone(), p.clone());
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    pairs.sort_by(|a, b| {
        (b.0.len() + b.1.len())
            .cmp(&(a.0.len() + a.1.len()))
            .then_with(|| a.cmp(b))
    });
    pairs
        .into_iter()
        .map(|(v, p)| {
            format!(
                "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
                cpe_escape(&v),
                cpe_escape(&p),
                cpe_escape(version)
            )
        })
        .collect()
}

/// Escapes a CPE 2.3 formatted-string component (backslash before special characters).
fn cpe_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version: Option<&str>) -> Distro {
        Distro {
            id: id.into(),
            version_id: version.map(Into::into),
            ..Distro::default()
        }
    }

    #[test]
    fn deb_purl_as_syft_writes_it() {
        let d = distro("debian", Some("12"));
        let purl = os_purl(
            PackageType::Deb,
            namespace(Some(&d), "debian"),
            "libc6",
            "2.36-9+deb12u7",
            &[("arch", "amd64"), ("upstream", "glibc")],
            Some(&d),
        );
        assert_eq!(
            purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&upstream=glibc&distro=debian-12"
        );
        let purl = os_purl(
            PackageType::Deb,
            "debian",
            "libattr1",
            "1:2.4.47-2+b2",
            &[("arch", "amd64"), ("upstream", "attr@1:2.4.47-2")],
            Some(&distro("debian", Some("9"))),
        );
        assert_eq!(
            purl,
            "pkg:deb/debian/libattr1@1%3A2.4.47-2%2Bb2?arch=amd64&upstream=attr%401%3A2.4.47-2&distro=debian-9"
        );
    }

    #[test]
    fn rpm_purl_puts_epoch_in_a_qualifier_and_distro_last() {
        let d = distro("rhel", Some("9.4"));
        let purl = os_purl(
            PackageType::Rpm,
            namespace(Some(&d), ""),
            "bash",
            "5.1.8-6.el9",
            &[
                ("upstream", "bash-5.1.8-6.el9.src.rpm"),
                ("epoch", "1"),
                ("arch", "x86_64"),
            ],
            Some(&d),
        );
        assert_eq!(
            purl,
            "pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&epoch=1&upstream=bash-5.1.8-6.el9.src.rpm&distro=rhel-9.4"
        );
    }

    #[test]
    fn empty_qualifiers_and_unknown_distro_are_left_out() {
        let purl = os_purl(
            PackageType::Apk,
            "alpine",
            "musl",
            "1.2.5-r0",
            &[("arch", ""), ("upstream", "")],
            None,
        );
        assert_eq!(purl, "pkg:apk/alpine/musl@1.2.5-r0");
        assert_eq!(
            distro_qualifier(&distro("alpine", Some("3.20.3"))),
            "alpine-3.20.3"
        );
        assert_eq!(distro_qualifier(&distro("wolfi", None)), "wolfi");
    }

    /// Syft's own alpine SBOM golden: for every apk package, the CPEs Syft generated.
    #[test]
    fn cpes_match_syft_golden_for_every_apk_package() {
        let path =
            dockwatch_testdata::fixture("syft/sbom-format/syft/format/testdata/alpine-syft.json");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut compared = 0;
        for a in doc["artifacts"].as_array().unwrap() {
            if a["type"] != "apk" {
                continue;
            }
            let want: Vec<&str> = a["cpes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            let name = a["name"].as_str().unwrap();
            assert_eq!(
                os_cpes(name, a["version"].as_str().unwrap()),
                want,
                "{name}"
            );
            compared += 1;
        }
        assert!(compared >= 10, "{compared}");
    }

    #[test]
    fn cpes_follow_syft_candidate_order() {
        assert_eq!(
            os_cpes("alpine-baselayout", "3.2.0-r16"),
            [
                "cpe:2.3:a:alpine-baselayout:alpine-baselayout:3.2.0-r16:*:*:*:*:*:*:*",
                "cpe:2.3:a:alpine-baselayout:alpine_baselayout:3.2.0-r16:*:*:*:*:*:*:*",
                "cpe:2.3:a:alpine_baselayout:alpine-baselayout:3.2.0-r16:*:*:*:*:*:*:*",
                "cpe:2.3:a:alpine_baselayout:alpine_baselayout:3.2.0-r16:*:*:*:*:*:*:*",
                "cpe:2.3:a:alpine:alpine-baselayout:3.2.0-r16:*:*:*:*:*:*:*",
                "cpe:2.3:a:alpine:alpine_baselayout:3.2.0-r16:*:*:*:*:*:*:*",
            ]
        );
        assert_eq!(
            os_cpes("ssl_client", "1.33.1-r3"),
            [
                "cpe:2.3:a:ssl-client:ssl-client:1.33.1-r3:*:*:*:*:*:*:*",
                "cpe:2.3:a:ssl-client:ssl_client:1.33.1-r3:*:*:*:*:*:*:*",
                "cpe:2.3:a:ssl_client:ssl-client:1.33.1-r3:*:*:*:*:*:*:*",
                "cpe:2.3:a:ssl_client:ssl_client:1.33.1-r3:*:*:*:*:*:*:*",
                "cpe:2.3:a:ssl:ssl-client:1.33.1-r3:*:*:*:*:*:*:*",
                "cpe:2.3:a:ssl:ssl_client:1.33.1-r3:*:*:*:*:*:*:*",
            ]
        );
        assert_eq!(os_cpes("ca-certificates-bundle", "1").len(), 10);
        assert_eq!(
            os_cpes("bash", "1:5.2"),
            ["cpe:2.3:a:bash:bash:1\\:5.2:*:*:*:*:*:*:*"]
        );
        assert!(os_cpes("bash", "").is_empty());
    }
}
