//! Sign-in, sign-out and token-use events. They change nothing but the log, and go through the
//! same write path ([`crate::write::WriteTx`]) as every mutation, so they are chained alike.
//!
//! Where they are recorded: in the log of every organization the user belongs to (each
//! organization's owners see their members' sign-ins), an organization token's use in its
//! organization's log, and anything about an unknown email or a user in no organization in the
//! instance log (organization id `""`), so failed sign-ins for unknown users are kept too.

use crate::error::Result;
use crate::tokens::AccessToken;
use crate::users::User;
use crate::write::{Change, WriteTx, target};
use crate::{Actor, Store, now_ms};
use dockwatch_core::actions::{SIGNIN_FAILED, SIGNIN_SUCCEEDED, SIGNOUT, TOKEN_USED};

/// Why a sign-in failed (recorded in the details; never the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// No user has this email.
    UnknownEmail,
    /// The password did not match (or the user has none).
    WrongPassword,
}

impl SignInFailure {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownEmail => "unknown email",
            Self::WrongPassword => "wrong password",
        }
    }
}

/// The organizations whose logs record events about `user_id`: its memberships, or the instance
/// log when it has none.
async fn logs_of_user(w: &mut WriteTx<'_>, user_id: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id")
            .bind(user_id)
            .fetch_all(w.conn())
            .await?;
    let mut orgs: Vec<String> = rows.into_iter().map(|(id,)| id).collect();
    if orgs.is_empty() {
        orgs.push(String::new());
    }
    Ok(orgs)
}

impl Store {
    /// Records a successful sign-in of `user` (actor: the user, with IP and User-Agent).
    pub async fn record_sign_in(&self, actor: &Actor, user: &User) -> Result<()> {
        let mut w = self.write(actor).await?;
        for org in logs_of_user(&mut w, &user.id).await? {
            w.record(Change::new(
                &org,
                SIGNIN_SUCCEEDED,
                target("user", &user.id, &user.email),
                "signed in",
            ));
        }
        w.commit().await?;
        Ok(())
    }

    /// Records a failed sign-in for the attempted `email` (the actor's name); `user` when the
    /// email belongs to one.
    pub async fn record_sign_in_failure(
        &self,
        actor: &Actor,
        email: &str,
        user: Option<&User>,
        why: SignInFailure,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        let orgs = match user {
            Some(u) => logs_of_user(&mut w, &u.id).await?,
            None => vec![String::new()],
        };
        let user_id = user.map_or("", |u| u.id.as_str());
        for org in orgs {
            w.record(
                Change::new(
                    &org,
                    SIGNIN_FAILED,
                    target("user", user_id, email),
                    format!("failed to sign in ({})", why.as_str()),
                )
                .details(serde_json::json!({ "email": email, "reason": why.as_str() })),
            );
        }
        w.commit().await?;
        Ok(())
    }

    /// Records a sign-out of `user`.
    pub async fn record_sign_out(&self, actor: &Actor, user: &User) -> Result<()> {
        let mut w = self.write(actor).await?;
        for org in logs_of_user(&mut w, &user.id).await? {
            w.record(Change::new(
                &org,
                SIGNOUT,
                target("user", &user.id, &user.email),
                "signed out",
            ));
        }
        w.commit().await?;
        Ok(())
    }

    /// Records a use of `token` unless one was recorded in the last `every_ms` (by any process:
    /// the token's `last_used_ms` is claimed with a conditional update). True when recorded.
    pub async fn record_token_use(
        &self,
        actor: &Actor,
        token: &AccessToken,
        every_ms: i64,
    ) -> Result<bool> {
        let now = now_ms();
        let mut w = self.write(actor).await?;
        let claimed = sqlx::query(
            "UPDATE tokens SET last_used_ms = $1 WHERE id = $2 \
             AND (last_used_ms IS NULL OR last_used_ms <= $3)",
        )
        .bind(now)
        .bind(&token.id)
        .bind(now - every_ms)
        .execute(w.conn())
        .await?
        .rows_affected();
        if claimed == 0 {
            // Dropping the transaction rolls it back: nothing to record.
            return Ok(false);
        }
        let orgs = match (&token.org_id, &token.user_id) {
            (Some(org), _) => vec![org.clone()],
            (None, Some(user)) => logs_of_user(&mut w, user).await?,
            (None, None) => vec![String::new()],
        };
        for org in orgs {
            w.record(Change::new(
                &org,
                TOKEN_USED,
                target("token", &token.id, &token.name),
                format!("used token {}", token.name),
            ));
        }
        w.commit().await?;
        Ok(true)
    }
}
