//! Repositories: create, update (description, visibility), delete.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::orgs::Org;
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms};
use dockwatch_core::org::{Visibility, check_name, check_text};

/// A container image repository in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// Stable id.
    pub id: String,
    /// Unique name within the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// Creation time.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
}

type RepoRow = (String, String, String, String, i64, i64);

fn repo(r: RepoRow) -> Result<Repository> {
    let visibility = r.3.parse().map_err(|_| StoreError::Corrupt {
        what: "visibility",
        message: r.3.clone(),
    })?;
    Ok(Repository {
        id: r.0,
        name: r.1,
        description: r.2,
        visibility,
        created_ms: r.4,
        updated_ms: r.5,
    })
}

const REPO_SQL: &str = "SELECT id, name, description, visibility, created_ms, updated_ms FROM repositories WHERE org_id = $1";

impl Store {
    /// The organization's repositories, by name.
    pub async fn repositories(&self, org_id: &str) -> Result<Vec<Repository>> {
        let sql = format!("{REPO_SQL} ORDER BY name");
        let rows: Vec<RepoRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(repo).collect()
    }

    /// A repository by name.
    pub async fn repository(&self, org_id: &str, name: &str) -> Result<Repository> {
        let sql = format!("{REPO_SQL} AND name = $2");
        let row: Option<RepoRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(repo)
            .transpose()?
            .ok_or_else(|| StoreError::not_found("repository", name))
    }

    /// Creates a repository.
    pub async fn create_repository(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
        description: &str,
        visibility: Visibility,
    ) -> Result<Repository> {
        check_name("name", name)?;
        check_text("description", description, 1000)?;
        let now = now_ms();
        let r = Repository {
            id: new_id(),
            name: name.to_owned(),
            description: description.to_owned(),
            visibility,
            created_ms: now,
            updated_ms: now,
        };
        let mut w = self.write(actor).await?;
        sqlx::query("INSERT INTO repositories (id, org_id, name, description, visibility, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&r.id)
            .bind(&org.id)
            .bind(name)
            .bind(description)
            .bind(visibility.as_str())
            .bind(now)
            .bind(now)
            .execute(w.conn())
            .await
            .map_err(conflict_on_duplicate("repository", name))?;
        w.record(
            Change::new(&org.id, "repository.created", target("repository", &r.id, name), format!("created {} repository {name}", visibility.as_str()))
                .details(serde_json::json!({ "after": { "name": name, "description": description, "visibility": visibility } })),
        );
        w.commit().await?;
        Ok(r)
    }

    /// Changes a repository's description and/or visibility; each kind of change is its own event.
    pub async fn update_repository(
        &self,
        actor: &Actor,
        org: &Org,
        current: &Repository,
        description: Option<&str>,
        visibility: Option<Visibility>,
    ) -> Result<Repository> {
        let new_description = description.unwrap_or(&current.description);
        let new_visibility = visibility.unwrap_or(current.visibility);
        check_text("description", new_description, 1000)?;
        let now = now_ms();
        let mut w = self.write(actor).await?;
        sqlx::query("UPDATE repositories SET description = $1, visibility = $2, updated_ms = $3 WHERE id = $4")
            .bind(new_description)
            .bind(new_visibility.as_str())
            .bind(now)
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        let t = || target("repository", &current.id, &current.name);
        if new_visibility != current.visibility {
            w.record(
                Change::new(&org.id, "repository.visibility.changed", t(), format!("made repository {} {}", current.name, new_visibility.as_str()))
                    .details(serde_json::json!({ "before": { "visibility": current.visibility }, "after": { "visibility": new_visibility } })),
            );
        }
        if new_description != current.description || new_visibility == current.visibility {
            w.record(
                Change::new(&org.id, "repository.updated", t(), format!("changed the description of repository {}", current.name))
                    .details(serde_json::json!({ "before": { "description": current.description }, "after": { "description": new_description } })),
            );
        }
        w.commit().await?;
        Ok(Repository {
            description: new_description.to_owned(),
            visibility: new_visibility,
            updated_ms: now,
            ..current.clone()
        })
    }

    /// Deletes a repository.
    pub async fn delete_repository(
        &self,
        actor: &Actor,
        org: &Org,
        current: &Repository,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        let done = sqlx::query("DELETE FROM repositories WHERE id = $1")
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("repository", &current.name));
        }
        w.record(
            Change::new(&org.id, "repository.deleted", target("repository", &current.id, &current.name), format!("deleted repository {}", current.name))
                .details(serde_json::json!({ "before": { "description": current.description, "visibility": current.visibility } })),
        );
        w.commit().await?;
        Ok(())
    }
}
