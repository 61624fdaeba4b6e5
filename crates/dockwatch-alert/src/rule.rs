//! Which events go where: action patterns, filters, throttling and digests, as pure state
//! machines driven by the time the caller passes in.

use crate::{AlertEvent, ConfigError, Severity};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;
use time::OffsetDateTime;

/// An action pattern: `team.created` (exact), `repository.*` (everything under `repository.`),
/// `*.created` (`*` in the middle stands for one segment) or `*` (everything).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActionPattern(String);

impl ActionPattern {
    /// Whether `action` matches.
    pub fn matches(&self, action: &str) -> bool {
        let pattern: Vec<&str> = self.0.split('.').collect();
        let action: Vec<&str> = action.split('.').collect();
        for (i, p) in pattern.iter().enumerate() {
            let last = i + 1 == pattern.len();
            match (*p, action.get(i)) {
                ("*", Some(_)) if last => return true,
                ("*", Some(_)) => {}
                (p, Some(a)) if p == *a => {}
                _ => return false,
            }
        }
        pattern.len() == action.len()
    }
}

impl TryFrom<String> for ActionPattern {
    type Error = ConfigError;
    fn try_from(s: String) -> Result<Self, ConfigError> {
        let ok = !s.is_empty()
            && s.split('.').all(|seg| {
                seg == "*"
                    || (!seg.is_empty()
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            });
        if ok {
            Ok(Self(s))
        } else {
            Err(ConfigError::new(
                "match",
                format!(
                    "{s:?} is not an action pattern: dotted names of letters, digits, `_`, `-`, \
                     with `*` for a whole segment (`repository.*`, `team.created`, `*`)"
                ),
            ))
        }
    }
}

impl From<ActionPattern> for String {
    fn from(p: ActionPattern) -> Self {
        p.0
    }
}

impl std::fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rule as stored and as the API takes it. [`Rule::new`] checks it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The rule's id (the server's).
    pub id: String,
    /// Its name, unique in the organization.
    pub name: String,
    /// Action patterns; an event matching any of them matches.
    #[serde(rename = "match")]
    pub patterns: Vec<ActionPattern>,
    /// Only events about this repository (`acme/api`; a trailing `/*` matches a namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Only events at least this serious (events without a severity never match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    /// Only events about this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The channels (ids) it sends to.
    pub channels: Vec<String>,
    /// At most `max` deliveries per `window_secs` seconds; the rest are counted, not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSpec>,
    /// Batch matching events and send one digest every this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_minutes: Option<u32>,
}

/// Throttle settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// Deliveries allowed per window.
    pub max: u32,
    /// The window, in seconds.
    pub window_secs: u64,
}

/// A checked rule with its throttle and digest state.
#[derive(Clone, Debug)]
pub struct Rule {
    spec: RuleSpec,
    throttle: Option<Throttle>,
    digest: Option<Digest>,
}

impl Rule {
    /// Checks `spec`.
    pub fn new(spec: RuleSpec) -> Result<Self, ConfigError> {
        if spec.name.trim().is_empty() {
            return Err(ConfigError::new("name", "a rule needs a name"));
        }
        if spec.patterns.is_empty() {
            return Err(ConfigError::new(
                "match",
                format!("rule {:?} has no action pattern", spec.name),
            ));
        }
        if spec.channels.is_empty() {
            return Err(ConfigError::new(
                "channel",
                format!("rule {:?} sends to no channel", spec.name),
            ));
        }
        let throttle = match spec.throttle {
            Some(t) if t.max == 0 || t.window_secs == 0 => {
                return Err(ConfigError::new(
                    "throttle",
                    "max and window must both be at least 1",
                ));
            }
            Some(t) => Some(Throttle::new(t.max, Duration::from_secs(t.window_secs))),
            None => None,
        };
        let digest = match spec.digest_minutes {
            Some(0) => return Err(ConfigError::new("digest", "must be at least 1 minute")),
            Some(m) => Some(Digest::new(Duration::from_secs(u64::from(m) * 60))),
            None => None,
        };
        Ok(Self {
            spec,
            throttle,
            digest,
        })
    }

    /// The rule as given.
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    /// For a server that keeps digests in its database (so a restart loses none): the end of the
    /// fixed digest window holding `at`, windows aligned to the Unix epoch; `None` without a
    /// digest. Events whose windows end at the same time go into one delivery, due then.
    pub fn digest_window_end(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let every = i64::from(self.spec.digest_minutes?) * 60;
        let start = at.unix_timestamp().div_euclid(every) * every;
        OffsetDateTime::from_unix_timestamp(start + every).ok()
    }

    /// Whether `event` matches the patterns and every filter. Pure.
    pub fn matches(&self, event: &AlertEvent) -> bool {
        let s = &self.spec;
        s.patterns.iter().any(|p| p.matches(&event.action))
            && s.repository
                .as_deref()
                .is_none_or(|want| repository_matches(want, event.repository.as_deref()))
            && s.min_severity
                .is_none_or(|min| event.severity.is_some_and(|sev| sev >= min))
            && s.team
                .as_deref()
                .is_none_or(|want| event.team.as_deref() == Some(want))
    }
}

fn repository_matches(want: &str, got: Option<&str>) -> bool {
    let Some(got) = got else { return false };
    match want.strip_suffix("/*") {
        Some(namespace) => got
            .strip_prefix(namespace)
            .is_some_and(|rest| rest.starts_with('/')),
        None => got == want,
    }
}

/// At most `max` sends in any sliding window of `window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttle {
    max: u32,
    window: Duration,
    sent: VecDeque<OffsetDateTime>,
    suppressed: u64,
}

impl Throttle {
    /// A throttle allowing `max` per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            sent: VecDeque::new(),
            suppressed: 0,
        }
    }

    /// Whether a send at `now` is allowed; counts it if so, and counts a suppression if not.
    pub fn admit(&mut self, now: OffsetDateTime) -> bool {
        while self.sent.front().is_some_and(|&t| now - t >= self.window) {
            self.sent.pop_front();
        }
        if self.sent.len() < self.max as usize {
            self.sent.push_back(now);
            true
        } else {
            self.suppressed += 1;
            false
        }
    }

    /// How many sends were refused so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

/// Collects events and releases them together once `every` has passed since the first one.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    every: Duration,
    started: Option<OffsetDateTime>,
    pending: Vec<AlertEvent>,
}

impl Digest {
    /// A digest sent every `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            started: None,
            pending: Vec::new(),
        }
    }

    /// Adds an event; the window starts with the first event after a flush.
    pub fn push(&mut self, event: AlertEvent, now: OffsetDateTime) {
        self.started.get_or_insert(now);
        self.pending.push(event);
    }

    /// When the pending events are due, if there are any.
    pub fn due_at(&self) -> Option<OffsetDateTime> {
        self.started.map(|s| s + self.every)
    }

    /// The pending events if they are due at `now`.
    pub fn take_due(&mut self, now: OffsetDateTime) -> Option<Vec<AlertEvent>> {
        if self.due_at().is_some_and(|due| now >= due) {
            self.started = None;
            Some(std::mem::take(&mut self.pending))
        } else {
            None
        }
    }
}

/// What to send: these events, as one delivery, to each of these channels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatch {
    /// The rule that matched.
    pub rule_id: String,
    /// The channels (ids).
    pub channels: Vec<String>,
    /// One event, or several for a digest.
    pub events: Vec<AlertEvent>,
}

/// All of an organization's rules, with their throttle and digest state.
#[derive(Clone, Debug, Default)]
pub struct RuleEngine {
    rules: Vec<Rule>,
}

impl RuleEngine {
    /// An engine for these rules.
    pub fn new(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Routes one event at `now`: the dispatches to make right away. Events for digest rules
    /// are held until [`RuleEngine::take_due`]; throttled ones are dropped and counted.
    pub fn route(&mut self, event: &AlertEvent, now: OffsetDateTime) -> Vec<Dispatch> {
        let mut out = Vec::new();
        for rule in &mut self.rules {
            if !rule.matches(event) {
                continue;
            }
            if let Some(digest) = &mut rule.digest {
                digest.push(event.clone(), now);
                continue;
            }
            if rule.throttle.as_mut().is_some_and(|t| !t.admit(now)) {
                tracing::debug!(rule = %rule.spec.name, event = %event.id, "throttled");
                continue;
            }
            out.push(Dispatch {
                rule_id: rule.spec.id.clone(),
                channels: rule.spec.channels.clone(),
                events: vec![event.clone()],
            });
        }
        out
    }

    /// The digests due at `now` (a throttle counts a digest as one send).
    pub fn take_due(&mut self, now: OffsetDateTime) -> Vec<Dispatch> {
        let mut out = Vec::new();
        for rule in &mut self.rules {
            let Some(events) = rule.digest.as_mut().and_then(|d| d.take_due(now)) else {
                continue;
            };
            if rule.throttle.as_mut().is_some_and(|t| !t.admit(now)) {
                continue;
            }
            out.push(Dispatch {
                rule_id: rule.spec.id.clone(),
                channels: rule.spec.channels.clone(),
                events,
            });
        }
        out
    }

    /// When the next digest is due, so the worker knows how long it may sleep.
    pub fn next_due(&self) -> Option<OffsetDateTime> {
        self.rules
            .iter()
            .filter_map(|r| r.digest.as_ref()?.due_at())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;
    use time::macros::datetime;

    fn pat(s: &str) -> ActionPattern {
        ActionPattern::try_from(s.to_owned()).unwrap()
    }

    fn spec(patterns: &[&str]) -> RuleSpec {
        RuleSpec {
            id: "r1".into(),
            name: "rule".into(),
            patterns: patterns.iter().map(|p| pat(p)).collect(),
            repository: None,
            min_severity: None,
            team: None,
            channels: vec!["c1".into()],
            throttle: None,
            digest_minutes: None,
        }
    }

    #[test]
    fn patterns() {
        assert!(pat("*").matches("team.created"));
        assert!(pat("team.*").matches("team.created"));
        assert!(pat("team.*").matches("team.member.added"));
        assert!(!pat("team.*").matches("team"));
        assert!(!pat("team.*").matches("teams.created"));
        assert!(pat("team.created").matches("team.created"));
        assert!(!pat("team.created").matches("team.created.extra"));
        assert!(pat("*.created").matches("repository.created"));
        assert!(!pat("*.created").matches("repository.deleted"));
        for bad in ["", "team.", ".x", "team*", "team.cr*ated", "a b"] {
            let err = ActionPattern::try_from(bad.to_owned()).unwrap_err();
            assert_eq!(err.setting, "match", "{bad}");
        }
    }

    #[test]
    fn filters() {
        let mut s = spec(&["repository.*"]);
        s.repository = Some("acme/*".into());
        s.min_severity = Some(Severity::High);
        let rule = Rule::new(s).unwrap();
        let mut e = sample("repository.pushed");
        e.repository = Some("acme/api".into());
        e.severity = Some(Severity::Critical);
        assert!(rule.matches(&e));
        e.severity = Some(Severity::Medium);
        assert!(!rule.matches(&e));
        e.severity = None;
        assert!(!rule.matches(&e));
        e.severity = Some(Severity::High);
        e.repository = Some("acmecorp/api".into());
        assert!(!rule.matches(&e));
        e.repository = None;
        assert!(!rule.matches(&e));

        let mut s = spec(&["team.*"]);
        s.team = Some("first-team".into());
        let rule = Rule::new(s).unwrap();
        assert!(rule.matches(&sample("team.created")));
        let mut other = sample("team.created");
        other.team = Some("second".into());
        assert!(!rule.matches(&other));
    }

    #[test]
    fn bad_rules_name_the_setting() {
        let mut s = spec(&["*"]);
        s.channels.clear();
        assert_eq!(Rule::new(s).unwrap_err().setting, "channel");
        let mut s = spec(&["*"]);
        s.throttle = Some(ThrottleSpec {
            max: 0,
            window_secs: 60,
        });
        assert_eq!(Rule::new(s).unwrap_err().setting, "throttle");
        let json = r#"{"id":"r","name":"n","match":["team.*", "bad pattern"],"channels":["c"]}"#;
        let err = serde_json::from_str::<RuleSpec>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad pattern"), "{err}");
        let json = r#"{"id":"r","name":"n","match":["*"],"channels":["c"],"colour":"red"}"#;
        assert!(serde_json::from_str::<RuleSpec>(json).is_err());
    }

    #[test]
    fn digest_windows_are_aligned() {
        let mut s = spec(&["*"]);
        assert_eq!(
            Rule::new(s.clone())
                .unwrap()
                .digest_window_end(datetime!(2026-01-01 00:07 UTC)),
            None
        );
        s.digest_minutes = Some(15);
        let rule = Rule::new(s).unwrap();
        let end = datetime!(2026-01-01 00:15 UTC);
        assert_eq!(
            rule.digest_window_end(datetime!(2026-01-01 00:00 UTC)),
            Some(end)
        );
        assert_eq!(
            rule.digest_window_end(datetime!(2026-01-01 00:14:59.999 UTC)),
            Some(end)
        );
        assert_eq!(
            rule.digest_window_end(datetime!(2026-01-01 00:15 UTC)),
            Some(datetime!(2026-01-01 00:30 UTC))
        );
    }

    #[test]
    fn throttle_is_a_sliding_window() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let mut t = Throttle::new(2, Duration::from_secs(60));
        assert!(t.admit(t0));
        assert!(t.admit(t0 + Duration::from_secs(10)));
        assert!(!t.admit(t0 + Duration::from_secs(59)));
        assert!(t.admit(t0 + Duration::from_secs(60)));
        assert!(!t.admit(t0 + Duration::from_secs(65)));
        assert!(t.admit(t0 + Duration::from_secs(70)));
        assert_eq!(t.suppressed(), 2);
    }

    #[test]
    fn engine_routes_throttles_and_digests() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let mut throttled = spec(&["team.*"]);
        throttled.id = "throttled".into();
        throttled.throttle = Some(ThrottleSpec {
            max: 1,
            window_secs: 300,
        });
        let mut digest = spec(&["*"]);
        digest.id = "digest".into();
        digest.channels = vec!["c2".into()];
        digest.digest_minutes = Some(5);
        let mut engine = RuleEngine::new(vec![
            Rule::new(throttled).unwrap(),
            Rule::new(digest).unwrap(),
        ]);

        let first = engine.route(&sample("team.created"), t0);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].rule_id, "throttled");
        assert_eq!(first[0].channels, ["c1"]);
        assert!(
            engine
                .route(&sample("team.deleted"), t0 + Duration::from_secs(1))
                .is_empty()
        );
        assert!(
            engine
                .route(&sample("org.renamed"), t0 + Duration::from_secs(2))
                .is_empty()
        );
        assert_eq!(engine.next_due(), Some(t0 + Duration::from_secs(300)));
        assert!(engine.take_due(t0 + Duration::from_secs(299)).is_empty());
        let due = engine.take_due(t0 + Duration::from_secs(300));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].channels, ["c2"]);
        let actions: Vec<&str> = due[0].events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["team.created", "team.deleted", "org.renamed"]);
        assert_eq!(engine.next_due(), None);
        assert!(engine.take_due(t0 + Duration::from_secs(900)).is_empty());
        // The throttle window has passed: the throttled rule sends again.
        assert_eq!(
            engine
                .route(&sample("team.created"), t0 + Duration::from_secs(301))
                .len(),
            1
        );
    }
}
