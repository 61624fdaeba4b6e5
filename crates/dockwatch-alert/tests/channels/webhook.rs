//! Standard Webhooks: headers and body as documented, signatures checked by the reference
//! Python implementation (`standardwebhooks` from PyPI), rotation, the Docker Hub payload.

use super::common::{Captured, Receiver, Reply, ctx};
use dockwatch_alert::{AlertEvent, ChannelConfig, Delivery, build};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET: &str = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";

fn event(action: &str, id: &str) -> AlertEvent {
    serde_json::from_value(json!({
        "id": id, "org": "acme", "time": "2026-11-25T13:14:15.678Z", "action": action,
        "actor": "alice@example.com", "target": "team:first-team",
        "summary": "alice@example.com created team first-team \u{2713}",
        "details": {"name": "first-team"}, "console_url": "https://dockwatch.example/e/1",
    }))
    .unwrap()
}

/// Asks the reference implementation to verify `request` with `secret`; returns its verdict.
fn python_verify(secret: &str, request: &Captured) -> Result<(), String> {
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
case = json.load(sys.stdin)
try:
    Webhook(case["secret"]).verify(bytes.fromhex(case["body"]), case["headers"])
    print("ok")
except Exception as e:
    print("refused: %r" % e)
"#;
    let headers: serde_json::Map<String, serde_json::Value> =
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .iter()
            .map(|h| (h.to_string(), json!(request.header(h))))
            .collect();
    let body_hex: String = request.body.iter().map(|b| format!("{b:02x}")).collect();
    let case = json!({"secret": secret, "headers": headers, "body": body_hex});
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(case.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named"),
        "the reference implementation is missing: pip install standardwebhooks ({stderr})"
    );
    match String::from_utf8_lossy(&out.stdout).trim() {
        "ok" => Ok(()),
        other => Err(format!("{other} {stderr}")),
    }
}

#[tokio::test]
async fn signed_delivery_verifies_with_the_reference_implementation() {
    let rx = Receiver::start(|_, _| Reply::new(204, "")).await;
    let config: ChannelConfig = serde_json::from_value(json!({
        "kind": "webhook", "url": rx.url("/hook"), "secret": SECRET,
    }))
    .unwrap();
    let channel = build(&config, &ctx()).unwrap();
    let delivery = Delivery::single("channel-1", event("team.created", "ev-1"));
    let outcome = channel.deliver(&delivery).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert_eq!(outcome.status, Some(204));
    // A retry carries the same id.
    assert!(
        channel
            .deliver(&delivery.next_attempt())
            .await
            .decision
            .is_delivered()
    );

    let got = rx.requests();
    assert_eq!(got.len(), 2);
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("webhook-id"), delivery.id);
    assert_eq!(got[1].header("webhook-id"), delivery.id);
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    assert!(ts > 1_700_000_000);
    let sig = r.header("webhook-signature");
    assert!(sig.starts_with("v1,") && !sig.contains(' '), "{sig}");
    let body = r.json();
    assert_eq!(body["type"], "team.created");
    assert_eq!(body["id"], delivery.id.as_str());
    assert_eq!(body["timestamp"], "2026-11-25T13:14:15.678Z");
    assert_eq!(body["data"]["details"]["name"], "first-team");
    assert_eq!(body["data"]["actor"], "alice@example.com");

    python_verify(SECRET, r).expect("reference verification");
    python_verify(SECRET, &got[1]).expect("reference verification of the retry");
    // A wrong secret or a changed body must be refused, or the check above proves nothing.
    assert!(python_verify(OLD_SECRET, r).is_err());
    let mut tampered = r.clone();
    tampered.body = axum::body::Bytes::from(
        String::from_utf8_lossy(&r.body).replace("first-team", "other-team"),
    );
    assert!(python_verify(SECRET, &tampered).is_err());
}

#[tokio::test]
async fn rotation_signs_with_both_secrets() {
    let rx = Receiver::start(|_, _| Reply::new(200, "thanks")).await;
    let config: ChannelConfig = serde_json::from_value(json!({
        "kind": "webhook", "url": rx.url("/hook"), "secret": SECRET, "previous_secret": OLD_SECRET,
    }))
    .unwrap();
    let channel = build(&config, &ctx()).unwrap();
    let outcome = channel
        .deliver(&Delivery::single("c", event("repository.deleted", "ev-2")))
        .await;
    assert_eq!(outcome.response_excerpt, "thanks");
    let r = &rx.requests()[0];
    let sigs: Vec<&str> = r.header("webhook-signature").split(' ').collect();
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    // Receivers holding either secret accept the message.
    python_verify(SECRET, r).expect("new secret");
    python_verify(OLD_SECRET, r).expect("old secret");
}

#[tokio::test]
async fn digest_and_docker_hub_payloads() {
    let rx = Receiver::start(|_, _| Reply::new(200, "")).await;
    let standard: ChannelConfig =
        serde_json::from_value(json!({"kind": "webhook", "url": rx.url("/std"), "secret": SECRET}))
            .unwrap();
    let channel = build(&standard, &ctx()).unwrap();
    let digest = Delivery::digest(
        "c",
        vec![event("team.created", "a"), event("team.deleted", "b")],
    );
    assert!(channel.deliver(&digest).await.decision.is_delivered());

    let hub: ChannelConfig = serde_json::from_value(
        json!({"kind": "webhook", "url": rx.url("/hub"), "secret": SECRET, "payload": "docker-hub"}),
    )
    .unwrap();
    let channel = build(&hub, &ctx()).unwrap();
    // Not a push: skipped, nothing sent.
    let skipped = channel
        .deliver(&Delivery::single("c", event("team.created", "c")))
        .await;
    assert!(skipped.decision.is_delivered() && skipped.response_excerpt.starts_with("skipped"));
    let mut push = event("repository.pushed", "d");
    push.repository = Some("acme/api".into());
    push.details = json!({"tag": "1.4.2", "pusher": "ci-bot"});
    let pushed = Delivery::single("c", push);
    assert!(channel.deliver(&pushed).await.decision.is_delivered());

    let got = rx.requests();
    assert_eq!(
        got.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/std", "/hub"]
    );
    let d = got[0].json();
    assert_eq!(d["type"], "dockwatch.digest");
    assert_eq!(d["data"]["events"].as_array().unwrap().len(), 2);
    python_verify(SECRET, &got[0]).expect("digest signature");
    let h = got[1].json();
    // The fields Docker Hub documents for its push webhook.
    for key in ["pushed_at", "pusher", "tag"] {
        assert!(h["push_data"].get(key).is_some(), "push_data.{key}");
    }
    for key in [
        "comment_count",
        "date_created",
        "description",
        "dockerfile",
        "full_description",
        "is_official",
        "is_private",
        "is_trusted",
        "name",
        "namespace",
        "owner",
        "repo_name",
        "repo_url",
        "star_count",
        "status",
    ] {
        assert!(h["repository"].get(key).is_some(), "repository.{key}");
    }
    assert_eq!(h["push_data"]["tag"], "1.4.2");
    assert_eq!(h["repository"]["repo_name"], "acme/api");
    python_verify(SECRET, &got[1]).expect("docker hub payload is signed too");

    // The test action shows the Docker Hub shape.
    let tested = channel.test("acme").await;
    assert!(
        tested.decision.is_delivered() && tested.status == Some(200),
        "{tested:?}"
    );
    let t = rx.requests()[2].json();
    assert_eq!(t["repository"]["repo_name"], "dockwatch/test");
    assert_eq!(t["push_data"]["tag"], "test");
}

#[tokio::test]
async fn test_action_reports_the_answer() {
    let rx = Receiver::start(|_, _| Reply::new(202, r#"{"queued":true}"#)).await;
    let config: ChannelConfig =
        serde_json::from_value(json!({"kind": "webhook", "url": rx.url("/t"), "secret": SECRET}))
            .unwrap();
    let outcome = build(&config, &ctx()).unwrap().test("acme").await;
    assert_eq!(outcome.status, Some(202));
    assert_eq!(outcome.response_excerpt, r#"{"queued":true}"#);
    assert_eq!(rx.requests()[0].json()["type"], "alert.test");
    python_verify(SECRET, &rx.requests()[0]).unwrap();
}
