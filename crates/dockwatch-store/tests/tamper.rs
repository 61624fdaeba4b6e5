//! The chain walk catches an event edited, deleted, inserted or reordered behind the store's
//! back (raw SQL on the database file or server), on SQLite and PostgreSQL.

use dockwatch_core::event::{ChainError, Event, chain_hash};
use dockwatch_store::testing::TempDatabase;
use dockwatch_store::{Actor, Store, StoreConfig};
use sqlx::{AnyConnection, Connection};

#[derive(Debug, Clone, Copy)]
enum Tamper {
    Edit,
    Delete,
    Insert,
    Reorder,
}

const ALL: [Tamper; 4] = [
    Tamper::Edit,
    Tamper::Delete,
    Tamper::Insert,
    Tamper::Reorder,
];

/// Bootstraps and records a few events; returns the org id and its chain.
async fn seed(store: &Store) -> (String, Vec<Event>) {
    store
        .bootstrap("secret", "owner@example.com", "default")
        .await
        .unwrap();
    let p = store.authenticate_token("secret").await.unwrap().unwrap();
    let user = p.user.unwrap();
    let (org, _) = store.org_with_role("default", &user.id).await.unwrap();
    let me = Actor {
        kind: "user".into(),
        id: user.id.clone(),
        name: user.email.clone(),
        ip: Some("192.0.2.1".into()),
        user_agent: None,
    };
    for name in ["ops", "dev", "sec", "qa"] {
        store.create_team(&me, &org, name, "").await.unwrap();
    }
    let chain = store.events_in_chain_order(&org.id).await.unwrap();
    assert!(chain.len() >= 4, "{chain:?}");
    let ok = store.verify_events(&org.id).await.unwrap().unwrap();
    assert_eq!(ok.events as usize, chain.len());
    (org.id, chain)
}

async fn exec(conn: &mut AnyConnection, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&mut *conn).await.unwrap();
}

/// Tampers with the database at `url`; returns the (id, seq) verification must name.
async fn tamper(url: &str, chain: &[Event], how: Tamper) -> ChainError {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let (second, third, last) = (&chain[1], &chain[2], chain.last().unwrap());
    let expected = match how {
        Tamper::Edit => {
            exec(
                &mut conn,
                "UPDATE events SET details = details || 'x' WHERE id = $1",
                &[&second.id],
            )
            .await;
            ChainError::Edited {
                id: second.id.clone(),
                seq: second.seq,
            }
        }
        Tamper::Delete => {
            exec(&mut conn, "DELETE FROM events WHERE id = $1", &[&second.id]).await;
            ChainError::Broken {
                id: third.id.clone(),
                seq: third.seq,
            }
        }
        Tamper::Insert => {
            // A well-formed event appended after the last one, hashed correctly: only the
            // recorded head shows it does not belong.
            let mut forged = last.clone();
            forged.id = "forged".into();
            forged.seq = last.seq + 1;
            forged.prev_hash = last.hash.clone();
            forged.hash = chain_hash(&forged);
            let sql = "INSERT INTO events (id, org_id, seq, time_ms, actor_kind, actor_id, \
                actor_name, actor_ip, actor_user_agent, action, target_kind, target_id, \
                target_name, sentence, details, prev_hash, hash) SELECT $1, org_id, seq + 1, \
                time_ms, actor_kind, actor_id, actor_name, actor_ip, actor_user_agent, action, \
                target_kind, target_id, target_name, sentence, details, $2, $3 FROM events \
                WHERE id = $4";
            exec(
                &mut conn,
                sql,
                &[&forged.id, &forged.prev_hash, &forged.hash, &last.id],
            )
            .await;
            ChainError::Broken {
                id: "forged".into(),
                seq: forged.seq,
            }
        }
        Tamper::Reorder => {
            let swap = [
                ("-1", second.id.as_str()),
                ("2", third.id.as_str()),
                ("3", second.id.as_str()),
            ];
            assert_eq!((second.seq, third.seq), (2, 3));
            for (seq, id) in swap {
                let sql = format!("UPDATE events SET seq = {seq} WHERE id = $1");
                exec(&mut conn, &sql, &[id]).await;
            }
            ChainError::Edited {
                id: third.id.clone(),
                seq: 2,
            }
        }
    };
    conn.close().await.unwrap();
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_caught_on_sqlite() {
    for how in ALL {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            database_url: None,
            data_dir: dir.path().to_owned(),
            max_connections: 2,
        };
        let store = Store::open(&config).await.unwrap();
        let (org, chain) = seed(&store).await;
        let url = format!("sqlite://{}", dir.path().join("dockwatch.db").display());
        let expected = tamper(&url, &chain, how).await;
        let got = store.verify_events(&org).await.unwrap();
        assert_eq!(got, Err(expected), "{how:?}");
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_caught_on_postgres() {
    for how in ALL {
        let db = TempDatabase::create()
            .await
            .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
        let config = StoreConfig {
            database_url: Some(db.url.clone()),
            data_dir: "unused".into(),
            max_connections: 2,
        };
        let store = Store::open(&config).await.unwrap();
        let (org, chain) = seed(&store).await;
        let expected = tamper(&db.url, &chain, how).await;
        let got = store.verify_events(&org).await.unwrap();
        assert_eq!(got, Err(expected), "{how:?}");
        store.close().await;
        db.drop_now().await.unwrap();
    }
}
