//! Fleet compliance in the store, on both backends: per-user policy delivery (machine > user >
//! team > org), the report by user, the indexed summary, policy delete and unassign, and the
//! sweep that marks silent machines once, even with two stores (two `serve` processes) sweeping
//! the same database at once. Time is injected into the sweep with `FixedClock`.

use dockwatch_core::clock::FixedClock;
use dockwatch_core::settings::wire::EnrollRequest;
use dockwatch_core::settings::{FleetFilter, MachineReport, Policy, Scope};
use dockwatch_core::{Clock, SystemClock};
use dockwatch_store::fleet_machines::Machine;
use dockwatch_store::orgs::Org;
use dockwatch_store::testing::TempDatabase;
use dockwatch_store::{Actor, Store, StoreConfig, StoreError};
use serde_json::json;

const HOUR: i64 = 3_600_000;

fn policy(analytics: bool) -> Policy {
    Policy::from_value(json!({"configurationFileVersion": 2,
        "analyticsEnabled": {"locked": true, "value": analytics}}))
    .unwrap()
}

fn report(
    host: &str,
    account: &str,
    email: &str,
    analytics: bool,
    signed_in: bool,
) -> MachineReport {
    serde_json::from_value(json!({
        "schema": 1, "agent_version": "test", "collected_at_ms": 1,
        "machine": {"machine_id": format!("host-{host}"), "hostname": host,
                    "os": {"family": "linux", "id": "ubuntu", "version": "24.04"}},
        "users": [{"account": account, "email": email, "files": [{
            "path": format!("home/{account}/.docker/desktop/settings.json"), "kind": "settings",
            "values": {"analyticsEnabled": analytics}}]}],
        "signed_in_user": if signed_in { json!(email) } else { json!(null) },
    }))
    .unwrap()
}

async fn actions(store: &Store, org: &Org, prefix: &str) -> Vec<String> {
    let mut all: Vec<String> = store
        .events(&org.id, 10_000, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with(prefix))
        .map(|e| format!("{} {}", e.action, e.target.name))
        .collect();
    all.sort();
    all
}

async fn enroll(store: &Store, token: &str, host: &str) -> Machine {
    let e = store
        .enroll_machine(&EnrollRequest {
            enrollment_token: token.into(),
            host_machine_id: format!("host-{host}"),
            hostname: host.into(),
            os: Default::default(),
            agent_version: "test".into(),
        })
        .await
        .unwrap()
        .unwrap();
    store.machine(&e.machine_id).await.unwrap()
}

async fn ingest(store: &Store, m: &Machine, r: &MachineReport) -> String {
    let fresh = store.machine(&m.id).await.unwrap();
    let i = store.ingest_report(&fresh, r, None, None).await.unwrap();
    i.status.as_str().to_owned()
}

async fn effective(store: &Store, m: &Machine, user: Option<&str>) -> Option<String> {
    let fresh = store.machine(&m.id).await.unwrap();
    store
        .machine_policy(&fresh, user)
        .await
        .unwrap()
        .map(|p| p.name)
}

async fn story(store: &Store, second: &Store) {
    store
        .bootstrap("fleet-secret", "owner@corp.example", "default")
        .await
        .unwrap();
    let owner = store
        .authenticate_token("fleet-secret")
        .await
        .unwrap()
        .unwrap()
        .user
        .unwrap();
    let me = Actor {
        kind: "user".into(),
        id: owner.id.clone(),
        name: owner.email.clone(),
        ip: None,
        user_agent: None,
    };
    let (org, _) = store.org_with_role("default", &owner.id).await.unwrap();

    // bob is in team platform.
    let (_, secret) = store
        .invite(
            &me,
            &org,
            "bob@corp.example",
            dockwatch_core::org::Role::Member,
        )
        .await
        .unwrap();
    store
        .accept_invitation(&secret, "Bob", "correct horse battery", None, None)
        .await
        .unwrap();
    let team = store.create_team(&me, &org, "platform", "").await.unwrap();
    let bob = store.member(&org.id, "bob@corp.example").await.unwrap();
    store.add_team_member(&me, &org, &team, &bob).await.unwrap();

    store
        .set_policy(&me, &org, "baseline", &policy(false), &[Scope::Org])
        .await
        .unwrap();
    store
        .set_policy(
            &me,
            &org,
            "alice-strict",
            &policy(false),
            &["user:alice@corp.example".parse().unwrap()],
        )
        .await
        .unwrap();
    store
        .set_policy(
            &me,
            &org,
            "platform",
            &policy(true),
            &["team:platform".parse().unwrap()],
        )
        .await
        .unwrap();
    let (_, token) = store
        .create_enroll_token(&me, &org, "agents")
        .await
        .unwrap();
    let laptop = enroll(store, &token, "laptop").await;
    let desk = enroll(store, &token, "desk").await;
    let kiosk = enroll(store, &token, "kiosk").await;
    store
        .set_policy(
            &me,
            &org,
            "kiosk",
            &policy(false),
            &[format!("machine:{}", kiosk.id).parse().unwrap()],
        )
        .await
        .unwrap();

    // Delivery: before any report the agent names its user; afterwards the report's
    // signed-in user decides. Machine beats user beats team beats org.
    assert_eq!(
        effective(store, &laptop, None).await.as_deref(),
        Some("baseline")
    );
    assert_eq!(
        effective(store, &laptop, Some("alice@corp.example"))
            .await
            .as_deref(),
        Some("alice-strict")
    );
    assert_eq!(
        effective(store, &desk, Some("bob@corp.example"))
            .await
            .as_deref(),
        Some("platform")
    );
    assert_eq!(
        effective(store, &kiosk, Some("alice@corp.example"))
            .await
            .as_deref(),
        Some("kiosk")
    );
    assert_eq!(
        ingest(
            store,
            &laptop,
            &report("laptop", "alice", "alice@corp.example", false, true)
        )
        .await,
        "outdated"
    );
    assert_eq!(
        effective(store, &laptop, None).await.as_deref(),
        Some("alice-strict")
    );
    // bob's team policy wants analytics on; bob has it off.
    assert_eq!(
        ingest(
            store,
            &desk,
            &report("desk", "bob", "bob@corp.example", false, false)
        )
        .await,
        "non-compliant"
    );
    assert_eq!(
        effective(store, &desk, None).await.as_deref(),
        Some("platform")
    );
    ingest(
        store,
        &kiosk,
        &report("kiosk", "carol", "carol@corp.example", false, true),
    )
    .await;

    // Compliance per user.
    let day = 24 * HOUR;
    let by_user = store
        .fleet_user_report(&org.id, &FleetFilter::default(), None, day)
        .await
        .unwrap();
    let row = |email: &str| {
        by_user
            .users
            .iter()
            .find(|u| u.user == email)
            .unwrap_or_else(|| panic!("{email} in {by_user:?}"))
            .clone()
    };
    let alice = row("alice@corp.example");
    assert!(alice.machines[0].signed_in);
    assert_eq!(
        alice.machines[0].policy.as_ref().unwrap().name,
        "alice-strict"
    );
    assert_eq!(row("bob@corp.example").status, "non-compliant");
    assert_eq!(
        row("bob@corp.example").machines[0]
            .policy
            .as_ref()
            .unwrap()
            .name,
        "platform"
    );
    assert_eq!(by_user.summary.total, 3);

    // The indexed summary agrees with the full report.
    let full = store
        .fleet_report(&org.id, &FleetFilter::default(), None, day)
        .await
        .unwrap();
    assert_eq!(
        store.fleet_summary(&org.id, day).await.unwrap(),
        full.summary
    );
    assert_eq!(full.summary.non_compliant, 1);

    // Unassign alice's policy: the laptop falls back to the org default; the sweep re-judges it
    // (same status: no event) and is not needed again.
    assert!(matches!(
        store
            .unassign_policy(&me, &org, "alice-strict", &[Scope::Org])
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .unassign_policy(
            &me,
            &org,
            "alice-strict",
            &["user:alice@corp.example".parse().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(
        effective(store, &laptop, None).await.as_deref(),
        Some("baseline")
    );
    let swept = store.fleet_sweep(&SystemClock, day).await.unwrap();
    assert_eq!(swept.judged, 3, "{swept:?}");
    assert_eq!(
        store.fleet_sweep(&SystemClock, day).await.unwrap().judged,
        0
    );

    // Delete the org default: laptop has no policy left; the sweep logs it once.
    let unassigned = store.delete_policy(&me, &org, "baseline").await.unwrap();
    assert_eq!(unassigned, ["org"]);
    assert!(matches!(
        store.delete_policy(&me, &org, "baseline").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(effective(store, &laptop, None).await, None);
    let swept = store.fleet_sweep(&SystemClock, day).await.unwrap();
    assert_eq!(swept.changed, 1, "{swept:?}");
    assert_eq!(
        actions(store, &org, "fleet.compliance.unassigned").await,
        ["fleet.compliance.unassigned laptop"]
    );
    assert_eq!(
        actions(store, &org, "fleet.policy.deleted").await,
        ["fleet.policy.deleted baseline"]
    );
    assert_eq!(
        actions(store, &org, "fleet.policy.unassigned").await,
        [
            "fleet.policy.unassigned alice-strict",
            "fleet.policy.unassigned baseline"
        ]
    );
    let full = store
        .fleet_report(&org.id, &FleetFilter::default(), None, day)
        .await
        .unwrap();
    assert_eq!(full.summary.no_policy, 1, "{full:?}");
    assert_eq!(
        store.fleet_summary(&org.id, day).await.unwrap(),
        full.summary
    );

    // Silence: nothing before the threshold; past it, two stores sweep at once and each
    // machine is marked unknown exactly once; later sweeps change nothing.
    let now = SystemClock.now_millis();
    let early = FixedClock(now + 23 * HOUR);
    assert_eq!(store.fleet_sweep(&early, day).await.unwrap().judged, 0);
    let late = FixedClock(now + 25 * HOUR);
    let (a, b) = tokio::join!(
        store.fleet_sweep(&late, day),
        second.fleet_sweep(&late, day)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.judged + b.judged, 3, "{a:?} {b:?}");
    assert_eq!(a.changed + b.changed, 3, "{a:?} {b:?}");
    assert_eq!(store.fleet_sweep(&late, day).await.unwrap().judged, 0);
    assert_eq!(
        actions(store, &org, "fleet.compliance.silent").await,
        [
            "fleet.compliance.silent desk",
            "fleet.compliance.silent kiosk",
            "fleet.compliance.silent laptop"
        ]
    );
    let history = store.machine_history(&org.id, &desk.id).await.unwrap();
    assert_eq!(history.last().unwrap().status, "unknown");
    // A configurable threshold: an hour of silence is enough when asked.
    let soon = enroll(store, &token, "fresh").await;
    ingest(
        store,
        &soon,
        &report("fresh", "dan", "dan@corp.example", false, true),
    )
    .await;
    let swept = store
        .fleet_sweep(&FixedClock(SystemClock.now_millis() + 2 * HOUR), HOUR)
        .await
        .unwrap();
    assert_eq!(swept.changed, 1, "{swept:?}");
    // A report brings a silent machine back.
    assert_ne!(
        ingest(
            store,
            &desk,
            &report("desk", "bob", "bob@corp.example", true, false)
        )
        .await,
        "unknown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        database_url: None,
        data_dir: dir.path().to_owned(),
        max_connections: 4,
    };
    let store = Store::open(&config).await.unwrap();
    let second = Store::open(&config).await.unwrap();
    story(&store, &second).await;
    second.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_story_on_postgres() {
    let db = TempDatabase::create()
        .await
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    let config = StoreConfig {
        database_url: Some(db.url.clone()),
        data_dir: "unused".into(),
        max_connections: 4,
    };
    let store = Store::open(&config).await.unwrap();
    let second = Store::open(&config).await.unwrap();
    story(&store, &second).await;
    second.close().await;
    store.close().await;
    db.drop_now().await.unwrap();
}
