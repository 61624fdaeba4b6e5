//! The agent's wire: enrollment, signed reports and policy fetches (`/api/v1/agent/*`), shared by
//! the agent and the server so both sign and check the same bytes.
//!
//! Every request after enrollment carries four headers: the machine id, a Unix timestamp, a
//! random nonce and `v1=<hex HMAC-SHA256>` keyed with the machine credential over
//! [`signing_input`]. The server accepts a timestamp within [`MAX_CLOCK_SKEW_SECS`] of its
//! clock and each nonce once within that window.

use super::assign::Scope;
use super::policy::PolicyVersion;
use super::report::OsInfo;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `POST`: trade an enrollment token for a machine credential.
pub const ENROLL_PATH: &str = "/api/v1/agent/enroll";
/// `POST` (signed): send a [`super::report::MachineReport`].
pub const REPORT_PATH: &str = "/api/v1/agent/report";
/// `GET` (signed): this machine's effective policy.
pub const POLICY_PATH: &str = "/api/v1/agent/policy";

/// The path and query of a policy fetch: [`POLICY_PATH`], with `?user=EMAIL` when the agent
/// knows the signed-in user, so the server answers that user's effective policy. The signature
/// covers the path with its query, exactly as sent.
pub fn policy_path(user: Option<&str>) -> String {
    match user {
        None => POLICY_PATH.to_owned(),
        Some(u) => format!("{POLICY_PATH}?user={}", query_escape(u)),
    }
}

/// Percent-encodes everything but ASCII letters, digits, `-._~@`, so the bytes the agent signs
/// are the bytes an HTTP client sends.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The machine id the server gave at enrollment.
pub const HEADER_MACHINE: &str = "x-dockwatch-machine";
/// Seconds since the Unix epoch when the request was signed.
pub const HEADER_TIMESTAMP: &str = "x-dockwatch-timestamp";
/// 16 random bytes, hex; never reused within the skew window.
pub const HEADER_NONCE: &str = "x-dockwatch-nonce";
/// `v1=` and the hex HMAC-SHA256 of [`signing_input`].
pub const HEADER_SIGNATURE: &str = "x-dockwatch-signature";
/// How far a request's timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// `POST /api/v1/agent/enroll` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The organization's enrollment token.
    pub enrollment_token: String,
    /// The host's own id (`/etc/machine-id`).
    pub host_machine_id: String,
    /// The host name.
    pub hostname: String,
    /// The operating system.
    pub os: OsInfo,
    /// The agent's version.
    pub agent_version: String,
}

/// `POST /api/v1/agent/enroll` answer (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The id the server knows this machine by; sent in [`HEADER_MACHINE`].
    pub machine_id: String,
    /// The per-machine secret that keys the signatures. Shown once; stored by the agent 0600.
    pub credential: String,
    /// The organization the machine joined.
    pub org: String,
}

/// `POST /api/v1/agent/report` answer (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResponse {
    /// When the server took the report (ms since the epoch).
    pub received_at_ms: i64,
    /// The machine's status after this report (`compliant`, `non-compliant`...).
    pub status: String,
    /// The current version of the machine's effective policy, so the agent knows whether to fetch.
    #[serde(default)]
    pub policy_version: Option<PolicyVersion>,
}

/// `GET /api/v1/agent/policy` answer (200); `policy` is `null` when none is assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResponse {
    /// The effective policy, if any.
    pub policy: Option<AssignedPolicy>,
}

/// An effective policy as sent to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignedPolicy {
    /// The policy's name.
    pub name: String,
    /// Its version; `hash` is the SHA-256 of the document's canonical bytes, which the agent
    /// checks before applying.
    pub version: PolicyVersion,
    /// The assignment that made it win.
    pub scope: Scope,
    /// The full policy document (admin-settings.json content plus `x-dockwatch`).
    pub document: Value,
}

/// The four signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// [`HEADER_MACHINE`].
    pub machine_id: String,
    /// [`HEADER_TIMESTAMP`].
    pub timestamp: i64,
    /// [`HEADER_NONCE`].
    pub nonce: String,
    /// [`HEADER_SIGNATURE`].
    pub signature: String,
}

impl SignedHeaders {
    /// As (name, value) pairs.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_MACHINE, self.machine_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers through a lookup (header names are lowercase).
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, SignatureError> {
        let need = |name: &'static str| get(name).ok_or(SignatureError::Missing(name));
        let timestamp = need(HEADER_TIMESTAMP)?
            .trim()
            .parse()
            .map_err(|_| SignatureError::Malformed(HEADER_TIMESTAMP))?;
        let nonce = need(HEADER_NONCE)?.to_string();
        if nonce.len() < 16 || nonce.len() > 64 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SignatureError::Malformed(HEADER_NONCE));
        }
        Ok(Self {
            machine_id: need(HEADER_MACHINE)?.to_string(),
            timestamp,
            nonce,
            signature: need(HEADER_SIGNATURE)?.to_string(),
        })
    }
}

/// Why a signed request was refused (all 401 except `Missing`/`Malformed`, which are 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A signature header is absent.
    #[error("missing header {0}")]
    Missing(&'static str),
    /// A signature header can't be read.
    #[error("malformed header {0}")]
    Malformed(&'static str),
    /// The timestamp is too far from the server's clock (a replay or a wrong clock).
    #[error(
        "request timestamp is {skew_secs} s from the server's clock (limit {MAX_CLOCK_SKEW_SECS} s)"
    )]
    Expired {
        /// How far off it is.
        skew_secs: i64,
    },
    /// The HMAC does not match.
    #[error("signature does not match")]
    Mismatch,
}

/// The bytes the HMAC covers: a version tag, the method, the path, the machine id, the
/// timestamp, the nonce and the body's SHA-256, one per line.
pub fn signing_input(
    method: &str,
    path: &str,
    machine_id: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "dockwatch-v1\n{}\n{path}\n{machine_id}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(Sha256::digest(body))
    )
    .into_bytes()
}

fn mac(credential: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(credential.as_bytes()).expect("HMAC takes keys of any length")
}

/// Signs a request. `nonce_bytes` come from the caller's random source (core does no IO).
pub fn sign(
    credential: &str,
    method: &str,
    path: &str,
    machine_id: &str,
    timestamp: i64,
    nonce_bytes: [u8; 16],
    body: &[u8],
) -> SignedHeaders {
    let nonce = hex::encode(nonce_bytes);
    let mut m = mac(credential);
    m.update(&signing_input(
        method, path, machine_id, timestamp, &nonce, body,
    ));
    SignedHeaders {
        machine_id: machine_id.into(),
        timestamp,
        nonce,
        signature: format!("v1={}", hex::encode(m.finalize().into_bytes())),
    }
}

/// Checks a request's signature and timestamp (constant-time comparison). The caller must
/// still refuse a nonce it has already seen for this machine within the skew window.
pub fn verify(
    credential: &str,
    method: &str,
    path: &str,
    headers: &SignedHeaders,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let skew_secs = (now_secs - headers.timestamp).abs();
    if skew_secs > MAX_CLOCK_SKEW_SECS {
        return Err(SignatureError::Expired { skew_secs });
    }
    let hex_sig = headers
        .signature
        .strip_prefix("v1=")
        .ok_or(SignatureError::Malformed(HEADER_SIGNATURE))?;
    let sig = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed(HEADER_SIGNATURE))?;
    let mut m = mac(credential);
    m.update(&signing_input(
        method,
        path,
        &headers.machine_id,
        headers.timestamp,
        &headers.nonce,
        body,
    ));
    m.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn the_policy_path_carries_the_user_escaped() {
        assert_eq!(policy_path(None), POLICY_PATH);
        assert_eq!(
            policy_path(Some("alice+ops@corp.example")),
            "/api/v1/agent/policy?user=alice%2Bops@corp.example"
        );
    }

    fn signed(body: &[u8]) -> SignedHeaders {
        sign("s3cret", "post", REPORT_PATH, "m-1", NOW, [7; 16], body)
    }

    #[test]
    fn a_signed_request_verifies() {
        let h = signed(b"{}");
        assert!(h.signature.starts_with("v1="));
        assert_eq!(
            verify("s3cret", "POST", REPORT_PATH, &h, b"{}", NOW + 10),
            Ok(())
        );
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let h = signed(b"{}");
        let mismatch = Err(SignatureError::Mismatch);
        assert_eq!(
            verify("other", "POST", REPORT_PATH, &h, b"{}", NOW),
            mismatch
        );
        assert_eq!(
            verify("s3cret", "POST", REPORT_PATH, &h, b"{ }", NOW),
            mismatch
        );
        assert_eq!(
            verify("s3cret", "GET", POLICY_PATH, &h, b"{}", NOW),
            mismatch
        );
        let mut other_machine = h.clone();
        other_machine.machine_id = "m-2".into();
        assert_eq!(
            verify("s3cret", "POST", REPORT_PATH, &other_machine, b"{}", NOW),
            mismatch
        );
        let mut other_nonce = h.clone();
        other_nonce.nonce = "00".repeat(16);
        assert_eq!(
            verify("s3cret", "POST", REPORT_PATH, &other_nonce, b"{}", NOW),
            mismatch
        );
    }

    #[test]
    fn old_requests_are_refused() {
        let h = signed(b"{}");
        assert_eq!(
            verify(
                "s3cret",
                "POST",
                REPORT_PATH,
                &h,
                b"{}",
                NOW + MAX_CLOCK_SKEW_SECS + 1
            ),
            Err(SignatureError::Expired {
                skew_secs: MAX_CLOCK_SKEW_SECS + 1
            })
        );
    }

    #[test]
    fn headers_round_trip_and_missing_ones_are_named() {
        let h = signed(b"");
        let pairs = h.pairs();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(SignedHeaders::from_lookup(get), Ok(h.clone()));
        let none = |name: &str| {
            if name == HEADER_SIGNATURE {
                None
            } else {
                get(name)
            }
        };
        assert_eq!(
            SignedHeaders::from_lookup(none),
            Err(SignatureError::Missing(HEADER_SIGNATURE))
        );
        let bad_nonce = |name: &str| {
            if name == HEADER_NONCE {
                Some("xyz")
            } else {
                get(name)
            }
        };
        assert_eq!(
            SignedHeaders::from_lookup(bad_nonce),
            Err(SignatureError::Malformed(HEADER_NONCE))
        );
    }
}
