//! Teams: create, rename, delete, add and remove members.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::members::Member;
use crate::orgs::Org;
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms};
use dockwatch_core::org::{check_name, check_text};

/// A team in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Stable id.
    pub id: String,
    /// Unique name within the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// How many members it has.
    pub member_count: i64,
    /// Creation time.
    pub created_ms: i64,
}

type TeamRow = (String, String, String, i64, i64);

fn team(r: TeamRow) -> Team {
    Team {
        id: r.0,
        name: r.1,
        description: r.2,
        member_count: r.3,
        created_ms: r.4,
    }
}

const TEAM_SQL: &str = "SELECT t.id, t.name, t.description, \
     (SELECT COUNT(*) FROM team_members tm WHERE tm.team_id = t.id), t.created_ms FROM teams t WHERE t.org_id = $1";

impl Store {
    /// The organization's teams, by name.
    pub async fn teams(&self, org_id: &str) -> Result<Vec<Team>> {
        let sql = format!("{TEAM_SQL} ORDER BY t.name");
        let rows: Vec<TeamRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(team).collect())
    }

    /// A team by name.
    pub async fn team(&self, org_id: &str, name: &str) -> Result<Team> {
        let sql = format!("{TEAM_SQL} AND t.name = $2");
        let row: Option<TeamRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(team)
            .ok_or_else(|| StoreError::not_found("team", name))
    }

    /// Creates a team.
    pub async fn create_team(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
        description: &str,
    ) -> Result<Team> {
        check_name("name", name)?;
        check_text("description", description, 1000)?;
        let t = Team {
            id: new_id(),
            name: name.to_owned(),
            description: description.to_owned(),
            member_count: 0,
            created_ms: now_ms(),
        };
        let mut w = self.write(actor).await?;
        sqlx::query("INSERT INTO teams (id, org_id, name, description, created_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.id)
            .bind(&org.id)
            .bind(name)
            .bind(description)
            .bind(t.created_ms)
            .execute(w.conn())
            .await
            .map_err(conflict_on_duplicate("team", name))?;
        w.record(
            Change::new(
                &org.id,
                "team.created",
                target("team", &t.id, name),
                format!("created team {name}"),
            )
            .details(serde_json::json!({ "after": { "name": name, "description": description } })),
        );
        w.commit().await?;
        Ok(t)
    }

    /// Renames a team and/or changes its description.
    pub async fn update_team(
        &self,
        actor: &Actor,
        org: &Org,
        current: &Team,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Team> {
        let new_name = name.unwrap_or(&current.name);
        let new_description = description.unwrap_or(&current.description);
        check_name("name", new_name)?;
        check_text("description", new_description, 1000)?;
        let mut w = self.write(actor).await?;
        sqlx::query("UPDATE teams SET name = $1, description = $2 WHERE id = $3")
            .bind(new_name)
            .bind(new_description)
            .bind(&current.id)
            .execute(w.conn())
            .await
            .map_err(conflict_on_duplicate("team", new_name))?;
        let details = serde_json::json!({
            "before": { "name": current.name, "description": current.description },
            "after": { "name": new_name, "description": new_description },
        });
        let change = if new_name != current.name {
            Change::new(
                &org.id,
                "team.renamed",
                target("team", &current.id, new_name),
                format!("renamed team {} to {new_name}", current.name),
            )
        } else {
            Change::new(
                &org.id,
                "team.updated",
                target("team", &current.id, new_name),
                format!("changed the description of team {new_name}"),
            )
        };
        w.record(change.details(details));
        w.commit().await?;
        Ok(Team {
            name: new_name.to_owned(),
            description: new_description.to_owned(),
            ..current.clone()
        })
    }

    /// Deletes a team (its members stay in the organization).
    pub async fn delete_team(&self, actor: &Actor, org: &Org, current: &Team) -> Result<()> {
        let mut w = self.write(actor).await?;
        let done = sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("team", &current.name));
        }
        w.record(
            Change::new(&org.id, "team.deleted", target("team", &current.id, &current.name), format!("deleted team {}", current.name))
                .details(serde_json::json!({ "before": { "name": current.name, "description": current.description } })),
        );
        w.commit().await?;
        Ok(())
    }

    /// The team's members, by email.
    pub async fn team_members(&self, org_id: &str, team_id: &str) -> Result<Vec<Member>> {
        let all = self.members(org_id).await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM team_members WHERE team_id = $1")
                .bind(team_id)
                .fetch_all(self.pool())
                .await?;
        Ok(all
            .into_iter()
            .filter(|m| ids.contains(&m.user_id))
            .collect())
    }

    /// Adds an organization member to a team.
    pub async fn add_team_member(
        &self,
        actor: &Actor,
        org: &Org,
        t: &Team,
        who: &Member,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
            .bind(&t.id)
            .bind(&who.user_id)
            .execute(w.conn())
            .await
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict {
                        kind: "team member",
                        name: who.email.clone(),
                        reason: "is already in the team",
                    }
                } else {
                    e.into()
                }
            })?;
        w.record(
            Change::new(
                &org.id,
                "team.member.added",
                target("team", &t.id, &t.name),
                format!("added {} to team {}", who.email, t.name),
            )
            .details(serde_json::json!({ "member": { "id": who.user_id, "email": who.email } })),
        );
        w.commit().await?;
        Ok(())
    }

    /// Removes a member from a team.
    pub async fn remove_team_member(
        &self,
        actor: &Actor,
        org: &Org,
        t: &Team,
        who: &Member,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(&t.id)
            .bind(&who.user_id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("team member", &who.email));
        }
        w.record(
            Change::new(
                &org.id,
                "team.member.removed",
                target("team", &t.id, &t.name),
                format!("removed {} from team {}", who.email, t.name),
            )
            .details(serde_json::json!({ "member": { "id": who.user_id, "email": who.email } })),
        );
        w.commit().await?;
        Ok(())
    }
}
