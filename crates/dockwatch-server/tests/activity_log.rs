//! The activity log through the router (`oneshot`) on SQLite and PostgreSQL: the actions
//! catalogue, sign-in/sign-out/token-use events, streamed export, retention with prune
//! checkpoints and signed checkpoints.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use dockwatch_server::{AppState, ServerConfig, app};
use dockwatch_store::testing::TempDatabase;
use dockwatch_store::{Store, StoreConfig};
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

const OWNER: &str = "owner-secret";

struct Fixture {
    app: Router,
    store: Store,
    _dir: tempfile::TempDir,
    pg: Option<TempDatabase>,
}

impl Fixture {
    async fn finish(self) {
        self.store.close().await;
        if let Some(db) = self.pg {
            db.drop_now().await.unwrap();
        }
    }
}

/// A bootstrapped server on SQLite, or on a fresh PostgreSQL database.
async fn fixture(postgres: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let pg = if postgres {
        Some(TempDatabase::create().await.unwrap())
    } else {
        None
    };
    let store = Store::open(&StoreConfig {
        database_url: pg.as_ref().map(|d| d.url.clone()),
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
    Fixture {
        app: app(AppState::new(store.clone(), ServerConfig::default()).unwrap()),
        store,
        _dir: dir,
        pg,
    }
}

/// Runs `check` on SQLite and on PostgreSQL.
macro_rules! both {
    ($name:ident, $check:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let f = super::fixture(false).await;
                super::$check(&f).await;
                f.finish().await;
            }
            #[tokio::test]
            async fn postgres() {
                let f = super::fixture(true).await;
                super::$check(&f).await;
                f.finish().await;
            }
        }
    };
}

/// Sends a request from 192.0.2.7 with a User-Agent; `auth` is a bearer secret or `cookie:...`.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> axum::response::Response {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "activity-log-test/1");
    match auth {
        Some(a) if a.starts_with("cookie:") => {
            req = req.header(header::COOKIE, &a["cookie:".len()..])
        }
        Some(a) => req = req.header(header::AUTHORIZATION, format!("Bearer {a}")),
        None => {}
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000))));
    app.clone().oneshot(req).await.unwrap()
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let resp = send(app, method, uri, auth, body).await;
    let status = resp.status();
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        cookie,
    )
}

/// The default organization's events matching `query`.
async fn search(app: &Router, query: &str) -> Vec<Value> {
    let (s, body, _) = call(
        app,
        "GET",
        &format!("/api/v1/orgs/default/events?{query}"),
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

async fn catalogue(f: &Fixture) {
    let (s, body, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events/actions",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for expected in ["member.role.changed", "auth.signin.failed", "fleet.compliance.silent"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    // Every action already in the log is in the catalogue.
    for e in search(&f.app, "limit=1000").await {
        assert!(names.contains(&e["action"].as_str().unwrap()), "{e}");
    }
}
both!(the_catalogue_lists_every_recorded_action, catalogue);

async fn sign_ins(f: &Fixture) {
    // The owner sets a password, then signs in wrongly, rightly, and out.
    let (s, body, _) = call(
        &f.app,
        "PUT",
        "/api/v1/user/password",
        Some(OWNER),
        Some(r#"{"password":"owner's password"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let wrong = r#"{"email":"owner@example.com","password":"not the password"}"#;
    let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(wrong)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let unknown = r#"{"email":"mallory@example.com","password":"guess"}"#;
    let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(unknown)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let right = r#"{"email":"owner@example.com","password":"owner's password"}"#;
    let (s, _, cookie) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(right)).await;
    assert_eq!(s, StatusCode::OK);
    let cookie = format!("cookie:{}", cookie.unwrap().split(';').next().unwrap());
    let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signout", Some(&cookie), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let failed = search(&f.app, "action=auth.signin.failed").await;
    assert_eq!(failed.len(), 1, "only the known user's failure is in the org: {failed:?}");
    let e = &failed[0];
    assert_eq!(e["actor"]["name"], "owner@example.com");
    assert_eq!(e["actor"]["ip"], "192.0.2.7");
    assert_eq!(e["actor"]["user_agent"], "activity-log-test/1");
    assert_eq!(e["details"]["reason"], "wrong password");
    assert!(!e.to_string().contains("not the password"), "{e}");
    assert_eq!(search(&f.app, "action=auth.signin.succeeded").await.len(), 1);
    assert_eq!(search(&f.app, "action=auth.signout").await.len(), 1);

    // The unknown email's failure went to the instance log, which still verifies.
    let instance = f.store.events_in_chain_order("").await.unwrap();
    let unknown: Vec<_> = instance
        .iter()
        .filter(|e| e.action == "auth.signin.failed")
        .collect();
    assert_eq!(unknown.len(), 1, "{instance:?}");
    assert_eq!(unknown[0].actor.name, "mallory@example.com");
    assert!(!unknown[0].details.contains("guess"));
    assert!(f.store.verify_events("").await.unwrap().is_ok());

    // The bootstrap token's use is logged once however often it is used.
    let used = search(&f.app, "action=auth.token.used").await;
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(used[0]["target"]["kind"], "token");
}
both!(sign_ins_sign_outs_and_token_use_are_events, sign_ins);
