//! An organization's domains: added with a verification token, verified by a DNS TXT record
//! (the lookup is the server's job), removed.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::orgs::Org;
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::org::check_domain;

/// A domain claimed by an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Stable id.
    pub id: String,
    /// The domain name.
    pub name: String,
    /// The value the TXT record must hold.
    pub verification_token: String,
    /// When it was verified, if it was.
    pub verified_ms: Option<i64>,
    /// Creation time.
    pub created_ms: i64,
}

type DomainRow = (String, String, String, Option<i64>, i64);

fn domain(r: DomainRow) -> Domain {
    Domain {
        id: r.0,
        name: r.1,
        verification_token: r.2,
        verified_ms: r.3,
        created_ms: r.4,
    }
}

const DOMAIN_SQL: &str =
    "SELECT id, name, verification_token, verified_ms, created_ms FROM domains WHERE org_id = $1";

impl Store {
    /// The organization's domains, by name.
    pub async fn domains(&self, org_id: &str) -> Result<Vec<Domain>> {
        let sql = format!("{DOMAIN_SQL} ORDER BY name");
        let rows: Vec<DomainRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(domain).collect())
    }

    /// A domain by name.
    pub async fn domain(&self, org_id: &str, name: &str) -> Result<Domain> {
        let sql = format!("{DOMAIN_SQL} AND name = $2");
        let row: Option<DomainRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(domain)
            .ok_or_else(|| StoreError::not_found("domain", name))
    }

    /// Adds an unverified domain with a fresh verification token.
    pub async fn add_domain(&self, actor: &Actor, org: &Org, name: &str) -> Result<Domain> {
        check_domain("name", name)?;
        let d = Domain {
            id: new_id(),
            name: name.to_owned(),
            verification_token: secret::generate("dockwatch-verification="),
            verified_ms: None,
            created_ms: now_ms(),
        };
        let mut w = self.write(actor).await?;
        sqlx::query("INSERT INTO domains (id, org_id, name, verification_token, created_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(&d.id)
            .bind(&org.id)
            .bind(name)
            .bind(&d.verification_token)
            .bind(d.created_ms)
            .execute(w.conn())
            .await
            .map_err(conflict_on_duplicate("domain", name))?;
        w.record(Change::new(
            &org.id,
            "domain.added",
            target("domain", &d.id, name),
            format!("added domain {name}"),
        ));
        w.commit().await?;
        Ok(d)
    }

    /// Marks a domain verified (after the server found its TXT record).
    pub async fn mark_domain_verified(
        &self,
        actor: &Actor,
        org: &Org,
        d: &Domain,
    ) -> Result<Domain> {
        let now = now_ms();
        let mut w = self.write(actor).await?;
        let done = sqlx::query("UPDATE domains SET verified_ms = $1 WHERE id = $2 AND org_id = $3")
            .bind(now)
            .bind(&d.id)
            .bind(&org.id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("domain", &d.name));
        }
        w.record(Change::new(
            &org.id,
            "domain.verified",
            target("domain", &d.id, &d.name),
            format!("verified domain {}", d.name),
        ));
        w.commit().await?;
        Ok(Domain {
            verified_ms: Some(now),
            ..d.clone()
        })
    }

    /// Removes a domain.
    pub async fn remove_domain(&self, actor: &Actor, org: &Org, d: &Domain) -> Result<()> {
        let mut w = self.write(actor).await?;
        let done = sqlx::query("DELETE FROM domains WHERE id = $1 AND org_id = $2")
            .bind(&d.id)
            .bind(&org.id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("domain", &d.name));
        }
        w.record(
            Change::new(
                &org.id,
                "domain.removed",
                target("domain", &d.id, &d.name),
                format!("removed domain {}", d.name),
            )
            .details(serde_json::json!({ "before": { "verified": d.verified_ms.is_some() } })),
        );
        w.commit().await?;
        Ok(())
    }
}
