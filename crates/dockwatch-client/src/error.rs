//! The client's errors: each names the request and what the server said.

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the transfer failed.
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
    /// The server answered with an error.
    #[error("{method} {path}: {status} {code}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The answer was not what this client expects.
    #[error("{path}: unexpected answer: {message}")]
    Decode { path: String, message: String },
}
