//! Access tokens: personal (act as their user) and organization tokens (act within one
//! organization), scoped, with optional expiry, stored only as SHA-256 of the secret.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::orgs::Org;
use crate::users::User;
use crate::write::{Change, WriteTx, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::org::{Invalid, Scope, check_text};

/// A token's stored description (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// Stable id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Its user, for a personal token.
    pub user_id: Option<String>,
    /// Its organization, for an organization token.
    pub org_id: Option<String>,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_ms: i64,
    /// Expiry, if any.
    pub expires_ms: Option<i64>,
}

impl AccessToken {
    /// The widest scope it has.
    pub fn max_scope(&self) -> Scope {
        self.scopes.iter().copied().max().unwrap_or(Scope::Read)
    }
}

/// The fields of a token to insert.
pub(crate) struct NewToken<'a> {
    pub(crate) secret: &'a str,
    pub(crate) name: &'a str,
    pub(crate) user_id: Option<&'a str>,
    pub(crate) org_id: Option<&'a str>,
    pub(crate) scopes: &'a [Scope],
    pub(crate) created_by: &'a str,
    pub(crate) expires_ms: Option<i64>,
}

fn scopes_text(scopes: &[Scope]) -> String {
    let mut v: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    v.sort_unstable();
    v.dedup();
    v.join(",")
}

fn parse_scopes(text: &str) -> Result<Vec<Scope>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| StoreError::Corrupt {
                what: "token scopes",
                message: text.to_owned(),
            })
        })
        .collect()
}

type TokenRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
);

fn token(r: TokenRow) -> Result<AccessToken> {
    Ok(AccessToken {
        id: r.0,
        name: r.1,
        user_id: r.2,
        org_id: r.3,
        scopes: parse_scopes(&r.4)?,
        created_by: r.5,
        created_ms: r.6,
        expires_ms: r.7,
    })
}

/// A token row followed by its user's email, name and creation time (null for org tokens).
type TokenUserRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

const TOKEN_COLUMNS: &str =
    "t.id, t.name, t.user_id, t.org_id, t.scopes, t.created_by, t.created_ms, t.expires_ms";

/// Inserts a token and records `token.created` in `log_org_id`'s log.
pub(crate) async fn insert_token(
    w: &mut WriteTx<'_>,
    new: NewToken<'_>,
    log_org_id: &str,
) -> Result<AccessToken> {
    check_text("name", new.name, 200)?;
    if new.name.trim().is_empty() {
        return Err(Invalid::new("name", "must not be empty").into());
    }
    if new.scopes.is_empty() {
        return Err(Invalid::new("scopes", "name at least one of read, write, admin").into());
    }
    if new.expires_ms.is_some_and(|e| e <= now_ms()) {
        return Err(Invalid::new("expires_at", "must be in the future").into());
    }
    let t = AccessToken {
        id: new_id(),
        name: new.name.to_owned(),
        user_id: new.user_id.map(str::to_owned),
        org_id: new.org_id.map(str::to_owned),
        scopes: parse_scopes(&scopes_text(new.scopes))?,
        created_by: new.created_by.to_owned(),
        created_ms: now_ms(),
        expires_ms: new.expires_ms,
    };
    sqlx::query(
        "INSERT INTO tokens (id, secret_hash, name, user_id, org_id, scopes, created_by, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&t.id)
    .bind(secret::hash(new.secret))
    .bind(&t.name)
    .bind(&t.user_id)
    .bind(&t.org_id)
    .bind(scopes_text(&t.scopes))
    .bind(&t.created_by)
    .bind(t.created_ms)
    .bind(t.expires_ms)
    .execute(w.conn())
    .await
    .map_err(conflict_on_duplicate("token", "(secret)"))?;
    let kind = if t.org_id.is_some() {
        "organization"
    } else {
        "personal"
    };
    w.record(
        Change::new(log_org_id, "token.created", target("token", &t.id, &t.name), format!("created {kind} token {}", t.name))
            .details(serde_json::json!({ "after": { "name": t.name, "kind": kind, "scopes": t.scopes, "expires_ms": t.expires_ms } })),
    );
    Ok(t)
}

/// Who a presented bearer token authenticates.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    /// The token.
    pub token: AccessToken,
    /// Its user, for personal tokens.
    pub user: Option<User>,
}

impl Store {
    /// The token with this secret, if it exists and has not expired. One indexed lookup of
    /// the SHA-256.
    pub async fn authenticate_token(&self, secret_value: &str) -> Result<Option<TokenPrincipal>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, u.email, u.name, u.created_ms FROM tokens t \
             LEFT JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1"
        );
        let row: Option<TokenUserRow> = sqlx::query_as(&sql)
            .bind(secret::hash(secret_value))
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let t = token((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7))?;
        if t.expires_ms.is_some_and(|e| e <= now_ms()) {
            return Ok(None);
        }
        let user = match (&t.user_id, r.8, r.9, r.10) {
            (Some(id), Some(email), Some(name), Some(created_ms)) => Some(User {
                id: id.clone(),
                email,
                name,
                created_ms,
            }),
            _ => None,
        };
        Ok(Some(TokenPrincipal { token: t, user }))
    }

    /// Creates a personal token for `user`; returns it and its secret (shown once).
    pub async fn create_personal_token(
        &self,
        actor: &Actor,
        user: &User,
        name: &str,
        scopes: &[Scope],
        expires_ms: Option<i64>,
    ) -> Result<(AccessToken, String)> {
        let secret_value = secret::generate("dwp_");
        let mut w = self.write(actor).await?;
        let t = insert_token(
            &mut w,
            NewToken {
                secret: &secret_value,
                name,
                user_id: Some(&user.id),
                org_id: None,
                scopes,
                created_by: &user.id,
                expires_ms,
            },
            "",
        )
        .await?;
        w.commit().await?;
        Ok((t, secret_value))
    }

    /// Creates an organization token; returns it and its secret (shown once).
    pub async fn create_org_token(
        &self,
        actor: &Actor,
        org: &Org,
        name: &str,
        scopes: &[Scope],
        expires_ms: Option<i64>,
    ) -> Result<(AccessToken, String)> {
        let secret_value = secret::generate("dwo_");
        let mut w = self.write(actor).await?;
        let t = insert_token(
            &mut w,
            NewToken {
                secret: &secret_value,
                name,
                user_id: None,
                org_id: Some(&org.id),
                scopes,
                created_by: &actor.id,
                expires_ms,
            },
            &org.id,
        )
        .await?;
        w.commit().await?;
        Ok((t, secret_value))
    }

    /// A user's personal tokens, newest first.
    pub async fn personal_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.user_id = $1 ORDER BY t.created_ms DESC, t.id DESC"
        );
        let rows: Vec<TokenRow> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(token).collect()
    }

    /// An organization's tokens, newest first.
    pub async fn org_tokens(&self, org_id: &str) -> Result<Vec<AccessToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.org_id = $1 ORDER BY t.created_ms DESC, t.id DESC"
        );
        let rows: Vec<TokenRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(token).collect()
    }

    /// Revokes a token of a user (`owner_column` = user) or organization.
    async fn revoke(
        &self,
        actor: &Actor,
        column: &str,
        owner_id: &str,
        token_id: &str,
        log_org_id: &str,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        let sql = format!("DELETE FROM tokens WHERE {column} = $1 AND id = $2 RETURNING name");
        let name: Option<String> = sqlx::query_scalar(&sql)
            .bind(owner_id)
            .bind(token_id)
            .fetch_optional(w.conn())
            .await?;
        let name = name.ok_or_else(|| StoreError::not_found("token", token_id))?;
        w.record(Change::new(
            log_org_id,
            "token.revoked",
            target("token", token_id, &name),
            format!("revoked token {name}"),
        ));
        w.commit().await?;
        Ok(())
    }

    /// Revokes one of the user's personal tokens.
    pub async fn revoke_personal_token(
        &self,
        actor: &Actor,
        user_id: &str,
        token_id: &str,
    ) -> Result<()> {
        self.revoke(actor, "user_id", user_id, token_id, "").await
    }

    /// Revokes one of the organization's tokens.
    pub async fn revoke_org_token(&self, actor: &Actor, org: &Org, token_id: &str) -> Result<()> {
        self.revoke(actor, "org_id", &org.id, token_id, &org.id)
            .await
    }
}
