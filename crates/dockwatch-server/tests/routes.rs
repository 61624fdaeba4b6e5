//! The router, without sockets (`oneshot`): every route of the OpenAPI document refuses
//! anonymous callers, roles are enforced, bad input gets 400 naming the field, and domain
//! verification asks a real DNS server (dnsmasq on a loopback port).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dockwatch_server::{AppState, ServerConfig, app};
use dockwatch_store::{Store, StoreConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

const OWNER: &str = "owner-secret";

struct Fixture {
    app: Router,
    _dir: tempfile::TempDir,
}

async fn fixture(config: ServerConfig) -> Fixture {
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
    Fixture {
        app: app(AppState::new(store, config).unwrap()),
        _dir: dir,
    }
}

/// Sends a request; `auth` is a bearer secret or a `cookie:` header value.
async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    match auth {
        Some(a) if a.starts_with("cookie:") => {
            req = req.header(header::COOKIE, &a["cookie:".len()..])
        }
        Some(a) => req = req.header(header::AUTHORIZATION, format!("Bearer {a}")),
        None => {}
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
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

/// Invites `email` as `role`, accepts, signs in, and returns a personal admin token.
async fn member_token(app: &Router, email: &str, role: &str) -> String {
    let (s, inv, _) = call(
        app,
        "POST",
        "/api/v1/orgs/default/invitations",
        Some(OWNER),
        Some(&json!({"email": email, "role": role}).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    let accept = json!({"token": inv["token"], "password": "a good password"}).to_string();
    let (s, body, _) = call(
        app,
        "POST",
        "/api/v1/invitations/accept",
        None,
        Some(&accept),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let signin = json!({"email": email, "password": "a good password"}).to_string();
    let (s, _, cookie) = call(app, "POST", "/api/v1/auth/signin", None, Some(&signin)).await;
    assert_eq!(s, StatusCode::OK);
    let cookie = cookie.unwrap();
    let session = format!("cookie:{}", cookie.split(';').next().unwrap());
    let (s, token, _) = call(
        app,
        "POST",
        "/api/v1/user/tokens",
        Some(&session),
        Some(r#"{"name":"cli","scopes":["admin"]}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{token}");
    token["secret"].as_str().unwrap().to_owned()
}

/// Every operation of the document: (method, concrete path, the roles its security names).
async fn operations(app: &Router) -> Vec<(String, String, Vec<String>)> {
    let (s, doc, _) = call(app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let concrete = path
                .replace("{org}", "default")
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let roles = op["security"]
                .as_array()
                .map(|reqs| {
                    reqs.iter()
                        .filter_map(|r| r.get("token").or_else(|| r.get("agent")))
                        .flat_map(|s| {
                            s.as_array()
                                .unwrap()
                                .iter()
                                .map(|v| v.as_str().unwrap().to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((method.to_uppercase(), concrete, roles));
        }
    }
    out
}

fn body_for(method: &str) -> Option<&'static str> {
    matches!(method, "POST" | "PUT" | "PATCH").then_some("{}")
}

#[tokio::test]
async fn no_route_but_health_readiness_and_sign_in_answers_without_credentials() {
    let f = fixture(ServerConfig::default()).await;
    let ops = operations(&f.app).await;
    assert!(ops.len() >= 30, "{} operations", ops.len());
    let mut public = Vec::new();
    for (method, path, roles) in &ops {
        let (status, body, _) = call(&f.app, method, path, None, body_for(method)).await;
        if roles.is_empty() {
            public.push(path.clone());
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} is documented public"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} answered {status} without credentials: {body}"
            );
        }
        // A wrong token is refused the same way.
        if !roles.is_empty() {
            let (status, _, _) = call(&f.app, method, path, Some("wrong"), body_for(method)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a wrong token"
            );
        }
    }
    public.sort();
    public.dedup();
    assert_eq!(
        public,
        [
            "/api/v1/auth/signin",
            "/api/v1/auth/signout",
            "/api/v1/auth/signup",
            "/api/v1/invitations/accept",
            "/healthz",
            "/readyz"
        ]
    );
}

#[tokio::test]
async fn members_and_editors_are_refused_what_needs_a_higher_role() {
    let f = fixture(ServerConfig::default()).await;
    let token = member_token(&f.app, "mia@example.com", "member").await;
    let ops = operations(&f.app).await;
    let mut refused = 0;
    for (method, path, roles) in &ops {
        // Agent routes take machine credentials, never user tokens: 401 for everyone.
        if roles.iter().any(|r| r == "enroll-token" || r == "signed") {
            continue;
        }
        let (status, body, _) = call(&f.app, method, path, Some(&token), body_for(method)).await;
        if roles.iter().any(|r| r == "owner" || r == "editor") {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "member: {method} {path}: {body}"
            );
            refused += 1;
        } else {
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "member: {method} {path} answered {status}: {body}"
            );
        }
    }
    assert!(refused >= 20, "{refused} refusals");

    // Promoted to editor, the same token may write repositories but nothing owner-only.
    let (s, _, _) = call(
        &f.app,
        "PATCH",
        "/api/v1/orgs/default/members/mia@example.com",
        Some(OWNER),
        Some(r#"{"role":"editor"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    for (method, path, roles) in &ops {
        let (status, body, _) = call(&f.app, method, path, Some(&token), body_for(method)).await;
        if roles.iter().any(|r| r == "owner") {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "editor: {method} {path}: {body}"
            );
        } else {
            assert_ne!(
                status,
                StatusCode::FORBIDDEN,
                "editor: {method} {path}: {body}"
            );
        }
    }
    let (s, _, _) = call(
        &f.app,
        "POST",
        "/api/v1/orgs/default/repositories",
        Some(&token),
        Some(r#"{"name":"web"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // A read-scoped token of the owner acts as a member.
    let (_, read, _) = call(
        &f.app,
        "POST",
        "/api/v1/user/tokens",
        Some(OWNER),
        Some(r#"{"name":"ro","scopes":["read"]}"#),
    )
    .await;
    let read = read["secret"].as_str().unwrap();
    let (s, _, _) = call(
        &f.app,
        "POST",
        "/api/v1/orgs/default/teams",
        Some(read),
        Some(r#"{"name":"ops"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/teams",
        Some(read),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_gets_400_naming_the_field_and_changes_nothing() {
    let f = fixture(ServerConfig::default()).await;
    let teams = "/api/v1/orgs/default/teams";
    let cases: Vec<(String, Option<&str>)> = vec![
        (r#"{"name": "ops""#.into(), None),
        (r#"{"name": "ops", "colour": "red"}"#.into(), Some("colour")),
        (r#"{"name": 7}"#.into(), Some("name")),
        (r#"{"name": "Not Valid"}"#.into(), Some("name")),
        ("{}".into(), Some("name")),
        (
            json!({"name": "a".repeat(100_000)}).to_string(),
            Some("body"),
        ),
    ];
    for (body, field) in cases {
        let (s, err, _) = call(&f.app, "POST", teams, Some(OWNER), Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"]["code"], "invalid-request");
        assert_eq!(err["error"]["field"].as_str(), field, "{err}");
    }
    let (s, err, _) = call(
        &f.app,
        "POST",
        "/api/v1/orgs/default/invitations",
        Some(OWNER),
        Some(r#"{"email":"not-an-email"}"#),
    )
    .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("email"))
    );
    let (s, err, _) = call(
        &f.app,
        "PATCH",
        "/api/v1/orgs/default/members/owner@example.com",
        Some(OWNER),
        Some(r#"{"role":"boss"}"#),
    )
    .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("role"))
    );
    let (s, _, _) = call(&f.app, "GET", "/api/v1/orgs/nope/teams", Some(OWNER), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/teams/nope",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(
        &f.app,
        "POST",
        teams,
        Some(OWNER),
        Some(r#"{"name":"ops"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = call(
        &f.app,
        "POST",
        teams,
        Some(OWNER),
        Some(r#"{"name":"ops"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, err, _) = call(
        &f.app,
        "PATCH",
        "/api/v1/orgs/default/members/owner@example.com",
        Some(OWNER),
        Some(r#"{"role":"member"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "the last owner stays: {err}");
    let (_, list, _) = call(&f.app, "GET", teams, Some(OWNER), None).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing half-written: {list}"
    );
    let (_, events, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "team.created")
            .count(),
        1
    );
    let (s, err, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events?limit=0",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited() {
    let f = fixture(ServerConfig::default()).await;
    member_token(&f.app, "rae@example.com", "member").await;
    let wrong = r#"{"email":"rae@example.com","password":"wrong password"}"#;
    for _ in 0..dockwatch_server::limiter::MAX_FAILURES {
        let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(wrong)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let right = r#"{"email":"rae@example.com","password":"a good password"}"#;
    let (s, err, _) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(right)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{err}");
}

#[tokio::test]
async fn domains_verify_against_a_real_dns_server() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resolver = format!("127.0.0.1:{port}").parse().unwrap();
    let f = fixture(ServerConfig {
        dns_resolver: Some(resolver),
        ..ServerConfig::default()
    })
    .await;
    let domains = "/api/v1/orgs/default/domains";
    let (s, d, _) = call(
        &f.app,
        "POST",
        domains,
        Some(OWNER),
        Some(r#"{"name":"corp.example"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let record = d["txt_record"].as_str().unwrap().to_owned();
    let verify = "/api/v1/orgs/default/domains/corp.example/verify";
    let mut dns = std::process::Command::new("dnsmasq")
        .args([
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--user=root",
        ])
        .arg(format!("--port={port}"))
        .arg("--txt-record=corp.example,unrelated")
        .arg("--txt-record=other.example,dockwatch-verification=wrong")
        .spawn()
        .expect("dnsmasq (Debian package dnsmasq-base)");
    // Wait until dnsmasq answers (it prints nothing we can wait on).
    let mut answered = None;
    for _ in 0..50 {
        let (s, body, _) = call(&f.app, "POST", verify, Some(OWNER), None).await;
        if s != StatusCode::BAD_GATEWAY {
            answered = Some((s, body));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (s, body) = answered.expect("dnsmasq answered");
    assert_eq!(s, StatusCode::CONFLICT, "no matching record yet: {body}");
    dns.kill().unwrap();
    dns.wait().unwrap();

    let mut dns = std::process::Command::new("dnsmasq")
        .args([
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--user=root",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--txt-record=corp.example,{record}"))
        .spawn()
        .unwrap();
    let mut verified = None;
    for _ in 0..50 {
        let (s, body, _) = call(&f.app, "POST", verify, Some(OWNER), None).await;
        if s == StatusCode::OK {
            verified = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    dns.kill().unwrap();
    dns.wait().unwrap();
    let body = verified.expect("verified once the record is published");
    assert_eq!(body["verified"], true);
    let (_, events, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/events",
        Some(OWNER),
        None,
    )
    .await;
    assert_eq!(events[0]["action"], "domain.verified");
}

#[tokio::test]
async fn the_bootstrap_owner_sets_a_password_and_signs_in() {
    let f = fixture(ServerConfig::default()).await;
    let signin = r#"{"email":"owner@example.com","password":"owner's password"}"#;
    let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(signin)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no password yet");
    let (s, err, _) = call(
        &f.app,
        "PUT",
        "/api/v1/user/password",
        Some(OWNER),
        Some(r#"{"password":"short"}"#),
    )
    .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let (s, _, _) = call(
        &f.app,
        "PUT",
        "/api/v1/user/password",
        Some(OWNER),
        Some(r#"{"password":"owner's password"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, cookie) = call(&f.app, "POST", "/api/v1/auth/signin", None, Some(signin)).await;
    assert_eq!(s, StatusCode::OK);
    let session = format!("cookie:{}", cookie.unwrap().split(';').next().unwrap());
    let (s, me, _) = call(&f.app, "GET", "/api/v1/user", Some(&session), None).await;
    assert_eq!(
        (s, me["user"]["email"].as_str()),
        (StatusCode::OK, Some("owner@example.com"))
    );
    // Now the current password is required.
    let (s, err, _) = call(
        &f.app,
        "PUT",
        "/api/v1/user/password",
        Some(&session),
        Some(r#"{"password":"another password"}"#),
    )
    .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("current_password"))
    );
    let (s, _, _) = call(&f.app, "POST", "/api/v1/auth/signout", Some(&session), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = call(&f.app, "GET", "/api/v1/user", Some(&session), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "signed out");
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let f = fixture(ServerConfig::default()).await;
    let (s, t, _) = call(
        &f.app,
        "POST",
        "/api/v1/orgs/default/tokens",
        Some(OWNER),
        Some(r#"{"name":"ci","scopes":["read"]}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let secret = t["secret"].as_str().unwrap();
    let (s, _, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/repositories",
        Some(secret),
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the token works (and its lookup is cached)"
    );
    let revoke = format!("/api/v1/orgs/default/tokens/{}", t["id"].as_str().unwrap());
    let (s, _, _) = call(&f.app, "DELETE", &revoke, Some(OWNER), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = call(
        &f.app,
        "GET",
        "/api/v1/orgs/default/repositories",
        Some(secret),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revocation clears the cache");
}

#[tokio::test]
async fn metrics_count_requests() {
    let f = fixture(ServerConfig::default()).await;
    call(&f.app, "GET", "/api/v1/orgs", None, None).await;
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("dockwatch_build_info{version="), "{text}");
    let unauthorized = text
        .lines()
        .find(|l| l.starts_with(r#"dockwatch_http_requests_total{method="GET",status="4xx"}"#))
        .unwrap();
    assert_ne!(unauthorized.rsplit(' ').next(), Some("0"), "{text}");
}
