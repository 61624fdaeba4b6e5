//! A small server speaking the agent wire (enroll, signed policy and report), for tests: it
//! checks every signature and nonce with `dockwatch_core::settings::wire::verify`, judges each
//! report with the core compliance diff, and keeps what it received for assertions.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dockwatch_core::settings::wire::{
    self, AssignedPolicy, ENROLL_PATH, EnrollRequest, EnrollResponse, POLICY_PATH, PolicyResponse,
    REPORT_PATH, ReportResponse, SignedHeaders,
};
use dockwatch_core::settings::{
    DEFAULT_STALE_AFTER_MS, EffectivePolicy, MachineReport, Policy, Scope, assess,
};
use dockwatch_core::{Clock, SystemClock};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the receiver has seen.
#[derive(Debug, Default)]
pub struct Received {
    /// Enrollments: (machine id given, request).
    pub enrollments: Vec<(String, EnrollRequest)>,
    /// Accepted reports: (machine id, report, status given).
    pub reports: Vec<(String, MachineReport, String)>,
    /// Refused requests: (path, status, reason).
    pub refused: Vec<(String, u16, String)>,
    /// Policy fetches: machine ids.
    pub policy_fetches: Vec<String>,
    /// Policy fetches: the raw `user` query value, if any.
    pub policy_users: Vec<Option<String>>,
}

struct Shared {
    token: String,
    policy: Option<EffectivePolicy>,
    credentials: HashMap<String, String>,
    nonces: HashSet<String>,
    received: Received,
}

/// A running receiver; stops when dropped.
pub struct TestReceiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestReceiver {
    /// Starts a receiver on a free loopback port that accepts `token` and serves `policy`
    /// (named `baseline`, version 1, assigned to the organization).
    pub fn start(token: &str, policy: Option<Policy>) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            token: token.into(),
            policy: None,
            credentials: HashMap::new(),
            nonces: HashSet::new(),
            received: Received::default(),
        }));
        let mut receiver = Self {
            url: String::new(),
            shared: shared.clone(),
            stop: None,
            thread: None,
        };
        if let Some(p) = policy {
            receiver.set_policy("baseline", 1, p);
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        receiver.url = format!("http://{}", listener.local_addr().expect("local address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route(ENROLL_PATH, post(enroll))
            .route(POLICY_PATH, get(policy_handler))
            .route(REPORT_PATH, post(report))
            .with_state(shared);
        receiver.thread = Some(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("the receiver serves");
            });
        }));
        receiver.stop = Some(tx);
        receiver
    }

    /// Replaces the served policy (a new version number makes earlier applies outdated).
    pub fn set_policy(&mut self, name: &str, number: u64, policy: Policy) {
        let version = policy.version(number);
        self.shared.lock().unwrap().policy = Some(EffectivePolicy {
            name: name.into(),
            version,
            policy,
            scope: Scope::Org,
        });
    }

    /// Stops serving a policy (as when it is unassigned).
    pub fn clear_policy(&mut self) {
        self.shared.lock().unwrap().policy = None;
    }

    /// Reads what was received.
    pub fn received<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        f(&self.shared.lock().unwrap().received)
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn refuse(shared: &mut Shared, path: &str, status: StatusCode, reason: String) -> Response {
    shared
        .received
        .refused
        .push((path.into(), status.as_u16(), reason.clone()));
    (status, axum::Json(serde_json::json!({"error": reason}))).into_response()
}

async fn enroll(State(shared): State<Arc<Mutex<Shared>>>, body: Bytes) -> Response {
    let mut s = shared.lock().unwrap();
    let request: EnrollRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return refuse(&mut s, ENROLL_PATH, StatusCode::BAD_REQUEST, e.to_string()),
    };
    if request.enrollment_token != s.token {
        return refuse(
            &mut s,
            ENROLL_PATH,
            StatusCode::UNAUTHORIZED,
            "unknown enrollment token".into(),
        );
    }
    let machine_id = format!("m-{}", s.credentials.len() + 1);
    let credential = format!(
        "cred-{machine_id}-{}",
        hex::encode(request.host_machine_id.as_bytes())
    );
    s.credentials.insert(machine_id.clone(), credential.clone());
    s.received.enrollments.push((machine_id.clone(), request));
    (
        StatusCode::CREATED,
        axum::Json(EnrollResponse {
            machine_id,
            credential,
            org: "default".into(),
        }),
    )
        .into_response()
}

/// Checks the signature headers; the machine id on success.
fn authenticate(
    s: &mut Shared,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<String, Box<Response>> {
    let signed = SignedHeaders::from_lookup(|n| headers.get(n).and_then(|v| v.to_str().ok()))
        .map_err(|e| Box::new(refuse(s, path, StatusCode::BAD_REQUEST, e.to_string())))?;
    let Some(credential) = s.credentials.get(&signed.machine_id).cloned() else {
        return Err(Box::new(refuse(
            s,
            path,
            StatusCode::UNAUTHORIZED,
            "unknown machine".into(),
        )));
    };
    wire::verify(
        &credential,
        method,
        path,
        &signed,
        body,
        SystemClock.now_millis() / 1000,
    )
    .map_err(|e| Box::new(refuse(s, path, StatusCode::UNAUTHORIZED, e.to_string())))?;
    if !s
        .nonces
        .insert(format!("{}:{}", signed.machine_id, signed.nonce))
    {
        return Err(Box::new(refuse(
            s,
            path,
            StatusCode::UNAUTHORIZED,
            "replayed nonce".into(),
        )));
    }
    Ok(signed.machine_id)
}

async fn policy_handler(
    State(shared): State<Arc<Mutex<Shared>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let mut s = shared.lock().unwrap();
    // Signed over the path with its query (`?user=EMAIL`), as sent.
    let path = uri.path_and_query().map_or(POLICY_PATH, |p| p.as_str());
    let machine = match authenticate(&mut s, &headers, "GET", path, b"") {
        Ok(m) => m,
        Err(r) => return *r,
    };
    s.received.policy_fetches.push(machine);
    let user = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("user=")))
        .map(str::to_owned);
    s.received.policy_users.push(user);
    let policy = s.policy.as_ref().map(|p| AssignedPolicy {
        name: p.name.clone(),
        version: p.version.clone(),
        scope: p.scope.clone(),
        document: p.policy.to_document(),
    });
    axum::Json(PolicyResponse { policy }).into_response()
}

async fn report(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = shared.lock().unwrap();
    let machine = match authenticate(&mut s, &headers, "POST", REPORT_PATH, &body) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let report = match MachineReport::from_json(&body) {
        Ok(r) => r,
        Err(e) => return refuse(&mut s, REPORT_PATH, StatusCode::BAD_REQUEST, e.to_string()),
    };
    let now = SystemClock.now_millis();
    let assessment = assess(
        Some((&report, now)),
        |_| s.policy.as_ref(),
        &SystemClock,
        DEFAULT_STALE_AFTER_MS,
    );
    let status = assessment.status.as_str().to_string();
    let policy_version = s.policy.as_ref().map(|p| p.version.clone());
    s.received.reports.push((machine, report, status.clone()));
    (
        StatusCode::ACCEPTED,
        axum::Json(ReportResponse {
            received_at_ms: now,
            status,
            policy_version,
        }),
    )
        .into_response()
}
