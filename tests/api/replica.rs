//! The pools: query endpoints read through the read pool (a real streaming replica when
//! `DUBAN_TEST_REPLICA_URL` names its server, e.g. `postgres://postgres@127.0.0.1:5442`, else
//! the primary itself), the writer reads its own writes at once, a lost connection is a 503,
//! and SQLite's writers queue in the process instead of failing.

use crate::helpers::*;
use diesel::{Connection, PgConnection, RunQueryDsl};
use duban::domain::ids::UserId;
use serde_json::json;
use std::time::{Duration, Instant};

/// The app, reading from the test replica's copy of its database when there is one.
async fn spawn_with_replica() -> TestApp {
    match std::env::var("DUBAN_TEST_REPLICA_URL") {
        Ok(server) if !server.trim().is_empty() => {
            let read = format!("{}/{{db}}", server.trim().trim_end_matches('/'));
            spawn_app_with(&[("DUBAN_DATABASE_READ_URL", &read)]).await
        }
        _ => spawn_app().await,
    }
}

/// `duban_db_reads_total{served_by=…}` of the app.
async fn reads(app: &TestApp, served_by: &str) -> u64 {
    let r = app.send("GET", "/metrics", None, None).await;
    let prefix = format!("duban_db_reads_total{{served_by=\"{served_by}\"}} ");
    r.raw
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[actix_rt::test]
async fn query_endpoints_read_from_the_replica_and_a_writer_reads_its_own_writes() {
    let app = spawn_app().await;
    if !app.db.is_postgres() {
        // SQLite has no replicas: every read is on the one pool and no figures are shown.
        let admin = app.admin().await;
        let id = app.unit("市司法局").await;
        assert_eq!(app.get(&format!("/units/{id}"), &admin).await.status, 200);
        let r = app.send("GET", "/metrics", None, None).await;
        assert!(!r.raw.contains("duban_db_reads_total"), "{}", r.raw);
        return;
    }
    drop(app);
    let app = spawn_with_replica().await;
    let (_, viewer) = app.account("auditor1", "viewer", None).await;
    let admin = app.admin().await;
    app.unit("市等待复制局").await;
    // Wait for the replica (and its copy of what was written so far) to serve.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let before = reads(&app, "replica").await;
        let r = app.get("/units?limit=200", &viewer).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        let seen = r.raw.contains("市等待复制局");
        if seen && reads(&app, "replica").await > before {
            break;
        }
        assert!(Instant::now() < deadline, "the replica never served a read");
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }

    // The desk and lists go to the replica.
    let before = reads(&app, "replica").await;
    for path in [
        "/overdue",
        "/stats/units",
        "/plans",
        "/units",
        "/assignments",
    ] {
        let r = app.get(path, &viewer).await;
        assert_eq!(r.status, 200, "{path}: {}", r.raw);
    }
    assert_eq!(reads(&app, "replica").await, before + 5);

    // The writer reads its write at once, from the primary.
    let primary_before = reads(&app, "primary_recent_writer").await;
    let r = app
        .post(
            "/units",
            &admin,
            json!({"name": "市复制测试局", "kind": "other"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    let r = app.get(&format!("/units/{id}"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["name"], "市复制测试局");
    let r = app.get("/units?limit=200", &admin).await;
    assert!(r.raw.contains("市复制测试局"), "{}", r.raw);
    assert_eq!(
        reads(&app, "primary_recent_writer").await,
        primary_before + 2
    );

    // Others read from the replica, which has it shortly (at once when it is the primary).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get(&format!("/units/{id}"), &viewer).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 404, "{}", r.raw);
        assert!(Instant::now() < deadline, "the replica never caught up");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }

    // /metrics shows both pools.
    let m = app.send("GET", "/metrics", None, None).await.raw;
    assert!(
        m.contains(r#"duban_db_pool_connections{state="max"} 4"#),
        "{m}"
    );
    assert!(
        m.contains(r#"duban_db_read_pool_connections{state="max"} 4"#),
        "{m}"
    );
    assert!(m.contains("duban_db_replica_usable 1"), "{m}");
}

#[actix_rt::test]
async fn the_read_pool_refuses_writes() {
    let app = spawn_app().await;
    if !app.db.is_postgres() {
        return;
    }
    let outcome = app
        .state
        .db
        .read(UserId(1), |c| {
            diesel::sql_query("CREATE TABLE nothing_here (id int)").execute(c)?;
            Ok(())
        })
        .await;
    assert!(outcome.is_err(), "a write went through the read pool");
    // And the pool keeps serving.
    let admin = app.admin().await;
    assert_eq!(app.get("/units", &admin).await.status, 200);
}

#[actix_rt::test]
async fn an_unreachable_replica_leaves_reads_on_the_primary() {
    let (db, _) = TestDb::create();
    if !db.is_postgres() {
        return;
    }
    drop(db);
    // Nothing listens on port 9: the replica never answers.
    let app = spawn_app_with(&[(
        "DUBAN_DATABASE_READ_URL",
        "postgres://postgres@127.0.0.1:9/nothing",
    )])
    .await;
    let admin = app.admin().await;
    let id = app.unit("市不可达局").await;
    let (_, viewer) = app.account("viewer1", "viewer", None).await;
    let r = app.get(&format!("/units/{id}"), &viewer).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(app.get("/overdue", &admin).await.status, 200);
    assert_eq!(reads(&app, "replica").await, 0);
    assert!(reads(&app, "primary_replica_unavailable").await >= 1);
}

#[actix_rt::test]
async fn a_lost_connection_is_a_503_and_the_pool_recovers() {
    let app = spawn_app().await;
    let TestDb::Postgres { admin_url, name } = &app.db else {
        return;
    };
    let admin = app.admin().await;
    assert_eq!(app.get("/units", &admin).await.status, 200);
    let mut c = PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut c)
    .unwrap();
    // Each connection of the pools was cut: a request meeting one gets a 503 (never a 500),
    // and the connection is dropped, so the pool heals.
    let mut ok = false;
    for _ in 0..12 {
        let r = app.get("/units", &admin).await;
        match r.status {
            200 => {
                ok = true;
                break;
            }
            503 => r.assert_problem(503, "unavailable"),
            s => panic!("{s}: {}", r.raw),
        }
    }
    assert!(ok, "the pool did not recover");
}

#[actix_rt::test]
async fn concurrent_writers_queue_instead_of_failing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let running: Vec<_> = (0..24)
        .map(|i| {
            let (client, url, admin) = (app.client.clone(), app.url("/units"), admin.clone());
            actix_rt::spawn(async move {
                let body = json!({"name": format!("市排队测试局{i}"), "kind": "other"});
                let mut res = client
                    .post(url)
                    .insert_header(("Authorization", format!("Bearer {admin}")))
                    .send_json(&body)
                    .await
                    .expect("request sent");
                let text = res.body().await.map(|b| b.to_vec()).unwrap_or_default();
                (
                    res.status().as_u16(),
                    String::from_utf8_lossy(&text).into_owned(),
                )
            })
        })
        .collect();
    for task in running {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
}
