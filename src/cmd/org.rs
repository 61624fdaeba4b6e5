//! `dockwatch org`: list, create, show, rename and delete organizations.

use super::client::{Connection, Output, block_on, done, print};
use anyhow::bail;
use std::process::ExitCode;

/// Manage organizations.
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
    /// List your organizations.
    List,
    /// Create an organization (you become its owner).
    Create {
        /// Name: lowercase letters, digits, '.', '_', '-'.
        name: String,
        /// Human name.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Show an organization [default: --org].
    Show { name: Option<String> },
    /// Change an organization's display name.
    Rename {
        /// New display name.
        display_name: String,
    },
    /// Delete an organization and everything in it.
    Delete {
        /// The organization's name, again, to confirm.
        name: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `dockwatch org`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        match args.command {
            Cmd::List => {
                let orgs = client.orgs().await?;
                let rows = orgs
                    .iter()
                    .map(|o| {
                        vec![
                            o.name.clone(),
                            o.display_name.clone(),
                            o.role.clone(),
                            o.created_at.clone(),
                        ]
                    })
                    .collect();
                print(f, &orgs, &["NAME", "DISPLAY NAME", "ROLE", "CREATED"], rows)?;
            }
            Cmd::Create { name, display_name } => {
                let org = client.create_org(&name, display_name.as_deref()).await?;
                done(f, &org, &format!("created organization {}", org.name))?;
            }
            Cmd::Show { name } => {
                let name = match name {
                    Some(n) => n,
                    None => args.conn.org(&client).await?,
                };
                let o = client.org(&name).await?;
                let rows = vec![vec![
                    o.name.clone(),
                    o.display_name.clone(),
                    o.role.clone(),
                    o.created_at.clone(),
                ]];
                print(f, &o, &["NAME", "DISPLAY NAME", "ROLE", "CREATED"], rows)?;
            }
            Cmd::Rename { display_name } => {
                let org = args.conn.org(&client).await?;
                let o = client.rename_org(&org, &display_name).await?;
                done(
                    f,
                    &o,
                    &format!("renamed organization {} to {:?}", o.name, o.display_name),
                )?;
            }
            Cmd::Delete { name, yes } => {
                if !yes {
                    bail!("org delete {name}: deletes everything in it; add --yes to confirm");
                }
                client.delete_org(&name).await?;
                done(
                    f,
                    &serde_json::json!({ "deleted": name }),
                    &format!("deleted organization {name}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
