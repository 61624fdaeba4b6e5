//! What every client command shares: where the server is, the token, the organization
//! (default: the caller's only one), the output format, and the table printer.

use anyhow::{Context, bail};
use dockwatch_client::Client;
use serde::Serialize;

/// Connection flags (also from `DOCKWATCH_SERVER`, `DOCKWATCH_TOKEN`, `DOCKWATCH_ORG`).
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// Server URL.
    #[arg(
        long,
        global = true,
        env = "DOCKWATCH_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// API token.
    #[arg(long, global = true, env = "DOCKWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Organization [default: your only organization].
    #[arg(long, global = true, env = "DOCKWATCH_ORG")]
    pub org: Option<String>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    #[default]
    Table,
    /// JSON, as the API answers.
    Json,
}

/// The output flag.
#[derive(Debug, Clone, clap::Args)]
pub struct Output {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    pub format: Format,
}

impl Connection {
    /// A client for the server and token.
    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::new(&self.server, self.token.clone())?)
    }

    /// The organization to act on: `--org`, or the caller's only organization.
    pub async fn org(&self, client: &Client) -> anyhow::Result<String> {
        if let Some(org) = &self.org {
            return Ok(org.clone());
        }
        let me = client
            .me()
            .await
            .context("finding your organization (or pass --org)")?;
        match me.organizations.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => bail!("--org: you belong to no organization"),
            many => bail!(
                "--org: you belong to {} organizations ({}); pick one with --org or DOCKWATCH_ORG",
                many.len(),
                many.iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Runs an async client command to completion.
pub fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(future)
}

/// Prints `value` as JSON, or the rows as a table under `header`.
pub fn print<T: Serialize>(
    format: Format,
    value: &T,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Table => print!("{}", table(header, &rows)),
    }
    Ok(())
}

/// Prints a one-line confirmation, or the object as JSON.
pub fn done<T: Serialize>(format: Format, value: &T, line: &str) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Table => println!("{line}"),
    }
    Ok(())
}

/// Left-aligned columns separated by two spaces; no trailing spaces.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_align() {
        let t = super::table(
            &["NAME", "ROLE"],
            &[
                vec!["ann".into(), "owner".into()],
                vec!["bartholomew".into(), "member".into()],
            ],
        );
        assert_eq!(
            t,
            "NAME         ROLE\nann          owner\nbartholomew  member\n"
        );
    }
}
