//! Signed checkpoints and retention, on SQLite and PostgreSQL: verification starts from the
//! latest valid checkpoint (or walks everything with `Full`), pruning leaves a prune checkpoint
//! so the remaining chain verifies, and forged checkpoints or deletions behind the store's back
//! are caught.

use dockwatch_core::checkpoint::CheckpointKey;
use dockwatch_core::event::ChainError;
use dockwatch_store::events_query::VerifyMode;
use dockwatch_store::retention::PruneOutcome;
use dockwatch_store::testing::TempDatabase;
use dockwatch_store::write::{Change, target};
use dockwatch_store::{Actor, Store, StoreConfig};
use sqlx::{AnyConnection, Connection};

fn actor() -> Actor {
    Actor {
        kind: "user".into(),
        id: "u1".into(),
        name: "ann@example.com".into(),
        ip: Some("192.0.2.1".into()),
        user_agent: None,
    }
}

/// Appends `n` events to `org` through the write path.
async fn append(store: &Store, org: &str, n: usize) {
    let mut w = store.write(&actor()).await.unwrap();
    for i in 0..n {
        w.record(Change::new(
            org,
            "team.created",
            target("team", &format!("t{i}"), &format!("team-{i}")),
            format!("created team team-{i}"),
        ));
    }
    w.commit().await.unwrap();
}

async fn exec(url: &str, sql: &str, binds: &[&str]) {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

async fn story(store: &Store, url: &str) {
    let org = "org-retention";
    let full = |s: &Store| {
        let s = s.clone();
        async move { s.verify_events_mode(org, VerifyMode::Full).await.unwrap() }
    };
    append(store, org, 20).await;

    // A checkpoint of the verified head; verification then starts after it.
    let c = store
        .checkpoint_events(org)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(c.seq, 20);
    assert!(
        store
            .checkpoint_events(org)
            .await
            .unwrap()
            .unwrap()
            .is_none(),
        "nothing new"
    );
    append(store, org, 5).await;
    let quick = store.verify_events(org).await.unwrap().unwrap();
    assert_eq!(
        (quick.events, quick.from_checkpoint, quick.head_seq),
        (5, Some(20), 25)
    );
    let all = full(store).await.unwrap();
    assert_eq!((all.events, all.from_checkpoint), (25, None));

    // Editing the event a checkpoint stands for is caught even without --full.
    let chain = store.events_in_chain_order(org).await.unwrap();
    exec(
        url,
        "UPDATE events SET hash = $1 WHERE id = $2",
        &["00", &chain[19].id],
    )
    .await;
    assert!(matches!(
        store.verify_events(org).await.unwrap(),
        Err(ChainError::Checkpoint { seq: 20, .. })
    ));
    exec(
        url,
        "UPDATE events SET hash = $1 WHERE id = $2",
        &[&chain[19].hash, &chain[19].id],
    )
    .await;

    // Pruning everything up to seq 10 leaves a prune checkpoint: both walks still hold.
    let cutoff = chain[9].time_ms + 1;
    let expected_through = chain
        .iter()
        .filter(|e| e.time_ms < cutoff)
        .map(|e| e.seq)
        .max()
        .unwrap();
    let outcome = store.prune_events(org, cutoff).await.unwrap();
    assert_eq!(
        outcome,
        PruneOutcome::Pruned {
            deleted: expected_through as u64,
            through_seq: expected_through
        }
    );
    let left = store.events_in_chain_order(org).await.unwrap();
    assert_eq!(left[0].seq, expected_through + 1);
    assert_eq!(left.last().unwrap().action, "activity_log.pruned");
    assert!(store.verify_events(org).await.unwrap().is_ok());
    let all = full(store).await.unwrap();
    assert_eq!(all.from_checkpoint, Some(expected_through));
    assert_eq!(all.events as usize, left.len());
    assert_eq!(
        store.prune_events(org, cutoff).await.unwrap(),
        PruneOutcome::Nothing
    );

    // Deleting the oldest remaining event behind the store's back is caught by the full walk.
    exec(url, "DELETE FROM events WHERE id = $1", &[&left[0].id]).await;
    assert!(matches!(full(store).await, Err(ChainError::Broken { .. })));
    // ...and a forged prune checkpoint hiding it is caught by its signature.
    let forged_sig = "ab".repeat(32);
    let key_id = store_key().id();
    let sql = format!(
        "INSERT INTO event_checkpoints (org_id, seq, kind, hash, time_ms, key_id, signature, \
         created_ms) VALUES ($1, {}, 'prune', $2, 0, $3, $4, 0)",
        left[0].seq
    );
    exec(url, &sql, &[org, &left[0].hash, &key_id, &forged_sig]).await;
    let got = full(store).await;
    assert!(
        matches!(&got, Err(ChainError::Checkpoint { reason, .. }) if reason.contains("forged")),
        "{got:?}"
    );
    assert!(store.verify_events(org).await.unwrap().is_err());
    // A broken chain is not pruned: the evidence stays.
    assert!(matches!(
        store.prune_events(org, i64::MAX).await.unwrap(),
        PruneOutcome::ChainBroken(_)
    ));
}

fn store_key() -> CheckpointKey {
    CheckpointKey::from_bytes([42; 32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_and_pruning_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig {
        database_url: None,
        data_dir: dir.path().to_owned(),
        max_connections: 2,
    })
    .await
    .unwrap()
    .with_checkpoint_key(store_key());
    let url = format!("sqlite://{}", dir.path().join("dockwatch.db").display());
    story(&store, &url).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_and_pruning_on_postgres() {
    let db = TempDatabase::create()
        .await
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    let store = Store::open(&StoreConfig {
        database_url: Some(db.url.clone()),
        data_dir: "unused".into(),
        max_connections: 2,
    })
    .await
    .unwrap()
    .with_checkpoint_key(store_key());
    story(&store, &db.url).await;
    store.close().await;
    db.drop_now().await.unwrap();
}
