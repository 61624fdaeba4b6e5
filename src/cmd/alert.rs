//! `dockwatch alert`: channels, rules, and the delivery log of an organization's alerts.

use super::client::{Connection, Output, block_on, done, print};
use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use std::process::ExitCode;

/// Manage alert channels, rules and deliveries.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    out: Output,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Channels: where alerts go.
    Channel {
        #[command(subcommand)]
        command: ChannelCmd,
    },
    /// Rules: which events go to which channels.
    Rule {
        #[command(subcommand)]
        command: RuleCmd,
    },
    /// The delivery log, newest first.
    Deliveries {
        /// Only this channel's.
        #[arg(long)]
        channel: Option<String>,
        /// Only pending, delivered or dead ones.
        #[arg(long)]
        status: Option<String>,
    },
    /// Queue a dead-lettered delivery again (same delivery id).
    Redeliver {
        /// The delivery id (`msg_...`).
        id: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    Slack,
    Webhook,
    SplunkHec,
    Sentinel,
    Syslog,
}

#[derive(Debug, clap::Subcommand)]
enum ChannelCmd {
    /// Add a channel.
    Add {
        /// slack, webhook, splunk-hec, sentinel or syslog.
        #[arg(value_enum)]
        kind: Kind,
        /// Unique name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        settings: Box<ChannelFlags>,
    },
    /// List channels (secrets redacted) and their endpoints' circuit breakers.
    List,
    /// Remove a channel.
    Remove { name: String },
    /// Send a test event and show the receiver's answer.
    Test { name: String },
    /// Rotate a channel's secret. A webhook then signs with the new and the old secret until
    /// `--finish` (update the receiver in between).
    RotateSecret {
        name: String,
        /// The new secret.
        #[arg(
            long,
            env = "DOCKWATCH_ALERT_SECRET",
            hide_env_values = true,
            required_unless_present = "finish"
        )]
        secret: Option<String>,
        /// Webhook: stop signing with the previous secret.
        #[arg(long, conflicts_with = "secret")]
        finish: bool,
    },
}

/// A channel's settings as flags; each kind takes its own (see docs/alerts.md).
#[derive(Debug, Default, clap::Args)]
struct ChannelFlags {
    /// slack, webhook, splunk-hec: where to send.
    #[arg(long)]
    url: Option<String>,
    /// The channel's secret: webhook signing secret (`whsec_...`), Splunk HEC token,
    /// Sentinel client secret.
    #[arg(long, env = "DOCKWATCH_ALERT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// webhook: the old signing secret, during a rotation (both sign).
    #[arg(long)]
    previous_secret: Option<String>,
    /// webhook: `standard` (default) or `docker-hub`.
    #[arg(long)]
    payload: Option<String>,
    /// splunk-hec: the index.
    #[arg(long)]
    index: Option<String>,
    /// splunk-hec: the sourcetype (default `dockwatch:event`).
    #[arg(long)]
    sourcetype: Option<String>,
    /// splunk-hec: the source (default `dockwatch`).
    #[arg(long)]
    source: Option<String>,
    /// syslog: the receiver's host; splunk-hec: the envelope's `host`.
    #[arg(long)]
    host: Option<String>,
    /// splunk-hec: wait for indexer acknowledgement.
    #[arg(long)]
    ack: bool,
    /// splunk-hec, syslog (TLS): a PEM file of CA certificates to trust.
    #[arg(long, value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    /// sentinel: the OAuth2 authority (default `https://login.microsoftonline.com`).
    #[arg(long)]
    authority: Option<String>,
    /// sentinel: the Entra tenant id.
    #[arg(long)]
    tenant_id: Option<String>,
    /// sentinel: the app registration's client id.
    #[arg(long)]
    client_id: Option<String>,
    /// sentinel: the data collection (or logs ingestion) endpoint.
    #[arg(long)]
    endpoint: Option<String>,
    /// sentinel: the data collection rule's immutable id (`dcr-...`).
    #[arg(long)]
    dcr_immutable_id: Option<String>,
    /// sentinel: the stream (`Custom-DockwatchEvents_CL`).
    #[arg(long)]
    stream: Option<String>,
    /// syslog: the port (default 514, 6514 for TLS).
    #[arg(long)]
    port: Option<u16>,
    /// syslog: `udp`, `tcp` (default) or `tls`.
    #[arg(long)]
    transport: Option<String>,
    /// syslog: the message body, `json` (default) or `cef`.
    #[arg(long)]
    message_format: Option<String>,
    /// syslog: the facility, 0 to 23 (default 13, log audit).
    #[arg(long)]
    facility: Option<u8>,
    /// syslog (TLS): the name the receiver's certificate must carry (default: the host).
    #[arg(long)]
    server_name: Option<String>,
    /// Any other setting, as `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
enum RuleCmd {
    /// Add a rule.
    Add {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Action pattern (`team.*`, `repository.pushed`); repeatable.
        #[arg(long = "match", required = true)]
        patterns: Vec<String>,
        /// Channel name; repeatable.
        #[arg(long = "channel", required = true)]
        channels: Vec<String>,
        /// Only events about this repository (`acme/api`, `acme/*`).
        #[arg(long)]
        repository: Option<String>,
        /// Only events at least this serious (info, low, medium, high, critical).
        #[arg(long)]
        min_severity: Option<String>,
        /// Only events about this team.
        #[arg(long)]
        team: Option<String>,
        /// At most N deliveries per channel per window, as `N/WINDOW` (`10/1h`); the rest
        /// go out in one summary when the window ends.
        #[arg(long, value_name = "N/WINDOW")]
        throttle: Option<String>,
        /// Send one digest per channel every this many minutes instead of each event.
        #[arg(long, value_name = "MINUTES")]
        digest_minutes: Option<u32>,
    },
    /// List rules.
    List,
    /// Remove a rule.
    Remove { name: String },
}

/// `10/1h` as the API's `{"max": 10, "window_secs": 3600}`.
fn throttle(text: &str) -> anyhow::Result<Value> {
    let (max, window) = text
        .split_once('/')
        .with_context(|| format!("--throttle {text:?}: expected N/WINDOW, such as 10/1h"))?;
    let max: u32 = max
        .trim()
        .parse()
        .with_context(|| format!("--throttle {text:?}: {max:?} is not a count"))?;
    let window = humantime::parse_duration(window.trim())
        .with_context(|| format!("--throttle {text:?}: {window:?} is not a duration (1h, 10m)"))?;
    Ok(json!({ "max": max, "window_secs": window.as_secs() }))
}

/// The channel settings the API takes, from the flags: each set flag must be one of the
/// kind's settings.
fn channel_config(kind: Kind, flags: ChannelFlags) -> anyhow::Result<Value> {
    let (name, secret_key, allowed): (&str, Option<&str>, &[&str]) = match kind {
        Kind::Slack => ("slack", None, &["url"]),
        Kind::Webhook => (
            "webhook",
            Some("secret"),
            &["url", "previous-secret", "payload"],
        ),
        Kind::SplunkHec => (
            "splunk-hec",
            Some("token"),
            &["url", "index", "sourcetype", "source", "host", "ack", "ca"],
        ),
        Kind::Sentinel => (
            "sentinel",
            Some("client_secret"),
            &[
                "authority",
                "tenant-id",
                "client-id",
                "endpoint",
                "dcr-immutable-id",
                "stream",
            ],
        ),
        Kind::Syslog => (
            "syslog",
            None,
            &[
                "host",
                "port",
                "transport",
                "message-format",
                "facility",
                "ca",
                "server-name",
            ],
        ),
    };
    let ca = match &flags.ca {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--ca {}: cannot read it", path.display()))?,
        ),
        None => None,
    };
    // (flag, setting, value)
    let given: Vec<(&str, &str, Option<Value>)> = vec![
        ("url", "url", flags.url.map(Value::from)),
        (
            "previous-secret",
            "previous_secret",
            flags.previous_secret.map(Value::from),
        ),
        ("payload", "payload", flags.payload.map(Value::from)),
        ("index", "index", flags.index.map(Value::from)),
        (
            "sourcetype",
            "sourcetype",
            flags.sourcetype.map(Value::from),
        ),
        ("source", "source", flags.source.map(Value::from)),
        ("host", "host", flags.host.map(Value::from)),
        ("ack", "ack", flags.ack.then_some(Value::Bool(true))),
        ("ca", "ca", ca.map(Value::from)),
        ("authority", "authority", flags.authority.map(Value::from)),
        ("tenant-id", "tenant_id", flags.tenant_id.map(Value::from)),
        ("client-id", "client_id", flags.client_id.map(Value::from)),
        ("endpoint", "endpoint", flags.endpoint.map(Value::from)),
        (
            "dcr-immutable-id",
            "dcr_immutable_id",
            flags.dcr_immutable_id.map(Value::from),
        ),
        ("stream", "stream", flags.stream.map(Value::from)),
        ("port", "port", flags.port.map(Value::from)),
        ("transport", "transport", flags.transport.map(Value::from)),
        (
            "message-format",
            "format",
            flags.message_format.map(Value::from),
        ),
        ("facility", "facility", flags.facility.map(Value::from)),
        (
            "server-name",
            "server_name",
            flags.server_name.map(Value::from),
        ),
    ];
    let mut config = Map::new();
    config.insert("kind".into(), json!(name));
    for (flag, key, value) in given {
        let Some(value) = value else { continue };
        if !allowed.contains(&flag) {
            bail!(
                "--{flag}: a {name} channel has no such setting (it takes {})",
                allowed
                    .iter()
                    .map(|f| format!("--{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        config.insert(key.into(), value);
    }
    match (flags.secret, secret_key) {
        (Some(s), Some(key)) => {
            config.insert(key.into(), json!(s));
        }
        (Some(_), None) => bail!("--secret: a {name} channel takes no secret"),
        (None, _) => {}
    }
    for setting in &flags.settings {
        let (key, value) = setting
            .split_once('=')
            .with_context(|| format!("--set {setting:?}: expected KEY=VALUE"))?;
        // Numbers and booleans keep their JSON type; anything else is a string.
        let value = match serde_json::from_str::<Value>(value) {
            Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
            _ => json!(value),
        };
        config.insert(key.trim().to_owned(), value);
    }
    Ok(Value::Object(config))
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// Runs `dockwatch alert`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::Channel { command } => match command {
                ChannelCmd::Add {
                    kind,
                    name,
                    settings,
                } => {
                    let config = channel_config(kind, *settings)?;
                    let c = client.create_alert_channel(&org, &name, config).await?;
                    done(f, &c, &format!("added {} channel {name}", text(&c, "kind")))?;
                }
                ChannelCmd::List => {
                    let list = client.alert_channels(&org).await?;
                    let rows = list
                        .iter()
                        .map(|c| {
                            vec![
                                text(c, "name"),
                                text(c, "kind"),
                                c["config"]["url"]
                                    .as_str()
                                    .or(c["config"]["host"].as_str())
                                    .or(c["config"]["endpoint"].as_str())
                                    .unwrap_or_default()
                                    .to_owned(),
                                text(&c["breaker"], "state"),
                            ]
                        })
                        .collect();
                    print(f, &list, &["NAME", "KIND", "TARGET", "BREAKER"], rows)?;
                }
                ChannelCmd::Remove { name } => {
                    client.delete_alert_channel(&org, &name).await?;
                    done(
                        f,
                        &json!({ "removed": name }),
                        &format!("removed channel {name}"),
                    )?;
                }
                ChannelCmd::RotateSecret {
                    name,
                    secret,
                    finish,
                } => {
                    let body = match secret {
                        Some(secret) => json!({ "secret": secret }),
                        None => json!({ "finish": finish }),
                    };
                    let c = client
                        .rotate_alert_channel_secret(&org, &name, body)
                        .await?;
                    let what = if finish {
                        "finished the secret rotation of"
                    } else {
                        "rotated the secret of"
                    };
                    done(f, &c, &format!("{what} channel {name}"))?;
                }
                ChannelCmd::Test { name } => {
                    let r = client.test_alert_channel(&org, &name).await?;
                    let ok = r["delivered"].as_bool().unwrap_or(false);
                    let line = format!(
                        "{} (status {}, {} ms): {}",
                        if ok { "delivered" } else { "not delivered" },
                        text(&r, "status"),
                        text(&r, "latency_ms"),
                        text(&r, "response_excerpt")
                    );
                    done(f, &r, &line)?;
                    if !ok {
                        return Ok(ExitCode::FAILURE);
                    }
                }
            },
            Cmd::Rule { command } => match command {
                RuleCmd::Add {
                    name,
                    patterns,
                    channels,
                    repository,
                    min_severity,
                    team,
                    throttle: throttle_flag,
                    digest_minutes,
                } => {
                    let throttle = throttle_flag.as_deref().map(throttle).transpose()?;
                    let body = json!({
                        "name": name, "match": patterns, "channels": channels,
                        "repository": repository, "min_severity": min_severity, "team": team,
                        "throttle": throttle, "digest_minutes": digest_minutes,
                    });
                    let r = client.create_alert_rule(&org, body).await?;
                    done(f, &r, &format!("added rule {name}"))?;
                }
                RuleCmd::List => {
                    let list = client.alert_rules(&org).await?;
                    let rows = list
                        .iter()
                        .map(|r| {
                            let limit = match (&r["throttle"], &r["digest_minutes"]) {
                                (_, Value::Number(m)) => format!("digest every {m} min"),
                                (Value::Object(t), _) => format!(
                                    "at most {} per {}s",
                                    t.get("max").unwrap_or(&Value::Null),
                                    t.get("window_secs").unwrap_or(&Value::Null)
                                ),
                                _ => String::new(),
                            };
                            vec![
                                text(r, "name"),
                                text(r, "match"),
                                text(r, "channels"),
                                limit,
                            ]
                        })
                        .collect();
                    print(f, &list, &["NAME", "MATCH", "CHANNELS", "LIMIT"], rows)?;
                }
                RuleCmd::Remove { name } => {
                    client.delete_alert_rule(&org, &name).await?;
                    done(
                        f,
                        &json!({ "removed": name }),
                        &format!("removed rule {name}"),
                    )?;
                }
            },
            Cmd::Deliveries { channel, status } => {
                let list = client
                    .alert_deliveries(&org, channel.as_deref(), status.as_deref())
                    .await?;
                let rows = list
                    .iter()
                    .map(|d| {
                        vec![
                            text(d, "id"),
                            text(d, "channel"),
                            text(d, "status"),
                            text(d, "attempts"),
                            text(d, "last_status"),
                            text(d, "created_at"),
                        ]
                    })
                    .collect();
                print(
                    f,
                    &list,
                    &["ID", "CHANNEL", "STATUS", "ATTEMPTS", "LAST", "QUEUED"],
                    rows,
                )?;
            }
            Cmd::Redeliver { id } => {
                client.redeliver(&org, &id).await?;
                done(f, &json!({ "queued": id }), &format!("queued {id} again"))?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> ChannelFlags {
        ChannelFlags::default()
    }

    #[test]
    fn flags_become_tagged_settings() {
        let v = channel_config(
            Kind::SplunkHec,
            ChannelFlags {
                url: Some("https://splunk.example:8088".into()),
                secret: Some("t0k".into()),
                index: Some("main".into()),
                settings: vec!["ack=true".into()],
                ..flags()
            },
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"kind": "splunk-hec", "url": "https://splunk.example:8088", "token": "t0k", "index": "main", "ack": true})
        );
        let syslog = ChannelFlags {
            host: Some("siem.example".into()),
            port: Some(6514),
            transport: Some("tls".into()),
            message_format: Some("cef".into()),
            facility: Some(10),
            ..flags()
        };
        assert_eq!(
            channel_config(Kind::Syslog, syslog).unwrap(),
            json!({"kind": "syslog", "host": "siem.example", "port": 6514, "transport": "tls", "format": "cef", "facility": 10})
        );
        let e = channel_config(
            Kind::Syslog,
            ChannelFlags {
                secret: Some("x".into()),
                ..flags()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--secret"), "{e}");
        let e = channel_config(
            Kind::Webhook,
            ChannelFlags {
                index: Some("main".into()),
                ..flags()
            },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("--index") && e.to_string().contains("--payload"),
            "{e}"
        );
        let e = channel_config(
            Kind::Syslog,
            ChannelFlags {
                settings: vec!["nokey".into()],
                ..flags()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("KEY=VALUE"), "{e}");
    }

    #[test]
    fn throttles_read_as_count_per_window() {
        assert_eq!(
            throttle("10/1h").unwrap(),
            json!({"max": 10, "window_secs": 3600})
        );
        assert!(throttle("10").unwrap_err().to_string().contains("N/WINDOW"));
        assert!(throttle("x/1h").unwrap_err().to_string().contains("count"));
        assert!(
            throttle("1/soon")
                .unwrap_err()
                .to_string()
                .contains("duration")
        );
    }
}
