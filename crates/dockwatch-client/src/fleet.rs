//! Fleet settings compliance calls: policies, enrollment tokens, the fleet report. Answers are
//! kept as JSON values; the CLI reads the report with core's `FleetReport`.

use crate::{Client, Result, seg};
use reqwest::Method;
use serde_json::{Value, json};

impl Client {
    /// Sets the next version of policy `name` from an admin-settings.json document and assigns it.
    pub async fn set_policy(
        &self,
        org: &str,
        name: &str,
        document: Value,
        assign: &[String],
    ) -> Result<Value> {
        let path = format!("/api/v1/orgs/{}/fleet/policies/{}", seg(org), seg(name));
        self.send(
            Method::PUT,
            &path,
            json!({ "document": document, "assign": assign }),
        )
        .await
    }

    /// The organization's policies.
    pub async fn policies(&self, org: &str) -> Result<Vec<Value>> {
        self.get(&format!("/api/v1/orgs/{}/fleet/policies", seg(org)))
            .await
    }

    /// A version of a policy (the latest when `version` is `None`).
    pub async fn policy(&self, org: &str, name: &str, version: Option<u64>) -> Result<Value> {
        let q = version.map(|v| format!("?version={v}")).unwrap_or_default();
        self.get(&format!(
            "/api/v1/orgs/{}/fleet/policies/{}{q}",
            seg(org),
            seg(name)
        ))
        .await
    }

    /// A version of a policy as an admin-settings.json document.
    pub async fn export_policy(
        &self,
        org: &str,
        name: &str,
        version: Option<u64>,
    ) -> Result<Value> {
        let q = version.map(|v| format!("?version={v}")).unwrap_or_default();
        self.get(&format!(
            "/api/v1/orgs/{}/fleet/policies/{}/export{q}",
            seg(org),
            seg(name)
        ))
        .await
    }

    /// Deletes a policy with its versions and assignments.
    pub async fn delete_policy(&self, org: &str, name: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/fleet/policies/{}",
            seg(org),
            seg(name)
        ))
        .await
    }

    /// Removes a policy's assignment to one scope (`org`, `team:NAME`...).
    pub async fn unassign_policy(&self, org: &str, name: &str, scope: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/fleet/policies/{}/assignments/{}",
            seg(org),
            seg(name),
            seg(scope)
        ))
        .await
    }

    /// Counts of machines by status (`stale_after` in seconds).
    pub async fn fleet_summary(&self, org: &str, stale_after: Option<i64>) -> Result<Value> {
        let q = stale_after
            .map(|s| format!("?stale_after={s}"))
            .unwrap_or_default();
        self.get(&format!(
            "/api/v1/orgs/{}/fleet/report/summary{q}",
            seg(org)
        ))
        .await
    }

    /// Creates an enrollment token (the answer's `token` is the secret).
    pub async fn create_enroll_token(&self, org: &str, name: Option<&str>) -> Result<Value> {
        let path = format!("/api/v1/orgs/{}/fleet/enroll-tokens", seg(org));
        self.send(Method::POST, &path, json!({ "name": name }))
            .await
    }

    /// The enrollment tokens.
    pub async fn enroll_tokens(&self, org: &str) -> Result<Vec<Value>> {
        self.get(&format!("/api/v1/orgs/{}/fleet/enroll-tokens", seg(org)))
            .await
    }

    /// Revokes an enrollment token.
    pub async fn revoke_enroll_token(&self, org: &str, id: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/fleet/enroll-tokens/{}",
            seg(org),
            seg(id)
        ))
        .await
    }

    /// The fleet report (JSON) with `filters` as query pairs.
    pub async fn fleet_report(&self, org: &str, filters: &[(&str, String)]) -> Result<Value> {
        let q: Vec<String> = filters
            .iter()
            .map(|(k, v)| format!("{k}={}", seg(v)))
            .collect();
        let q = if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        };
        self.get(&format!("/api/v1/orgs/{}/fleet/report{q}", seg(org)))
            .await
    }

    /// A machine's status history.
    pub async fn machine_history(&self, org: &str, id: &str) -> Result<Value> {
        self.get(&format!(
            "/api/v1/orgs/{}/fleet/machines/{}/history",
            seg(org),
            seg(id)
        ))
        .await
    }

    /// Revokes a machine's credential.
    pub async fn revoke_machine(&self, org: &str, id: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/fleet/machines/{}",
            seg(org),
            seg(id)
        ))
        .await
    }
}
