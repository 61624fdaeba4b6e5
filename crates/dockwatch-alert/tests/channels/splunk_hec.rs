//! Splunk HEC: the envelope, the `Splunk` token header, batching, and the indexer
//! acknowledgement flow (request channel GUID, then polling `/services/collector/ack`).

use super::common::{Receiver, Reply, ctx};
use dockwatch_alert::{AlertEvent, ChannelConfig, Delivery, build};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn event(action: &str, id: &str) -> AlertEvent {
    serde_json::from_value(json!({
        "id": id, "org": "acme", "time": "2026-11-25T13:14:15.250Z", "action": action,
        "actor": "alice@example.com", "target": "team:first-team", "summary": "s",
    }))
    .unwrap()
}

fn config(url: String, ack: bool) -> ChannelConfig {
    serde_json::from_value(json!({
        "kind": "splunk-hec", "url": url, "token": "11111111-2222-3333-4444-555555555555",
        "index": "security", "sourcetype": "dockwatch:audit", "source": "dockwatch-test", "ack": ack,
    }))
    .unwrap()
}

fn parse_batch(body: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(body)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("concatenated JSON envelopes")
}

#[tokio::test]
async fn batched_envelopes() {
    let rx = Receiver::start(|_, _| Reply::new(200, r#"{"text":"Success","code":0}"#)).await;
    let channel = build(&config(rx.url(""), false), &ctx()).unwrap();
    let delivery = Delivery::digest(
        "c",
        vec![event("team.created", "a"), event("team.deleted", "b")],
    );
    let outcome = channel.deliver(&delivery).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");

    let got = rx.requests();
    assert_eq!(got.len(), 1, "one request for the batch");
    let r = &got[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/services/collector/event")
    );
    assert_eq!(
        r.header("authorization"),
        "Splunk 11111111-2222-3333-4444-555555555555"
    );
    assert!(r.headers.get("x-splunk-request-channel").is_none());
    let envelopes = parse_batch(&r.body);
    assert_eq!(envelopes.len(), 2);
    for (env, action) in envelopes.iter().zip(["team.created", "team.deleted"]) {
        let keys: Vec<&String> = env.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["event", "host", "index", "source", "sourcetype", "time"]
        );
        assert_eq!(env["time"].as_f64(), Some(1795612455.25));
        assert_eq!(env["host"], "dockwatch-test");
        assert_eq!(env["index"], "security");
        assert_eq!(env["sourcetype"], "dockwatch:audit");
        assert_eq!(env["source"], "dockwatch-test");
        assert_eq!(env["event"]["action"], action);
        assert_eq!(env["event"]["delivery_id"], delivery.id.as_str());
    }
}

#[tokio::test]
async fn indexer_acknowledgement_is_polled_until_true() {
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = polls.clone();
    let rx = Receiver::start(move |r, _| match r.path.as_str() {
        "/services/collector/event" => Reply::new(200, r#"{"text":"Success","code":0,"ackId":7}"#),
        "/services/collector/ack" => {
            let indexed = seen.fetch_add(1, Ordering::SeqCst) >= 2;
            Reply::new(200, &json!({"acks": {"7": indexed}}).to_string())
        }
        _ => Reply::new(404, ""),
    })
    .await;
    let channel = build(&config(rx.url("/"), true), &ctx()).unwrap();
    let outcome = channel
        .deliver(&Delivery::single("c", event("team.created", "a")))
        .await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert_eq!(outcome.response_excerpt, "indexed (ackId 7)");

    let got = rx.requests();
    assert_eq!(got.len(), 1 + 3, "one send, three polls");
    let guid = got[0].header("x-splunk-request-channel").to_owned();
    assert!(uuid::Uuid::parse_str(&guid).is_ok(), "{guid}");
    for poll in &got[1..] {
        assert_eq!(poll.path, "/services/collector/ack");
        assert_eq!(poll.header("x-splunk-request-channel"), guid);
        assert_eq!(
            poll.header("authorization"),
            "Splunk 11111111-2222-3333-4444-555555555555"
        );
        assert_eq!(poll.json(), json!({"acks": [7]}));
    }
}

#[tokio::test]
async fn unacknowledged_events_are_retried() {
    let rx = Receiver::start(|r, _| match r.path.as_str() {
        "/services/collector/event" => Reply::new(200, r#"{"text":"Success","code":0,"ackId":1}"#),
        _ => Reply::new(200, r#"{"acks":{"1":false}}"#),
    })
    .await;
    let outcome = build(&config(rx.url(""), true), &ctx())
        .unwrap()
        .deliver(&Delivery::single("c", event("team.created", "a")))
        .await;
    assert!(outcome.decision.is_retriable(), "{outcome:?}");
    assert!(
        outcome.response_excerpt.contains("not acknowledged"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn hec_errors() {
    let rx = Receiver::start(|r, _| match r.header("authorization") {
        "Splunk 11111111-2222-3333-4444-555555555555" => {
            Reply::new(503, r#"{"text":"Server is busy","code":9}"#)
        }
        _ => Reply::new(403, r#"{"text":"Invalid token","code":4}"#),
    })
    .await;
    let busy = build(&config(rx.url(""), false), &ctx())
        .unwrap()
        .test("acme")
        .await;
    assert!(busy.decision.is_retriable(), "{busy:?}");
    let bad_token: ChannelConfig =
        serde_json::from_value(json!({"kind": "splunk-hec", "url": rx.url(""), "token": "wrong"}))
            .unwrap();
    let refused = build(&bad_token, &ctx()).unwrap().test("acme").await;
    assert_eq!(refused.status, Some(403));
    assert!(!refused.decision.is_retriable() && !refused.decision.is_delivered());
    assert!(refused.response_excerpt.contains("Invalid token"));
}

#[tokio::test]
async fn https_collector_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    super::common::make_certs(dir.path());
    let (addr, got) =
        super::common::tls_http_receiver(dir.path(), r#"{"text":"Success","code":0}"#).await;
    let ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    let url = format!("https://localhost:{}", addr.port());
    let with_ca: ChannelConfig =
        serde_json::from_value(json!({"kind": "splunk-hec", "url": url, "token": "tok", "ca": ca}))
            .unwrap();
    let outcome = build(&with_ca, &ctx()).unwrap().test("acme").await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    let requests = got.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("POST /services/collector/event HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("\r\nauthorization: splunk tok\r\n")
    );
    // Without the CA the same collector is refused, permanently.
    let without: ChannelConfig =
        serde_json::from_value(json!({"kind": "splunk-hec", "url": url, "token": "tok"})).unwrap();
    let refused = build(&without, &ctx()).unwrap().test("acme").await;
    assert!(
        !refused.decision.is_retriable() && !refused.decision.is_delivered(),
        "{refused:?}"
    );
    let bad_ca: ChannelConfig = serde_json::from_value(
        json!({"kind": "splunk-hec", "url": url, "token": "tok", "ca": "not pem"}),
    )
    .unwrap();
    assert_eq!(build(&bad_ca, &ctx()).unwrap_err().setting, "ca");
}
