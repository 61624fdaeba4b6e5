//! One conformance story, run on both backends: embedded SQLite in a temp dir, and PostgreSQL
//! in a fresh database (`DOCKWATCH_TEST_POSTGRES_URL`) that is dropped afterwards.

use dockwatch_core::event::{GENESIS_HASH, verify_chain};
use dockwatch_core::org::{Role, Scope, Visibility};
use dockwatch_store::testing::TempDatabase;
use dockwatch_store::{Actor, Store, StoreConfig, StoreError};

fn actor(id: &str) -> Actor {
    Actor {
        kind: "user".into(),
        id: id.into(),
        name: "owner@example.com".into(),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("story".into()),
    }
}

async fn event_count(store: &Store, org_id: &str) -> usize {
    store.events(org_id, 10_000, None).await.unwrap().len()
}

async fn story(store: &Store) {
    // Bootstrap once; a second time (another process) does nothing.
    assert!(
        store
            .bootstrap("bootstrap-secret", "owner@example.com", "default")
            .await
            .unwrap()
    );
    assert!(
        !store
            .bootstrap("other-secret", "owner@example.com", "default")
            .await
            .unwrap()
    );
    let principal = store
        .authenticate_token("bootstrap-secret")
        .await
        .unwrap()
        .expect("the bootstrap token works");
    let owner = principal.user.clone().unwrap();
    assert_eq!(principal.token.scopes, vec![Scope::Admin]);
    assert!(store.authenticate_token("wrong").await.unwrap().is_none());
    let (org, role) = store.org_with_role("default", &owner.id).await.unwrap();
    assert_eq!(role, Some(Role::Owner));
    let me = actor(&owner.id);

    // A team; a duplicate is a conflict and leaves nothing behind (no event either).
    let team = store
        .create_team(&me, &org, "ops", "on call")
        .await
        .unwrap();
    let before = event_count(store, &org.id).await;
    assert!(matches!(
        store.create_team(&me, &org, "ops", "").await,
        Err(StoreError::Conflict { .. })
    ));
    match store.create_team(&me, &org, "Bad Name", "").await {
        Err(StoreError::Invalid(invalid)) => assert_eq!(invalid.field, "name"),
        other => panic!("{other:?}"),
    }
    assert_eq!(event_count(store, &org.id).await, before);
    assert_eq!(store.teams(&org.id).await.unwrap().len(), 1);

    // Invite, accept (a new account), change role, team membership, last-owner protection.
    let (_, secret) = store
        .invite(&me, &org, "ann@example.com", Role::Member)
        .await
        .unwrap();
    assert!(matches!(
        store
            .invite(&me, &org, "ann@example.com", Role::Member)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let (org_name, ann, ann_role) = store
        .accept_invitation(&secret, "Ann", "ann-password", None, None)
        .await
        .unwrap();
    assert_eq!((org_name.as_str(), ann_role), ("default", Role::Member));
    assert!(
        store
            .accept_invitation(&secret, "Ann", "ann-password", None, None)
            .await
            .is_err(),
        "single use"
    );
    assert_eq!(
        store
            .check_credentials("ann@example.com", "ann-password")
            .await
            .unwrap()
            .unwrap()
            .id,
        ann.id
    );
    assert!(
        store
            .check_credentials("ann@example.com", "wrong-password")
            .await
            .unwrap()
            .is_none()
    );
    let ann_member = store.member(&org.id, "ann@example.com").await.unwrap();
    let ann_member = store
        .change_role(&me, &org, &ann_member, Role::Editor)
        .await
        .unwrap();
    assert_eq!(
        store.member(&org.id, &ann.id).await.unwrap().role,
        Role::Editor
    );
    store
        .add_team_member(&me, &org, &team, &ann_member)
        .await
        .unwrap();
    assert_eq!(
        store.team_members(&org.id, &team.id).await.unwrap().len(),
        1
    );
    let owner_member = store.member(&org.id, &owner.id).await.unwrap();
    assert!(matches!(
        store
            .change_role(&me, &org, &owner_member, Role::Member)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.remove_member(&me, &org, &owner_member).await,
        Err(StoreError::Conflict { .. })
    ));
    let renamed = store
        .update_team(&me, &org, &team, Some("sre"), None)
        .await
        .unwrap();
    assert_eq!(store.team(&org.id, "sre").await.unwrap().member_count, 1);
    store.remove_member(&me, &org, &ann_member).await.unwrap();
    assert_eq!(
        store.team(&org.id, "sre").await.unwrap().member_count,
        0,
        "removal leaves the teams too"
    );
    store.delete_team(&me, &org, &renamed).await.unwrap();

    // Repositories.
    let repo = store
        .create_repository(&me, &org, "web", "", Visibility::Public)
        .await
        .unwrap();
    let repo = store
        .update_repository(&me, &org, &repo, None, Some(Visibility::Private))
        .await
        .unwrap();
    assert_eq!(
        store.repository(&org.id, "web").await.unwrap().visibility,
        Visibility::Private
    );
    store.delete_repository(&me, &org, &repo).await.unwrap();
    assert!(matches!(
        store.repository(&org.id, "web").await,
        Err(StoreError::NotFound { .. })
    ));

    // Tokens: stored as hashes, revocable, expiring.
    let (org_token, org_secret) = store
        .create_org_token(&me, &org, "ci", &[Scope::Write], None)
        .await
        .unwrap();
    let found = store
        .authenticate_token(&org_secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.token.org_id.as_deref(), Some(org.id.as_str()));
    assert!(found.user.is_none());
    store
        .revoke_org_token(&me, &org, &org_token.id)
        .await
        .unwrap();
    assert!(
        store
            .authenticate_token(&org_secret)
            .await
            .unwrap()
            .is_none()
    );
    let past = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock) - 1;
    assert!(
        store
            .create_personal_token(&me, &owner, "old", &[Scope::Read], Some(past))
            .await
            .is_err()
    );
    let (_, personal) = store
        .create_personal_token(&me, &owner, "laptop", &[Scope::Read], None)
        .await
        .unwrap();
    assert!(store.authenticate_token(&personal).await.unwrap().is_some());
    assert_eq!(store.personal_tokens(&owner.id).await.unwrap().len(), 2);

    // SSO and domains.
    assert!(matches!(
        store.set_sso_enforced(&me, &org, true).await,
        Err(StoreError::Conflict { .. })
    ));
    let conn = dockwatch_store::sso::SsoConnection {
        protocol: "oidc".into(),
        issuer: "https://idp.example".into(),
        sso_url: "https://idp.example/auth".into(),
        client_id: "dockwatch".into(),
        certificate: String::new(),
        enforced: false,
        updated_ms: 0,
    };
    store.put_sso(&me, &org, &conn).await.unwrap();
    assert!(
        store
            .set_sso_enforced(&me, &org, true)
            .await
            .unwrap()
            .enforced
    );
    let domain = store.add_domain(&me, &org, "corp.example").await.unwrap();
    assert!(
        domain
            .verification_token
            .starts_with("dockwatch-verification=")
    );
    let domain = store
        .mark_domain_verified(&me, &org, &domain)
        .await
        .unwrap();
    assert!(domain.verified_ms.is_some());
    store.remove_domain(&me, &org, &domain).await.unwrap();

    // Settings.
    let mut settings = org.settings.clone();
    settings.event_retention_days = Some(90);
    let org = store
        .update_org_settings(&me, &org, &settings)
        .await
        .unwrap();
    assert_eq!(
        store
            .org("default")
            .await
            .unwrap()
            .settings
            .event_retention_days,
        Some(90)
    );

    // Concurrent writers keep one unbroken chain.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, me, org) = (store.clone(), me.clone(), org.clone());
            tokio::spawn(async move {
                store
                    .create_repository(&me, &org, &format!("repo-{i}"), "", Visibility::Private)
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }

    // Every change is in the log, chained, with actor and details.
    let chain = store.events_in_chain_order(&org.id).await.unwrap();
    verify_chain(GENESIS_HASH, &chain).expect("the chain verifies");
    assert_eq!(
        chain[0].action, "organization.created",
        "the organization's creation opens its chain"
    );
    let actions: Vec<&str> = chain.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "member.added",
        "user.created",
        "token.created",
        "team.created",
        "member.invited",
        "member.role.changed",
        "team.member.added",
        "team.renamed",
        "member.removed",
        "team.deleted",
        "repository.created",
        "repository.visibility.changed",
        "repository.deleted",
        "token.revoked",
        "sso.connection.created",
        "sso.enforcement.enabled",
        "domain.added",
        "domain.verified",
        "domain.removed",
        "organization.settings.changed",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let role_change = chain
        .iter()
        .find(|e| e.action == "member.role.changed")
        .unwrap();
    assert_eq!(role_change.actor.ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(role_change.target.name, "ann@example.com");
    let details: serde_json::Value = serde_json::from_str(&role_change.details).unwrap();
    assert_eq!(details["before"]["role"], "member");
    assert_eq!(details["after"]["role"], "editor");
    let newest = store.events(&org.id, 2, None).await.unwrap();
    assert_eq!(newest[0].seq, chain.last().unwrap().seq);
    let older = store.events(&org.id, 2, Some(newest[1].seq)).await.unwrap();
    assert_eq!(older[0].seq, newest[1].seq - 1);

    // Deleting the organization keeps its log.
    store.delete_org(&me, &org).await.unwrap();
    assert!(matches!(
        store.org("default").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        store.events_in_chain_order(&org.id).await.unwrap().len(),
        chain.len() + 1
    );
    let r = store.readiness().await.unwrap();
    assert!(r.is_current());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        database_url: None,
        data_dir: dir.path().join("data"),
        max_connections: 4,
    };
    let store = Store::open(&config).await.unwrap();
    story(&store).await;
    store.close().await;
    // Reopening applies no migration twice.
    let store = Store::open(&config).await.unwrap();
    assert!(store.readiness().await.unwrap().is_current());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_on_postgres() {
    let db = TempDatabase::create()
        .await
        .expect("PostgreSQL for tests (DOCKWATCH_TEST_POSTGRES_URL)");
    let config = StoreConfig {
        database_url: Some(db.url.clone()),
        data_dir: "unused".into(),
        max_connections: 4,
    };
    let store = Store::open(&config).await.unwrap();
    story(&store).await;
    // A second store on the same database (another `serve`) sees the same state.
    let other = Store::open(&config).await.unwrap();
    assert!(other.readiness().await.unwrap().is_current());
    store.close().await;
    other.close().await;
    db.drop_now().await.unwrap();
}
