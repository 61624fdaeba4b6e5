use super::*;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

async fn fetch(uri: &str, if_none_match: Option<&str>) -> Response {
    let mut req = Request::get(uri);
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    routes::<()>()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn text(name: &str) -> &'static str {
    std::str::from_utf8(find(name).unwrap().bytes).unwrap()
}

#[test]
fn every_file_in_the_assets_folder_is_served() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/assets");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut listed: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
    on_disk.sort();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[tokio::test]
async fn index_and_assets_have_their_types_and_the_policy() {
    for (uri, want) in [
        ("/", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
        ("/console/favicon.svg", "image/svg+xml"),
    ] {
        let r = fetch(uri, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{uri}");
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], want, "{uri}");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }
}

#[tokio::test]
async fn unknown_files_are_404_and_paths_do_not_escape() {
    for uri in [
        "/console/nope.js",
        "/console/..%2Fmod.rs",
        "/console/assets/app.js",
    ] {
        assert_eq!(
            fetch(uri, None).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn an_unchanged_asset_is_not_sent_again() {
    let first = fetch("/console/app.js", None).await;
    let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let again = fetch("/console/app.js", Some(&tag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let other = fetch("/console/app.js", Some("\"0\"")).await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[test]
fn the_policy_forbids_inline_code_and_foreign_origins() {
    let csp = CONTENT_SECURITY_POLICY;
    assert!(csp.starts_with("default-src 'none';"));
    for directive in [
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self';",
    ] {
        assert!(csp.contains(directive), "{directive}");
    }
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
}

/// The policy would block inline scripts, inline styles and HTML sinks at run time; catching
/// them here names the file instead of leaving a blank page.
#[test]
fn pages_use_no_inline_code_and_no_html_sinks() {
    let html = text("index.html");
    for bad in [
        " style=",
        " onclick=",
        " onload=",
        " onsubmit=",
        "<style",
        "javascript:",
    ] {
        assert!(!html.contains(bad), "index.html contains {bad:?}");
    }
    for script in html.split("<script").skip(1) {
        assert!(
            script.contains("src=\"/console/"),
            "inline script: {script}"
        );
    }
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let js = text(asset.name);
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            ".style.",
            "http://",
            "https://",
        ] {
            assert!(!js.contains(sink), "{} uses {sink:?}", asset.name);
        }
    }
}

#[test]
fn every_module_imported_is_embedded() {
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for line in text(asset.name).lines() {
            if let Some(rest) = line.split(" from \"./").nth(1) {
                let name = rest.split('"').next().unwrap();
                assert!(find(name).is_some(), "{} imports {name}", asset.name);
            }
        }
    }
}
