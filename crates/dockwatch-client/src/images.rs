//! Stored SBOMs and their findings (`/api/v1/orgs/{org}/images/...`), and the server's advisory
//! database (`/api/v1/advisories`).

use crate::{Client, Result, seg};
use reqwest::Method;
use serde_json::{Value, json};

impl Client {
    /// Indexes an SBOM document (CycloneDX, SPDX, Syft or Dockwatch JSON); the image with its
    /// findings.
    pub async fn index_image(
        &self,
        org: &str,
        sbom: Value,
        digest: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Value> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/images", seg(org)),
            json!({ "sbom": sbom, "digest": digest, "reference": reference }),
        )
        .await
    }

    /// The organization's stored images.
    pub async fn images(&self, org: &str) -> Result<Vec<Value>> {
        self.get(&format!("/api/v1/orgs/{}/images", seg(org))).await
    }

    /// A stored image with its findings.
    pub async fn image(&self, org: &str, digest: &str) -> Result<Value> {
        self.get(&format!("/api/v1/orgs/{}/images/{}", seg(org), seg(digest)))
            .await
    }

    /// Deletes a stored image.
    pub async fn delete_image(&self, org: &str, digest: &str) -> Result<()> {
        self.delete(&format!("/api/v1/orgs/{}/images/{}", seg(org), seg(digest)))
            .await
    }

    /// Imports OSV records (an array) into the server's advisory database.
    pub async fn import_advisories(&self, records: Value) -> Result<Value> {
        self.send(Method::POST, "/api/v1/advisories/import", records)
            .await
    }
}
