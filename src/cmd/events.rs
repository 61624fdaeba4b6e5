//! `dockwatch events`: search the activity log and verify its hash chains.
//!
//! Without `--org`, both cover every organization the caller belongs to.

use super::client::{Connection, block_on};
use anyhow::Context;
use dockwatch_client::Client;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Search and verify the activity log.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    #[command(subcommand)]
    command: Cmd,
}

/// How events are printed.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EventFormat {
    /// Aligned columns.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// Search filters shared by `search` and `export`.
#[derive(Debug, Clone, clap::Args)]
struct Filters {
    /// Exact action, or a prefix pattern such as `team.*`.
    #[arg(long)]
    action: Option<String>,
    /// Actor id or name (email, token name).
    #[arg(long)]
    actor: Option<String>,
    /// Target id or name.
    #[arg(long)]
    target: Option<String>,
    /// RFC 3339 time or a duration back from now (24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// RFC 3339 time or a duration back from now.
    #[arg(long)]
    until: Option<String>,
    /// Free text in the sentence, target name or details.
    #[arg(long)]
    text: Option<String>,
}

impl Filters {
    /// The API's query pairs.
    fn query(&self) -> Vec<(&'static str, String)> {
        [
            ("action", &self.action),
            ("actor", &self.actor),
            ("target", &self.target),
            ("since", &self.since),
            ("until", &self.until),
            ("q", &self.text),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Events matching the filters, newest first (follows the server's pages up to `--limit`).
    Search {
        #[command(flatten)]
        filters: Filters,
        /// At most this many per organization.
        #[arg(long, default_value_t = 100, conflicts_with = "all")]
        limit: u64,
        /// Every match (follows every page).
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: EventFormat,
    },
    /// Everything that matches, streamed from the server as JSON Lines or CSV.
    Export {
        #[command(flatten)]
        filters: Filters,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write to FILE (replaced only once complete) instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Recompute every hash of the chain; exit 1 naming the first bad event.
    Verify {
        /// Walk every retained event, ignoring signed checkpoints (slower).
        #[arg(long)]
        full: bool,
    },
    /// Show or set how many days of events the organization keeps.
    Retention {
        /// Keep this many days (events older are pruned by the server).
        #[arg(long, conflicts_with = "forever")]
        days: Option<u32>,
        /// Keep every event forever (the default).
        #[arg(long)]
        forever: bool,
    },
}

/// The organizations to cover: `--org`, or every one the caller belongs to.
async fn orgs(conn: &Connection, client: &Client) -> anyhow::Result<Vec<String>> {
    if let Some(org) = &conn.org {
        return Ok(vec![org.clone()]);
    }
    let me = client.me().await.context("finding your organizations")?;
    anyhow::ensure!(
        !me.organizations.is_empty(),
        "--org: you belong to no organization"
    );
    Ok(me.organizations.into_iter().map(|o| o.name).collect())
}

/// Runs `dockwatch events`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let orgs = orgs(&args.conn, &client).await?;
        match args.command {
            Cmd::Search {
                filters,
                limit,
                all,
                format,
            } => {
                anyhow::ensure!(all || limit >= 1, "--limit: must be at least 1");
                let want = if all { u64::MAX } else { limit };
                let mut events = Vec::new();
                for org in &orgs {
                    for mut e in search_pages(&client, org, &filters, want).await? {
                        e["org"] = Value::String(org.clone());
                        events.push(e);
                    }
                }
                // Newest first across organizations (RFC 3339 UTC strings sort by time).
                events.sort_by(|a, b| {
                    b["time"]
                        .as_str()
                        .cmp(&a["time"].as_str())
                        .then(b["id"].as_str().cmp(&a["id"].as_str()))
                });
                write_events(format, &events, std::io::stdout().lock())?;
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Export {
                filters,
                format,
                output,
            } => {
                export(&client, &orgs, &filters, format, output.as_deref()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Verify { full } => {
                let mut all_ok = true;
                for org in &orgs {
                    let v = client.verify_events(org, full).await?;
                    let ok = v["ok"].as_bool() == Some(true);
                    all_ok &= ok;
                    let msg = v["message"].as_str().unwrap_or("");
                    if ok {
                        println!("{org}: ok: {msg}");
                    } else {
                        println!("{org}: BROKEN: {msg}");
                    }
                }
                Ok(if all_ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            Cmd::Retention { days, forever } => {
                for org in &orgs {
                    let path = format!("/api/v1/orgs/{org}/settings");
                    let mut settings = client.get_json(&path).await?;
                    if days.is_some() || forever {
                        anyhow::ensure!(days != Some(0), "--days: must be at least 1");
                        settings["event_retention_days"] = serde_json::json!(days);
                        settings = client.put_json(&path, settings).await?;
                    }
                    match settings["event_retention_days"].as_u64() {
                        Some(d) => println!("{org}: events are kept {d} days"),
                        None => println!("{org}: events are kept forever"),
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Follows the search's cursor until `want` events or the last page.
async fn search_pages(
    client: &Client,
    org: &str,
    filters: &Filters,
    want: u64,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let left = want - out.len() as u64;
        let mut query = filters.query();
        query.push(("limit", left.min(1000).to_string()));
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let (page, next) = client.search_events_page(org, &query).await?;
        out.extend(page);
        match next {
            Some(next) if (out.len() as u64) < want => cursor = Some(next),
            _ => return Ok(out),
        }
    }
}

/// Streams each organization's export to `output` (or stdout); one CSV header in all.
async fn export(
    client: &Client,
    orgs: &[String],
    filters: &Filters,
    format: ExportFormat,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let partial = output.map(|p| {
        let mut name = p.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    });
    let mut out: Box<dyn Write> = match &partial {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("--output: creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let format_name = match format {
        ExportFormat::Jsonl => "jsonl",
        ExportFormat::Csv => "csv",
    };
    for (i, org) in orgs.iter().enumerate() {
        let mut query = filters.query();
        query.push(("format", format_name.to_owned()));
        let mut stream = client.export_events(org, &query).await?;
        // Later organizations' CSV header lines are dropped: one header for the whole file.
        let mut skip_header = matches!(format, ExportFormat::Csv) && i > 0;
        while let Some(chunk) = stream.chunk().await? {
            let mut data = &chunk[..];
            if skip_header {
                match data.iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        data = &data[end + 1..];
                        skip_header = false;
                    }
                    None => continue,
                }
            }
            out.write_all(data).context("writing the export")?;
        }
    }
    out.flush().context("writing the export")?;
    drop(out);
    if let (Some(partial), Some(output)) = (partial, output) {
        std::fs::rename(&partial, output)
            .with_context(|| format!("--output: renaming to {}", output.display()))?;
    }
    Ok(())
}

/// The flat columns of table and CSV output.
const COLUMNS: [&str; 8] = [
    "time", "org", "action", "actor", "ip", "target", "sentence", "id",
];

fn row(e: &Value) -> [String; 8] {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    [
        s(&e["time"]),
        s(&e["org"]),
        s(&e["action"]),
        s(&e["actor"]["name"]),
        s(&e["actor"]["ip"]),
        format!("{} {}", s(&e["target"]["kind"]), s(&e["target"]["name"])),
        s(&e["sentence"]),
        s(&e["id"]),
    ]
}

/// Writes events in `format`.
fn write_events(format: EventFormat, events: &[Value], mut out: impl Write) -> anyhow::Result<()> {
    match format {
        EventFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(events)?)?,
        EventFormat::Jsonl => {
            for e in events {
                writeln!(out, "{}", serde_json::to_string(e)?)?;
            }
        }
        EventFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(COLUMNS)?;
            for e in events {
                w.write_record(row(e))?;
            }
            w.flush()?;
        }
        EventFormat::Table => {
            let header: Vec<String> = COLUMNS.iter().map(|c| c.to_uppercase()).collect();
            let rows: Vec<[String; 8]> = events.iter().map(row).collect();
            let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut line = |cells: &[String]| -> std::io::Result<()> {
                let mut s = String::new();
                for (c, w) in cells.iter().zip(&widths) {
                    s.push_str(&format!("{c:<w$}  "));
                }
                writeln!(out, "{}", s.trim_end())
            };
            line(&header)?;
            for r in &rows {
                line(r)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Value {
        serde_json::json!({"time": "2026-01-02T03:04:05.000Z", "org": "default",
            "action": "team.created", "actor": {"name": "ann@example.com", "ip": "192.0.2.1"},
            "target": {"kind": "team", "name": "ops, on call"}, "sentence": "ann created team ops",
            "id": "e1"})
    }

    #[test]
    fn csv_quotes_commas() {
        let mut out = Vec::new();
        write_events(EventFormat::Csv, &[event()], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time,org,action,actor,ip,target,sentence,id\n\
             2026-01-02T03:04:05.000Z,default,team.created,ann@example.com,192.0.2.1,\
             \"team ops, on call\",ann created team ops,e1\n"
        );
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let mut out = Vec::new();
        write_events(EventFormat::Jsonl, &[event(), event()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        for l in text.lines() {
            serde_json::from_str::<Value>(l).unwrap();
        }
    }
}
