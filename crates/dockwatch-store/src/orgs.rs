//! Organizations: create, read, rename, settings, delete.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::users::{User, role_of};
use crate::write::{Change, WriteTx, target};
use crate::{Store, members, new_id, now_ms};
use dockwatch_core::org::{OrgSettings, Role, check_name, check_text};

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Stable id.
    pub id: String,
    /// Unique URL-safe name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Settings.
    pub settings: OrgSettings,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
}

type OrgRow = (String, String, String, String, i64);

fn org(row: OrgRow) -> Result<Org> {
    let settings = serde_json::from_str(&row.3).map_err(|e| StoreError::Corrupt {
        what: "organization settings",
        message: e.to_string(),
    })?;
    Ok(Org {
        id: row.0,
        name: row.1,
        display_name: row.2,
        settings,
        created_ms: row.4,
    })
}

const ORG_COLUMNS: &str = "o.id, o.name, o.display_name, o.settings, o.created_ms";

/// Inserts an organization and records `organization.created` as the first event of its chain.
pub(crate) async fn insert_org(w: &mut WriteTx<'_>, name: &str, display_name: &str) -> Result<Org> {
    check_name("name", name)?;
    check_text("display_name", display_name, 200)?;
    let org = Org {
        id: new_id(),
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        settings: OrgSettings::default(),
        created_ms: now_ms(),
    };
    let settings = serde_json::to_string(&org.settings).expect("settings serialize");
    sqlx::query("INSERT INTO orgs (id, name, display_name, settings, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.display_name)
        .bind(&settings)
        .bind(org.created_ms)
        .execute(w.conn())
        .await
        .map_err(conflict_on_duplicate("organization", name))?;
    w.record(
        Change::new(
            &org.id,
            "organization.created",
            target("organization", &org.id, name),
            format!("created organization {name}"),
        )
        .details(serde_json::json!({ "after": { "name": name, "display_name": display_name } })),
    );
    Ok(org)
}

impl Store {
    /// Creates an organization owned by `owner`.
    pub async fn create_org(
        &self,
        w_actor: &crate::Actor,
        owner: &User,
        name: &str,
        display_name: &str,
    ) -> Result<Org> {
        let mut w = self.write(w_actor).await?;
        let org = insert_org(&mut w, name, display_name).await?;
        members::insert_member(&mut w, &org, owner, Role::Owner).await?;
        w.commit().await?;
        Ok(org)
    }

    /// An organization by name.
    pub async fn org(&self, name: &str) -> Result<Org> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.name = $1");
        let row: Option<OrgRow> = sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(org)
            .transpose()?
            .ok_or_else(|| StoreError::not_found("organization", name))
    }

    /// An organization by name with `user_id`'s role in it (`None` when not a member).
    pub async fn org_with_role(&self, name: &str, user_id: &str) -> Result<(Org, Option<Role>)> {
        let sql = format!(
            "SELECT {ORG_COLUMNS}, m.role FROM orgs o \
             LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = $2 WHERE o.name = $1"
        );
        let row: Option<(String, String, String, String, i64, Option<String>)> =
            sqlx::query_as(&sql)
                .bind(name)
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
        let (id, name2, display, settings, created, role) =
            row.ok_or_else(|| StoreError::not_found("organization", name))?;
        let role = role.as_deref().map(role_of).transpose()?;
        Ok((org((id, name2, display, settings, created))?, role))
    }

    /// The organizations `user_id` belongs to, with their role, by name.
    pub async fn orgs_of_user(&self, user_id: &str) -> Result<Vec<(Org, Role)>> {
        let sql = format!(
            "SELECT {ORG_COLUMNS}, m.role FROM orgs o JOIN memberships m ON m.org_id = o.id \
             WHERE m.user_id = $1 ORDER BY o.name"
        );
        let rows: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|(id, name, display, settings, created, role)| {
                Ok((
                    org((id, name, display, settings, created))?,
                    role_of(&role)?,
                ))
            })
            .collect()
    }

    /// Changes the display name.
    pub async fn rename_org(
        &self,
        actor: &crate::Actor,
        current: &Org,
        display_name: &str,
    ) -> Result<Org> {
        check_text("display_name", display_name, 200)?;
        let mut w = self.write(actor).await?;
        sqlx::query("UPDATE orgs SET display_name = $1 WHERE id = $2")
            .bind(display_name)
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        w.record(
            Change::new(&current.id, "organization.updated", target("organization", &current.id, &current.name), format!("renamed organization {} to {display_name:?}", current.name))
                .details(serde_json::json!({ "before": { "display_name": current.display_name }, "after": { "display_name": display_name } })),
        );
        w.commit().await?;
        Ok(Org {
            display_name: display_name.to_owned(),
            ..current.clone()
        })
    }

    /// Replaces the settings.
    pub async fn update_org_settings(
        &self,
        actor: &crate::Actor,
        current: &Org,
        settings: &OrgSettings,
    ) -> Result<Org> {
        let mut w = self.write(actor).await?;
        sqlx::query("UPDATE orgs SET settings = $1 WHERE id = $2")
            .bind(serde_json::to_string(settings).expect("settings serialize"))
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        w.record(
            Change::new(
                &current.id,
                "organization.settings.changed",
                target("organization", &current.id, &current.name),
                format!("changed the settings of organization {}", current.name),
            )
            .details(serde_json::json!({ "before": current.settings, "after": settings })),
        );
        w.commit().await?;
        Ok(Org {
            settings: settings.clone(),
            ..current.clone()
        })
    }

    /// Deletes an organization and everything in it; its activity log stays.
    pub async fn delete_org(&self, actor: &crate::Actor, current: &Org) -> Result<()> {
        let mut w = self.write(actor).await?;
        sqlx::query("DELETE FROM orgs WHERE id = $1")
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        w.record(Change::new(
            &current.id,
            "organization.deleted",
            target("organization", &current.id, &current.name),
            format!("deleted organization {}", current.name),
        ));
        w.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The organization with this id, as a list (empty when it was deleted).
    pub async fn orgs_by_id(&self, org_id: &str) -> Result<Vec<Org>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1");
        let rows: Vec<OrgRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(org).collect()
    }
}
