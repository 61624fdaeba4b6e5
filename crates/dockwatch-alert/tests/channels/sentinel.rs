//! Sentinel: the client-credentials token flow against a fake authority, then the Logs
//! Ingestion request (bearer token, gzip, JSON array) against a fake endpoint.

use super::common::{Receiver, Reply, ctx};
use dockwatch_alert::{ChannelConfig, Delivery, build};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;

fn config(authority: String, endpoint: String) -> ChannelConfig {
    serde_json::from_value(json!({
        "kind": "sentinel", "authority": authority, "tenant_id": "72f988bf-0000-4000-8000-2d7cd011db47",
        "client_id": "app-123", "client_secret": "s3cr3t value&=",
        "endpoint": endpoint, "dcr_immutable_id": "dcr-0123456789abcdef", "stream": "Custom-DockwatchEvents_CL",
    }))
    .unwrap()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

#[tokio::test]
async fn token_then_gzip_json_array() {
    let authority = Receiver::start(|_, _| {
        Reply::new(200, r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.fake.token"}"#)
    })
    .await;
    let ingest = Receiver::start(|_, _| Reply::new(204, "")).await;
    let channel = build(&config(authority.url("/"), ingest.url("")), &ctx()).unwrap();
    let events: Vec<dockwatch_alert::AlertEvent> = ["team.created", "team.deleted"]
        .iter()
        .map(|a| {
            serde_json::from_value(json!({
                "id": format!("ev-{a}"), "org": "acme", "time": "2026-11-25T13:14:15Z", "action": a,
                "actor": "alice@example.com", "target": "team:x", "summary": "s", "details": {"k": 1},
            }))
            .unwrap()
        })
        .collect();
    let first = Delivery::digest("c", events.clone());
    assert!(channel.deliver(&first).await.decision.is_delivered());
    let second = Delivery::single("c", events[0].clone());
    let outcome = channel.deliver(&second).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert_eq!(outcome.status, Some(204));

    // One token request: the token is cached until it expires.
    let tokens = authority.requests();
    assert_eq!(tokens.len(), 1);
    let t = &tokens[0];
    assert_eq!(t.method, "POST");
    assert_eq!(
        t.path,
        "/72f988bf-0000-4000-8000-2d7cd011db47/oauth2/v2.0/token"
    );
    assert_eq!(
        t.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let fields = form(&t.body);
    assert_eq!(fields["grant_type"], "client_credentials");
    assert_eq!(fields["client_id"], "app-123");
    assert_eq!(fields["client_secret"], "s3cr3t value&=");
    assert_eq!(fields["scope"], "https://monitor.azure.com//.default");
    assert_eq!(fields.len(), 4);

    let posts = ingest.requests();
    assert_eq!(posts.len(), 2);
    for (p, expected) in posts.iter().zip([2, 1]) {
        assert_eq!(
            p.path,
            "/dataCollectionRules/dcr-0123456789abcdef/streams/Custom-DockwatchEvents_CL"
        );
        assert_eq!(p.query.as_deref(), Some("api-version=2023-01-01"));
        assert_eq!(p.header("authorization"), "Bearer eyJ0eXAi.fake.token");
        assert_eq!(p.header("content-encoding"), "gzip");
        assert_eq!(p.header("content-type"), "application/json");
        let mut json = String::new();
        flate2::read::GzDecoder::new(&p.body[..])
            .read_to_string(&mut json)
            .expect("gzip body");
        let records: Value = serde_json::from_str(&json).unwrap();
        let records = records.as_array().expect("a JSON array");
        assert_eq!(records.len(), expected);
        assert_eq!(records[0]["TimeGenerated"], "2026-11-25T13:14:15Z");
        assert_eq!(records[0]["Action"], "team.created");
        assert_eq!(records[0]["Organization"], "acme");
        assert_eq!(records[0]["Details"], json!({"k": 1}));
    }
}

#[tokio::test]
async fn bad_credentials_are_permanent_and_sent_nowhere_else() {
    let authority = Receiver::start(|_, _| {
        Reply::new(401, r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
    })
    .await;
    let ingest = Receiver::start(|_, _| Reply::new(204, "")).await;
    let outcome = build(&config(authority.url(""), ingest.url("")), &ctx())
        .unwrap()
        .test("acme")
        .await;
    let dockwatch_alert::RetryDecision::Permanent { reason } = &outcome.decision else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("AADSTS7000215"), "{reason}");
    assert!(ingest.requests().is_empty());
}

#[tokio::test]
async fn a_rejected_token_is_dropped_and_fetched_again() {
    let authority = Receiver::start(|_, n| {
        Reply::new(
            200,
            &json!({"expires_in": 3599, "access_token": format!("token-{n}")}).to_string(),
        )
    })
    .await;
    let ingest = Receiver::start(|r, _| match r.header("authorization") {
        "Bearer token-0" => Reply::new(401, "expired"),
        _ => Reply::new(204, ""),
    })
    .await;
    let channel = build(&config(authority.url(""), ingest.url("")), &ctx()).unwrap();
    assert!(channel.test("acme").await.decision.is_retriable());
    assert!(channel.test("acme").await.decision.is_delivered());
    assert_eq!(authority.requests().len(), 2);
}

#[tokio::test]
async fn a_big_digest_goes_in_calls_under_one_megabyte() {
    let authority =
        Receiver::start(|_, _| Reply::new(200, r#"{"expires_in":3599,"access_token":"tok"}"#))
            .await;
    let ingest = Receiver::start(|_, _| Reply::new(204, "")).await;
    let channel = build(&config(authority.url(""), ingest.url("")), &ctx()).unwrap();
    let events: Vec<dockwatch_alert::AlertEvent> = (0..30)
        .map(|i| {
            serde_json::from_value(json!({
                "id": format!("ev-{i}"), "org": "acme", "time": "2026-11-25T13:14:15Z", "action": "fleet.drift",
                "actor": "agent", "target": "machine:m1", "summary": "s", "details": {"blob": "z".repeat(100_000)},
            }))
            .unwrap()
        })
        .collect();
    let outcome = channel.deliver(&Delivery::digest("c", events)).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    let posts = ingest.requests();
    assert!(posts.len() >= 3, "{} calls", posts.len());
    let mut ids = Vec::new();
    for p in &posts {
        let mut json = String::new();
        flate2::read::GzDecoder::new(&p.body[..])
            .read_to_string(&mut json)
            .unwrap();
        assert!(json.len() <= 1_000_000, "{} bytes in one call", json.len());
        let records: Vec<Value> = serde_json::from_str(&json).unwrap();
        ids.extend(
            records
                .iter()
                .map(|r| r["EventId"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(ids, (0..30).map(|i| format!("ev-{i}")).collect::<Vec<_>>());
}
