//! Exporting everything that matches a search as JSON Lines or CSV, streamed: the body is
//! produced page by page (keyset pages of [`PAGE`] rows read from the database as the client
//! reads), so memory stays bounded however many millions of rows match.

use super::events::{EventView, SearchParams};
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use dockwatch_core::event::Event;
use dockwatch_core::org::Role;
use dockwatch_store::Store;
use dockwatch_store::events_query::{EventCursor, EventFilter};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Rows read from the database per page (and per body chunk).
pub const PAGE: i64 = 1000;

/// The CSV columns, in order: a stable header that later versions only extend at the end.
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "seq",
    "time",
    "org",
    "action",
    "actor_kind",
    "actor_id",
    "actor_name",
    "actor_ip",
    "actor_user_agent",
    "target_kind",
    "target_id",
    "target_name",
    "sentence",
    "details",
    "prev_hash",
    "hash",
    "time_ms",
];

/// Export format and the search filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
    /// An exact action, or a prefix pattern such as `team.*`.
    pub action: Option<String>,
    /// The actor's id or name.
    pub actor: Option<String>,
    /// The target's id or name.
    pub target: Option<String>,
    /// RFC 3339 time, or a duration back from now.
    pub since: Option<String>,
    /// RFC 3339 time, or a duration back from now.
    pub until: Option<String>,
    /// Free text.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Csv,
}

/// Every event matching the filters, newest first, streamed as JSON Lines (one event object per
/// line, as the search answers, plus `org`) or CSV (header row, one event per row).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events/export", tag = "events", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"),
        ("format" = Option<String>, Query, description = "jsonl (default) or csv"),
        ("action" = Option<String>, Query, description = "Exact action or prefix pattern (team.*)"),
        ("actor" = Option<String>, Query, description = "Actor id or name"),
        ("target" = Option<String>, Query, description = "Target id or name"),
        ("since" = Option<String>, Query, description = "RFC 3339 or relative (24h, 7d)"),
        ("until" = Option<String>, Query, description = "RFC 3339 or relative (24h, 7d)"),
        ("q" = Option<String>, Query, description = "Free text")),
    responses((status = 200, description = "application/x-ndjson or text/csv, streamed")))]
pub async fn export(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let Query(p) = params.map_err(super::events_filter::query_rejection)?;
    let format = match p.format.as_deref() {
        None | Some("") | Some("jsonl") => Format::Jsonl,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(ApiError::field(
                "format",
                format!("{other:?} is not an export format: jsonl or csv"),
            ));
        }
    };
    let filter = super::events_filter::filter(&SearchParams {
        action: p.action,
        actor: p.actor,
        target: p.target,
        since: p.since,
        until: p.until,
        q: p.q,
        limit: None,
        cursor: None,
    })?;
    let (content_type, ext) = match format {
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let pages = Pages {
        store: state.store.clone(),
        org_id: a.org.id.clone(),
        org_name: a.org.name.clone(),
        filter,
        format,
        cursor: None,
        started: false,
        done: false,
    };
    let stream = futures_util::stream::unfold(pages, |mut pages| async move {
        let chunk = pages.next_chunk().await.transpose()?;
        Some((chunk, pages))
    });
    let disposition = format!("attachment; filename=\"events-{}.{ext}\"", a.org.name);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The walk behind the body: one page per chunk, the header first for CSV.
struct Pages {
    store: Store,
    org_id: String,
    org_name: String,
    filter: EventFilter,
    format: Format,
    cursor: Option<EventCursor>,
    started: bool,
    done: bool,
}

impl Pages {
    /// The next chunk of the body, `None` at the end. A database error mid-stream ends the body
    /// with an error, which aborts the response (the client sees a truncated transfer).
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            if self.format == Format::Csv {
                write_csv(&mut out, None, &self.org_name)?;
            }
        }
        let page = self
            .store
            .search_events(&self.org_id, &self.filter, self.cursor.as_ref(), PAGE)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "Event export failed.");
                std::io::Error::other(e.to_string())
            })?;
        self.done = (page.len() as i64) < PAGE;
        self.cursor = page.last().map(|e| EventCursor {
            time_ms: e.time_ms,
            id: e.id.clone(),
        });
        for event in page {
            match self.format {
                Format::Csv => write_csv(&mut out, Some(event), &self.org_name)?,
                Format::Jsonl => {
                    let mut value = serde_json::to_value(EventView::from(event))
                        .map_err(std::io::Error::other)?;
                    value["org"] = serde_json::Value::String(self.org_name.clone());
                    serde_json::to_writer(&mut out, &value).map_err(std::io::Error::other)?;
                    out.push(b'\n');
                }
            }
        }
        Ok(Some(Bytes::from(out)))
    }
}

/// Appends the CSV header (`None`) or one event's row.
fn write_csv(out: &mut Vec<u8>, event: Option<Event>, org: &str) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    match event {
        None => w.write_record(CSV_COLUMNS)?,
        Some(e) => w.write_record([
            e.id.as_str(),
            &e.seq.to_string(),
            &super::time(e.time_ms),
            org,
            &e.action,
            &e.actor.kind,
            &e.actor.id,
            &e.actor.name,
            e.actor.ip.as_deref().unwrap_or(""),
            e.actor.user_agent.as_deref().unwrap_or(""),
            &e.target.kind,
            &e.target.id,
            &e.target.name,
            &e.sentence,
            &e.details,
            &e.prev_hash,
            &e.hash,
            &e.time_ms.to_string(),
        ])?,
    }
    w.flush()
}

/// The export route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_header_is_stable() {
        let mut out = Vec::new();
        write_csv(&mut out, None, "acme").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id,seq,time,org,action,actor_kind,actor_id,actor_name,actor_ip,actor_user_agent,\
             target_kind,target_id,target_name,sentence,details,prev_hash,hash,time_ms\n"
        );
    }
}
