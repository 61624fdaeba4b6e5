//! Slack incoming webhooks: a Block Kit message (header, fields, context, console button) with a
//! plain `text` fallback for notifications.

use super::http::{HttpSender, failed};
use super::{Channel, ChannelContext, ChannelKind, Outcome, parse_http_url};
use crate::{AlertEvent, ConfigError, Delivery, RetryDecision, Secret, TargetPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Instant;

/// Slack settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The incoming webhook URL (`https://hooks.slack.com/services/...`); a secret, since anyone
    /// holding it can post.
    pub url: Secret,
}

impl SlackConfig {
    pub(crate) fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        parse_http_url("url", self.url.expose(), policy).map(drop)
    }
}

/// The Slack channel.
pub struct Slack {
    url: reqwest::Url,
    http: HttpSender,
}

impl Slack {
    pub(crate) fn new(config: SlackConfig, ctx: &ChannelContext) -> Result<Self, ConfigError> {
        Ok(Self {
            url: parse_http_url("url", config.url.expose(), &ctx.policy)?,
            http: HttpSender::new(ctx, None)?,
        })
    }
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL's path is the secret.
        write!(f, "Slack({})", self.endpoint())
    }
}

#[async_trait::async_trait]
impl Channel for Slack {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Slack
    }

    fn endpoint(&self) -> String {
        // The path is the secret part of a Slack webhook URL.
        format!("slack:{}", self.url.host_str().unwrap_or_default())
    }

    async fn deliver(&self, delivery: &Delivery) -> Outcome {
        let started = Instant::now();
        let body = message(delivery).to_string();
        let request = self
            .http
            .client()
            .post(self.url.clone())
            .header("content-type", "application/json")
            .body(body);
        match self.http.execute(request).await {
            Ok(reply) => {
                let mut outcome = reply.outcome(started);
                // Slack answers 200 "ok"; anything else in a 2xx is not a delivered message.
                if reply.status == 200 && reply.body.trim_ascii() != b"ok" {
                    outcome.decision = RetryDecision::permanent(format!(
                        "Slack answered 200 but not \"ok\": {}",
                        reply.excerpt()
                    ));
                }
                outcome
            }
            Err(decision) => failed(started, decision),
        }
    }
}

/// The Slack message for `delivery`: one event in detail, or a digest listing up to 20.
pub fn message(delivery: &Delivery) -> Value {
    match delivery.events.as_slice() {
        [event] => single(event),
        events => digest(events),
    }
}

fn single(e: &AlertEvent) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&e.action, 150), "emoji": false}}),
        json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(&escape(&e.summary), 3000)},
            "fields": [
                field("Action", &format!("`{}`", escape(&e.action))),
                field("Actor", &escape(&e.actor)),
                field("Target", &escape(&e.target)),
                field("Time", &time_text(e)),
            ],
        }),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "Dockwatch · organization *{}* · event `{}`{}",
            escape(&e.org),
            escape(&e.id),
            e.severity.map(|s| format!(" · severity *{}*", s.as_str())).unwrap_or_default()
        )}]}),
    ];
    if let Some(url) = &e.console_url {
        blocks.push(button(url, "Open in Dockwatch"));
    }
    json!({"text": clip(&e.summary, 3000), "blocks": blocks})
}

fn digest(events: &[AlertEvent]) -> Value {
    const SHOWN: usize = 20;
    let org = events.first().map(|e| e.org.as_str()).unwrap_or_default();
    let title = format!("{} Dockwatch events", events.len());
    let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "text": title}})];
    for e in events.iter().take(SHOWN) {
        let mut section = json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&format!(
            "`{}` {} · {}", escape(&e.action), escape(&e.summary), time_text(e)
        ), 3000)}});
        if let Some(url) = &e.console_url {
            section["accessory"] = json!({"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": url});
        }
        blocks.push(section);
    }
    let more = events.len().saturating_sub(SHOWN);
    blocks.push(
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": if more > 0 {
            format!("Dockwatch · organization *{}* · {more} more not shown", escape(org))
        } else {
            format!("Dockwatch · organization *{}*", escape(org))
        }}]}),
    );
    json!({"text": format!("{title} in {org}"), "blocks": blocks})
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": clip(&format!("*{name}*\n{value}"), 2000)})
}

fn button(url: &str, label: &str) -> Value {
    json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": label}, "url": url, "action_id": "open-console"}]})
}

fn time_text(e: &AlertEvent) -> String {
    // Slack renders `<!date^epoch^...|fallback>` in the reader's time zone.
    let fallback = e
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!(
        "<!date^{}^{{date_short_pretty}} {{time_secs}}|{fallback}>",
        e.time.unix_timestamp()
    )
}

/// Slack's mrkdwn escaping: only `&`, `<` and `>` (https://api.slack.com/reference/surfaces/formatting).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    #[test]
    fn single_event_blocks() {
        let mut e = sample("team.created");
        e.summary = "alice created <team> & more".into();
        let msg = message(&Delivery::single("c", e));
        assert_eq!(msg["text"], "alice created <team> & more");
        let blocks = msg["blocks"].as_array().unwrap();
        let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["header", "section", "context", "actions"]);
        assert_eq!(blocks[0]["text"]["text"], "team.created");
        assert_eq!(
            blocks[1]["text"]["text"],
            "alice created &lt;team&gt; &amp; more"
        );
        let fields: Vec<&str> = blocks[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert_eq!(fields[0], "*Action*\n`team.created`");
        assert_eq!(fields[1], "*Actor*\nalice@example.com");
        assert_eq!(fields[2], "*Target*\nteam:first-team");
        assert!(
            fields[3].starts_with("*Time*\n<!date^1795612455^"),
            "{}",
            fields[3]
        );
        assert_eq!(
            blocks[3]["elements"][0]["url"],
            "https://dockwatch.example/events/01J9Z7Q4T0000000000000TEAM"
        );
    }

    #[test]
    fn digest_lists_events() {
        let events: Vec<_> = (0..25).map(|_| sample("team.created")).collect();
        let msg = message(&Delivery::digest("c", events));
        assert_eq!(msg["text"], "25 Dockwatch events in acme");
        let blocks = msg["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 1 + 20 + 1);
        assert!(
            blocks[21]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("5 more")
        );
    }
}
