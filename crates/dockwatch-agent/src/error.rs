//! The agent's errors: each names the file, URL or step that failed.

use std::path::PathBuf;

/// What can stop an agent cycle.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A file in the state dir or under the root could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot write").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A state file is corrupt.
    #[error("state file {path} is not valid: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The machine is not enrolled and no token was given.
    #[error("this machine is not enrolled with {server} and no --enroll-token was given")]
    NotEnrolled {
        /// The server URL.
        server: String,
    },
    /// The server could not be reached.
    #[error("cannot reach {url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}: {body}{hint}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
        /// What to do about it, when known.
        hint: &'static str,
    },
    /// The server's answer is not what the wire says.
    #[error("{url} answered something that is not a {what}: {message}")]
    Decode {
        /// The URL.
        url: String,
        /// The expected type.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The policy the server sent does not validate or does not match its hash.
    #[error("the policy \"{name}\" sent by the server is not valid: {message}")]
    BadPolicy {
        /// The policy's name.
        name: String,
        /// Why.
        message: String,
    },
    /// A random source failed.
    #[error("no random bytes available: {0}")]
    Random(String),
}

impl AgentError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Whether retrying later could help (network trouble, 5xx, 429), as opposed to a
    /// configuration problem that will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// Random bytes from the OS.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], AgentError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AgentError::Random(e.to_string()))?;
    Ok(buf)
}
