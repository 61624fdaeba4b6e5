//! Syslog: RFC 5424 messages over UDP, TCP with octet counting (RFC 6587) or TLS (RFC 5425),
//! with a JSON or CEF body.

use super::http::tls_decision;
use super::{Channel, ChannelContext, ChannelKind, Outcome, event_json};
use crate::ssrf::ResolveError;
use crate::{AlertEvent, ConfigError, Delivery, RetryDecision, Severity, TargetPolicy};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

/// Syslog settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// The collector's host name or address.
    pub host: String,
    /// Its port (default 514 for UDP and TCP, 6514 for TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// How to send.
    #[serde(default)]
    pub transport: SyslogTransport,
    /// The message body.
    #[serde(default)]
    pub format: SyslogFormat,
    /// Facility number, 0-23 (default 13, "log audit").
    #[serde(default = "default_facility")]
    pub facility: u8,
    /// PEM CA bundle trusted for TLS in addition to the public web roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The name the TLS certificate must carry (default: `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

fn default_facility() -> u8 {
    13
}

/// Syslog transports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// One datagram per message; no delivery guarantee.
    Udp,
    /// TCP with octet-counting framing.
    #[default]
    Tcp,
    /// TLS with octet-counting framing.
    Tls,
}

/// Syslog message bodies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// The event as one line of JSON.
    #[default]
    Json,
    /// ArcSight Common Event Format.
    Cef,
}

impl SyslogConfig {
    pub(crate) fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        match self.host.trim_matches(['[', ']']).parse() {
            Ok(ip) => policy
                .check(&self.host, ip)
                .map_err(|e| ConfigError::new("host", e.to_string()))?,
            Err(_) if self.host.is_empty() || self.host.contains(['/', ' ', ':', '[', ']']) => {
                return Err(ConfigError::new(
                    "host",
                    format!("{:?} is not a host name or address", self.host),
                ));
            }
            Err(_) => {}
        }
        if self.port == Some(0) {
            return Err(ConfigError::new("port", "must be 1-65535"));
        }
        if self.facility > 23 {
            return Err(ConfigError::new(
                "facility",
                format!("{} is not 0-23", self.facility),
            ));
        }
        if let Some(name) = &self.server_name {
            ServerName::try_from(name.as_str())
                .map_err(|e| ConfigError::new("server-name", format!("{name:?}: {e}")))?;
        }
        Ok(())
    }
}

/// The syslog channel.
#[derive(Debug)]
pub struct Syslog {
    config: SyslogConfig,
    port: u16,
    policy: TargetPolicy,
    connect_timeout: Duration,
    total_timeout: Duration,
    hostname: String,
    version: String,
    tls: Option<Tls>,
}

struct Tls(tokio_rustls::TlsConnector, ServerName<'static>);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tls({:?})", self.1)
    }
}

impl Syslog {
    pub(crate) fn new(config: SyslogConfig, ctx: &ChannelContext) -> Result<Self, ConfigError> {
        let tls = match config.transport {
            SyslogTransport::Tls => Some(tls_connector(&config)?),
            _ => None,
        };
        let port = config.port.unwrap_or(match config.transport {
            SyslogTransport::Tls => 6514,
            _ => 514,
        });
        Ok(Self {
            port,
            policy: ctx.policy,
            connect_timeout: ctx.connect_timeout,
            total_timeout: ctx.total_timeout,
            hostname: ctx.hostname.clone(),
            version: ctx.version.clone(),
            tls,
            config,
        })
    }

    /// The RFC 5424 messages for `delivery`, one per event.
    pub fn messages(&self, delivery: &Delivery) -> Vec<String> {
        delivery
            .events
            .iter()
            .map(|e| rfc5424(&self.config, &self.hostname, &self.version, delivery, e))
            .collect()
    }

    async fn send(&self, messages: &[String]) -> Result<String, RetryDecision> {
        let host = self.config.host.as_str();
        let addrs = self
            .policy
            .resolve(host, self.port)
            .await
            .map_err(|e| match e {
                ResolveError::Refused(r) => RetryDecision::permanent(r.to_string()),
                dns => RetryDecision::retry(dns.to_string()),
            })?;
        if self.config.transport == SyslogTransport::Udp {
            return send_udp(addrs[0], messages).await;
        }
        let tcp = self.connect(&addrs).await?;
        let mut framed = Vec::new();
        for m in messages {
            // Octet counting (RFC 6587 §3.4.1, RFC 5425 §4.3): "LEN SP MSG".
            framed.extend_from_slice(format!("{} ", m.len()).as_bytes());
            framed.extend_from_slice(m.as_bytes());
        }
        let io_err = |e: std::io::Error| {
            RetryDecision::retry(format!("sending to {host}:{}: {e}", self.port))
        };
        match &self.tls {
            None => {
                let mut tcp = tcp;
                tcp.write_all(&framed).await.map_err(io_err)?;
                tcp.shutdown().await.map_err(io_err)?;
            }
            Some(Tls(connector, name)) => {
                let mut tls = tokio::time::timeout(
                    self.connect_timeout,
                    connector.connect(name.clone(), tcp),
                )
                .await
                .map_err(|_| RetryDecision::retry(format!("TLS handshake with {host} timed out")))?
                .map_err(|e| {
                    tls_decision(host, &e).unwrap_or_else(|| {
                        RetryDecision::retry(format!("TLS handshake with {host}: {e}"))
                    })
                })?;
                tls.write_all(&framed).await.map_err(io_err)?;
                tls.shutdown().await.map_err(io_err)?;
            }
        }
        Ok(format!(
            "sent {} message(s), {} bytes over {}",
            messages.len(),
            framed.len(),
            if self.tls.is_some() { "TLS" } else { "TCP" }
        ))
    }

    async fn connect(&self, addrs: &[SocketAddr]) -> Result<TcpStream, RetryDecision> {
        let mut last = String::new();
        for addr in addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => last = format!("cannot connect to {addr}: {e}"),
                Err(_) => last = format!("connecting to {addr} timed out"),
            }
        }
        Err(RetryDecision::retry(last))
    }
}

async fn send_udp(addr: SocketAddr, messages: &[String]) -> Result<String, RetryDecision> {
    let local: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    }
    .parse()
    .expect("literal");
    // The largest UDP payload over IPv4; a bigger message can never go, so retrying is useless.
    const MAX_DATAGRAM: usize = 65_507;
    if let Some(big) = messages.iter().find(|m| m.len() > MAX_DATAGRAM) {
        return Err(RetryDecision::permanent(format!(
            "a {}-byte message does not fit in a UDP datagram ({MAX_DATAGRAM} bytes at most); use tcp or tls",
            big.len()
        )));
    }
    let err = |e: std::io::Error| RetryDecision::retry(format!("UDP to {addr}: {e}"));
    let socket = UdpSocket::bind(local).await.map_err(err)?;
    socket.connect(addr).await.map_err(err)?;
    for m in messages {
        socket.send(m.as_bytes()).await.map_err(err)?;
    }
    Ok(format!(
        "sent {} datagram(s) over UDP (no acknowledgement)",
        messages.len()
    ))
}

fn tls_connector(config: &SyslogConfig) -> Result<Tls, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &config.ca {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert =
                cert.map_err(|e| ConfigError::new("ca", format!("not a PEM certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ConfigError::new("ca", format!("unusable CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(ConfigError::new("ca", "no certificate in the PEM bundle"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("tls", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = config
        .server_name
        .as_deref()
        .unwrap_or(config.host.trim_matches(['[', ']']));
    let name = ServerName::try_from(name.to_owned())
        .map_err(|e| ConfigError::new("server-name", format!("{name:?}: {e}")))?;
    Ok(Tls(tokio_rustls::TlsConnector::from(Arc::new(tls)), name))
}

#[async_trait::async_trait]
impl Channel for Syslog {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Syslog
    }

    fn endpoint(&self) -> String {
        let transport = match self.config.transport {
            SyslogTransport::Udp => "udp",
            SyslogTransport::Tcp => "tcp",
            SyslogTransport::Tls => "tls",
        };
        format!("syslog+{transport}://{}:{}", self.config.host, self.port)
    }

    async fn deliver(&self, delivery: &Delivery) -> Outcome {
        let started = Instant::now();
        let messages = self.messages(delivery);
        let result = tokio::time::timeout(self.total_timeout, self.send(&messages))
            .await
            .unwrap_or_else(|_| {
                Err(RetryDecision::retry(format!(
                    "{} did not take the messages within {}s (timed out)",
                    self.endpoint(),
                    self.total_timeout.as_secs_f64()
                )))
            });
        let (excerpt, decision) = match result {
            Ok(note) => (note, RetryDecision::Delivered),
            Err(d) => (
                match &d {
                    RetryDecision::Retry { reason, .. } | RetryDecision::Permanent { reason } => {
                        reason.clone()
                    }
                    RetryDecision::Delivered => String::new(),
                },
                d,
            ),
        };
        Outcome {
            status: None,
            latency: started.elapsed(),
            response_excerpt: excerpt,
            decision,
        }
    }
}

/// Syslog severity for an event (RFC 5424 §6.2.1).
fn syslog_severity(s: Option<Severity>) -> u8 {
    match s {
        Some(Severity::Critical) => 2,
        Some(Severity::High) => 3,
        Some(Severity::Medium) => 4,
        Some(Severity::Low) | None => 5,
        Some(Severity::Info) => 6,
    }
}

/// One RFC 5424 message (no framing).
pub fn rfc5424(
    config: &SyslogConfig,
    hostname: &str,
    version: &str,
    delivery: &Delivery,
    e: &AlertEvent,
) -> String {
    let pri = u16::from(config.facility) * 8 + u16::from(syslog_severity(e.severity));
    let ts = e
        .time
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_else(|_| "-".into());
    let body = match config.format {
        SyslogFormat::Json => {
            let mut v = event_json(e);
            v["delivery_id"] = serde_json::json!(delivery.id);
            v.to_string()
        }
        SyslogFormat::Cef => cef(version, delivery, e),
    };
    // 32473 is the private enterprise number RFC 5612 reserves for documentation and examples.
    format!(
        "<{pri}>1 {ts} {} dockwatch - {} [dockwatch@32473 org=\"{}\" event=\"{}\" delivery=\"{}\" attempt=\"{}\"] {body}",
        header_token(hostname, 255),
        header_token(&e.action, 32),
        sd_escape(&e.org),
        sd_escape(&e.id),
        sd_escape(&delivery.id),
        delivery.attempt,
    )
}

/// A header field: printable US-ASCII without spaces, at most `max` long, `-` if empty.
fn header_token(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if t.is_empty() { "-".into() } else { t }
}

/// PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]`.
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cef_severity(s: Option<Severity>) -> u8 {
    match s {
        Some(Severity::Critical) => 10,
        Some(Severity::High) => 8,
        Some(Severity::Medium) => 5,
        Some(Severity::Low) | None => 3,
        Some(Severity::Info) => 1,
    }
}

/// A CEF record: `CEF:0|Dockwatch|Dockwatch|version|action|summary|severity|extension`.
pub fn cef(version: &str, delivery: &Delivery, e: &AlertEvent) -> String {
    let mut ext = vec![
        (
            "rt",
            (e.time.unix_timestamp_nanos() / 1_000_000).to_string(),
        ),
        ("suser", e.actor.clone()),
        ("externalId", e.id.clone()),
        ("act", e.action.clone()),
        ("msg", e.summary.clone()),
        ("cs1Label", "organization".into()),
        ("cs1", e.org.clone()),
        ("cs2Label", "target".into()),
        ("cs2", e.target.clone()),
        ("cs3Label", "deliveryId".into()),
        ("cs3", delivery.id.clone()),
    ];
    if let Some(repo) = &e.repository {
        ext.push(("cs4Label", "repository".into()));
        ext.push(("cs4", repo.clone()));
    }
    if let Some(team) = &e.team {
        ext.push(("cs5Label", "team".into()));
        ext.push(("cs5", team.clone()));
    }
    if let Some(url) = &e.console_url {
        ext.push(("request", url.clone()));
    }
    let ext: Vec<String> = ext
        .into_iter()
        .map(|(k, v)| format!("{k}={}", cef_ext_escape(&v)))
        .collect();
    format!(
        "CEF:0|Dockwatch|Dockwatch|{}|{}|{}|{}|{}",
        cef_header_escape(version),
        cef_header_escape(&e.action),
        cef_header_escape(&e.summary),
        cef_severity(e.severity),
        ext.join(" ")
    )
}

/// Header escaping: `\` and `|` get a backslash; line breaks are not allowed, so they become spaces.
fn cef_header_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// Extension value escaping: `\` and `=` get a backslash; line breaks become `\n` / `\r`.
fn cef_ext_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    fn config(format: SyslogFormat) -> SyslogConfig {
        serde_json::from_value(serde_json::json!({"host": "syslog.example", "format": format}))
            .unwrap()
    }

    #[test]
    fn rfc5424_json() {
        let d = Delivery::single("c", sample("team.created"));
        let m = rfc5424(
            &config(SyslogFormat::Json),
            "dw 1",
            "0.1.0",
            &d,
            &d.events[0],
        );
        let expected_head = format!(
            "<109>1 2026-11-25T13:14:15.678Z dw1 dockwatch - team.created [dockwatch@32473 org=\"acme\" \
             event=\"01J9Z7Q4T0000000000000TEAM\" delivery=\"{}\" attempt=\"1\"] {{",
            d.id
        );
        assert!(m.starts_with(&expected_head), "{m}");
        let json: serde_json::Value = serde_json::from_str(&m[expected_head.len() - 1..]).unwrap();
        assert_eq!(json["action"], "team.created");
    }

    #[test]
    fn cef_escaping() {
        let mut e = sample("team.created");
        e.summary = "a|b\\c=d\nnext".into();
        e.severity = Some(Severity::High);
        let d = Delivery::single("c", e.clone());
        let c = cef("0.1.0", &d, &e);
        assert!(
            c.starts_with(
                "CEF:0|Dockwatch|Dockwatch|0.1.0|team.created|a\\|b\\\\c=d next|8|rt=1795612455678 "
            ),
            "{c}"
        );
        assert!(c.contains(" msg=a|b\\\\c\\=d\\nnext "), "{c}");
        assert!(c.contains(" cs1Label=organization cs1=acme "), "{c}");
        assert!(
            c.ends_with(" request=https://dockwatch.example/events/01J9Z7Q4T0000000000000TEAM"),
            "{c}"
        );
    }

    #[test]
    fn sd_values_are_escaped() {
        assert_eq!(sd_escape(r#"a"b]c\d"#), r#"a\"b\]c\\d"#);
    }

    #[test]
    fn bad_settings() {
        let mut c = config(SyslogFormat::Json);
        c.facility = 24;
        assert_eq!(
            c.validate(&TargetPolicy::STRICT).unwrap_err().setting,
            "facility"
        );
        let mut c = config(SyslogFormat::Json);
        c.host = "127.0.0.1".into();
        assert_eq!(
            c.validate(&TargetPolicy::STRICT).unwrap_err().setting,
            "host"
        );
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(c.validate(&open).is_ok());
        for ok in ["fd00::1", "[fd00::1]", "syslog.example"] {
            c.host = ok.into();
            assert!(c.validate(&open).is_ok(), "{ok}");
        }
        for bad in ["", "syslog.example:514", "tcp://syslog.example", "a b"] {
            c.host = bad.into();
            assert_eq!(c.validate(&open).unwrap_err().setting, "host", "{bad}");
        }
    }
}
