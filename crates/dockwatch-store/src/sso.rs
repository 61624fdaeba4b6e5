//! An organization's SSO connection (SAML or OIDC settings) and whether sign-in must use it.

use crate::error::{Result, StoreError};
use crate::orgs::Org;
use crate::write::{Change, target};
use crate::{Actor, Store, now_ms};

/// SSO connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConnection {
    /// `saml` or `oidc`.
    pub protocol: String,
    /// The identity provider's issuer / entity id.
    pub issuer: String,
    /// Where users are sent to sign in.
    pub sso_url: String,
    /// The OIDC client id (empty for SAML).
    pub client_id: String,
    /// The SAML signing certificate, PEM (empty for OIDC).
    pub certificate: String,
    /// Whether members must sign in through it.
    pub enforced: bool,
    /// Last change.
    pub updated_ms: i64,
}

impl Store {
    /// The organization's SSO connection, if configured.
    pub async fn sso(&self, org_id: &str) -> Result<Option<SsoConnection>> {
        let row: Option<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT protocol, issuer, sso_url, client_id, certificate, enforced, updated_ms FROM sso_connections WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| SsoConnection {
            protocol: r.0,
            issuer: r.1,
            sso_url: r.2,
            client_id: r.3,
            certificate: r.4,
            enforced: r.5 != 0,
            updated_ms: r.6,
        }))
    }

    /// Creates or replaces the SSO connection (enforcement is kept as it was).
    pub async fn put_sso(
        &self,
        actor: &Actor,
        org: &Org,
        conn: &SsoConnection,
    ) -> Result<SsoConnection> {
        let before = self.sso(&org.id).await?;
        let enforced = before.as_ref().is_some_and(|b| b.enforced);
        let now = now_ms();
        let mut w = self.write(actor).await?;
        sqlx::query("DELETE FROM sso_connections WHERE org_id = $1")
            .bind(&org.id)
            .execute(w.conn())
            .await?;
        sqlx::query(
            "INSERT INTO sso_connections (org_id, protocol, issuer, sso_url, client_id, certificate, enforced, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&org.id)
        .bind(&conn.protocol)
        .bind(&conn.issuer)
        .bind(&conn.sso_url)
        .bind(&conn.client_id)
        .bind(&conn.certificate)
        .bind(i64::from(enforced))
        .bind(now)
        .execute(w.conn())
        .await?;
        let view = |c: &SsoConnection| serde_json::json!({ "protocol": c.protocol, "issuer": c.issuer, "sso_url": c.sso_url, "client_id": c.client_id });
        let (action, verb) = if before.is_some() {
            ("sso.connection.updated", "changed")
        } else {
            ("sso.connection.created", "created")
        };
        w.record(
            Change::new(
                &org.id,
                action,
                target("sso", &org.id, &conn.issuer),
                format!(
                    "{verb} the {} SSO connection of organization {}",
                    conn.protocol, org.name
                ),
            )
            .details(
                serde_json::json!({ "before": before.as_ref().map(view), "after": view(conn) }),
            ),
        );
        w.commit().await?;
        Ok(SsoConnection {
            enforced,
            updated_ms: now,
            ..conn.clone()
        })
    }

    /// Removes the SSO connection (and so its enforcement).
    pub async fn delete_sso(&self, actor: &Actor, org: &Org) -> Result<()> {
        let mut w = self.write(actor).await?;
        let issuer: Option<String> =
            sqlx::query_scalar("DELETE FROM sso_connections WHERE org_id = $1 RETURNING issuer")
                .bind(&org.id)
                .fetch_optional(w.conn())
                .await?;
        let issuer = issuer.ok_or_else(|| StoreError::not_found("SSO connection of", &org.name))?;
        w.record(Change::new(
            &org.id,
            "sso.connection.deleted",
            target("sso", &org.id, &issuer),
            format!("deleted the SSO connection of organization {}", org.name),
        ));
        w.commit().await?;
        Ok(())
    }

    /// Turns SSO enforcement on or off; needs a connection.
    pub async fn set_sso_enforced(
        &self,
        actor: &Actor,
        org: &Org,
        enforced: bool,
    ) -> Result<SsoConnection> {
        let mut w = self.write(actor).await?;
        let now = now_ms();
        let issuer: Option<String> = sqlx::query_scalar("UPDATE sso_connections SET enforced = $1, updated_ms = $2 WHERE org_id = $3 RETURNING issuer")
            .bind(i64::from(enforced))
            .bind(now)
            .bind(&org.id)
            .fetch_optional(w.conn())
            .await?;
        let Some(issuer) = issuer else {
            return Err(StoreError::Conflict {
                kind: "organization",
                name: org.name.clone(),
                reason: "has no SSO connection to enforce",
            });
        };
        let (action, verb) = if enforced {
            ("sso.enforcement.enabled", "turned on")
        } else {
            ("sso.enforcement.disabled", "turned off")
        };
        w.record(
            Change::new(
                &org.id,
                action,
                target("sso", &org.id, &issuer),
                format!("{verb} SSO enforcement for organization {}", org.name),
            )
            .details(serde_json::json!({ "after": { "enforced": enforced } })),
        );
        w.commit().await?;
        drop(issuer);
        self.sso(&org.id)
            .await?
            .ok_or_else(|| StoreError::not_found("SSO connection of", &org.name))
    }
}
