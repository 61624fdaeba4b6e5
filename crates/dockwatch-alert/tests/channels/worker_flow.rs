//! The calls the server's delivery worker makes, in order, against a receiver that fails twice
//! and then recovers: route, deliver, record, schedule, retry with the same delivery id.

use super::common::{Receiver, Reply, ctx};
use dockwatch_alert::{
    AlertEvent, Backoff, Breakers, ChannelConfig, DeadLetterPolicy, Delivery, Next, Rule,
    RuleEngine, RuleSpec, build, next_step,
};
use rand::SeedableRng;
use serde_json::json;
use std::time::Duration;
use time::OffsetDateTime;

#[tokio::test]
async fn route_deliver_retry_until_delivered() {
    let rx = Receiver::start(|_, n| {
        if n < 2 {
            Reply::new(503, "warming up")
        } else {
            Reply::new(204, "")
        }
    })
    .await;
    let config: ChannelConfig = serde_json::from_value(json!({
        "kind": "webhook", "url": rx.url("/hook"), "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }))
    .unwrap();
    let channel = build(&config, &ctx()).unwrap();
    let spec: RuleSpec = serde_json::from_value(json!({
        "id": "rule-1", "name": "teams", "match": ["team.*"], "channels": ["chan-1"],
    }))
    .unwrap();
    let mut engine = RuleEngine::new(vec![Rule::new(spec).unwrap()]);
    let event: AlertEvent = serde_json::from_value(json!({
        "id": "ev-1", "org": "acme", "time": "2026-11-25T13:14:15Z", "action": "team.created",
        "actor": "alice@example.com", "target": "team:t1", "summary": "alice created team t1",
    }))
    .unwrap();

    let t0 = OffsetDateTime::now_utc();
    assert!(
        engine
            .route(
                &serde_json::from_value(json!({
        "id": "ev-0", "org": "acme", "time": "2026-11-25T13:14:15Z", "action": "org.renamed",
        "actor": "a", "target": "org", "summary": "s"}))
                .unwrap(),
                t0
            )
            .is_empty()
    );
    let dispatches = engine.route(&event, t0);
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].channels, ["chan-1"]);

    // The worker stores this in its outbox (same transaction as the event) and loops.
    let mut delivery = Delivery::single("chan-1", dispatches[0].events[0].clone());
    let mut breakers = Breakers::new(5, Duration::from_secs(30));
    let backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut log = Vec::new();
    let now = || OffsetDateTime::now_utc();
    loop {
        assert!(breakers.allow(&channel.endpoint(), now()));
        let outcome = channel.deliver(&delivery).await;
        breakers.record(&channel.endpoint(), &outcome.decision, now());
        log.push((delivery.attempt, outcome.status));
        match next_step(
            &outcome.decision,
            delivery.attempt,
            t0,
            now(),
            &backoff,
            &DeadLetterPolicy::default(),
            &mut rng,
        ) {
            Next::Delivered => break,
            Next::RetryAt(at) => {
                tokio::time::sleep((at - now()).try_into().unwrap_or_default()).await;
                delivery = delivery.next_attempt();
            }
            Next::DeadLetter { reason } => panic!("dead letter: {reason}"),
        }
    }
    assert_eq!(log, [(1, Some(503)), (2, Some(503)), (3, Some(204))]);
    let ids: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(
        ids,
        vec![Delivery::id_for_event("chan-1", "ev-1"); 3],
        "every retry carries the same id"
    );
}
