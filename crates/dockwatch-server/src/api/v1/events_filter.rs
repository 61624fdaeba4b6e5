//! Parsing activity-log search parameters: times (RFC 3339 or relative), action patterns and the
//! opaque (time, id) cursor; every error names its parameter.

use super::events::SearchParams;
use crate::error::{ApiError, ApiResult};
use dockwatch_core::event::Event;
use dockwatch_store::events_query::{EventCursor, EventFilter};

/// An RFC 3339 time, or a duration back from `now_ms` such as `24h` or `7d`.
pub fn parse_when(field: &str, text: &str, now_ms: i64) -> ApiResult<i64> {
    if let Ok(d) = humantime::parse_duration(text) {
        return Ok(now_ms - d.as_millis() as i64);
    }
    super::parse_time(field, text).map_err(|_| {
        ApiError::field(
            field,
            format!("{text:?} is neither an RFC 3339 time nor a duration such as 24h or 7d"),
        )
    })
}

/// Checks an action filter: dotted lowercase words, optionally ending in `.*` (or just `*`).
fn action(text: &str) -> ApiResult<String> {
    let body = text
        .strip_suffix(".*")
        .or_else(|| text.strip_suffix('*'))
        .unwrap_or(text);
    let ok = text == "*"
        || (!body.is_empty()
            && body.split('.').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            }));
    if !ok {
        return Err(ApiError::field(
            "action",
            format!("{text:?} is not an action name or a prefix pattern such as team.*"),
        ));
    }
    Ok(text.to_owned())
}

/// A rejected query string as a 400 naming the parameter when serde does (unknown ones).
pub fn query_rejection(e: axum::extract::rejection::QueryRejection) -> ApiError {
    let text = e.body_text();
    let field = text
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    ApiError::BadRequest {
        message: match &field {
            Some(f) => format!("{f}: not a parameter of this endpoint"),
            None => format!("query: {text}"),
        },
        field,
    }
}

/// Reads `limit`: 1 to 1000, default 100.
pub fn limit(text: Option<&str>) -> ApiResult<i64> {
    match text {
        None | Some("") => Ok(100),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::field("limit", format!("{t:?}: must be 1 to 1000"))),
    }
}

/// The store filter for the query parameters.
pub fn filter(p: &SearchParams) -> ApiResult<EventFilter> {
    let now = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock);
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(EventFilter {
        action: nonempty(&p.action).map(|a| action(&a)).transpose()?,
        actor: nonempty(&p.actor),
        target: nonempty(&p.target),
        since_ms: nonempty(&p.since)
            .map(|t| parse_when("since", &t, now))
            .transpose()?,
        until_ms: nonempty(&p.until)
            .map(|t| parse_when("until", &t, now))
            .transpose()?,
        text: nonempty(&p.q),
    })
}

/// The opaque cursor pointing after `event` in newest-first order.
pub fn encode_cursor(event: &Event) -> String {
    hex::encode(format!("{}:{}", event.time_ms, event.id))
}

/// Reads a cursor made by [`encode_cursor`].
pub fn decode_cursor(text: &str) -> ApiResult<EventCursor> {
    let bad = || ApiError::field("cursor", "not a cursor from x-next-cursor");
    let bytes = hex::decode(text).map_err(|_| bad())?;
    let plain = String::from_utf8(bytes).map_err(|_| bad())?;
    let (time, id) = plain.split_once(':').ok_or_else(bad)?;
    Ok(EventCursor {
        time_ms: time.parse().map_err(|_| bad())?,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times() {
        assert_eq!(parse_when("since", "24h", 100_000_000).unwrap(), 13_600_000);
        assert_eq!(
            parse_when("since", "1970-01-01T00:00:01Z", 0).unwrap(),
            1000
        );
        let e = parse_when("until", "yesterday", 0).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { field: Some(f), .. } if f == "until"));
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(None).unwrap(), 100);
        assert_eq!(limit(Some("7")).unwrap(), 7);
        for bad in ["0", "1001", "ten"] {
            assert!(matches!(limit(Some(bad)),
                Err(ApiError::BadRequest { field: Some(f), .. }) if f == "limit"));
        }
    }

    #[test]
    fn actions_and_patterns() {
        assert!(action("team.*").is_ok());
        assert!(action("member.role.changed").is_ok());
        assert!(action("Team created").is_err());
        assert!(action(".*").is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_named() {
        let c = decode_cursor(&hex::encode("17:abc-1")).unwrap();
        assert_eq!((c.time_ms, c.id.as_str()), (17, "abc-1"));
        assert!(matches!(decode_cursor("zz"),
            Err(ApiError::BadRequest { field: Some(f), .. }) if f == "cursor"));
    }
}
