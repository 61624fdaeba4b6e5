//! Slack: the Block Kit request a Slack incoming webhook receives, and Slack's error answers.

use super::common::{Receiver, Reply, ctx};
use dockwatch_alert::{ChannelConfig, Delivery, RetryDecision, build};
use serde_json::json;

fn config(url: String) -> ChannelConfig {
    serde_json::from_value(json!({"kind": "slack", "url": url})).unwrap()
}

#[tokio::test]
async fn block_kit_message() {
    let rx = Receiver::start(|_, _| Reply::new(200, "ok")).await;
    let channel = build(&config(rx.url("/services/T000/B000/XXXX")), &ctx()).unwrap();
    assert_eq!(channel.endpoint(), "slack:127.0.0.1");
    let event = serde_json::from_value(json!({
        "id": "ev-9", "org": "acme", "time": "2026-11-25T13:14:15Z", "action": "repository.deleted",
        "actor": "bob@example.com", "target": "repository:acme/api", "summary": "bob@example.com deleted acme/api",
        "console_url": "https://dockwatch.example/events/ev-9", "severity": "high",
    }))
    .unwrap();
    let outcome = channel.deliver(&Delivery::single("c", event)).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert_eq!(outcome.response_excerpt, "ok");

    let r = &rx.requests()[0];
    assert_eq!(r.path, "/services/T000/B000/XXXX");
    assert_eq!(r.header("content-type"), "application/json");
    let m = r.json();
    assert_eq!(m["text"], "bob@example.com deleted acme/api");
    let blocks = m["blocks"].as_array().unwrap();
    assert_eq!(
        blocks[0],
        json!({"type": "header", "text": {"type": "plain_text", "text": "repository.deleted", "emoji": false}})
    );
    assert_eq!(blocks[1]["fields"].as_array().unwrap().len(), 4);
    assert!(
        blocks[2]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("severity *high*")
    );
    assert_eq!(blocks[3]["elements"][0]["type"], "button");
    assert_eq!(
        blocks[3]["elements"][0]["url"],
        "https://dockwatch.example/events/ev-9"
    );
}

#[tokio::test]
async fn slack_errors() {
    // Slack's documented answers: 404 no_service, 410 channel_is_archived, 429 rate_limited.
    let rx = Receiver::start(|r, _| match r.path.as_str() {
        "/gone" => Reply::new(410, "channel_is_archived"),
        "/slow-down" => Reply::new(429, "rate_limited").header("retry-after", "30"),
        _ => Reply::new(404, "no_service"),
    })
    .await;
    let deliver = |path: &'static str| {
        let channel = build(&config(rx.url(path)), &ctx()).unwrap();
        async move { channel.test("acme").await }
    };
    let gone = deliver("/gone").await;
    assert_eq!(
        gone.decision,
        RetryDecision::permanent("receiver answered 410")
    );
    assert_eq!(gone.response_excerpt, "channel_is_archived");
    let limited = deliver("/slow-down").await;
    assert_eq!(
        limited.decision,
        RetryDecision::Retry {
            reason: "receiver answered 429".into(),
            after: Some(std::time::Duration::from_secs(30))
        }
    );
}
