//! `dockwatch member`: list, invite, accept, change role, remove.

use super::client::{Connection, Output, block_on, done, print};
use std::process::ExitCode;

/// Manage an organization's members.
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
    /// List members.
    List,
    /// Invite someone by email; prints the one-time token they accept with.
    Invite {
        /// Email address.
        email: String,
        /// owner, editor or member.
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// List pending invitations.
    Invitations,
    /// Accept an invitation (creates your account if the address has none).
    Accept {
        /// The invitation token.
        token: String,
        /// Your password (new account: at least 8 characters).
        #[arg(long, env = "DOCKWATCH_PASSWORD", hide_env_values = true)]
        password: String,
        /// Your name, for a new account.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Change a member's role.
    Role {
        /// Email or user id.
        member: String,
        /// owner, editor or member.
        role: String,
    },
    /// Remove a member.
    Remove {
        /// Email or user id.
        member: String,
    },
}

/// Runs `dockwatch member`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let client = args.conn.client()?;
        let f = args.out.format;
        if let Cmd::Accept {
            token,
            password,
            name,
        } = &args.command
        {
            let a = client.accept(token, password, name).await?;
            done(
                f,
                &a,
                &format!(
                    "{} joined organization {} as {}",
                    a.email, a.organization, a.role
                ),
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        let org = args.conn.org(&client).await?;
        match args.command {
            Cmd::List => {
                let members = client.members(&org).await?;
                let rows = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.email.clone(),
                            m.name.clone(),
                            m.role.clone(),
                            m.joined_at.clone(),
                        ]
                    })
                    .collect();
                print(f, &members, &["EMAIL", "NAME", "ROLE", "JOINED"], rows)?;
            }
            Cmd::Invite { email, role } => {
                let inv = client.invite(&org, &email, &role).await?;
                done(
                    f,
                    &inv,
                    &format!(
                        "invited {} to {org} as {}; they accept with:\n  dockwatch member accept {} --password ...",
                        inv.invitation.email, inv.invitation.role, inv.token
                    ),
                )?;
            }
            Cmd::Invitations => {
                let invs = client.invitations(&org).await?;
                let rows = invs
                    .iter()
                    .map(|i| {
                        vec![
                            i.id.clone(),
                            i.email.clone(),
                            i.role.clone(),
                            i.expires_at.clone(),
                        ]
                    })
                    .collect();
                print(f, &invs, &["ID", "EMAIL", "ROLE", "EXPIRES"], rows)?;
            }
            Cmd::Role { member, role } => {
                let m = client.change_role(&org, &member, &role).await?;
                done(f, &m, &format!("{} is now {} in {org}", m.email, m.role))?;
            }
            Cmd::Remove { member } => {
                client.remove_member(&org, &member).await?;
                done(
                    f,
                    &serde_json::json!({ "removed": member }),
                    &format!("removed {member} from {org}"),
                )?;
            }
            Cmd::Accept { .. } => unreachable!("handled above"),
        }
        Ok(ExitCode::SUCCESS)
    })
}
