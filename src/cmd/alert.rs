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
        /// Where to send (slack, webhook, splunk-hec).
        #[arg(long)]
        url: Option<String>,
        /// The channel's secret: webhook signing secret (`whsec_...`), Splunk HEC token,
        /// Sentinel client secret.
        #[arg(long, env = "DOCKWATCH_ALERT_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Any other setting, as `key=value` (repeatable): `index=main`, `tenant_id=...`,
        /// `host=syslog.example`, `port=6514`, `transport=tls`...
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// List channels (secrets redacted).
    List,
    /// Remove a channel.
    Remove { name: String },
    /// Send a test event and show the receiver's answer.
    Test { name: String },
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
    },
    /// List rules.
    List,
    /// Remove a rule.
    Remove { name: String },
}

/// The channel settings the API takes, from the flags.
fn channel_config(
    kind: Kind,
    url: Option<String>,
    secret: Option<String>,
    settings: &[String],
) -> anyhow::Result<Value> {
    let (name, secret_key) = match kind {
        Kind::Slack => ("slack", None),
        Kind::Webhook => ("webhook", Some("secret")),
        Kind::SplunkHec => ("splunk-hec", Some("token")),
        Kind::Sentinel => ("sentinel", Some("client_secret")),
        Kind::Syslog => ("syslog", None),
    };
    let mut config = Map::new();
    config.insert("kind".into(), json!(name));
    if let Some(url) = url {
        config.insert("url".into(), json!(url));
    }
    match (secret, secret_key) {
        (Some(s), Some(key)) => {
            config.insert(key.into(), json!(s));
        }
        (Some(_), None) => bail!("--secret: a {name} channel takes no secret"),
        (None, _) => {}
    }
    for setting in settings {
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
                    url,
                    secret,
                    settings,
                } => {
                    let config = channel_config(kind, url, secret, &settings)?;
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
                                    .unwrap_or_default()
                                    .to_owned(),
                            ]
                        })
                        .collect();
                    print(f, &list, &["NAME", "KIND", "TARGET"], rows)?;
                }
                ChannelCmd::Remove { name } => {
                    client.delete_alert_channel(&org, &name).await?;
                    done(
                        f,
                        &json!({ "removed": name }),
                        &format!("removed channel {name}"),
                    )?;
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
                } => {
                    let body = json!({
                        "name": name, "match": patterns, "channels": channels,
                        "repository": repository, "min_severity": min_severity, "team": team,
                    });
                    let r = client.create_alert_rule(&org, body).await?;
                    done(f, &r, &format!("added rule {name}"))?;
                }
                RuleCmd::List => {
                    let list = client.alert_rules(&org).await?;
                    let rows = list
                        .iter()
                        .map(|r| vec![text(r, "name"), text(r, "match"), text(r, "channels")])
                        .collect();
                    print(f, &list, &["NAME", "MATCH", "CHANNELS"], rows)?;
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

    #[test]
    fn flags_become_tagged_settings() {
        let v = channel_config(
            Kind::SplunkHec,
            Some("https://splunk.example:8088".into()),
            Some("t0k".into()),
            &["index=main".into(), "ack=true".into()],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"kind": "splunk-hec", "url": "https://splunk.example:8088", "token": "t0k", "index": "main", "ack": true})
        );
        assert!(channel_config(Kind::Syslog, None, Some("x".into()), &[]).is_err());
        assert!(channel_config(Kind::Syslog, None, None, &["nokey".into()]).is_err());
    }
}
