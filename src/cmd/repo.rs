//! `dockwatch repo`: list, show, create, update (description, visibility) and delete repositories.

use super::client::{Connection, Output, block_on, done, print};
use anyhow::bail;
use dockwatch_client::types::Repository;
use std::process::ExitCode;

/// Manage an organization's repositories.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    out: Output,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Visibility {
    Public,
    Private,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// List repositories.
    List,
    /// Show a repository.
    Show { name: String },
    /// Create a repository.
    Create {
        /// Name: lowercase letters, digits, '.', '_', '-'.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// Visibility [default: the organization's setting].
        #[arg(long, value_enum)]
        visibility: Option<Visibility>,
    },
    /// Change a repository's description or visibility.
    Update {
        name: String,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New visibility.
        #[arg(long, value_enum)]
        visibility: Option<Visibility>,
    },
    /// Delete a repository.
    Delete { name: String },
}

fn row(r: &Repository) -> Vec<String> {
    vec![
        r.name.clone(),
        r.visibility.clone(),
        r.updated_at.clone(),
        r.description.clone(),
    ]
}

const HEADER: &[&str] = &["NAME", "VISIBILITY", "UPDATED", "DESCRIPTION"];

/// Runs `dockwatch repo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::List => {
                let repos = client.repositories(&org).await?;
                print(f, &repos, HEADER, repos.iter().map(row).collect())?;
            }
            Cmd::Show { name } => {
                let r = client.repository(&org, &name).await?;
                print(f, &r, HEADER, vec![row(&r)])?;
            }
            Cmd::Create {
                name,
                description,
                visibility,
            } => {
                let r = client
                    .create_repository(
                        &org,
                        &name,
                        &description,
                        visibility.map(Visibility::as_str),
                    )
                    .await?;
                done(
                    f,
                    &r,
                    &format!("created {} repository {} in {org}", r.visibility, r.name),
                )?;
            }
            Cmd::Update {
                name,
                description,
                visibility,
            } => {
                if description.is_none() && visibility.is_none() {
                    bail!("repo update {name}: give --description and/or --visibility");
                }
                let r = client
                    .update_repository(
                        &org,
                        &name,
                        description.as_deref(),
                        visibility.map(Visibility::as_str),
                    )
                    .await?;
                done(
                    f,
                    &r,
                    &format!("updated repository {} ({})", r.name, r.visibility),
                )?;
            }
            Cmd::Delete { name } => {
                client.delete_repository(&org, &name).await?;
                done(
                    f,
                    &serde_json::json!({ "deleted": name }),
                    &format!("deleted repository {name}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
