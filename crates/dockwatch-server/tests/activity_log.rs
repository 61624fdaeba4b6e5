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
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

const OWNER: &str = "owner-secret";

struct Fixture {
    app: Router,
    state: AppState,
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
    let state = AppState::new(store, ServerConfig::default()).unwrap();
    Fixture {
        app: app(state.clone()),
        store: state.store.clone(),
        state,
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
    for expected in [
        "member.role.changed",
        "auth.signin.failed",
        "fleet.compliance.silent",
    ] {
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
    assert_eq!(
        failed.len(),
        1,
        "only the known user's failure is in the org: {failed:?}"
    );
    let e = &failed[0];
    assert_eq!(e["actor"]["name"], "owner@example.com");
    assert_eq!(e["actor"]["ip"], "192.0.2.7");
    assert_eq!(e["actor"]["user_agent"], "activity-log-test/1");
    assert_eq!(e["details"]["reason"], "wrong password");
    assert!(!e.to_string().contains("not the password"), "{e}");
    assert_eq!(
        search(&f.app, "action=auth.signin.succeeded").await.len(),
        1
    );
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

/// The default organization's id.
async fn default_org(store: &Store) -> String {
    let p = store.authenticate_token(OWNER).await.unwrap().unwrap();
    store
        .org_with_role("default", &p.user.unwrap().id)
        .await
        .unwrap()
        .0
        .id
}

/// Appends `n` events to `org_id` through the write path, 1000 per transaction.
async fn fill(store: &Store, org_id: &str, n: usize) {
    use dockwatch_store::write::{Change, target};
    let actor = dockwatch_store::Actor {
        kind: "user".into(),
        id: "u-bulk".into(),
        name: "bulk@example.com".into(),
        ip: Some("198.51.100.4".into()),
        user_agent: Some("filler, \"quoted\"".into()),
    };
    let mut done = 0;
    while done < n {
        let mut w = store.write(&actor).await.unwrap();
        for i in done..(done + 1000).min(n) {
            w.record(
                Change::new(
                    org_id,
                    "repository.updated",
                    target("repository", &format!("r{i}"), &format!("repo-{i}")),
                    format!("changed the description of repository repo-{i}, line\nbreak"),
                )
                .details(json!({ "i": i, "note": "comma, \"quote\"" })),
            );
        }
        w.commit().await.unwrap();
        done = (done + 1000).min(n);
    }
}

/// Reads a streamed body; returns its bytes and the size of its largest chunk.
async fn read_stream(resp: axum::response::Response) -> (Vec<u8>, usize, usize) {
    use futures_util::StreamExt;
    let mut stream = resp.into_body().into_data_stream();
    let (mut all, mut largest, mut chunks) = (Vec::new(), 0, 0);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        largest = largest.max(chunk.len());
        chunks += 1;
        all.extend_from_slice(&chunk);
    }
    (all, largest, chunks)
}

const ROWS: usize = 50_000;

async fn export(f: &Fixture) {
    let org_id = default_org(&f.store).await;
    fill(&f.store, &org_id, ROWS).await;
    // The owner token's use is logged at its first request: make it before counting.
    search(&f.app, "limit=1").await;
    let total = f.store.events_in_chain_order(&org_id).await.unwrap();
    assert!(total.len() > ROWS);
    let by_id: std::collections::HashMap<&str, &dockwatch_core::event::Event> =
        total.iter().map(|e| (e.id.as_str(), e)).collect();

    // CSV: a stable header, every matching row, each hashing to its recorded hash.
    let resp = send(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events/export?format=csv&action=repository.*",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let (body, largest, chunks) = read_stream(resp).await;
    // Streamed: the body came page by page, no chunk near the whole.
    assert!(chunks > ROWS / 1000, "{chunks} chunks");
    assert!(
        largest * 20 < body.len(),
        "largest chunk {largest} of {}",
        body.len()
    );
    let mut reader = csv::Reader::from_reader(&body[..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        dockwatch_server::api::v1::events_export::CSV_COLUMNS
    );
    let mut rows = 0;
    let mut last_time = i64::MAX;
    for record in reader.records() {
        let r = record.unwrap();
        let stored = by_id[&r[0]];
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let event = dockwatch_core::event::Event {
            id: r[0].to_owned(),
            org_id: org_id.clone(),
            seq: r[1].parse().unwrap(),
            time_ms: r[17].parse().unwrap(),
            actor: dockwatch_store::Actor {
                kind: r[5].into(),
                id: r[6].into(),
                name: r[7].into(),
                ip: opt(&r[8]),
                user_agent: opt(&r[9]),
            },
            action: r[4].into(),
            target: dockwatch_store::Target {
                kind: r[10].into(),
                id: r[11].into(),
                name: r[12].into(),
            },
            sentence: r[13].into(),
            details: r[14].into(),
            prev_hash: r[15].into(),
            hash: r[16].into(),
        };
        assert_eq!(&event, stored);
        assert_eq!(dockwatch_core::event::chain_hash(&event), event.hash);
        assert_eq!(&r[3], "default");
        assert!(event.time_ms <= last_time, "newest first");
        last_time = event.time_ms;
        rows += 1;
    }
    assert_eq!(rows, ROWS);

    // JSON Lines: every event, as the search shows it.
    let resp = send(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events/export?format=jsonl",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (body, _, _) = read_stream(resp).await;
    let lines: Vec<Value> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), total.len());
    for l in &lines {
        let stored = by_id[l["id"].as_str().unwrap()];
        assert_eq!(l["hash"], stored.hash.as_str());
        assert_eq!(l["actor"]["user_agent"], json!(stored.actor.user_agent));
        assert_eq!(l["org"], "default");
    }

    // Bad parameters are named.
    for (query, field) in [
        ("format=xml", "format"),
        ("since=yesterday", "since"),
        ("action=Team", "action"),
    ] {
        let (s, body, _) = call(
            &f.app,
            "GET",
            &format!("/api/v1/orgs/default/events/export?{query}"),
            Some(OWNER),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
}
both!(export_streams_every_match, export);

async fn checkpoints(f: &Fixture) {
    let verify = |query: &'static str| {
        let app = f.app.clone();
        async move {
            let (s, body, _) = call(
                &app,
                "GET",
                &format!("/api/v1/orgs/default/events/verify{query}"),
                Some(OWNER),
                None,
            )
            .await;
            (s, body)
        }
    };
    // Retention of 1 day: the job prunes nothing recent, and checkpoints every chain.
    let (s, body, _) = call(
        &f.app,
        "PUT",
        "/api/v1/orgs/default/settings",
        Some(OWNER),
        Some(r#"{"event_retention_days": 1}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    dockwatch_server::activity_log_job::run_once(&f.state).await;
    let org_id = default_org(&f.store).await;
    let cps = f.store.checkpoints(&org_id).await.unwrap();
    assert_eq!(cps.len(), 1, "{cps:?}");
    assert!(
        search(&f.app, "action=activity_log.pruned")
            .await
            .is_empty()
    );
    let (s, v) = verify("").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checkpoint_seq"], cps[0].seq, "{v}");
    let (_, v) = verify("?full=true").await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checkpoint_seq"], Value::Null, "{v}");
    assert!(v["events"].as_i64().unwrap() >= cps[0].seq, "{v}");
    let (s, v) = verify("?full=perhaps").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "full", "{v}");
}
both!(the_job_checkpoints_and_verify_starts_there, checkpoints);

async fn bad_input(f: &Fixture) {
    for (path, field) in [
        ("events?limit=0", "limit"),
        ("events?limit=ten", "limit"),
        ("events?cursor=zz", "cursor"),
        ("events?cursor=", "cursor"),
        ("events?since=last%20tuesday", "since"),
        ("events?until=2026-13-01T00:00:00Z", "until"),
        ("events?action=Team%20created", "action"),
        ("events?colour=red", "colour"),
        ("events/feed?after=-1", "after"),
        ("events/feed?after=abc", "after"),
        ("events/feed?limit=5000", "limit"),
        ("events/export?format=xml", "format"),
        ("events/export?cursor=abc", "cursor"),
        ("events/verify?full=yes", "full"),
    ] {
        let (s, body, _) = call(
            &f.app,
            "GET",
            &format!("/api/v1/orgs/default/{path}"),
            Some(OWNER),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{path}: {body}"
        );
    }
}
both!(bad_filters_cursors_and_times_name_the_parameter, bad_input);
