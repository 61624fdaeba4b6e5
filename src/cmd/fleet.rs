//! `dockwatch fleet`: settings policies, enrollment tokens and the compliance report.

use super::client::{Connection, Format, block_on, done, print};
use anyhow::Context;
use dockwatch_core::settings::{FleetReport, Policy, UserReport};
use std::path::PathBuf;
use std::process::ExitCode;

/// Manage settings policies, enrollment tokens and the fleet compliance report.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    /// Output format (csv: the report only).
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: FleetFormat,
    #[command(subcommand)]
    command: Cmd,
}

/// How fleet output is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FleetFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Settings policies (admin-settings.json).
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Enrollment tokens for agents.
    #[command(subcommand, name = "enroll-token")]
    EnrollToken(TokenCmd),
    /// The compliance report: counts by status and one row per machine.
    Report {
        /// Only machines with this status (compliant, non-compliant, outdated, no-policy, unknown).
        #[arg(long)]
        status: Option<String>,
        /// Only machines under this policy.
        #[arg(long)]
        policy: Option<String>,
        /// Only machines with this user (e-mail or account).
        #[arg(long)]
        user: Option<String>,
        /// Only machines with a user in this team.
        #[arg(long)]
        team: Option<String>,
        /// Only machines whose OS starts with this (ubuntu, macos...).
        #[arg(long)]
        os: Option<String>,
        /// Seconds without a report before a machine is unknown [default: the server's, 24 h].
        #[arg(long)]
        stale_after: Option<i64>,
        /// One row per machine, or per user (each user's status on each of their machines).
        #[arg(long, value_enum, default_value = "machine")]
        by: ReportBy,
        /// Only the counts by status (one indexed query over the stored statuses).
        #[arg(long, conflicts_with_all = ["status", "policy", "user", "team", "os", "by"])]
        summary: bool,
    },
    /// A machine's status history.
    History { machine: String },
    /// Revoke a machine's credential.
    RevokeMachine { machine: String },
}

/// What the report has a row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportBy {
    Machine,
    User,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCmd {
    /// Set a policy from an admin-settings.json file (a new version each time).
    Set {
        /// The admin-settings.json file.
        file: PathBuf,
        /// Policy name [default: the file name without extension].
        #[arg(long)]
        name: Option<String>,
        /// Assign it: org, team:NAME, user:EMAIL or machine:ID (repeatable).
        #[arg(long)]
        assign: Vec<String>,
    },
    /// List policies.
    List,
    /// Delete a policy with its versions and assignments (machines fall back to their next
    /// assignment, or to no policy).
    Delete { name: String },
    /// Remove a policy's assignments: org, team:NAME, user:EMAIL or machine:ID.
    Unassign {
        name: String,
        #[arg(required = true)]
        scopes: Vec<String>,
    },
    /// Show a policy version's document.
    Show {
        name: String,
        /// Version [default: latest].
        #[arg(long, value_name = "N")]
        policy_version: Option<u64>,
    },
    /// Write a policy version as admin-settings.json (to stdout or --output).
    Export {
        name: String,
        /// Version [default: latest].
        #[arg(long, value_name = "N")]
        policy_version: Option<u64>,
        /// File to write.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
enum TokenCmd {
    /// Create an enrollment token (printed once).
    Create {
        /// What it is for.
        #[arg(long)]
        name: Option<String>,
    },
    /// List enrollment tokens.
    List,
    /// Revoke an enrollment token.
    Revoke { id: String },
}

/// Runs `dockwatch fleet`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = match args.format {
            FleetFormat::Json => Format::Json,
            _ => Format::Table,
        };
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::Policy(PolicyCmd::Set { file, name, assign }) => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                // Checked here too, so a bad file is refused naming the file and the key.
                let policy = Policy::parse(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let name = match name {
                    Some(n) => n,
                    None => file
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .context("--name: cannot derive a name from the file name")?
                        .to_owned(),
                };
                let p = client
                    .set_policy(&org, &name, policy.to_document(), &assign)
                    .await?;
                done(
                    f,
                    &p,
                    &format!("set policy {name} version {}", p["version"]),
                )?;
            }
            Cmd::Policy(PolicyCmd::List) => {
                let list = client.policies(&org).await?;
                let rows = list
                    .iter()
                    .map(|p| {
                        vec![
                            text(&p["name"]),
                            p["version"].to_string(),
                            p["assigned"]
                                .as_array()
                                .map(|a| a.iter().map(text).collect::<Vec<_>>().join(","))
                                .unwrap_or_default(),
                            text(&p["updated_at"]),
                        ]
                    })
                    .collect();
                print(f, &list, &["NAME", "VERSION", "ASSIGNED", "UPDATED"], rows)?;
            }
            Cmd::Policy(PolicyCmd::Delete { name }) => {
                client.delete_policy(&org, &name).await?;
                done(
                    f,
                    &serde_json::json!({ "deleted": name }),
                    &format!("deleted policy {name}"),
                )?;
            }
            Cmd::Policy(PolicyCmd::Unassign { name, scopes }) => {
                for scope in &scopes {
                    client.unassign_policy(&org, &name, scope).await?;
                }
                done(
                    f,
                    &serde_json::json!({ "policy": name, "unassigned": scopes }),
                    &format!("unassigned policy {name} from {}", scopes.join(", ")),
                )?;
            }
            Cmd::Policy(PolicyCmd::Show {
                name,
                policy_version: version,
            }) => {
                let p = client.policy(&org, &name, version).await?;
                println!("{}", serde_json::to_string_pretty(&p)?);
            }
            Cmd::Policy(PolicyCmd::Export {
                name,
                policy_version: version,
                output,
            }) => {
                let doc = client.export_policy(&org, &name, version).await?;
                let text = serde_json::to_string_pretty(&doc)? + "\n";
                match output {
                    Some(path) => std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?,
                    None => print!("{text}"),
                }
            }
            Cmd::EnrollToken(TokenCmd::Create { name }) => {
                let t = client.create_enroll_token(&org, name.as_deref()).await?;
                match f {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&t)?),
                    Format::Table => {
                        eprintln!(
                            "created enrollment token {} ({}); it is shown only now:",
                            text(&t["name"]),
                            text(&t["id"])
                        );
                        println!("{}", text(&t["token"]));
                    }
                }
            }
            Cmd::EnrollToken(TokenCmd::List) => {
                let list = client.enroll_tokens(&org).await?;
                let rows = list
                    .iter()
                    .map(|t| {
                        vec![
                            text(&t["id"]),
                            text(&t["name"]),
                            text(&t["created_at"]),
                            text(&t["revoked_at"]),
                        ]
                    })
                    .collect();
                print(f, &list, &["ID", "NAME", "CREATED", "REVOKED"], rows)?;
            }
            Cmd::EnrollToken(TokenCmd::Revoke { id }) => {
                client.revoke_enroll_token(&org, &id).await?;
                done(
                    f,
                    &serde_json::json!({ "revoked": id }),
                    &format!("revoked enrollment token {id}"),
                )?;
            }
            Cmd::Report {
                stale_after,
                summary: true,
                ..
            } => {
                let value = client.fleet_summary(&org, stale_after).await?;
                let s: dockwatch_core::settings::Summary =
                    serde_json::from_value(value["summary"].clone())
                        .context("reading the fleet summary")?;
                match args.format {
                    FleetFormat::Json => println!("{}", serde_json::to_string_pretty(&value)?),
                    FleetFormat::Csv => print!(
                        "total,compliant,non_compliant,outdated,no_policy,unknown\n{},{},{},{},{},{}\n",
                        s.total, s.compliant, s.non_compliant, s.outdated, s.no_policy, s.unknown
                    ),
                    FleetFormat::Table => println!(
                        "{} machines: {} compliant, {} non-compliant, {} outdated, {} no policy, {} unknown",
                        s.total, s.compliant, s.non_compliant, s.outdated, s.no_policy, s.unknown
                    ),
                }
            }
            Cmd::Report {
                status,
                policy,
                user,
                team,
                os,
                stale_after,
                by,
                summary: false,
            } => {
                let mut q = Vec::new();
                if by == ReportBy::User {
                    q.push(("by", "user".to_owned()));
                }
                for (k, v) in [
                    ("status", status),
                    ("policy", policy),
                    ("user", user),
                    ("team", team),
                    ("os", os),
                    ("stale_after", stale_after.map(|s| s.to_string())),
                ] {
                    if let Some(v) = v {
                        q.push((k, v));
                    }
                }
                let value = client.fleet_report(&org, &q).await?;
                let (csv, table) = if by == ReportBy::User {
                    let r: UserReport = serde_json::from_value(value.clone())
                        .context("reading the fleet report by user")?;
                    (r.to_csv(), r.to_table())
                } else {
                    let r: FleetReport = serde_json::from_value(value.clone())
                        .context("reading the fleet report")?;
                    (r.to_csv(), r.to_table())
                };
                match args.format {
                    FleetFormat::Json => println!("{}", serde_json::to_string_pretty(&value)?),
                    FleetFormat::Csv => print!("{csv}"),
                    FleetFormat::Table => print!("{table}"),
                }
            }
            Cmd::History { machine } => {
                let h = client.machine_history(&org, &machine).await?;
                let rows = h
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| {
                                vec![time(c["time_ms"].as_i64().unwrap_or(0)), text(&c["status"])]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                print(f, &h, &["TIME", "STATUS"], rows)?;
            }
            Cmd::RevokeMachine { machine } => {
                client.revoke_machine(&org, &machine).await?;
                done(
                    f,
                    &serde_json::json!({ "revoked": machine }),
                    &format!("revoked machine {machine}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn time(ms: i64) -> String {
    dockwatch_core::settings::fleet_report::rfc3339(ms)
}
