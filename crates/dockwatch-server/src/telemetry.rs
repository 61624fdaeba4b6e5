//! Prometheus metrics at `/metrics`: requests by method and status class, build info, and the
//! alert delivery metrics of [`crate::alert::metrics`].
//!
//! Hand-written text exposition: a handful of atomic counters needs no metrics framework yet.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Requests answered, by method (plus "other") and status class.
static REQUESTS: [[AtomicU64; 5]; 6] = [const { [const { AtomicU64::new(0) }; 5] }; 6];

fn method_index(m: &Method) -> usize {
    METHODS
        .iter()
        .position(|x| *x == m.as_str())
        .unwrap_or(METHODS.len())
}

/// Middleware: counts every answered request.
pub async fn count(req: Request, next: Next) -> Response {
    let method = method_index(req.method());
    let resp = next.run(req).await;
    let class = (resp.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    REQUESTS[method][class].fetch_add(1, Ordering::Relaxed);
    resp
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    out.push_str(
        "# HELP dockwatch_build_info Build information.\n# TYPE dockwatch_build_info gauge\n",
    );
    let _ = writeln!(
        out,
        "dockwatch_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("# HELP dockwatch_http_requests_total HTTP requests answered.\n# TYPE dockwatch_http_requests_total counter\n");
    for (mi, row) in REQUESTS.iter().enumerate() {
        let method = METHODS.get(mi).copied().unwrap_or("other");
        for (ci, n) in row.iter().enumerate() {
            let _ = writeln!(
                out,
                "dockwatch_http_requests_total{{method=\"{method}\",status=\"{}\"}} {}",
                CLASSES[ci],
                n.load(Ordering::Relaxed)
            );
        }
    }
    let depth = state.store.outbox_depth().await;
    if let Err(e) = &depth {
        tracing::warn!(error = %e, "Reading the alert queue depth failed.");
    }
    out.push_str(&crate::alert::metrics::render(depth.ok()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
