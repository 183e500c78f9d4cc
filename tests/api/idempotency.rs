//! `Idempotency-Key` across instances: two apps on one database answer concurrent requests with
//! one key alike and change the data once; a failed request releases its key; a reservation
//! left by a crash lapses; a key still in progress is a 409 with `Retry-After`.

use crate::helpers::{read, spawn_app, Reply, TestApp, TestDb, ADMIN, ADMIN_PASSWORD, JWT_SECRET};
use chrono::Duration;
use duban::domain::ids::UserId;
use duban::{Application, Settings};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// A second app serving the database of a [`TestApp`].
struct Twin {
    base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Twin {
    fn drop(&mut self) {
        let h = self.handle.clone();
        actix_rt::spawn(async move { h.stop(false).await });
    }
}

/// Two app instances on one database: the usual test app, and a twin built the same way.
async fn spawn_two() -> (TestApp, Twin) {
    let app = spawn_app().await;
    let url = match &app.db {
        TestDb::Sqlite(dir) => format!("sqlite://{}", dir.join("duban.db").display()),
        TestDb::Postgres { admin_url, name } => {
            let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
            format!("{base}/{name}")
        }
    };
    let vars: HashMap<String, String> = [
        ("DUBAN_DATABASE_URL", url.as_str()),
        ("DUBAN_BIND", "127.0.0.1:0"),
        ("DUBAN_JWT_SECRET", JWT_SECRET),
        ("DUBAN_DEMO", "false"),
        ("DUBAN_ADMIN_USER", ADMIN),
        ("DUBAN_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("DUBAN_WORKERS", "1"),
        ("DUBAN_POOL_SIZE", "4"),
        ("DUBAN_REMINDER_INTERVAL", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let twin = Application::build(Settings::from_vars(&vars).unwrap()).expect("twin builds");
    let port = twin.port();
    let (server, handle) = twin.into_parts();
    actix_rt::spawn(server);
    let twin = Twin {
        base: format!("http://127.0.0.1:{port}"),
        handle,
    };
    (app, twin)
}

/// A published plan with one yearly assignment of a unit, and that unit's manager.
struct Fixture {
    manager_id: i64,
    manager: String,
    coordinator: String,
    assignment: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let office = app.unit("市委依法治市办").await;
    let unit = app.unit("市司法局").await;
    let (_, coordinator) = app
        .account("office-staff", "coordinator", Some(office))
        .await;
    let (manager_id, manager) = app
        .account("justice-manager", "unit_manager", Some(unit))
        .await;
    let plan = app
        .post(
            "/plans",
            &coordinator,
            json!({"title": "计划", "year": 2099}),
        )
        .await;
    assert_eq!(plan.status, 201, "{}", plan.raw);
    let plan = plan.body["id"].as_i64().unwrap();
    let items = format!("/plans/{plan}/items");
    let mut parent = Value::Null;
    for (level, title) in [("section", "一"), ("task", "任务。"), ("measure", "措施。")] {
        let r = app
            .post(
                &items,
                &coordinator,
                json!({"level": level, "parent_id": parent, "number": "1", "title": title}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        parent = r.body["id"].clone();
    }
    let r = app
        .post(
            &format!("/measures/{parent}/assignments"),
            &coordinator,
            json!({"lead": {"unit_ids": [unit]}, "due_date": "2099-12-31", "cycle": "yearly"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let assignment = r.body["created"][0]["id"].as_i64().unwrap();
    let r = app
        .post(&format!("/plans/{plan}/publish"), &coordinator, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    Fixture {
        manager_id,
        manager,
        coordinator,
        assignment,
    }
}

/// POSTs to `base` + `/api/v1` + `path` with a bearer token and extra headers.
async fn post(
    client: &awc::Client,
    base: &str,
    path: &str,
    token: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> Reply {
    let mut req = client
        .post(format!("{base}/api/v1{path}"))
        .insert_header(("Authorization", format!("Bearer {token}")));
    for (name, value) in headers {
        req = req.insert_header((*name, value.as_str()));
    }
    let res = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    };
    read(res.expect("request sent")).await
}

/// The fingerprint the server keeps of a POST without a body.
fn request_hash(path: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("POST /api/v1{path}\nnull"));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends the same request with the same key to both instances at once.
async fn pair(
    app: &TestApp,
    twin: &Twin,
    path: String,
    token: &str,
    key: String,
    body: Option<Value>,
) -> (Reply, Reply) {
    let headers = vec![("Idempotency-Key", key)];
    let (c1, c2) = (app.client.clone(), app.client.clone());
    let (b1, b2) = (app.base.clone(), twin.base.clone());
    let (p1, p2, t1, t2) = (path.clone(), path, token.to_owned(), token.to_owned());
    let (h1, h2, x1, x2) = (headers.clone(), headers, body.clone(), body);
    let first = actix_rt::spawn(async move { post(&c1, &b1, &p1, &t1, &h1, x1).await });
    let second = actix_rt::spawn(async move { post(&c2, &b2, &p2, &t2, &h2, x2).await });
    (first.await.unwrap(), second.await.unwrap())
}

#[track_caller]
fn assert_same(what: &str, (a, b): &(Reply, Reply), status: u16) {
    assert_eq!(a.status, status, "{what}, first instance: {}", a.raw);
    assert_eq!(b.status, status, "{what}, second instance: {}", b.raw);
    assert_eq!(
        a.body, b.body,
        "{what}: the two instances answered differently"
    );
    assert_eq!(
        a.header("etag"),
        b.header("etag"),
        "{what}: different ETags"
    );
}

#[actix_rt::test]
async fn concurrent_requests_with_one_key_on_two_instances_get_the_first_answer() {
    const PAIRS: usize = 40;
    const AT_ONCE: usize = 8;
    let (app, twin) = spawn_two().await;
    let f = fixture(&app).await;
    let create = format!("/assignments/{}/reports", f.assignment);

    let mut created = Vec::new();
    let mut replays = 0;
    for batch in (0..PAIRS).collect::<Vec<_>>().chunks(AT_ONCE) {
        let mut running = Vec::new();
        for &i in batch {
            let body = json!({"status": "in_progress", "narrative": format!("第{i}次"),
                              "period": format!("{}", 2100 + i)});
            running.push(pair(
                &app,
                &twin,
                create.clone(),
                &f.manager,
                format!("create-{i}"),
                Some(body),
            ));
        }
        for (i, answers) in batch.iter().zip(futures_all(running).await) {
            assert_same(&format!("creation {i}"), &answers, 201);
            replays += [&answers.0, &answers.1]
                .iter()
                .filter(|r| r.header("idempotency-replayed").is_some())
                .count();
            created.push(answers.0.body["id"].as_i64().unwrap());
        }
    }
    let mut submits = Vec::new();
    for (i, id) in created.iter().enumerate().take(AT_ONCE * 2) {
        submits.push(pair(
            &app,
            &twin,
            format!("/reports/{id}/submit"),
            &f.manager,
            format!("submit-{i}"),
            None,
        ));
    }
    for (i, answers) in futures_all(submits).await.into_iter().enumerate() {
        assert_same(&format!("submission {i}"), &answers, 200);
        assert_eq!(answers.0.body["workflow"], "submitted");
    }
    eprintln!(
        "{PAIRS} creation pairs and {} submission pairs on two instances: every pair answered \
         alike; {replays} creation answers were replays",
        AT_ONCE * 2
    );

    let listed = app
        .get(
            &format!("/reports?assignment_id={}&limit=100", f.assignment),
            &f.manager,
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let items = listed.body["items"].as_array().unwrap();
    let periods: BTreeSet<&str> = items
        .iter()
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), PAIRS, "exactly one report per key");
    assert_eq!(periods.len(), PAIRS);
    for (i, id) in created.iter().enumerate().take(AT_ONCE * 2) {
        let revisions = app
            .get(&format!("/reports/{id}/revisions"), &f.coordinator)
            .await;
        assert_eq!(revisions.status, 200, "{}", revisions.raw);
        let n = revisions.body["items"].as_array().map(Vec::len);
        assert_eq!(
            n,
            Some(1),
            "submission {i} made one revision: {}",
            revisions.raw
        );
    }
}

/// Awaits every future, in order (the requests inside run concurrently as spawned tasks).
async fn futures_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::with_capacity(futures.len());
    for f in futures {
        out.push(f.await);
    }
    out
}

#[actix_rt::test]
async fn a_failed_first_request_releases_its_key_so_a_retry_runs() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let created = post(
        &app.client,
        &app.base,
        &format!("/assignments/{}/reports", f.assignment),
        &f.manager,
        &[],
        Some(json!({"status": "in_progress", "narrative": "进行中。", "period": "2099"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.body["id"].as_i64().unwrap();
    let etag = created.header("etag").unwrap();
    let submit = format!("/reports/{id}/submit");
    let key = ("Idempotency-Key", "submit-once".to_owned());

    let stale = ("If-Match", format!("\"{id}.99\""));
    let failed = post(
        &app.client,
        &app.base,
        &submit,
        &f.manager,
        &[key.clone(), stale],
        None,
    )
    .await;
    failed.assert_problem(412, "precondition-failed");

    let retried = post(
        &app.client,
        &app.base,
        &submit,
        &f.manager,
        &[key.clone(), ("If-Match", etag)],
        None,
    )
    .await;
    assert_eq!(retried.status, 200, "{}", retried.raw);
    assert_eq!(retried.header("idempotency-replayed"), None);
    let again = post(&app.client, &app.base, &submit, &f.manager, &[key], None).await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body, retried.body);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );
}

/// Creates a draft and reserves `key` for its submission as a request elsewhere would, until
/// `until_secs` from now (negative: already lapsed). Returns the submission path.
async fn reserved_submission(app: &TestApp, f: &Fixture, key: &str, until_secs: i64) -> String {
    let created = post(
        &app.client,
        &app.base,
        &format!("/assignments/{}/reports", f.assignment),
        &f.manager,
        &[],
        Some(json!({"status": "in_progress", "narrative": "进行中。", "period": "2099"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    let path = format!("/reports/{}/submit", created.body["id"]);
    let mut c = app.state.db.get().unwrap();
    let now = duban::store::now();
    let until = now + Duration::seconds(until_secs);
    let hash = request_hash(&path);
    let user = UserId(f.manager_id);
    assert!(
        duban::store::idempotency::lock(&mut c, user, key, &hash, "elsewhere", now, until).unwrap()
    );
    path
}

#[actix_rt::test]
async fn a_reservation_abandoned_by_a_crash_lapses_and_the_retry_runs() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let path = reserved_submission(&app, &f, "crashed-key", -1).await;
    let key = ("Idempotency-Key", "crashed-key".to_owned());
    let r = post(&app.client, &app.base, &path, &f.manager, &[key], None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["workflow"], "submitted");
}

#[actix_rt::test]
async fn a_key_still_in_progress_is_a_409_with_retry_after_once_the_wait_is_over() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let path = reserved_submission(&app, &f, "busy-key", 60).await;

    let started = std::time::Instant::now();
    let key = ("Idempotency-Key", "busy-key".to_owned());
    let r = post(
        &app.client,
        &app.base,
        &path,
        &f.manager,
        std::slice::from_ref(&key),
        None,
    )
    .await;
    r.assert_problem(409, "in-progress");
    assert!(r.header("retry-after").is_some(), "no Retry-After");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "it waited for the first request a while"
    );

    // The same key on another request is refused at once, running or not.
    let other = post(
        &app.client,
        &app.base,
        &format!("/assignments/{}/reports", f.assignment),
        &f.manager,
        &[key],
        Some(json!({"status": "in_progress", "narrative": "另一个。", "period": "2098"})),
    )
    .await;
    other.assert_problem(422, "validation");
    assert_eq!(other.fields(), vec!["Idempotency-Key"]);
}
