//! Stored images and advisory imports through the router (`oneshot`, SQLite): bad input is a
//! 400 naming the parameter and stores nothing; an SBOM is matched when indexed; an advisory
//! import re-evaluates it.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dockwatch_server::{AppState, ServerConfig, app};
use dockwatch_store::{Store, StoreConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

const OWNER: &str = "owner-secret";

async fn fixture(with_db: bool) -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig {
        database_url: None,
        data_dir: dir.path().into(),
        max_connections: 4,
    })
    .await
    .unwrap();
    assert!(
        store
            .bootstrap(OWNER, "owner@example.com", "default")
            .await
            .unwrap()
    );
    let config = ServerConfig {
        advisory_db: with_db.then(|| dir.path().join("advisories")),
        ..ServerConfig::default()
    };
    (app(AppState::new(store, config).unwrap()), dir)
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<String>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {OWNER}"))
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A CycloneDX SBOM with one npm package.
fn cyclonedx(version: &str) -> Value {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "container", "name": "registry.example/web:2.0"}},
        "components": [{"type": "library", "name": "lodash", "version": version,
                        "purl": format!("pkg:npm/lodash@{version}")}]
    })
}

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn bad_images_get_400_naming_the_parameter_and_store_nothing() {
    let (app, _dir) = fixture(true).await;
    let images = "/api/v1/orgs/default/images";
    let cases = [
        (
            json!({"sbom": cyclonedx("4.17.20"), "digest": "sha256:XYZ"}),
            "digest",
        ),
        (json!({"sbom": {"hello": "world"}}), "sbom"),
        (
            json!({"sbom": {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": 3}]}}),
            "sbom",
        ),
        (
            json!({"sbom": cyclonedx("4.17.20"), "digets": "x"}),
            "digets",
        ),
        (json!({"digest": "sha256:00"}), "sbom"),
    ];
    for (body, expected) in cases {
        let (s, err) = call(&app, "POST", images, Some(body.to_string())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(field(&err), expected, "{body}: {err}");
    }
    let (s, err) = call(&app, "POST", images, Some("{not json".into())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    let (s, list) = call(&app, "GET", images, None).await;
    assert_eq!((s, list), (StatusCode::OK, json!([])));
    let (s, _) = call(
        &app,
        "GET",
        &format!("{images}/sha256:{}", "0".repeat(64)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_indexed_sbom_is_matched_then_re_evaluated_by_an_import() {
    let (app, _dir) = fixture(true).await;
    let images = "/api/v1/orgs/default/images";
    let (s, image) = call(
        &app,
        "POST",
        images,
        Some(json!({"sbom": cyclonedx("4.17.20")}).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{image}");
    assert_eq!(image["reference"], "registry.example/web:2.0");
    assert_eq!(image["findings"], 0);
    let digest = image["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");

    // Bad advisory bodies: 400 naming `body`, nothing imported.
    for bad in ["[1, 2", "\"text\""] {
        let (s, err) = call(&app, "POST", "/api/v1/advisories/import", Some(bad.into())).await;
        assert_eq!((s, field(&err)), (StatusCode::BAD_REQUEST, "body"), "{err}");
    }
    let advisory = json!({"id": "GHSA-35jh-r3h4-6jhm", "modified": "2023-01-01T00:00:00Z",
        "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]});
    let (s, result) = call(
        &app,
        "POST",
        "/api/v1/advisories/import",
        Some(advisory.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{result}");
    assert_eq!(result["reevaluation"]["new_findings"], 1, "{result}");
    let (_, vulns) = call(
        &app,
        "GET",
        &format!("{images}/{digest}/vulnerabilities"),
        None,
    )
    .await;
    assert_eq!(vulns[0]["advisory"], "GHSA-35jh-r3h4-6jhm", "{vulns}");
    assert_eq!(vulns[0]["severity"], "high");

    // Re-indexing the fixed version replaces the SBOM: 200, no findings.
    let (s, image) = call(
        &app,
        "POST",
        images,
        Some(json!({"sbom": cyclonedx("4.17.21"), "digest": digest}).to_string()),
    )
    .await;
    assert_eq!(
        (s, image["findings"].clone()),
        (StatusCode::OK, json!(0)),
        "{image}"
    );
    let (s, status) = call(&app, "GET", "/api/v1/advisories", None).await;
    assert_eq!(
        (s, status["advisories"].clone()),
        (StatusCode::OK, json!(1)),
        "{status}"
    );
    let (s, _) = call(&app, "DELETE", &format!("{images}/{digest}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn without_an_advisory_database_imports_are_refused_and_images_still_stored() {
    let (app, _dir) = fixture(false).await;
    let (s, err) = call(&app, "POST", "/api/v1/advisories/import", Some("[]".into())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("--db"),
        "{err}"
    );
    let (s, image) = call(
        &app,
        "POST",
        "/api/v1/orgs/default/images",
        Some(json!({"sbom": cyclonedx("4.17.20")}).to_string()),
    )
    .await;
    assert_eq!(
        (s, image["findings"].clone()),
        (StatusCode::CREATED, json!(0)),
        "{image}"
    );
}
