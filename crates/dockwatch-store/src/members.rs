//! Organization members and invitations: invite, accept, revoke, change role, remove.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::orgs::Org;
use crate::users::{User, insert_user, role_of};
use crate::write::{Change, WriteTx, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::org::{Role, check_email};

/// A user's membership in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The user's name.
    pub name: String,
    /// Their role here.
    pub role: Role,
    /// When they joined, ms since the epoch.
    pub joined_ms: i64,
}

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Stable id.
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: Role,
    /// Inviting user's id.
    pub invited_by: String,
    /// Creation time.
    pub created_ms: i64,
    /// After this, the invitation can no longer be accepted.
    pub expires_ms: i64,
}

/// How long an invitation stays valid: 7 days.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

type MemberRow = (String, String, String, String, i64);

fn member(row: MemberRow) -> Result<Member> {
    Ok(Member {
        user_id: row.0,
        email: row.1,
        name: row.2,
        role: role_of(&row.3)?,
        joined_ms: row.4,
    })
}

const MEMBER_SQL: &str = "SELECT u.id, u.email, u.name, m.role, m.created_ms FROM memberships m \
                          JOIN users u ON u.id = m.user_id WHERE m.org_id = $1";

/// Adds `user` to `org` with `role` and records `member.added`.
pub(crate) async fn insert_member(
    w: &mut WriteTx<'_>,
    org: &Org,
    user: &User,
    role: Role,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(&org.id)
    .bind(&user.id)
    .bind(role.as_str())
    .bind(now_ms())
    .execute(w.conn())
    .await
    .map_err(conflict_on_duplicate("member", &user.email))?;
    w.record(
        Change::new(
            &org.id,
            "member.added",
            target("member", &user.id, &user.email),
            format!(
                "added {} to organization {} as {role}",
                user.email, org.name
            ),
        )
        .details(serde_json::json!({ "after": { "role": role } })),
    );
    Ok(())
}

async fn owner_count(w: &mut WriteTx<'_>, org_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(org_id)
            .fetch_one(w.conn())
            .await?,
    )
}

impl Store {
    /// The organization's members, by email.
    pub async fn members(&self, org_id: &str) -> Result<Vec<Member>> {
        let sql = format!("{MEMBER_SQL} ORDER BY u.email");
        let rows: Vec<MemberRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(member).collect()
    }

    /// A member by user id or email.
    pub async fn member(&self, org_id: &str, id_or_email: &str) -> Result<Member> {
        let sql = format!("{MEMBER_SQL} AND (u.id = $2 OR u.email = $2)");
        let row: Option<MemberRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(id_or_email)
            .fetch_optional(self.pool())
            .await?;
        row.map(member)
            .transpose()?
            .ok_or_else(|| StoreError::not_found("member", id_or_email))
    }

    /// Changes a member's role; the last owner cannot stop being one.
    pub async fn change_role(
        &self,
        actor: &Actor,
        org: &Org,
        who: &Member,
        role: Role,
    ) -> Result<Member> {
        let mut w = self.write(actor).await?;
        if who.role == Role::Owner
            && role != Role::Owner
            && owner_count(&mut w, &org.id).await? <= 1
        {
            return Err(StoreError::Conflict {
                kind: "member",
                name: who.email.clone(),
                reason: "is the last owner",
            });
        }
        let done =
            sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
                .bind(role.as_str())
                .bind(&org.id)
                .bind(&who.user_id)
                .execute(w.conn())
                .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("member", &who.email));
        }
        w.record(
            Change::new(
                &org.id,
                "member.role.changed",
                target("member", &who.user_id, &who.email),
                format!(
                    "changed the role of {} from {} to {role}",
                    who.email, who.role
                ),
            )
            .details(
                serde_json::json!({ "before": { "role": who.role }, "after": { "role": role } }),
            ),
        );
        w.commit().await?;
        Ok(Member {
            role,
            ..who.clone()
        })
    }

    /// Removes a member (and their team memberships here); the last owner cannot be removed.
    pub async fn remove_member(&self, actor: &Actor, org: &Org, who: &Member) -> Result<()> {
        let mut w = self.write(actor).await?;
        if who.role == Role::Owner && owner_count(&mut w, &org.id).await? <= 1 {
            return Err(StoreError::Conflict {
                kind: "member",
                name: who.email.clone(),
                reason: "is the last owner",
            });
        }
        sqlx::query("DELETE FROM team_members WHERE user_id = $1 AND team_id IN (SELECT id FROM teams WHERE org_id = $2)")
            .bind(&who.user_id)
            .bind(&org.id)
            .execute(w.conn())
            .await?;
        let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(&org.id)
            .bind(&who.user_id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("member", &who.email));
        }
        w.record(
            Change::new(
                &org.id,
                "member.removed",
                target("member", &who.user_id, &who.email),
                format!("removed {} from organization {}", who.email, org.name),
            )
            .details(serde_json::json!({ "before": { "role": who.role } })),
        );
        w.commit().await?;
        Ok(())
    }

    /// Invites `email` with `role`; returns the invitation and its one-time secret.
    pub async fn invite(
        &self,
        actor: &Actor,
        org: &Org,
        email: &str,
        role: Role,
    ) -> Result<(Invitation, String)> {
        check_email("email", email)?;
        let mut w = self.write(actor).await?;
        let already: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email = $2",
        )
        .bind(&org.id)
        .bind(email)
        .fetch_one(w.conn())
        .await?;
        if already > 0 {
            return Err(StoreError::Conflict {
                kind: "member",
                name: email.to_owned(),
                reason: "is already a member",
            });
        }
        let now = now_ms();
        // An expired invitation for the same address is replaced.
        sqlx::query(
            "DELETE FROM invitations WHERE org_id = $1 AND email = $2 AND expires_ms <= $3",
        )
        .bind(&org.id)
        .bind(email)
        .bind(now)
        .execute(w.conn())
        .await?;
        let secret = secret::generate("dwi_");
        let invitation = Invitation {
            id: new_id(),
            email: email.to_owned(),
            role,
            invited_by: actor.id.clone(),
            created_ms: now,
            expires_ms: now + INVITATION_TTL_MS,
        };
        sqlx::query(
            "INSERT INTO invitations (id, org_id, email, role, secret_hash, invited_by, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&invitation.id)
        .bind(&org.id)
        .bind(email)
        .bind(role.as_str())
        .bind(secret::hash(&secret))
        .bind(&invitation.invited_by)
        .bind(now)
        .bind(invitation.expires_ms)
        .execute(w.conn())
        .await
        .map_err(conflict_on_duplicate("invitation", email))?;
        w.record(
            Change::new(
                &org.id,
                "member.invited",
                target("invitation", &invitation.id, email),
                format!("invited {email} to organization {} as {role}", org.name),
            )
            .details(serde_json::json!({ "after": { "email": email, "role": role } })),
        );
        w.commit().await?;
        Ok((invitation, secret))
    }

    /// Pending invitations, newest first.
    pub async fn invitations(&self, org_id: &str) -> Result<Vec<Invitation>> {
        let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, email, role, invited_by, created_ms, expires_ms FROM invitations WHERE org_id = $1 ORDER BY created_ms DESC, id DESC",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, email, role, invited_by, created_ms, expires_ms)| {
                Ok(Invitation {
                    id,
                    email,
                    role: role_of(&role)?,
                    invited_by,
                    created_ms,
                    expires_ms,
                })
            })
            .collect()
    }

    /// Withdraws an invitation.
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        org: &Org,
        invitation_id: &str,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        let email: Option<String> = sqlx::query_scalar(
            "DELETE FROM invitations WHERE org_id = $1 AND id = $2 RETURNING email",
        )
        .bind(&org.id)
        .bind(invitation_id)
        .fetch_optional(w.conn())
        .await?;
        let email = email.ok_or_else(|| StoreError::not_found("invitation", invitation_id))?;
        w.record(Change::new(
            &org.id,
            "member.invitation.revoked",
            target("invitation", invitation_id, &email),
            format!("revoked the invitation of {email}"),
        ));
        w.commit().await?;
        Ok(())
    }

    /// Accepts an invitation by its secret. A new address becomes a user with `password`; an
    /// existing user must give their own password. Returns the organization's name and the user.
    pub async fn accept_invitation(
        &self,
        secret_value: &str,
        name: &str,
        password: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<(String, User, Role)> {
        let row: Option<(String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT i.id, i.org_id, i.email, i.role, i.expires_ms, o.name FROM invitations i \
             JOIN orgs o ON o.id = i.org_id WHERE i.secret_hash = $1",
        )
        .bind(secret::hash(secret_value))
        .fetch_optional(self.pool())
        .await?;
        let (inv_id, org_id, email, role, expires_ms, org_name) =
            row.ok_or_else(|| StoreError::not_found("invitation", "(given token)"))?;
        if expires_ms <= now_ms() {
            return Err(StoreError::Conflict {
                kind: "invitation",
                name: email,
                reason: "has expired",
            });
        }
        let role = role_of(&role)?;
        let existing = self.user_by_email(&email).await?;
        if existing.is_some() && self.check_credentials(&email, password).await?.is_none() {
            return Err(dockwatch_core::org::Invalid::new(
                "password",
                "does not match the existing account of the invited address",
            )
            .into());
        }
        let actor = Actor {
            kind: "user".into(),
            id: existing.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
            name: email.clone(),
            ip,
            user_agent,
        };
        let mut w = self.write(&actor).await?;
        let deleted = sqlx::query("DELETE FROM invitations WHERE id = $1")
            .bind(&inv_id)
            .execute(w.conn())
            .await?;
        if deleted.rows_affected() != 1 {
            return Err(StoreError::not_found("invitation", "(given token)"));
        }
        let org = self.org(&org_name).await?;
        let user = match existing {
            Some(user) => user,
            None => {
                insert_user(
                    &mut w,
                    &org_id,
                    &email,
                    if name.is_empty() { &email } else { name },
                    Some(password),
                )
                .await?
            }
        };
        insert_member(&mut w, &org, &user, role).await?;
        w.commit().await?;
        Ok((org_name, user, role))
    }
}
