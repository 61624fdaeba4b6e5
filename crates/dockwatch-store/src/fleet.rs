//! Fleet settings policies: versioned policy documents, their assignments to scopes, and the
//! organization's enrollment tokens.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::orgs::Org;
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::org::{Invalid, check_text};
use dockwatch_core::settings::transition::actions;
use dockwatch_core::settings::{Assignment, EffectivePolicy, Policy, PolicyVersion, Scope};
use std::collections::HashMap;

/// A policy's latest version and where it is assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    /// Unique name in the organization.
    pub name: String,
    /// Latest version.
    pub version: PolicyVersion,
    /// The scopes it is assigned to (`org`, `team:NAME`...).
    pub assigned: Vec<String>,
    /// When the latest version was set.
    pub updated_ms: i64,
}

/// One kept version of a policy.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// The policy's name.
    pub name: String,
    /// This version.
    pub version: PolicyVersion,
    /// The validated policy.
    pub policy: Policy,
    /// Who set it.
    pub created_by: String,
    /// When.
    pub created_ms: i64,
}

/// An enrollment token's stored description (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollToken {
    /// Stable id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Creation time.
    pub created_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
}

fn corrupt(what: &'static str, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

impl Store {
    /// Stores `policy` as the next version of `name` (creating it at version 1) and assigns it
    /// to each of `assign`, replacing what those scopes had. One event per change.
    pub async fn set_policy(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
        policy: &Policy,
        assign: &[Scope],
    ) -> Result<PolicyInfo> {
        dockwatch_core::org::check_name("name", name)?;
        let now = now_ms();
        let mut w = self.write(actor).await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM fleet_policies WHERE org_id = $1 AND name = $2")
                .bind(&org.id)
                .bind(name)
                .fetch_optional(w.conn())
                .await?;
        let (policy_id, number) = match existing {
            Some(id) => {
                let last: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(number) FROM fleet_policy_versions WHERE policy_id = $1",
                )
                .bind(&id)
                .fetch_one(w.conn())
                .await?;
                (id, last.unwrap_or(0) + 1)
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO fleet_policies (id, org_id, name, created_ms) VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(&org.id)
                .bind(name)
                .bind(now)
                .execute(w.conn())
                .await
                .map_err(conflict_on_duplicate("policy", name))?;
                (id, 1)
            }
        };
        let version = policy.version(number as u64);
        sqlx::query(
            "INSERT INTO fleet_policy_versions (policy_id, number, hash, document, created_by, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&policy_id)
        .bind(number)
        .bind(&version.hash)
        .bind(String::from_utf8_lossy(&policy.document_bytes()).into_owned())
        .bind(&actor.name)
        .bind(now)
        .execute(w.conn())
        .await
        .map_err(conflict_on_duplicate("policy version", name))?;
        let (action, sentence) = if number == 1 {
            (
                actions::POLICY_CREATED,
                format!("created settings policy {name}"),
            )
        } else {
            (
                actions::POLICY_VERSIONED,
                format!("set version {number} of settings policy {name}"),
            )
        };
        w.record(
            Change::new(
                &org.id,
                action,
                target("policy", &policy_id, name),
                sentence,
            )
            .details(serde_json::json!({ "version": number, "hash": version.hash,
                    "after": policy.to_document() })),
        );
        for scope in assign {
            let scope_text = scope.to_string();
            sqlx::query("DELETE FROM fleet_assignments WHERE org_id = $1 AND scope = $2")
                .bind(&org.id)
                .bind(&scope_text)
                .execute(w.conn())
                .await?;
            sqlx::query(
                "INSERT INTO fleet_assignments (org_id, scope, policy_id, assigned_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&org.id)
            .bind(&scope_text)
            .bind(&policy_id)
            .bind(now)
            .execute(w.conn())
            .await?;
            w.record(
                Change::new(
                    &org.id,
                    actions::POLICY_ASSIGNED,
                    target("policy", &policy_id, name),
                    format!("assigned settings policy {name} to {scope_text}"),
                )
                .details(serde_json::json!({ "scope": scope_text })),
            );
        }
        policies_changed(w.conn(), &org.id).await?;
        w.commit().await?;
        self.fleet_cache.clear();
        self.fleet_notify.notify_one();
        self.policy(&org.id, name).await
    }

    /// Deletes a policy with its versions and assignments (each version's document stays in
    /// the activity log). Machines it applied to fall back to their next assignment, or to
    /// `no-policy`; the sweep re-judges them.
    pub async fn delete_policy(&self, actor: &Actor, org: &Org, name: &str) -> Result<Vec<String>> {
        let mut w = self.write(actor).await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM fleet_policies WHERE org_id = $1 AND name = $2")
                .bind(&org.id)
                .bind(name)
                .fetch_optional(w.conn())
                .await?;
        let id = id.ok_or_else(|| StoreError::not_found("policy", name))?;
        let scopes: Vec<String> = sqlx::query_scalar(
            "SELECT scope FROM fleet_assignments WHERE policy_id = $1 ORDER BY scope",
        )
        .bind(&id)
        .fetch_all(w.conn())
        .await?;
        let versions: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(number) FROM fleet_policy_versions WHERE policy_id = $1",
        )
        .bind(&id)
        .fetch_one(w.conn())
        .await?;
        for sql in [
            "DELETE FROM fleet_assignments WHERE policy_id = $1",
            "DELETE FROM fleet_policy_versions WHERE policy_id = $1",
            "DELETE FROM fleet_policies WHERE id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(w.conn()).await?;
        }
        for scope in &scopes {
            w.record(
                Change::new(
                    &org.id,
                    actions::POLICY_UNASSIGNED,
                    target("policy", &id, name),
                    format!("unassigned settings policy {name} from {scope}"),
                )
                .details(serde_json::json!({ "scope": scope, "reason": "policy deleted" })),
            );
        }
        w.record(
            Change::new(
                &org.id,
                actions::POLICY_DELETED,
                target("policy", &id, name),
                format!("deleted settings policy {name}"),
            )
            .details(
                serde_json::json!({ "versions": versions.unwrap_or(0), "unassigned": scopes }),
            ),
        );
        policies_changed(w.conn(), &org.id).await?;
        w.commit().await?;
        self.fleet_cache.clear();
        self.fleet_notify.notify_one();
        Ok(scopes)
    }

    /// Removes the assignments of policy `name` to `scopes` (one event each); a scope it is not
    /// assigned to is not found and nothing changes.
    pub async fn unassign_policy(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
        scopes: &[Scope],
    ) -> Result<()> {
        if scopes.is_empty() {
            return Err(Invalid::new("scope", "name at least one scope to unassign").into());
        }
        let mut w = self.write(actor).await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM fleet_policies WHERE org_id = $1 AND name = $2")
                .bind(&org.id)
                .bind(name)
                .fetch_optional(w.conn())
                .await?;
        let id = id.ok_or_else(|| StoreError::not_found("policy", name))?;
        for scope in scopes {
            let scope_text = scope.to_string();
            let done = sqlx::query(
                "DELETE FROM fleet_assignments WHERE org_id = $1 AND scope = $2 AND policy_id = $3",
            )
            .bind(&org.id)
            .bind(&scope_text)
            .bind(&id)
            .execute(w.conn())
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::not_found(
                    "assignment",
                    format!("{name} to {scope_text}"),
                ));
            }
            w.record(
                Change::new(
                    &org.id,
                    actions::POLICY_UNASSIGNED,
                    target("policy", &id, name),
                    format!("unassigned settings policy {name} from {scope_text}"),
                )
                .details(serde_json::json!({ "scope": scope_text })),
            );
        }
        policies_changed(w.conn(), &org.id).await?;
        w.commit().await?;
        self.fleet_cache.clear();
        self.fleet_notify.notify_one();
        Ok(())
    }

    /// The organization's policies, by name.
    pub async fn policies(&self, org_id: &str) -> Result<Vec<PolicyInfo>> {
        let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
            "SELECT p.id, p.name, v.number, v.hash, v.created_ms FROM fleet_policies p \
             JOIN fleet_policy_versions v ON v.policy_id = p.id \
             WHERE p.org_id = $1 AND v.number = \
               (SELECT MAX(number) FROM fleet_policy_versions WHERE policy_id = p.id) ORDER BY p.name",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let scopes: Vec<(String, String)> = sqlx::query_as(
            "SELECT policy_id, scope FROM fleet_assignments WHERE org_id = $1 ORDER BY scope",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, number, hash, updated_ms)| PolicyInfo {
                name,
                version: PolicyVersion {
                    number: number as u64,
                    hash,
                },
                assigned: scopes
                    .iter()
                    .filter(|(p, _)| *p == id)
                    .map(|(_, s)| s.clone())
                    .collect(),
                updated_ms,
            })
            .collect())
    }

    /// One policy's latest version and assignments.
    pub async fn policy(&self, org_id: &str, name: &str) -> Result<PolicyInfo> {
        self.policies(org_id)
            .await?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| StoreError::not_found("policy", name))
    }

    /// A version of a policy (the latest when `number` is `None`).
    pub async fn policy_document(
        &self,
        org_id: &str,
        name: &str,
        number: Option<u64>,
    ) -> Result<PolicyDocument> {
        let row: Option<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT v.number, v.hash, v.document, v.created_by, v.created_ms FROM fleet_policies p \
             JOIN fleet_policy_versions v ON v.policy_id = p.id \
             WHERE p.org_id = $1 AND p.name = $2 AND v.number <= $3 ORDER BY v.number DESC LIMIT 1",
        )
        .bind(org_id)
        .bind(name)
        .bind(number.map_or(i64::MAX, |n| n as i64))
        .fetch_optional(self.pool())
        .await?;
        let (n, hash, document, created_by, created_ms) =
            row.ok_or_else(|| StoreError::not_found("policy", name))?;
        if number.is_some_and(|want| want != n as u64) {
            return Err(StoreError::not_found(
                "policy version",
                format!("{name} v{}", number.unwrap_or_default()),
            ));
        }
        let policy = Policy::parse(document.as_bytes()).map_err(|e| corrupt("policy", e))?;
        Ok(PolicyDocument {
            name: name.to_owned(),
            version: PolicyVersion {
                number: n as u64,
                hash,
            },
            policy,
            created_by,
            created_ms,
        })
    }

    /// Every assignment of the organization with the latest version of its policy.
    pub async fn effective_policies(
        &self,
        org_id: &str,
    ) -> Result<(Vec<Assignment>, HashMap<String, EffectivePolicy>)> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT a.scope, p.name, a.assigned_ms FROM fleet_assignments a \
             JOIN fleet_policies p ON p.id = a.policy_id WHERE a.org_id = $1",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let mut assignments = Vec::with_capacity(rows.len());
        let mut policies = HashMap::new();
        for (scope, name, assigned_at_ms) in rows {
            let scope: Scope = scope.parse().map_err(|e| corrupt("assignment", e))?;
            if !policies.contains_key(&name) {
                let d = self.policy_document(org_id, &name, None).await?;
                policies.insert(
                    name.clone(),
                    EffectivePolicy {
                        name: name.clone(),
                        version: d.version,
                        policy: d.policy,
                        scope: Scope::Org,
                    },
                );
            }
            assignments.push(Assignment {
                scope,
                policy: name,
                assigned_at_ms,
            });
        }
        Ok((assignments, policies))
    }

    /// Creates an enrollment token; the secret is returned once and stored as SHA-256.
    pub async fn create_enroll_token(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
    ) -> Result<(EnrollToken, String)> {
        check_text("name", name, 200)?;
        let secret = secret::generate("dwe_");
        let t = EnrollToken {
            id: new_id(),
            name: name.to_owned(),
            created_ms: now_ms(),
            revoked_ms: None,
        };
        let mut w = self.write(actor).await?;
        sqlx::query(
            "INSERT INTO fleet_enroll_tokens (id, org_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.id)
        .bind(&org.id)
        .bind(name)
        .bind(secret::hash(&secret))
        .bind(t.created_ms)
        .execute(w.conn())
        .await?;
        w.record(Change::new(
            &org.id,
            actions::ENROLL_TOKEN_CREATED,
            target("enroll_token", &t.id, name),
            format!("created enrollment token {name}"),
        ));
        w.commit().await?;
        Ok((t, secret))
    }

    /// The organization's enrollment tokens, newest first.
    pub async fn enroll_tokens(&self, org_id: &str) -> Result<Vec<EnrollToken>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_ms, revoked_ms FROM fleet_enroll_tokens WHERE org_id = $1 \
             ORDER BY created_ms DESC, id DESC",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_ms, revoked_ms)| EnrollToken {
                id,
                name,
                created_ms,
                revoked_ms,
            })
            .collect())
    }

    /// Revokes an enrollment token (machines already enrolled keep their credentials).
    pub async fn revoke_enroll_token(&self, actor: &Actor, org: &Org, id: &str) -> Result<()> {
        let mut w = self.write(actor).await?;
        let name: Option<String> = sqlx::query_scalar(
            "SELECT name FROM fleet_enroll_tokens WHERE id = $1 AND org_id = $2 AND revoked_ms IS NULL",
        )
        .bind(id)
        .bind(&org.id)
        .fetch_optional(w.conn())
        .await?;
        let name = name.ok_or_else(|| StoreError::not_found("enrollment token", id))?;
        sqlx::query("UPDATE fleet_enroll_tokens SET revoked_ms = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(w.conn())
            .await?;
        w.record(Change::new(
            &org.id,
            actions::ENROLL_TOKEN_REVOKED,
            target("enroll_token", id, &name),
            format!("revoked enrollment token {name}"),
        ));
        w.commit().await?;
        Ok(())
    }
}

/// Records that the organization's policies or assignments changed, so the sweep re-judges
/// machines judged before now.
async fn policies_changed(conn: &mut sqlx::AnyConnection, org_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO fleet_policy_changes (org_id, changed_ms) VALUES ($1, $2) \
         ON CONFLICT (org_id) DO UPDATE SET changed_ms = excluded.changed_ms",
    )
    .bind(org_id)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads an `--assign` value, naming the field on error.
pub fn parse_scope(text: &str) -> Result<Scope> {
    text.parse()
        .map_err(|e: dockwatch_core::settings::assign::ScopeError| {
            Invalid::new("assign", e.to_string()).into()
        })
}
