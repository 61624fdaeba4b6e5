//! `dockwatch team`: list, create, rename, delete teams and manage their members.

use super::client::{Connection, Output, block_on, done, print};
use std::process::ExitCode;

/// Manage an organization's teams.
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
    /// List teams.
    List,
    /// Create a team.
    Create {
        /// Name: lowercase letters, digits, '.', '_', '-'.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Rename a team.
    Rename { name: String, new_name: String },
    /// Delete a team (its members stay in the organization).
    Delete { name: String },
    /// List a team's members.
    Members { name: String },
    /// Add an organization member to a team.
    AddMember {
        /// Team.
        team: String,
        /// Email or user id.
        member: String,
    },
    /// Remove a member from a team.
    RemoveMember {
        /// Team.
        team: String,
        /// Email or user id.
        member: String,
    },
}

/// Runs `dockwatch team`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::List => {
                let teams = client.teams(&org).await?;
                let rows = teams
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.member_count.to_string(),
                            t.description.clone(),
                        ]
                    })
                    .collect();
                print(f, &teams, &["NAME", "MEMBERS", "DESCRIPTION"], rows)?;
            }
            Cmd::Create { name, description } => {
                let t = client.create_team(&org, &name, &description).await?;
                done(f, &t, &format!("created team {} in {org}", t.name))?;
            }
            Cmd::Rename { name, new_name } => {
                let t = client.rename_team(&org, &name, &new_name).await?;
                done(f, &t, &format!("renamed team {name} to {}", t.name))?;
            }
            Cmd::Delete { name } => {
                client.delete_team(&org, &name).await?;
                done(
                    f,
                    &serde_json::json!({ "deleted": name }),
                    &format!("deleted team {name}"),
                )?;
            }
            Cmd::Members { name } => {
                let members = client.team_members(&org, &name).await?;
                let rows = members
                    .iter()
                    .map(|m| vec![m.email.clone(), m.name.clone(), m.role.clone()])
                    .collect();
                print(f, &members, &["EMAIL", "NAME", "ROLE"], rows)?;
            }
            Cmd::AddMember { team, member } => {
                let m = client.add_team_member(&org, &team, &member).await?;
                done(f, &m, &format!("added {} to team {team}", m.email))?;
            }
            Cmd::RemoveMember { team, member } => {
                client.remove_team_member(&org, &team, &member).await?;
                done(
                    f,
                    &serde_json::json!({ "removed": member, "team": team }),
                    &format!("removed {member} from team {team}"),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
