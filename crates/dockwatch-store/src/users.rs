//! Users, their passwords and sign-in sessions, the one-time sign-up token, and bootstrap.

use crate::error::{Result, StoreError, conflict_on_duplicate};
use crate::write::{Change, WriteTx, system_actor, target};
use crate::{Store, members, new_id, now_ms, orgs, secret, tokens};
use dockwatch_core::org::{Role, Scope, check_email, check_text};

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Sign-in email, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
}

type UserRow = (String, String, String, i64);

fn user(row: UserRow) -> User {
    User {
        id: row.0,
        email: row.1,
        name: row.2,
        created_ms: row.3,
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Checks a password's length, naming the field.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > 1024 {
        return Err(dockwatch_core::org::Invalid::new(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to 1024 characters"),
        )
        .into());
    }
    Ok(())
}

/// Hashes a password off the async threads (argon2 is deliberately slow).
async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| StoreError::Corrupt {
            what: "password hashing",
            message: e.to_string(),
        })?
        .map_err(|message| StoreError::Corrupt {
            what: "password hashing",
            message,
        })
}

/// Inserts a user inside a mutation and records `user.created` in `log_org_id`'s log (the
/// organization the user is created for). Callers insert the organization first when there is
/// one, so its creation opens its chain.
pub(crate) async fn insert_user(
    w: &mut WriteTx<'_>,
    log_org_id: &str,
    email: &str,
    name: &str,
    password: Option<&str>,
) -> Result<User> {
    check_email("email", email)?;
    check_text("name", name, 200)?;
    let password_hash = match password {
        Some(p) => {
            check_password(p)?;
            Some(hash_password(p).await?)
        }
        None => None,
    };
    let user = User {
        id: new_id(),
        email: email.to_owned(),
        name: name.to_owned(),
        created_ms: now_ms(),
    };
    sqlx::query("INSERT INTO users (id, email, name, password_hash, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(password_hash)
        .bind(user.created_ms)
        .execute(w.conn())
        .await
        .map_err(conflict_on_duplicate("user", email))?;
    w.record(Change::new(
        log_org_id,
        "user.created",
        target("user", &user.id, &user.email),
        format!("created user {}", user.email),
    ));
    Ok(user)
}

impl Store {
    /// True while no user exists (the first start).
    pub async fn has_no_users(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        Ok(n == 0)
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<User> {
        sqlx::query_as::<_, UserRow>("SELECT id, email, name, created_ms FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(user)
            .ok_or_else(|| StoreError::not_found("user", id))
    }

    /// A user by email, if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, UserRow>(
            "SELECT id, email, name, created_ms FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(self.pool())
        .await?
        .map(user))
    }

    /// The user whose password this is, or `None` (unknown email or wrong password).
    pub async fn check_credentials(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT id, email, name, created_ms, password_hash FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        let Some((id, email, name, created_ms, Some(hash))) = row else {
            return Ok(None);
        };
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || secret::verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        Ok(ok.then_some(User {
            id,
            email,
            name,
            created_ms,
        }))
    }

    /// Starts a sign-in session; returns its secret (the cookie value).
    pub async fn create_session(&self, user_id: &str, ttl_ms: i64) -> Result<String> {
        let secret = secret::generate("dws_");
        let now = now_ms();
        sqlx::query("INSERT INTO sessions (secret_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(secret::hash(&secret))
            .bind(user_id)
            .bind(now)
            .bind(now + ttl_ms)
            .execute(self.pool())
            .await?;
        Ok(secret)
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, session_secret: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, UserRow>(
            "SELECT u.id, u.email, u.name, u.created_ms FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.secret_hash = $1 AND s.expires_ms > $2",
        )
        .bind(secret::hash(session_secret))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?
        .map(user))
    }

    /// Ends a session.
    pub async fn delete_session(&self, session_secret: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(secret::hash(session_secret))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Sets a user's password. A user who has one must give it (`current`); the bootstrap owner,
    /// created with a token only, sets a first one without.
    pub async fn set_password(
        &self,
        actor: &crate::Actor,
        user: &User,
        current: Option<&str>,
        new: &str,
    ) -> Result<()> {
        check_password(new)?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(&user.id)
                .fetch_optional(self.pool())
                .await?
                .flatten();
        if let Some(hash) = stored {
            let given = current.unwrap_or_default().to_owned();
            let ok = tokio::task::spawn_blocking(move || secret::verify_password(&given, &hash))
                .await
                .unwrap_or(false);
            if !ok {
                return Err(dockwatch_core::org::Invalid::new(
                    "current_password",
                    "does not match your current password",
                )
                .into());
            }
        }
        let hash = hash_password(new).await?;
        let mut w = self.write(actor).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(&user.id)
            .execute(w.conn())
            .await?;
        // Other sessions end with the old password.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user.id)
            .execute(w.conn())
            .await?;
        w.record(Change::new(
            "",
            "user.password.changed",
            target("user", &user.id, &user.email),
            format!("changed the password of {}", user.email),
        ));
        w.commit().await?;
        Ok(())
    }

    /// Creates the one-time sign-up token printed at first start.
    pub async fn create_signup_token(&self) -> Result<String> {
        let secret = secret::generate("dwu_");
        sqlx::query("INSERT INTO signup_tokens (secret_hash, created_ms) VALUES ($1, $2)")
            .bind(secret::hash(&secret))
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(secret)
    }

    /// First start with `DOCKWATCH_BOOTSTRAP_TOKEN`: on an empty database, creates the first owner
    /// (`email`), a personal admin token whose secret is exactly `token_secret`, and the first
    /// organization. Returns false when the database already had users (nothing is done).
    pub async fn bootstrap(&self, token_secret: &str, email: &str, org_name: &str) -> Result<bool> {
        let mut w = self.write(&system_actor()).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(w.conn())
            .await?;
        if n > 0 {
            return Ok(false);
        }
        let created = async {
            let org = orgs::insert_org(&mut w, org_name, org_name).await?;
            let user = insert_user(&mut w, &org.id, email, "Owner", None).await?;
            members::insert_member(&mut w, &org, &user, Role::Owner).await?;
            tokens::insert_token(
                &mut w,
                tokens::NewToken {
                    secret: token_secret,
                    name: "bootstrap",
                    user_id: Some(&user.id),
                    org_id: None,
                    scopes: &[Scope::Admin],
                    created_by: &user.id,
                    expires_ms: None,
                },
                &org.id,
            )
            .await?;
            Ok::<_, StoreError>(())
        }
        .await;
        match created {
            Ok(()) => {
                w.commit().await?;
                Ok(true)
            }
            // Another `serve` on the same database bootstrapped first.
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Consumes the one-time sign-up token: creates the first owner and their organization.
    pub async fn sign_up(
        &self,
        signup_secret: &str,
        email: &str,
        name: &str,
        password: &str,
        org_name: &str,
    ) -> Result<User> {
        let mut w = self.write(&system_actor()).await?;
        let used = sqlx::query(
            "UPDATE signup_tokens SET used_ms = $1 WHERE secret_hash = $2 AND used_ms IS NULL",
        )
        .bind(now_ms())
        .bind(secret::hash(signup_secret))
        .execute(w.conn())
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::not_found("sign-up token", "(given)"));
        }
        let org = orgs::insert_org(&mut w, org_name, org_name).await?;
        let user = insert_user(&mut w, &org.id, email, name, Some(password)).await?;
        members::insert_member(&mut w, &org, &user, Role::Owner).await?;
        w.commit().await?;
        Ok(user)
    }
}

/// The role a user-owned change is made with; used by members and orgs.
pub(crate) fn role_of(s: &str) -> Result<Role> {
    s.parse().map_err(|_| StoreError::Corrupt {
        what: "role",
        message: s.to_owned(),
    })
}
