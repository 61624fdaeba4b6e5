//! The OpenAPI document's frame: info and the bearer security scheme. The paths come from the
//! handlers' `#[utoipa::path]` attributes, collected by `utoipa-axum` as routes are added.
//!
//! Each operation's `security` names the least role it needs (`member`, `editor`, `owner`, or
//! `user` for personal endpoints); public operations have an empty requirement. A test walks
//! the document with these.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(title = "Dockwatch API", version = "1", description = "Organization model, activity log, fleet compliance, image visibility and alerts."),
    paths(crate::health::healthz, crate::health::readyz),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// Adds the `token` bearer scheme (API tokens; the console's session cookie works too).
pub struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
