//! Activity-log events and their hash chain: the canonical encoding and SHA-256 link, pure.
//!
//! Each organization's events form a chain: an event stores the hash of the one before it
//! (`prev_hash`) and its own `hash`, computed over `prev_hash` and a canonical encoding of every
//! recorded field. Editing, deleting, inserting or reordering an event breaks a link.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something: a user, an access token, or the server itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    /// `user`, `token` or `system`.
    pub kind: String,
    /// The user's or token's id; empty for `system`.
    pub id: String,
    /// A human name: the user's email, the token's name.
    pub name: String,
    /// The client's IP address, when the action came over HTTP.
    pub ip: Option<String>,
    /// The client's `User-Agent`, when it sent one.
    pub user_agent: Option<String>,
}

/// What an event happened to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTarget {
    /// `organization`, `member`, `team`, `repository`, `token`, `domain`, `sso`, `user`...
    pub kind: String,
    /// The object's id.
    pub id: String,
    /// The object's name at the time of the event.
    pub name: String,
}

/// One recorded event, as it is hashed and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Sortable unique id (a UUIDv7).
    pub id: String,
    /// The organization whose chain holds the event; empty for instance-level events.
    pub org_id: String,
    /// Position in the organization's chain, from 1.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Who did it.
    pub actor: EventActor,
    /// Stable dotted action name, such as `member.role.changed`.
    pub action: String,
    /// What it was done to.
    pub target: EventTarget,
    /// One human sentence.
    pub sentence: String,
    /// Details as JSON text (before/after where it applies), hashed exactly as stored.
    pub details: String,
    /// The previous event's hash, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// This event's hash: [`chain_hash`] of the fields above.
    pub hash: String,
}

/// The canonical encoding hashed for an event: a JSON array of every field in a fixed order.
/// Strings in a JSON array are unambiguous (quoted and escaped), so no two events share it.
pub fn canonical_encoding(event: &Event) -> Vec<u8> {
    let fields = serde_json::json!([
        "dockwatch-event-v1",
        event.prev_hash,
        event.id,
        event.org_id,
        event.seq,
        event.time_ms,
        event.actor.kind,
        event.actor.id,
        event.actor.name,
        event.actor.ip,
        event.actor.user_agent,
        event.action,
        event.target.kind,
        event.target.id,
        event.target.name,
        event.sentence,
        event.details,
    ]);
    serde_json::to_vec(&fields).expect("a JSON array of strings and numbers always serializes")
}

/// The event's chain hash: lowercase hex SHA-256 of its canonical encoding (which includes
/// `prev_hash`). The `hash` field itself is not part of the input.
pub fn chain_hash(event: &Event) -> String {
    hex::encode(Sha256::digest(canonical_encoding(event)))
}

/// Why a chain failed to verify, naming the first bad event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The event's fields no longer hash to its stored hash (it was edited).
    #[error("event {id} (seq {seq}): its content does not match its hash (edited)")]
    Edited { id: String, seq: i64 },
    /// The event does not point at the event before it (one was deleted, inserted or moved).
    #[error(
        "event {id} (seq {seq}): it does not follow the event before it (deleted, inserted or reordered)"
    )]
    Broken { id: String, seq: i64 },
    /// A checkpoint the walk relies on is not signed by the server's key (forged or altered),
    /// or no longer matches the event it stands for.
    #[error("checkpoint at seq {seq}: {reason}")]
    Checkpoint { seq: i64, reason: String },
}

impl ChainError {
    /// The first bad event's id (for a checkpoint, `checkpoint`) and sequence number.
    pub fn position(&self) -> (String, i64) {
        match self {
            Self::Edited { id, seq } | Self::Broken { id, seq } => (id.clone(), *seq),
            Self::Checkpoint { seq, .. } => ("checkpoint".to_owned(), *seq),
        }
    }
}

/// Checks events given in chain order, starting after `prev_hash` (the genesis hash or a
/// verified checkpoint), and returns the hash of the last one.
pub fn verify_chain<'a>(
    prev_hash: &str,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<String, ChainError> {
    let mut prev = prev_hash.to_owned();
    let mut expected_seq = None;
    for event in events {
        if chain_hash(event) != event.hash {
            return Err(ChainError::Edited {
                id: event.id.clone(),
                seq: event.seq,
            });
        }
        let seq_ok = expected_seq.is_none_or(|s| s == event.seq);
        if event.prev_hash != prev || !seq_ok {
            return Err(ChainError::Broken {
                id: event.id.clone(),
                seq: event.seq,
            });
        }
        prev = event.hash.clone();
        expected_seq = Some(event.seq + 1);
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, prev_hash: &str) -> Event {
        let mut e = Event {
            id: format!("id-{seq}"),
            org_id: "org-1".into(),
            seq,
            time_ms: 1_700_000_000_000 + seq,
            actor: EventActor {
                kind: "user".into(),
                id: "u1".into(),
                name: "ann@example.com".into(),
                ip: Some("127.0.0.1".into()),
                user_agent: None,
            },
            action: "team.created".into(),
            target: EventTarget {
                kind: "team".into(),
                id: "t1".into(),
                name: "ops".into(),
            },
            sentence: "ann@example.com created team ops".into(),
            details: r#"{"after":{"name":"ops"}}"#.into(),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        e.hash = chain_hash(&e);
        e
    }

    fn chain(n: i64) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            out.push(event(seq, &prev));
        }
        out
    }

    #[test]
    fn a_fresh_chain_verifies() {
        let events = chain(3);
        assert_eq!(verify_chain(GENESIS_HASH, &events).unwrap(), events[2].hash);
    }

    #[test]
    fn the_hash_is_stable_hex() {
        let e = event(1, GENESIS_HASH);
        assert_eq!(e.hash.len(), 64);
        assert_eq!(chain_hash(&e), e.hash);
    }

    #[test]
    fn an_edit_is_named() {
        let mut events = chain(3);
        events[1].details.push('x');
        assert_eq!(
            verify_chain(GENESIS_HASH, &events),
            Err(ChainError::Edited {
                id: "id-2".into(),
                seq: 2
            })
        );
    }

    #[test]
    fn a_deletion_or_reordering_is_named() {
        let mut events = chain(4);
        events.remove(1);
        assert_eq!(
            verify_chain(GENESIS_HASH, &events),
            Err(ChainError::Broken {
                id: "id-3".into(),
                seq: 3
            })
        );
        let mut events = chain(3);
        events.swap(1, 2);
        assert!(matches!(
            verify_chain(GENESIS_HASH, &events),
            Err(ChainError::Broken { .. })
        ));
    }

    #[test]
    fn none_and_empty_ip_differ() {
        let a = event(1, GENESIS_HASH);
        let mut b = a.clone();
        b.actor.ip = Some(String::new());
        assert_ne!(canonical_encoding(&a), canonical_encoding(&b));
    }
}
