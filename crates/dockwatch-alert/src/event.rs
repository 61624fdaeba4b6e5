//! The event the worker hands to a channel, and one delivery of it (or of a digest of several).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// One activity-log event, as the alerting side sees it. A plain value: the server fills it
/// from its events table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The event's id in the activity log.
    pub id: String,
    /// The organization's name.
    pub org: String,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// What happened, dotted: `team.created`, `repository.pushed`, `fleet.drift`.
    pub action: String,
    /// Who did it (an email, a token name, `system`).
    pub actor: String,
    /// What it was done to (`team:first-team`, `repository:acme/api`).
    pub target: String,
    /// One sentence for humans: "alice@example.com created team first-team".
    pub summary: String,
    /// Action-specific details, as recorded in the activity log.
    #[serde(default)]
    pub details: serde_json::Value,
    /// A link to this event in the web console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    /// The repository the event concerns, for rule filters (`acme/api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// How serious it is, for rule filters; `None` for plain audit events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The team the event concerns, for rule filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// How serious an event is, lowest first (so `>=` means "at least as serious").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Its lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "info" => Self::Info,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => {
                return Err(crate::ConfigError::new(
                    "severity",
                    format!("{s:?} is not one of info, low, medium, high, critical"),
                ));
            }
        })
    }
}

/// One delivery: an event (or a digest of events) to one channel. The worker keeps `id` in its
/// outbox and passes the same id on every retry, so receivers can drop duplicates
/// (at-least-once delivery).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Stable per event × channel (see [`Delivery::id_for_event`]); `msg_` + 32 hex digits.
    pub id: String,
    /// The events: one, or several for a digest.
    pub events: Vec<AlertEvent>,
    /// 1 for the first try, then 2, 3, ...
    pub attempt: u32,
}

// Fixed namespace for delivery ids, so the same event and channel always give the same id.
const DELIVERY_NAMESPACE: Uuid = Uuid::from_u128(0x6d0c_6b1f_3a2e_4f4e_9a51_d0c4_a1e7_2b10);

impl Delivery {
    /// A first attempt at delivering one event.
    pub fn single(channel_id: &str, event: AlertEvent) -> Self {
        Self {
            id: Self::id_for_event(channel_id, &event.id),
            events: vec![event],
            attempt: 1,
        }
    }

    /// A first attempt at delivering a digest of events.
    pub fn digest(channel_id: &str, events: Vec<AlertEvent>) -> Self {
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        Self {
            id: Self::id_for_batch(channel_id, &ids),
            events,
            attempt: 1,
        }
    }

    /// The delivery id of `event_id` to `channel_id`: the same inputs always give the same id.
    pub fn id_for_event(channel_id: &str, event_id: &str) -> String {
        Self::id_for_batch(channel_id, &[event_id])
    }

    /// The delivery id of a digest of `event_ids` to `channel_id`.
    pub fn id_for_batch(channel_id: &str, event_ids: &[&str]) -> String {
        let mut name = channel_id.to_owned();
        for id in event_ids {
            name.push('\n');
            name.push_str(id);
        }
        let uuid = Uuid::new_v5(&DELIVERY_NAMESPACE, name.as_bytes());
        format!("msg_{}", uuid.simple())
    }

    /// The same delivery, tried once more.
    pub fn next_attempt(&self) -> Self {
        Self {
            attempt: self.attempt + 1,
            ..self.clone()
        }
    }

    /// The first event (every delivery has at least one).
    pub fn first(&self) -> Option<&AlertEvent> {
        self.events.first()
    }

    /// A delivery for a channel's "send a test event" action.
    pub fn test_event(org: &str, now: OffsetDateTime) -> Self {
        let event = AlertEvent {
            id: format!("test-{}", Uuid::new_v4().simple()),
            org: org.to_owned(),
            time: now,
            action: "alert.test".to_owned(),
            actor: "dockwatch".to_owned(),
            target: "channel".to_owned(),
            summary: "Test event from Dockwatch: this channel works.".to_owned(),
            // A repository and tag so the Docker Hub payload has a push to show.
            details: serde_json::json!({"test": true, "repository": "dockwatch/test", "tag": "test"}),
            console_url: None,
            repository: None,
            severity: Some(Severity::Info),
            team: None,
        };
        Self {
            id: format!("msg_{}", Uuid::new_v4().simple()),
            events: vec![event],
            attempt: 1,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(action: &str) -> AlertEvent {
        AlertEvent {
            id: "01J9Z7Q4T0000000000000TEAM".into(),
            org: "acme".into(),
            time: time::macros::datetime!(2026-11-25 13:14:15.678 UTC),
            action: action.into(),
            actor: "alice@example.com".into(),
            target: "team:first-team".into(),
            summary: "alice@example.com created team first-team".into(),
            details: serde_json::json!({"team": "first-team"}),
            console_url: Some("https://dockwatch.example/events/01J9Z7Q4T0000000000000TEAM".into()),
            repository: None,
            severity: None,
            team: Some("first-team".into()),
        }
    }

    #[test]
    fn delivery_ids_are_stable_per_event_and_channel() {
        let a = Delivery::id_for_event("ch1", "ev1");
        assert_eq!(a, Delivery::id_for_event("ch1", "ev1"));
        assert_ne!(a, Delivery::id_for_event("ch2", "ev1"));
        assert_ne!(a, Delivery::id_for_event("ch1", "ev2"));
        assert!(a.starts_with("msg_") && a.len() == 36, "{a}");
        let d = Delivery::single("ch1", sample("team.created"));
        assert_eq!(d.next_attempt().id, d.id);
        assert_eq!(d.next_attempt().attempt, 2);
    }

    #[test]
    fn event_round_trips_through_json() {
        let e = sample("team.created");
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.contains(r#""time":"2026-11-25T13:14:15.678Z""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<AlertEvent>(&json).unwrap(), e);
    }
}
