//! Receivers that misbehave: each gets a bounded attempt, the right retry decision and a clear
//! message, and other deliveries go on meanwhile. Plus the SSRF policy.

use super::common::{Receiver, Reply, ctx, free_port, make_certs, untrusted_tls_listener};
use dockwatch_alert::{
    ChannelConfig, ChannelContext, Delivery, Outcome, RetryDecision, TargetPolicy, build,
};
use serde_json::json;
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn webhook(url: String) -> ChannelConfig {
    serde_json::from_value(json!({"kind": "webhook", "url": url, "secret": SECRET})).unwrap()
}

async fn send(url: String, ctx: &ChannelContext) -> Outcome {
    build(&webhook(url), ctx).unwrap().test("acme").await
}

fn reason(outcome: &Outcome) -> &str {
    match &outcome.decision {
        RetryDecision::Retry { reason, .. } | RetryDecision::Permanent { reason } => reason,
        RetryDecision::Delivered => panic!("delivered: {outcome:?}"),
    }
}

#[tokio::test]
async fn a_hanging_receiver_times_out_retriably_while_others_deliver() {
    let hang = Receiver::start(|_, _| Reply::new(200, "").after(Duration::from_secs(600))).await;
    let good = Receiver::start(|_, _| Reply::new(204, "")).await;
    let ctx = ctx();
    let (hung, fine) = tokio::join!(send(hang.url("/"), &ctx), send(good.url("/"), &ctx));
    assert!(hung.decision.is_retriable(), "{hung:?}");
    assert!(reason(&hung).contains("timed out"), "{hung:?}");
    assert_eq!(hung.status, None);
    assert!(fine.decision.is_delivered(), "{fine:?}");
    assert_eq!(
        hang.requests().len(),
        1,
        "the request did arrive; only the answer never came"
    );
}

#[tokio::test]
async fn a_500_is_retried_and_its_body_logged() {
    let rx = Receiver::start(|_, _| Reply::new(500, "database is down")).await;
    let outcome = send(rx.url("/"), &ctx()).await;
    assert_eq!(outcome.status, Some(500));
    assert_eq!(
        outcome.decision,
        RetryDecision::retry("receiver answered 500")
    );
    assert_eq!(outcome.response_excerpt, "database is down");
}

#[tokio::test]
async fn a_slow_receiver_within_the_bound_is_delivered() {
    let rx =
        Receiver::start(|_, _| Reply::new(200, "eventually").after(Duration::from_millis(700)))
            .await;
    let outcome = send(rx.url("/"), &ctx()).await;
    assert!(outcome.decision.is_delivered(), "{outcome:?}");
    assert_eq!(outcome.response_excerpt, "eventually");
}

#[tokio::test]
async fn a_long_answer_is_cut_to_an_excerpt() {
    let rx = Receiver::start(|_, _| Reply::new(400, &"x".repeat(200_000))).await;
    let outcome = send(rx.url("/"), &ctx()).await;
    assert_eq!(outcome.response_excerpt.len(), 512);
    assert!(matches!(outcome.decision, RetryDecision::Permanent { .. }));
}

#[tokio::test]
async fn redirects_to_another_host_are_not_followed() {
    let elsewhere = Receiver::start(|_, _| Reply::new(200, "")).await;
    // `localhost` and `127.0.0.1` are different hosts as far as the URL goes.
    let target = format!("http://localhost:{}/stolen", elsewhere.addr.port());
    let rx = Receiver::start(move |r, _| match r.path.as_str() {
        "/moved" => Reply::new(307, "").header("location", "/here"),
        "/here" => Reply::new(204, ""),
        _ => Reply::new(302, "").header("location", target.clone()),
    })
    .await;
    let outcome = send(rx.url("/away"), &ctx()).await;
    assert_eq!(outcome.status, Some(302));
    assert!(
        matches!(outcome.decision, RetryDecision::Permanent { .. }),
        "{outcome:?}"
    );
    assert!(
        reason(&outcome).contains("localhost") && reason(&outcome).contains("not followed"),
        "{outcome:?}"
    );
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");

    // A redirect on the same host is followed (307 keeps the method and body).
    let same = send(rx.url("/moved"), &ctx()).await;
    assert!(same.decision.is_delivered(), "{same:?}");
    let here = rx
        .requests()
        .into_iter()
        .find(|r| r.path == "/here")
        .unwrap();
    assert_eq!(here.method, "POST");
    assert_eq!(here.json()["type"], "alert.test");
}

#[tokio::test]
async fn a_bad_certificate_is_a_clear_permanent_failure() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let addr = untrusted_tls_listener(dir.path()).await;
    let outcome = send(format!("https://localhost:{}/hook", addr.port()), &ctx()).await;
    assert!(
        matches!(outcome.decision, RetryDecision::Permanent { .. }),
        "{outcome:?}"
    );
    let why = reason(&outcome);
    assert!(
        why.contains("TLS certificate of localhost rejected") && why.contains("UnknownIssuer"),
        "{why}"
    );
}

#[tokio::test]
async fn a_closed_port_is_retried() {
    let outcome = send(format!("http://127.0.0.1:{}/", free_port()), &ctx()).await;
    assert!(outcome.decision.is_retriable(), "{outcome:?}");
    assert!(reason(&outcome).contains("cannot connect"), "{outcome:?}");
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let rx = Receiver::start(|_, _| Reply::new(204, "")).await;
    let strict = ChannelContext {
        policy: TargetPolicy::STRICT,
        ..ctx()
    };
    // A literal address: refused when the channel is configured.
    let err = build(&webhook(rx.url("/")), &strict).unwrap_err();
    assert_eq!(err.setting, "url");
    assert!(
        err.message.contains("loopback") && err.message.contains("--allow-private-targets"),
        "{err}"
    );
    // A name: refused after DNS, on every delivery.
    let by_name = format!("http://localhost:{}/", rx.addr.port());
    let outcome = build(&webhook(by_name.clone()), &strict)
        .unwrap()
        .test("acme")
        .await;
    assert!(
        matches!(outcome.decision, RetryDecision::Permanent { .. }),
        "{outcome:?}"
    );
    assert!(
        reason(&outcome).contains("--allow-private-targets"),
        "{outcome:?}"
    );
    for kind in [
        json!({"kind": "slack", "url": by_name}),
        json!({"kind": "splunk-hec", "url": by_name, "token": "t"}),
        json!({"kind": "syslog", "host": "localhost", "port": rx.addr.port()}),
    ] {
        let config: ChannelConfig = serde_json::from_value(kind).unwrap();
        let outcome = build(&config, &strict).unwrap().test("acme").await;
        assert!(
            reason(&outcome).contains("loopback"),
            "{config:?}: {outcome:?}"
        );
    }
    assert!(rx.requests().is_empty(), "a refused target was contacted");
    // Allowed: delivered.
    assert!(send(rx.url("/"), &ctx()).await.decision.is_delivered());
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let config: ChannelConfig = serde_json::from_value(json!({
        "kind": "sentinel", "tenant_id": "t", "client_id": "c", "client_secret": "very-secret-value",
        "endpoint": "https://dce.example", "dcr_immutable_id": "dcr-1", "stream": "Custom-X",
    }))
    .unwrap();
    let channel = build(&config, &ctx()).unwrap();
    assert!(!format!("{config:?} {channel:?}").contains("very-secret-value"));
    let wh = build(&webhook("https://hooks.example/x".into()), &ctx()).unwrap();
    assert!(!format!("{wh:?}").contains("MfKQ9r8"), "{wh:?}");
    let _ = Delivery::test_event("acme", time::OffsetDateTime::now_utc());
}

#[tokio::test]
async fn a_receiver_that_drops_the_connection_is_retried() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 64];
            let _ = tcp.read(&mut buf).await;
            drop(tcp);
        }
    });
    let outcome = send(format!("http://{addr}/"), &ctx()).await;
    assert!(outcome.decision.is_retriable(), "{outcome:?}");
    assert_eq!(outcome.status, None);
}
