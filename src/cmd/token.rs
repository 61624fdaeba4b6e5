//! `dockwatch token`: personal access tokens, or with `--org-token` the organization's tokens.

use super::client::{Connection, Output, block_on, done, print};
use std::process::ExitCode;

/// Manage access tokens.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    out: Output,
    /// Act on the organization's tokens (--org) instead of your personal ones.
    #[arg(long, global = true)]
    org_token: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// List tokens.
    List,
    /// Create a token; its secret is printed this once.
    Create {
        /// What it is for.
        name: String,
        /// read, write or admin (repeatable).
        #[arg(long = "scope", default_value = "read")]
        scopes: Vec<String>,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Revoke a token by id.
    Revoke { id: String },
}

/// Runs `dockwatch token`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        let org = if args.org_token {
            Some(args.conn.org(&client).await?)
        } else {
            None
        };
        let org = org.as_deref();
        match args.command {
            Cmd::List => {
                let tokens = client.tokens(org).await?;
                let rows = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.name.clone(),
                            t.kind.clone(),
                            t.scopes.join(","),
                            t.expires_at.clone().unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                print(
                    f,
                    &tokens,
                    &["ID", "NAME", "KIND", "SCOPES", "EXPIRES"],
                    rows,
                )?;
            }
            Cmd::Create {
                name,
                scopes,
                expires_in_days,
            } => {
                let t = client
                    .create_token(org, &name, &scopes, expires_in_days)
                    .await?;
                done(
                    f,
                    &t,
                    &format!(
                        "created {} token {} ({}); its secret, shown only now:\n{}",
                        t.token.kind, t.token.name, t.token.id, t.secret
                    ),
                )?;
            }
            Cmd::Revoke { id } => {
                client.revoke_token(org, &id).await?;
                done(
                    f,
                    &serde_json::json!({ "revoked": id }),
                    &format!("revoked token {id}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
