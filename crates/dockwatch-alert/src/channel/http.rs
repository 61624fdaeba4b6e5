//! The HTTP client every HTTP channel shares: policy-checked DNS, same-host redirects only,
//! bounded timeouts and answers, and the mapping from what happened to a retry decision.

use super::{ChannelContext, Outcome};
use crate::retry::classify_status;
use crate::ssrf::{ResolveError, TargetRefused};
use crate::{ConfigError, RetryDecision, TargetPolicy};
use std::error::Error as StdError;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How much of an answer we read; more is not useful in a delivery log.
const MAX_BODY: usize = 64 * 1024;
/// How much of it the log keeps.
const EXCERPT_CHARS: usize = 512;

/// A policy-bound HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct HttpSender {
    client: reqwest::Client,
    policy: TargetPolicy,
    total: Duration,
}

/// A receiver's answer, body bounded.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn excerpt(&self) -> String {
        excerpt(&self.body)
    }

    /// The status's retry decision.
    pub(crate) fn decision(&self) -> RetryDecision {
        classify_status(
            self.status,
            self.retry_after.as_deref(),
            self.location.as_deref(),
            OffsetDateTime::now_utc(),
        )
    }

    /// The attempt's outcome, judged by status alone.
    pub(crate) fn outcome(&self, started: Instant) -> Outcome {
        Outcome {
            status: Some(self.status),
            latency: started.elapsed(),
            response_excerpt: self.excerpt(),
            decision: self.decision(),
        }
    }
}

pub(crate) fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

/// The outcome of an attempt that got no answer.
pub(crate) fn failed(started: Instant, decision: RetryDecision) -> Outcome {
    let reason = match &decision {
        RetryDecision::Retry { reason, .. } | RetryDecision::Permanent { reason } => reason.clone(),
        RetryDecision::Delivered => String::new(),
    };
    Outcome {
        status: None,
        latency: started.elapsed(),
        response_excerpt: reason,
        decision,
    }
}

impl HttpSender {
    /// A client for `ctx`, trusting the public web roots plus `extra_ca_pem` if given.
    pub(crate) fn new(
        ctx: &ChannelContext,
        extra_ca_pem: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(ctx.connect_timeout)
            .timeout(ctx.total_timeout)
            .no_proxy()
            .user_agent(format!("Dockwatch/{}", ctx.version))
            .dns_resolver(ctx.policy.reqwest_resolver())
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                // Follow a few redirects on the same host and port; anything else comes back
                // as the 3xx answer and is classified as a permanent failure.
                let from = attempt.previous().last();
                let same_origin = from.is_some_and(|from| {
                    from.host_str() == attempt.url().host_str()
                        && from.port_or_known_default() == attempt.url().port_or_known_default()
                        && from.scheme() == attempt.url().scheme()
                });
                if same_origin && attempt.previous().len() < 5 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }));
        if let Some(pem) = extra_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                ConfigError::new("ca", format!("not a PEM certificate bundle: {e}"))
            })?;
            if certs.is_empty() {
                return Err(ConfigError::new("ca", "no certificate in the PEM bundle"));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::new("http client", e.to_string()))?;
        Ok(Self {
            client,
            policy: ctx.policy,
            total: ctx.total_timeout,
        })
    }

    /// The underlying client, to build requests with.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads a bounded answer, or says why there is none.
    pub(crate) async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, RetryDecision> {
        let request = request
            .build()
            .map_err(|e| RetryDecision::permanent(format!("cannot build the request: {e}")))?;
        let host = request.url().host_str().unwrap_or_default().to_owned();
        if let Err(refused) = self.policy.check_url(request.url()) {
            return Err(RetryDecision::permanent(refused.to_string()));
        }
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| self.classify(&host, &e))?;
        let status = response.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let location = header(reqwest::header::LOCATION);
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                // The status is what counts; a body cut short by the timeout is still logged.
                Err(e) if status < 300 => {
                    tracing::debug!(%host, error = %e, "answer body cut short");
                    break;
                }
                Err(e) => return Err(self.classify(&host, &e)),
            }
        }
        Ok(Reply {
            status,
            retry_after,
            location,
            body,
        })
    }

    fn classify(&self, host: &str, e: &reqwest::Error) -> RetryDecision {
        classify_transport(host, e, self.total)
    }
}

/// Sorts a transport failure: refused targets and bad certificates are permanent, timeouts and
/// connection failures retry.
pub(crate) fn classify_transport(host: &str, e: &reqwest::Error, total: Duration) -> RetryDecision {
    let mut source: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<TargetRefused>() {
            return RetryDecision::permanent(refused.to_string());
        }
        if let Some(ResolveError::Refused(refused)) = err.downcast_ref::<ResolveError>() {
            return RetryDecision::permanent(refused.to_string());
        }
        if let Some(decision) = tls_decision(host, err) {
            return decision;
        }
        source = err.source();
    }
    if e.is_timeout() && e.is_connect() {
        RetryDecision::retry(format!("connecting to {host} timed out"))
    } else if e.is_timeout() {
        RetryDecision::retry(format!(
            "no complete answer from {host} within {}s (timed out)",
            total.as_secs_f64()
        ))
    } else if e.is_connect() {
        RetryDecision::retry(format!("cannot connect to {host}: {}", chain(e)))
    } else {
        RetryDecision::retry(format!("request to {host} failed: {}", chain(e)))
    }
}

/// A permanent decision if `err` is (or wraps) a TLS certificate rejection.
pub(crate) fn tls_decision(host: &str, err: &(dyn StdError + 'static)) -> Option<RetryDecision> {
    // io::Error::source skips its own payload, and hyper-rustls wraps tokio-rustls's io::Error
    // in another one, so unwrap io errors explicitly.
    let mut inner: &(dyn StdError + 'static) = err;
    while let Some(payload) = inner
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        inner = payload;
    }
    let tls = inner.downcast_ref::<rustls::Error>()?;
    match tls {
        rustls::Error::InvalidCertificate(why) => Some(RetryDecision::permanent(format!(
            "TLS certificate of {host} rejected: {why:?}; fix the receiver's certificate or \
             configure the CA that signed it"
        ))),
        rustls::Error::NoCertificatesPresented | rustls::Error::UnsupportedNameType => Some(
            RetryDecision::permanent(format!("TLS handshake with {host} failed: {tls}")),
        ),
        _ => None,
    }
}

fn chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
