//! Signed checkpoints of the activity log: "organization X's chain reached seq N with hash H at
//! time T", signed with HMAC-SHA256 under a key kept in the server's data directory.
//!
//! A valid checkpoint lets verification start at N instead of the first event (the hash H
//! commits to every event before it), and a prune checkpoint is where a chain whose oldest
//! events were deleted by retention now starts. Without the key nobody can make one that
//! verifies, so a forged checkpoint (to hide deleted or edited events) is detected.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why the checkpoint was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// Made periodically after the chain up to it verified.
    Periodic,
    /// Made by retention: the events up to it were deleted; the chain now starts after it.
    Prune,
}

impl CheckpointKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Periodic => "periodic",
            Self::Prune => "prune",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "periodic" => Some(Self::Periodic),
            "prune" => Some(Self::Prune),
            _ => None,
        }
    }
}

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The organization whose chain it is.
    pub org_id: String,
    /// The sequence number of the event it stands for.
    pub seq: i64,
    /// That event's hash.
    pub hash: String,
    /// That event's time (ms since the epoch).
    pub time_ms: i64,
    /// Periodic or prune.
    pub kind: CheckpointKind,
    /// Which key signed it ([`CheckpointKey::id`]).
    pub key_id: String,
    /// Lowercase hex HMAC-SHA256 of [`signed_bytes`].
    pub signature: String,
}

/// What is signed: a JSON array of every field but the signature, in a fixed order.
pub fn signed_bytes(c: &Checkpoint) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([
        "dockwatch-checkpoint-v1",
        c.org_id,
        c.seq,
        c.hash,
        c.time_ms,
        c.kind.as_str(),
        c.key_id,
    ]))
    .expect("a JSON array of strings and numbers always serializes")
}

/// The checkpoint signing key (32 random bytes).
#[derive(Clone)]
pub struct CheckpointKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointKey({})", self.id())
    }
}

/// A key file or value that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a checkpoint key is 64 hex digits")]
pub struct BadKey;

impl CheckpointKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// A key from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, BadKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| BadKey)?;
        Ok(Self {
            bytes: bytes.try_into().map_err(|_| BadKey)?,
        })
    }

    /// The key as 64 hex digits (for the key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// A public name for the key: the first 16 hex digits of its SHA-256.
    pub fn id(&self) -> String {
        hex::encode(Sha256::digest(self.bytes))[..16].to_owned()
    }

    fn mac(&self, c: &Checkpoint) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.bytes).expect("HMAC takes keys of any length");
        mac.update(&signed_bytes(c));
        mac
    }

    /// Sets `c.key_id` to this key and `c.signature` to its signature.
    pub fn sign(&self, c: &mut Checkpoint) {
        c.key_id = self.id();
        c.signature = hex::encode(self.mac(c).finalize().into_bytes());
    }

    /// Whether this key signed `c` as it stands (constant-time comparison).
    pub fn verifies(&self, c: &Checkpoint) -> bool {
        let Ok(sig) = hex::decode(&c.signature) else {
            return false;
        };
        c.key_id == self.id() && self.mac(c).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            org_id: "org-1".into(),
            seq: 42,
            hash: "ab".repeat(32),
            time_ms: 1_700_000_000_000,
            kind: CheckpointKind::Periodic,
            key_id: String::new(),
            signature: String::new(),
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let key = CheckpointKey::from_bytes([7; 32]);
        let mut c = checkpoint();
        key.sign(&mut c);
        assert!(key.verifies(&c));
        let mut moved = c.clone();
        moved.seq = 43;
        assert!(!key.verifies(&moved));
        let mut prune = c.clone();
        prune.kind = CheckpointKind::Prune;
        assert!(!key.verifies(&prune));
        let other = CheckpointKey::from_bytes([8; 32]);
        assert!(!other.verifies(&c));
        let mut garbage = c;
        garbage.signature = "zz".into();
        assert!(!key.verifies(&garbage));
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let key = CheckpointKey::from_bytes([9; 32]);
        let back = CheckpointKey::from_hex(&format!("{}\n", key.to_hex())).unwrap();
        assert_eq!(back.id(), key.id());
        assert_eq!(CheckpointKey::from_hex("abc").unwrap_err(), BadKey);
    }
}
