//! The catalogue of activity-log actions, so clients can offer filters and labels.

use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use dockwatch_core::org::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// One action of the catalogue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    /// Stable dotted name (`member.role.changed`).
    pub name: String,
    /// Short label.
    pub label: String,
    /// What the event records.
    pub description: String,
}

/// Every action the activity log can record, with its label and description.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events/actions", tag = "events", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")),
    responses((status = 200, body = Vec<ActionView>)))]
pub async fn actions(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<ActionView>>> {
    org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        dockwatch_core::actions::ACTIONS
            .iter()
            .map(|a| ActionView {
                name: a.name.to_owned(),
                label: a.label.to_owned(),
                description: a.description.to_owned(),
            })
            .collect(),
    ))
}

/// The catalogue route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(actions))
}
